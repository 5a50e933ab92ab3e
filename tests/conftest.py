"""Shared fixtures: small random generators written as real model files."""

import pytest
import torch

from stylemixer.core.checkpoints import save_model
from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training

TINY = GeneratorConfig(z_dim=32, w_dim=32, mapping_layers=3, mapping_fmaps=32, resolution=32, channels=(32, 32, 16, 8))


def make_generator(cfg: GeneratorConfig = TINY, seed: int = 0) -> Generator:
    """Random weights, with non-trivial noise strengths, biases and styles so every term is exercised."""
    G = init_for_training(Generator(cfg), seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith(("noise_strength", "bias")):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
        G.mapping_net.w_avg.copy_(0.1 * torch.randn(G.mapping_net.w_avg.shape, generator=g))
    return G.eval().requires_grad_(False)


def make_stylegan2(seed: int = 0):
    """A 32 px StyleGAN2 with random NVIDIA-layout weights (noise strengths, biases, an active clamp), converted by
    the family's own converter."""
    from stylemixer.core.families.stylegan2.convert import from_nvidia

    from .checkpoints.sg2_weights import record_for

    cfg = {"img_resolution": 32, "synthesis_kwargs": {"conv_clamp": 0.5}}
    return from_nvidia(record_for(cfg, seed)[2], "stylegan2-32px").eval().requires_grad_(False)


def make_stylegan3(seed: int = 0, variant: str = "T"):
    """A 64 px StyleGAN3 (T by default) with random NVIDIA-named weights and NVIDIA's filter design."""
    from stylemixer.core.families.stylegan3.convert import from_nvidia

    from .checkpoints.sg3_weights import nvidia_sg3_record, small

    return from_nvidia(nvidia_sg3_record(small(variant, 64), seed)).eval().requires_grad_(False)


# One small random generator per family: tests that must hold for every family are parametrised over these.
FAMILY_MAKERS = {"stylegan1": make_generator, "stylegan2": make_stylegan2, "stylegan3": make_stylegan3}


@pytest.fixture(scope="session")
def tiny_G() -> Generator:
    return make_generator()


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory, tiny_G):
    path = tmp_path_factory.mktemp("models") / "tiny.safetensors"
    save_model(tiny_G, path)
    return path
