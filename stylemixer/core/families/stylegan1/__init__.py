"""StyleGAN (v1): AdaIN synthesis, as NVIDIA's TensorFlow original."""

from .network import Generator, GeneratorConfig

FAMILY = "stylegan1"
Config = GeneratorConfig

__all__ = ["FAMILY", "Config", "Generator", "GeneratorConfig"]
