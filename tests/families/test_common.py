"""The pieces every family shares (core/families/common.py), checked on one small generator of each family."""

import math

import pytest
import torch
import torch.nn.functional as F

from stylemixer.core.families import common, family
from stylemixer.core.families.common import FullyConnected, MappingNetwork

from ..conftest import FAMILY_MAKERS


@pytest.fixture(scope="module", params=sorted(FAMILY_MAKERS))
def G(request):
    return FAMILY_MAKERS[request.param]()


def _z(G, n=2, seed=3):
    return torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))


def test_forward_is_synthesis_of_mapping(G):
    """G(z) with truncation and synthesis options is exactly synthesis(mapping(z)), for every family."""
    z = _z(G)
    ws = G.mapping(z, truncation_psi=0.6, truncation_cutoff=2)
    assert ws.shape == (2, G.num_ws, G.w_dim)
    assert torch.equal(ws[:, 2:], G.mapping(z)[:, 2:])  # rows from the cutoff on are not truncated
    want = G.synthesis(ws, noise_mode="random", noise_seed=7)
    assert torch.equal(G(z, truncation_psi=0.6, truncation_cutoff=2, noise_mode="random", noise_seed=7), want)


def test_synthesis_forward_is_the_resumable_steps(G):
    """forward runs context, start, advance for every w index and finish: the renderer's path, bit for bit."""
    ws = G.mapping(_z(G))
    S = G.synthesis
    ctx = S.context(2, "const")
    state = S.start(ctx, 2)
    for k in range(G.num_ws):
        state = S.advance(k, state, ws[:, k], ctx)
    assert torch.equal(S.finish(state, ctx), S(ws, noise_mode="const"))


def test_shared_checks(G):
    ws = G.mapping(_z(G))
    with pytest.raises(ValueError, match="ws must be"):
        G.synthesis(ws[:, :-1])
    with pytest.raises(ValueError, match="ws must be"):
        G.synthesis(ws[..., :-1])
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis.context(1, "loud")


def test_config_round_trip(G):
    cfg = G.cfg
    d = cfg.to_dict()
    assert type(cfg).from_dict(d) == cfg
    with pytest.raises(ValueError, match="unknown .* config keys"):
        type(cfg).from_dict({**d, "bogus": 1})
    with pytest.raises(ValueError, match="JSON object"):
        type(cfg).from_dict([1, 2])
    assert family(G.family).Config is type(cfg)


def test_fully_connected_is_nvidias():
    """NVIDIA's FullyConnectedLayer: addmm when linear; the product, then + bias, lrelu 0.2 and gain sqrt(2)."""
    x = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    fc = FullyConnected(8, 5, "lrelu", lr_multiplier=0.01)
    with torch.no_grad():
        fc.bias.copy_(torch.arange(5.0))
    w, b = fc.weight * (0.01 / math.sqrt(8)), fc.bias * 0.01
    assert torch.equal(fc(x), F.leaky_relu(x.matmul(w.t()) + b, 0.2) * math.sqrt(2))
    lin = FullyConnected(8, 4, bias_init=[1.0, 0.0, 0.0, 0.0])
    assert lin.bias.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert torch.equal(lin(x), torch.addmm(lin.bias[None], x, (lin.weight * (1 / math.sqrt(8))).t()))


def test_conditional_mapping_needs_labels():
    net = MappingNetwork(z_dim=4, c_dim=3, w_dim=6, num_layers=2, layer_features=5, embed_features=2, num_ws=4)
    z = torch.randn(2, 4)
    assert net(z, torch.eye(3)[[0, 2]]).shape == (2, 4, 6)
    with pytest.raises(ValueError, match="conditional"):
        net(z)


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("shape", [(1, 3, 8, 8), (2, 16, 256, 256), (1, 5, 333, 77)])
def test_channel_moments_match_the_two_pass_reference(shape, channels_last, monkeypatch):
    monkeypatch.setattr(common, "BAND_BYTES", 64 * 1024)  # bands of a few rows, and a last band cut short
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g) * 3 + torch.randn(shape[:2] + (1, 1), generator=g) * 5
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    mean, std = common.channel_moments(x)
    xd = x.double()
    m = xd.mean(dim=(2, 3))
    s = (xd - m[:, :, None, None]).square().mean(dim=(2, 3)).sqrt()
    assert mean.shape == std.shape == shape[:2] and mean.dtype == std.dtype == torch.float32
    torch.testing.assert_close(mean.double(), m, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(std.double(), s, rtol=1e-5, atol=1e-6)
