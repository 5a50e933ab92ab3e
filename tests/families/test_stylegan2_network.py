"""The StyleGAN2 engine against an independent float64 reference, and its resumable synthesis bit for bit."""

import math

import numpy as np
import pytest
import torch

from stylemixer.core.families.api import LayerInfo, ResumableSynthesis, StatsSpec, StyleGenerator
from stylemixer.core.families.stylegan2 import Generator, StyleGAN2Config, channels_for
from stylemixer.core.families.stylegan2.ops import modulate
from stylemixer.core.stats import Capture

from .conftest import make
from .sg2_reference import Reference, z_for

FORMATS = [torch.contiguous_format, torch.channels_last]


def onehot(classes, c_dim):
    return np.eye(c_dim)[classes] if c_dim else None


def engine_ws(G, z, c, psi, cutoff=None):
    with torch.inference_mode():
        return G.mapping(
            torch.from_numpy(z).float(),
            None if c is None else torch.from_numpy(c).float(),
            truncation_psi=psi,
            truncation_cutoff=cutoff,
        )


def render(G, ws, noise_mode="const", fmt=torch.contiguous_format, capture=None, noise_seed=None):
    G.synthesis.set_memory_format(fmt)
    try:
        with torch.inference_mode():
            return G.synthesis(ws, noise_mode=noise_mode, noise_seed=noise_seed, capture=capture)
    finally:
        G.synthesis.set_memory_format(torch.contiguous_format)


# ------------------------------------------------------------------------------------------------ vs the reference


@pytest.mark.parametrize("psi", [1.0, 0.7])
def test_engine_matches_the_reference(sg2, psi):
    kw, st, G = sg2
    ref = Reference(kw, st)
    c_dim = kw.get("c_dim", 0)
    worst = 0.0
    for seed in (0, 1, 2):
        z = np.concatenate([z_for(seed, kw["z_dim"]), z_for(seed + 100, kw["z_dim"])])
        c = onehot([seed % max(c_dim, 1), (seed + 1) % max(c_dim, 1)], c_dim)
        ws_ref = ref.mapping(z, c, psi=psi, cutoff=None if seed else 3)
        ws = engine_ws(G, z, c, psi, cutoff=None if seed else 3)
        assert torch.allclose(ws.double(), ws_ref, atol=1e-5, rtol=1e-5)
        # Style mixing: rows from the second latent from w index 3 on (coarse from A, the rest from B).
        mixed = ws.clone()
        mixed[0, 3:] = ws[1, 3:]
        want = ref.synthesis(mixed.double(), "const")
        peak, inside = want.abs().max().item(), (want.abs() <= 1).double().mean().item()
        assert peak < 4 and inside > 0.9, f"test images should be in [-1, 1] ({peak:.2f}, {inside:.2%})"
        for fmt in FORMATS:
            got = torch.cat([render(G, mixed[i : i + 1], fmt=fmt) for i in range(2)])  # batch 1, as the renderer
            worst = max(worst, (got.double() - want).abs().max().item())
            got2 = render(G, mixed, fmt=fmt)  # batch 2
            worst = max(worst, (got2.double() - want).abs().max().item())
    assert worst < 1e-4, worst


def test_the_clamp_is_active_in_the_clamped_config():
    kw, st, G = make("64px-cond-clamp")
    ref_clamped, ref_free = Reference(kw, st), Reference(kw, st, conv_clamp=None)
    ws = ref_clamped.mapping(z_for(5, kw["z_dim"]), onehot([2], 4))
    a, b = ref_clamped.synthesis(ws), ref_free.synthesis(ws)
    assert (a - b).abs().max() > 0.05, "conv_clamp should change the image in this configuration"
    got = render(G, ws.float())
    assert (got.double() - a).abs().max() < 1e-4


def test_conditional_mapping_depends_on_the_class():
    kw, _st, G = make("64px-cond-clamp")
    z = z_for(3, kw["z_dim"])
    w0, w1 = engine_ws(G, z, onehot([0], 4), 1.0), engine_ws(G, z, onehot([1], 4), 1.0)
    assert (w0 - w1).abs().max() > 1e-3
    with pytest.raises(ValueError, match="conditional"):
        engine_ws(G, z, None, 1.0)


