"""The seam's descriptive side for StyleGAN3: layer table and groups, statistics and their axes, feature maps
(image-area crop), FLOPs, state sizes; the config's JSON round trip and a native safetensors round trip."""

import json

import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from stylemixer.core.families.api import GROUPS, StyleGenerator
from stylemixer.core.families.stylegan3.design import design_config
from stylemixer.core.families.stylegan3.network import (
    Generator,
    StyleGAN3Config,
    group_of_cutoff,
)
from stylemixer.core.stats import Capture
from tests.families.sg3_models import sg3_generator, zs


def test_is_a_style_generator():
    G = sg3_generator("R", 64, 0)
    assert isinstance(G, StyleGenerator)
    assert G.family == "stylegan3" and G.family_label == "StyleGAN3-R"


@pytest.mark.parametrize("variant, res", [("T", 64), ("R", 256), ("T", 1024), ("R", 1024)])
def test_groups_by_cutoff_split_the_same_way_at_every_resolution(variant, res):
    cfg = design_config(variant, res)
    first, last = cfg.input_bandwidth, cfg.layers[-1].out_cutoff
    groups = [group_of_cutoff(first, first, last)] + [group_of_cutoff(l.out_cutoff, first, last) for l in cfg.layers]
    assert groups == ["coarse"] * 5 + ["middle"] * 4 + ["fine"] * 7


def test_layer_table():
    G = sg3_generator("T", 256, 3)
    table = G.layer_table()
    assert [l.index for l in table] == list(range(16))
    assert table[0].name == "input" and table[0].in_channels == 4 and table[0].channels == G.cfg.input_channels
    for info, spec in zip(table[1:], G.cfg.layers):
        assert info.name == spec.name and info.resolution == spec.out_size
        assert info.channels == spec.out_channels and info.in_channels == spec.in_channels
    assert table[-1].role == "toRGB" and table[-1].channels == 3 and table[-1].resolution == 256
    assert "up 4, down 2" in table[3].role or "up 2, down 2" in table[3].role
    assert {l.group for l in table} == set(GROUPS)
    assert table[4].label.startswith("4: ")


def test_statistics_have_the_spec_axes_and_values():
    G = sg3_generator("T", 64, 0)
    spec = G.stats_spec
    ws = G.mapping(zs([1]))
    cap = Capture(stats=True)
    G.synthesis(ws, capture=cap)
    stats = cap.result()
    table = G.layer_table()
    for info in table:
        st = stats[info.index]
        assert set(st.keys()) == set(spec.keys)
        for q in spec.quantities:
            n = (info.in_channels or info.channels) if q.axis == "in" else info.channels
            assert st[q.key].shape == (1, n), (info.index, q.key)
            assert st[q.key].dtype.name == "float32"
    # The style is the affine layer's output, the input gain includes 1/sqrt(magnitude_ema).
    layer = G.synthesis.layer(2)
    s = layer.affine(ws[:, 3])
    assert torch.allclose(torch.from_numpy(stats[3]["s"]), s)
    g = s * s.square().mean().rsqrt() * layer.magnitude_ema.rsqrt()
    assert torch.allclose(torch.from_numpy(stats[3]["s_eff"]), g, rtol=1e-5)
    assert (stats[15]["demod"] == 1).all()  # ToRGB does not demodulate
    assert (stats[0]["demod"] <= 1).all() and (stats[0]["demod"] >= 0).all()  # Fourier amplitudes
    # Moments out of layer k are the moments into layer k + 1.
    for k in range(1, 15):
        assert abs(stats[k]["mean_out"] - stats[k + 1]["mean_in"]).max() < 1e-6
    a, b = stats[5], stats[6]
    assert spec.distance(a, a) == 0 and spec.distance(a, b) >= 0


def test_feature_maps_are_the_image_area():
    G = sg3_generator("R", 64, 0)
    ws = G.mapping(zs([2]))
    for k in (0, 3, 13, 14, 15):
        cap = Capture(stats=False, feature_layer=k)
        G.synthesis(ws, capture=cap)
        info = G.layer_table()[k]
        rate = G.cfg.input_sampling_rate if k == 0 else G.cfg.layers[k - 1].out_sampling_rate
        assert cap.features.shape == (1, info.channels, int(rate), int(rate)), k
    assert "margin" in G.stats_spec.features_help


