"""StyleGAN3 (configs T and R) behind the family seam: the network, and the converter from NVIDIA's pickles."""

from .network import CONTROLS, STATS_SPEC, Generator, LayerSpec, StyleGAN3Config

FAMILY = "stylegan3"
Config = StyleGAN3Config

__all__ = ["CONTROLS", "FAMILY", "STATS_SPEC", "Config", "Generator", "LayerSpec", "StyleGAN3Config"]