def test_noise_modes():
    kw, st, G = make("32px")
    ws = engine_ws(G, z_for(1, kw["z_dim"]), None, 1.0)
    const, none = render(G, ws, "const"), render(G, ws, "none")
    r1, r1b, r2 = (
        render(G, ws, "random", noise_seed=1),
        render(G, ws, "random", noise_seed=1),
        render(G, ws, "random", noise_seed=2),
    )
    assert torch.equal(r1, r1b), "random noise is a function of noise_seed"
    for a, b in ((const, none), (r1, r2), (const, r1)):
        assert (a - b).abs().max() > 1e-3
    want_none = Reference(kw, {k: v for k, v in st.items() if not k.endswith("noise_const")}).synthesis(ws.double())
    assert (none.double() - want_none).abs().max() < 1e-4
    with pytest.raises(ValueError, match="noise_mode"):
        render(G, ws, "loud")


def test_random_noise_is_shared_by_the_batch():
    kw, _, G = make("32px")
    ws = engine_ws(G, z_for(1, kw["z_dim"]), None, 1.0)
    two = render(G, ws.repeat(2, 1, 1), "random", noise_seed=4)
    one = render(G, ws, "random", noise_seed=4)
    assert torch.equal(two[0], two[1]) and (two[0] - one[0]).abs().max() < 1e-5


def test_random_noise_is_drawn_on_the_cpu_from_seed_and_layer():
    _, _, G = make("32px")
    ctx = G.synthesis.context(1, "random", 7)
    for spec, n in zip(G.synthesis.conv_specs, ctx.noise):
        g = torch.Generator().manual_seed(7 * 1000 + spec.noise_index)
        raw = torch.randn(1, 1, spec.resolution, spec.resolution, generator=g)
        layer = G.synthesis.layer(spec)
        assert torch.equal(n, raw * (layer.noise_strength.detach() * math.sqrt(2)))


# ------------------------------------------------------------------------------------------------ resumable


def test_the_protocol_is_implemented(sg2_small):
    _, _, G = sg2_small
    assert isinstance(G, StyleGenerator) and isinstance(G.synthesis, ResumableSynthesis)
    assert (G.family, G.family_label) == ("stylegan2", "StyleGAN2")
    assert isinstance(G.stats_spec, StatsSpec) and G.stats_spec.title == "Modulation statistics"
    assert G.num_ws == G.synthesis.num_ws == 2 * int(math.log2(G.img_resolution)) - 2


@pytest.mark.parametrize("fmt", FORMATS, ids=["nchw", "nhwc"])
@pytest.mark.parametrize("noise_mode", ["const", "random"])
def test_resuming_at_every_w_index_is_bit_exact(sg2, fmt, noise_mode):
    """States cached from image A, resumed at k with rows >= k changed, equal a fresh forward bit for bit."""
    kw, _, G = sg2
    c = onehot([1], kw.get("c_dim", 0))
    ws_a = engine_ws(G, z_for(10, kw["z_dim"]), c, 0.7)
    ws_b = engine_ws(G, z_for(11, kw["z_dim"]), c, 0.7)
    S = G.synthesis
    S.set_memory_format(fmt)
    try:
        with torch.inference_mode():
            ctx = S.context(1, noise_mode, 5)
            states = [S.start(ctx)]
            for k in range(S.num_ws):
                states.append(S.advance(k, states[-1], ws_a[:, k], ctx))
            assert torch.equal(S.finish(states[-1], ctx), S(ws_a, noise_mode=noise_mode, noise_seed=5))
            for k in range(S.num_ws):
                mixed = torch.cat([ws_a[:, :k], ws_b[:, k:]], dim=1)
                state = states[k]
                for j in range(k, S.num_ws):
                    state = S.advance(j, state, mixed[:, j], ctx)
                fresh = S(mixed, noise_mode=noise_mode, noise_seed=5)
                assert torch.equal(S.finish(state, ctx), fresh), k
    finally:
        S.set_memory_format(torch.contiguous_format)


def test_states_are_never_modified_after_they_are_returned(sg2_small):
    kw, _, G = sg2_small
    ws = engine_ws(G, z_for(4, kw["z_dim"]), None, 1.0)
    S = G.synthesis
    with torch.inference_mode():
        ctx = S.context(1, "const")
        states, copies = [S.start(ctx)], []
        for k in range(S.num_ws):
            copies.append(tuple(None if t is None else t.clone() for t in states[-1]))
            states.append(S.advance(k, states[-1], ws[:, k], ctx, Capture(stats=True, feature_layer=k)))
        for k, (st, cp) in enumerate(zip(states, copies)):
            for t, c in zip(st, cp):
                assert (t is None and c is None) or torch.equal(t, c), k


