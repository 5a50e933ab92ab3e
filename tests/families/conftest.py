"""Family test generators (StyleGAN2: random NVIDIA-layout weights converted by the family's own converter). The
tests run on one torch thread (tests/conftest.py)."""

import pytest

from stylemixer.core.families.stylegan2.convert import from_nvidia

from ..checkpoints.sg2_weights import record_for

# Small configurations covering: unconditional without clamp, conditional with an active clamp (conv_clamp far below
# the activations' range, so many values are clamped), and a deeper one with channels that change per block.
CONFIGS = {
    "32px": {"img_resolution": 32},
    "64px-cond-clamp": {
        "img_resolution": 64,
        "c_dim": 4,
        "mapping_kwargs": {"num_layers": 3},
        "synthesis_kwargs": {"conv_clamp": 0.5},
    },
    "64px-wide": {
        "img_resolution": 64,
        "z_dim": 48,
        "w_dim": 40,
        "synthesis_kwargs": {"channel_base": 1024, "channel_max": 48, "conv_clamp": 256},
    },
}


def make(name: str, seed: int = 0, flavor: str = "ada"):
    """(init_kwargs, NVIDIA state, engine Generator)."""
    kw, st, rec = record_for(CONFIGS[name], seed, flavor)
    return kw, st, from_nvidia(rec, name)


@pytest.fixture(
    scope="session", params=[n if n == "32px" else pytest.param(n, marks=pytest.mark.slow) for n in sorted(CONFIGS)]
)
def sg2(request):
    return make(request.param)


@pytest.fixture(scope="session")
def sg2_small():
    return make("32px")
