"""Shared StyleGAN3 test models: NVIDIA-named random records (tests/checkpoints/sg3_weights.py) and the
generators converted from them, built once per session."""

from functools import cache

import torch

from stylemixer.core.families.stylegan3.convert import from_nvidia
from tests.checkpoints.sg3_weights import nvidia_sg3_record, small


@cache
def sg3_record(variant="T", resolution=64, seed=0, **extra):
    return nvidia_sg3_record(small(variant, resolution, **extra), seed)


@cache
def sg3_generator(variant="T", resolution=64, seed=0, **extra):
    return from_nvidia(sg3_record(variant, resolution, seed, **extra))


def zs(seeds, z_dim=32):
    return torch.cat([torch.randn(1, z_dim, generator=torch.Generator().manual_seed(s)) for s in seeds])