def test_example_state_and_state_nbytes_match_real_states(sg2):
    kw, _, G = sg2
    ws = engine_ws(G, z_for(4, kw["z_dim"]), onehot([0], kw.get("c_dim", 0)), 1.0)
    S = G.synthesis
    total = 0
    for fmt in FORMATS:
        S.set_memory_format(fmt)
        with torch.inference_mode():
            ctx = S.context(1, "const")
            state = S.start(ctx)
            for k in range(S.num_ws + 1):
                ex = S.example_state(k)
                assert len(ex) == len(state) == 2
                for a, b in zip(ex, state):
                    assert (a is None) == (b is None), k
                    if a is not None:
                        assert a.shape == b.shape and a.dtype == b.dtype, k
                        assert a.is_contiguous(memory_format=fmt) == b.is_contiguous(memory_format=fmt), k
                if fmt is FORMATS[0] and k < S.num_ws:
                    total += sum(t.numel() * 4 for t in state if t is not None)
                if k < S.num_ws:
                    state = S.advance(k, state, ws[:, k], ctx)
    S.set_memory_format(torch.contiguous_format)
    assert G.state_nbytes() == total


def test_progressive_images_live_in_the_states(sg2_small):
    """The skip generator's partial image: entering w index 2b+2 (and 2b+3) the state holds the RGB image of the
    block at 4 * 2^b px (its toRGB ran at w index 2b+1)."""
    _kw, _, G = sg2_small
    S = G.synthesis
    assert S.state_shapes(0)[1] is None and S.state_shapes(1)[1] is None
    for k in range(2, S.num_ws + 1):
        img_shape = S.state_shapes(k)[1]
        assert img_shape == (3, 4 * 2 ** ((k - 2) // 2), 4 * 2 ** ((k - 2) // 2)), k
    assert S.state_shapes(S.num_ws) == (None, (3, G.img_resolution, G.img_resolution))


# ------------------------------------------------------------------------------------------------ statistics


def test_capture_records_the_modulation_quantities(sg2):
    kw, _st, G = sg2
    ws = engine_ws(G, z_for(9, kw["z_dim"]), onehot([3], kw.get("c_dim", 0)), 1.0)
    feats = {}
    caps = {}
    for k in range(G.num_ws):
        cap = Capture(stats=True, feature_layer=k)
        img = render(G, ws, capture=cap)
        caps[k], feats[k] = cap.result(), cap.features
    assert torch.equal(img, render(G, ws)), "capturing must not change the image"
    stats = caps[0]
    assert sorted(stats) == list(range(G.num_ws))
    table = G.layer_table()
    spec = G.stats_spec
    for k, info in enumerate(table):
        s = stats[k]
        assert set(s.keys()) == set(spec.keys)
        for q in spec.quantities:
            n = info.in_channels if q.axis == "in" else info.channels
            assert s[q.key].shape == (1, n), (k, q.key)
        assert feats[k].shape == (1, info.channels, info.resolution, info.resolution)
        # The moments are those of the recorded output features.
        f = feats[k].double()
        assert np.allclose(s["mean_out"][0], f.mean(dim=(2, 3))[0].numpy(), atol=1e-5)
        assert np.allclose(s["std_out"][0], f.std(dim=(2, 3), unbiased=False)[0].numpy(), atol=1e-4, rtol=1e-4)
    # s and d against the plain formula for one conv layer: b8.conv0 is driven by w index 1
    layer = G.synthesis.b8.conv0
    s_want = ws[:, 1] @ (layer.affine.weight / math.sqrt(layer.affine.weight.shape[1])).T + layer.affine.bias
    _, d_want = modulate(layer.weight.double(), s_want.double())
    assert np.allclose(stats[1]["s"], s_want.numpy(), atol=1e-5)
    assert np.allclose(stats[1]["demod"], d_want.numpy(), rtol=1e-5)
    assert np.all(stats[G.num_ws - 1]["demod"] == 1), "toRGB is not demodulated"


def test_no_capture_work_without_a_capture(sg2_small, monkeypatch):
    from stylemixer.core.families.stylegan2 import network

    called = []
    monkeypatch.setattr(network, "channel_moments", lambda x: called.append(1) or (x.mean((2, 3)), x.std((2, 3))))
    kw, _, G = sg2_small
    ws = engine_ws(G, z_for(1, kw["z_dim"]), None, 1.0)
    render(G, ws)
    render(G, ws, capture=Capture(stats=False))
    assert not called
    render(G, ws, capture=Capture(stats=True, layers=[2]))
    assert len(called) == 2, "statistics of one layer: its input and output moments only"


def test_layer_table_and_groups():
    G = Generator(
        StyleGAN2Config(
            resolution=64, channels=channels_for(64, 2048, 64), z_dim=8, w_dim=8, mapping_layers=1, mapping_fmaps=8
        )
    )
    t = G.layer_table()
    assert all(isinstance(i, LayerInfo) for i in t)
    assert [i.name for i in t] == [
        "b4.conv1",
        "b4.torgb+b8.conv0",
        "b8.conv1",
        "b8.torgb+b16.conv0",
        "b16.conv1",
        "b16.torgb+b32.conv0",
        "b32.conv1",
        "b32.torgb+b64.conv0",
        "b64.conv1",
        "b64.torgb",
    ]
    assert [i.resolution for i in t] == [4, 8, 8, 16, 16, 32, 32, 64, 64, 64]
    assert [i.group for i in t] == ["coarse"] * 3 + ["middle"] * 4 + ["fine"] * 3
    assert (t[-1].channels, t[-1].in_channels, t[-1].role) == (3, 32, "toRGB")
    assert (t[1].channels, t[1].in_channels, t[1].role) == (64, 64, "toRGB + conv0 (up)")
    flops = G.flops()
    assert sorted(flops) == list(range(10)) and all(v > 0 for v in flops.values())
    # The 64 px conv1 (32 -> 32 channels, 3x3 at 64x64) alone is 2 * 9 * 32 * 32 * 64 * 64 operations.
    assert flops[8] >= 2 * 9 * 32 * 32 * 64 * 64


def test_config_f_shape():
    cfg = StyleGAN2Config()
    assert cfg.num_ws == 18 and cfg.channels == (512, 512, 512, 512, 512, 256, 128, 64, 32)
    assert StyleGAN2Config.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("resolution", 48, "power of two"),
        ("resolution", True, "power of two"),
        ("z_dim", 0, "z_dim"),
        ("c_dim", -1, "c_dim"),
        ("mapping_layers", 1.5, "mapping_layers"),
        ("mapping_lrmul", 0, "mapping_lrmul"),
        ("mapping_lrmul", float("nan"), "mapping_lrmul"),
        ("channels", (512,) * 8, "channels needs 9"),
        ("channels", (512,) * 8 + (0,), "channels"),
        ("conv_clamp", -1, "conv_clamp"),
        ("conv_clamp", float("inf"), "conv_clamp"),
        ("use_noise", 1, "use_noise"),
        ("truncation_psi", "0.7", "truncation_psi"),
        ("truncation_cutoff", 19, "truncation_cutoff"),
        ("crop", (0, 2000, 0, 10), "crop"),
        ("img_channels", 5, "img_channels"),
    ],
)
def test_config_validation(field, value, message):
    with pytest.raises(ValueError, match=message):
        StyleGAN2Config(**{field: value})


