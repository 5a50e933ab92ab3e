"""StyleGAN3 (configs T and R) behind the family seam: the network, and the converter from NVIDIA's pickles."""
from .network import STATS_SPEC, Generator, LayerSpec, StyleGAN3Config

__all__ = ["STATS_SPEC", "Generator", "LayerSpec", "StyleGAN3Config"]
