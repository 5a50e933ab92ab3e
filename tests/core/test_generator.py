import math

import numpy as np
import pytest
import torch

from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, default_channels
from stylemixer.core.families.stylegan1.topology import layer_table
from stylemixer.core.latents import z_from_seed, zs_from_seeds

from ..conftest import TINY


def test_api_shapes(tiny_G):
    z = torch.randn(2, TINY.z_dim)
    ws = tiny_G.mapping(z)
    assert ws.shape == (2, tiny_G.num_ws, TINY.w_dim)
    assert tiny_G.num_ws == 2 * int(math.log2(TINY.resolution)) - 2
    img = tiny_G.synthesis(ws, noise_mode="const")
    assert img.shape == (2, 3, 32, 32)


@pytest.mark.parametrize("res,num_ws", [(4, 2), (64, 10), (256, 14), (1024, 18)])
def test_num_ws_and_layer_table(res, num_ws):
    cfg = GeneratorConfig(resolution=res, channels=default_channels(res))
    table = layer_table(cfg)
    assert cfg.num_ws == num_ws == len(table)
    assert [l.index for l in table] == list(range(num_ws))
    for l in table:
        assert l.resolution == 4 * 2 ** (l.index // 2)
        assert l.group == ("coarse" if l.resolution <= 8 else "middle" if l.resolution <= 32 else "fine")
    if res == 1024:
        assert [l.index for l in table if l.group == "coarse"] == [0, 1, 2, 3]
        assert [l.index for l in table if l.group == "middle"] == [4, 5, 6, 7]
        assert table[0].name == "4x4/Const" and table[17].name == "1024x1024/Conv1"
        assert [l.channels for l in table[::2]] == [512, 512, 512, 512, 256, 128, 64, 32, 16]


def test_official_widths():
    assert default_channels(1024) == (512, 512, 512, 512, 256, 128, 64, 32, 16)
    assert default_channels(256) == (512, 512, 512, 512, 256, 128, 64)


def test_official_shape_parameter_count():
    # The official FFHQ 1024 G has 26,219,627 trainable values. It also keeps a ToRGB for every lower resolution
    # (left over from progressive growing, unused at lod 0); we keep only the final one.
    cfg = GeneratorConfig()
    n = sum(p.numel() for p in Generator(cfg).parameters())
    unused_torgb = sum(c * 3 + 3 for c in cfg.channels[:-1])
    assert n + unused_torgb == 26_219_627


def test_noise_modes(tiny_G):
    ws = tiny_G.mapping(torch.randn(1, TINY.z_dim))
    const = tiny_G.synthesis(ws, noise_mode="const")
    assert torch.equal(const, tiny_G.synthesis(ws, noise_mode="const"))
    r1 = tiny_G.synthesis(ws, noise_mode="random", noise_seed=5)
    assert torch.equal(r1, tiny_G.synthesis(ws, noise_mode="random", noise_seed=5))
    assert not torch.equal(r1, tiny_G.synthesis(ws, noise_mode="random", noise_seed=6))
    assert not torch.equal(const, tiny_G.synthesis(ws, noise_mode="none"))
    with pytest.raises(ValueError, match="noise_mode"):
        tiny_G.synthesis(ws, noise_mode="bogus")


def test_truncation(tiny_G):
    z = torch.randn(3, TINY.z_dim)
    w_avg = tiny_G.mapping_net.w_avg
    ws0 = tiny_G.mapping(z, truncation_psi=0)
    assert torch.allclose(ws0, w_avg.expand_as(ws0))
    assert torch.equal(tiny_G.mapping(z, truncation_psi=1), tiny_G.mapping(z))
    ws = tiny_G.mapping(z)
    half = tiny_G.mapping(z, truncation_psi=0.5, truncation_cutoff=2)
    assert torch.allclose(half[:, :2], w_avg + 0.5 * (ws[:, :2] - w_avg))
    assert torch.equal(half[:, 2:], ws[:, 2:])


def test_seed_to_z_matches_numpy_convention():
    z = z_from_seed(42, 512)
    assert z.dtype == np.float32 and z.shape == (1, 512)
    assert np.array_equal(z, np.random.RandomState(42).randn(1, 512).astype(np.float32))
    assert not np.array_equal(z, z_from_seed(43, 512))
    with pytest.raises(ValueError):
        z_from_seed(-1, 8)


def test_many_seeds_to_z_are_the_single_seed_rows():
    zs = zs_from_seeds([3, 0, 42], 16)
    assert zs.dtype == torch.float32 and zs.shape == (3, 16)
    assert all(np.array_equal(zs[i : i + 1].numpy(), z_from_seed(s, 16)) for i, s in enumerate([3, 0, 42]))
    with pytest.raises(ValueError):
        zs_from_seeds([1, -1], 8)


def test_resume_from_layer_equals_full_run(tiny_G):
    ws = tiny_G.mapping(torch.randn(2, TINY.z_dim))
    full = tiny_G.synthesis(ws, noise_mode="const")
    # run the first three layers by hand (pre, then AdaIN), then resume through the protocol
    synth = tiny_G.synthesis
    ctx = synth.context(2, "const")
    x = synth.const.expand(2, -1, -1, -1)
    for layer in synth.layers[:3]:
        x = layer.adain(layer.pre(x, ctx[layer.index]), ws[:, layer.index])
    state = (synth.layers[3].pre(x, ctx[3]),)
    for k in range(3, synth.num_ws):
        state = synth.advance(k, state, ws[:, k], ctx)
    assert torch.equal(synth.finish(state, ctx), full)


def test_fused_upconv_equals_flipped_nearest_conv():
    # The fused path must be the TF transposed-conv, which equals nearest x2 + conv with a spatially flipped kernel.
    from stylemixer.core.families.stylegan1.network import Conv3x3

    torch.manual_seed(0)
    fused = Conv3x3(4, 5, up=True, fused=True).double()
    plain = Conv3x3(4, 5, up=True, fused=False).double()
    with torch.no_grad():
        plain.weight.copy_(fused.weight.flip(2, 3))
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    assert torch.allclose(fused(x), plain(x), atol=1e-12)
    with torch.no_grad():
        plain.weight.copy_(fused.weight)
    assert not torch.allclose(fused(x), plain(x), atol=1e-3)


def test_scaled_weights_are_kept_while_rendering_and_follow_every_change():
    # The fused up-convolution (128 px and up), the plain convolutions, the affine layers and the ToRGB.
    import copy

    from stylemixer.core.families.stylegan1.network import init_for_training, kept_tensors

    G = init_for_training(Generator(GeneratorConfig(resolution=128, channels=(32,) * 6)), 0).eval()
    conv = G.synthesis.layers[-2].conv
    assert conv.fused
    ws = G.mapping(torch.randn(1, G.z_dim)).detach()
    with torch.inference_mode():
        first = G.synthesis(ws, noise_mode="const")
        kept = kept_tensors(conv)["kernel"]
        again = G.synthesis(ws, noise_mode="const")
        assert kept_tensors(conv)["kernel"] is kept  # not scaled again
    assert kept_tensors(copy.deepcopy(G).synthesis.layers[-2].conv) == {}  # a copy does not carry them
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    with torch.no_grad():
        conv.weight.mul_(0.5)  # an in-place change (an optimizer step, load_state_dict, an EMA update)
        G.synthesis.layers[3].adain.affine.weight.add_(0.1)
        G.synthesis.torgb.weight.mul_(2)
    with torch.inference_mode():
        changed = G.synthesis(ws, noise_mode="const")
    # ... equals a model built with those weights, which has no kept kernels
    fresh = Generator(G.cfg).eval()
    fresh.load_state_dict(G.state_dict())
    assert not any(kept_tensors(m) for m in fresh.modules())
    with torch.inference_mode():
        torch.testing.assert_close(changed, fresh.synthesis(ws, noise_mode="const"), rtol=0, atol=0)
    assert not torch.equal(changed, first)
    assert not any("derived" in k for k in G.state_dict())
    # Training: a kernel computed with autograd, so gradients reach the raw weight.
    G.train().requires_grad_(True)
    G.synthesis(ws, noise_mode="const").square().mean().backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