def test_config_from_dict_refuses_unknown_keys_and_round_trips_options():
    cfg = StyleGAN2Config(
        resolution=8,
        channels=(16, 8),
        z_dim=4,
        w_dim=4,
        c_dim=3,
        conv_clamp=256.0,
        truncation_psi=0.5,
        truncation_cutoff=2,
        crop=(0, 8, 1, 7),
        use_noise=False,
    )
    assert StyleGAN2Config.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown"):
        StyleGAN2Config.from_dict({**cfg.to_dict(), "fused_modconv": True})


def test_weights_loaded_in_place_are_used(sg2_small):
    """The layers cache values derived from their weights (sum of squares, transposed up-conv weight): loading
    other weights into the same module must not leave them stale."""
    kw, _, G = sg2_small
    _, _, other = make("32px", seed=1)
    H = Generator(G.cfg)
    H.load_state_dict(G.state_dict())
    ws = engine_ws(G, z_for(2, kw["z_dim"]), None, 1.0)
    assert torch.equal(render(H, ws), render(G, ws))
    H.load_state_dict(other.state_dict())
    assert torch.equal(render(H, ws), render(other, ws))


def test_config_and_state_dict_rebuild_the_same_generator(sg2):
    """What a native file stores (config JSON, persistent tensors) is enough to rebuild the generator exactly."""
    kw, _, G = sg2
    H = Generator(StyleGAN2Config.from_dict(G.cfg.to_dict()))
    H.load_state_dict({k: v.clone() for k, v in G.state_dict().items()}, strict=True)
    c = onehot([1], kw.get("c_dim", 0))
    ws = engine_ws(G, z_for(6, kw["z_dim"]), c, 0.7)
    assert torch.equal(engine_ws(H, z_for(6, kw["z_dim"]), c, 0.7), ws)
    assert torch.equal(render(H, ws, fmt=torch.channels_last), render(G, ws, fmt=torch.channels_last))