def test_flops_and_state_bytes():
    G = sg3_generator("T", 64, 0)
    f = G.flops()
    assert sorted(f) == list(range(16)) and all(v > 0 for v in f.values())
    big = Generator.__new__(Generator)
    cfg = design_config("T", 1024)
    big.cfg = cfg
    total = sum(Generator.flops(big).values())
    assert 2e11 < total < 2e12  # the 1024 px T synthesis is several hundred GFLOP
    assert Generator.state_nbytes(big) > 100e6


def test_config_json_round_trip():
    for variant in "TR":
        cfg = sg3_generator(variant, 64, 0).cfg
        back = StyleGAN3Config.from_dict(json.loads(json.dumps(cfg.to_dict())))
        assert back == cfg


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda d: d.update(bogus=1), "unknown"),
        (lambda d: d["layers"][2].update(padding=[0, 0, 0, 0]), "gives"),
        (lambda d: d["layers"][2].pop("padding"), "lacks"),
        (lambda d: d["layers"][4].update(in_channels=7), "takes"),
        (lambda d: d["layers"].pop(4), "named"),
        (lambda d: d.update(resolution=128), "ToRGB"),
        (lambda d: d.update(variant="X"), "variant"),
        (lambda d: d["layers"][1].update(name="L7_36_32"), "named"),
        (lambda d: d["layers"][1].update(out_channels=0), "positive"),
    ],
)
def test_config_validation(edit, words):
    d = sg3_generator("T", 64, 0).cfg.to_dict()
    edit(d)
    with pytest.raises(ValueError) as e:
        StyleGAN3Config.from_dict(d)
    assert words in str(e.value)


def test_native_safetensors_round_trip_is_bit_exact():
    """What a native save does: the state dict as safetensors (filters are buffers in it, None ones absent), the
    config as JSON metadata; loading rebuilds the modules from the config alone."""
    G = sg3_generator("R", 64, 1)
    data = st_save(
        {k: v.contiguous() for k, v in G.state_dict().items()}, metadata={"config": json.dumps(G.cfg.to_dict())}
    )
    n = int.from_bytes(data[:8], "little")
    meta = json.loads(data[8 : 8 + n])["__metadata__"]
    G2 = Generator(StyleGAN3Config.from_dict(json.loads(meta["config"])))
    G2.load_state_dict(st_load(data), strict=True)
    G2.eval().requires_grad_(False)  # as a loader returns it
    ws = G.mapping(zs([3]), truncation_psi=0.5)
    assert torch.equal(G2.mapping(zs([3]), truncation_psi=0.5), ws)
    assert torch.equal(G2.synthesis(ws, options={"rotate": 30.0}), G.synthesis(ws, options={"rotate": 30.0}))


def test_the_input_transform_moves_the_picture_the_way_the_controls_say():
    """On screen (y down): +rotate turns the content counterclockwise, +translate x moves it right, as in NVIDIA's
    visualizer. Checked against PIL's rotation of the untransformed picture (PIL turns counterclockwise for positive
    angles) on R, whose features rotate cleanly; a wrong sign correlates near 0."""
    import numpy as np
    from PIL import Image

    G = sg3_generator("R", 64, 1)
    ws = G.mapping(zs([3], G.z_dim), None)

    def grey(options):
        with torch.no_grad():
            return G.synthesis(ws, noise_mode="const", options=options)[0].mean(0).numpy()

    base = grey({})
    inner = (slice(16, 48), slice(16, 48))  # away from the corners a rotation brings in

    def corr(a, b):
        return float(np.corrcoef(a[inner].ravel(), b[inner].ravel())[0, 1])

    def pil_rotate(a, degrees):
        return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").rotate(degrees, resample=Image.BICUBIC))

    turned = grey({"rotate": 30.0})
    assert corr(pil_rotate(base, 30), turned) > 0.98
    assert corr(pil_rotate(base, -30), turned) < 0.5
    moved = grey({"translate": (0.25, 0.0)})  # a quarter of the width: 16 px
    assert corr(np.roll(base, 16, axis=1), moved) > 0.98
    assert corr(np.roll(base, -16, axis=1), moved) < 0.9
