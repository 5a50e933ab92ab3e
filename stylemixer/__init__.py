"""StyleMixer: explore style mixing and AdaIN in StyleGAN generators (desktop app, command line, library)."""

__version__ = "0.1.0"
