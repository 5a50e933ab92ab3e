"""StyleGAN2 (NVIDIA stylegan2-ada-pytorch / stylegan3's networks_stylegan2, rosinality, official TF)."""

from .network import STATS_SPEC, Generator, StyleGAN2Config, channels_for, topology

__all__ = ["FAMILY", "STATS_SPEC", "Config", "Generator", "StyleGAN2Config", "channels_for", "topology"]

FAMILY = "stylegan2"
Config = StyleGAN2Config
