"""NVIDIA's StyleGAN3 G_ema as a NetworkRecord -> Generator: names, attributes as a pickle reader hands them
over, and one clear ModelFileError for every kind of bad record."""

import copy

import pytest
import torch

from stylemixer.core.errors import ModelFileError
from stylemixer.core.families.stylegan3.convert import from_nvidia, is_stylegan3
from stylemixer.core.families.stylegan3.design import design_config
from tests.checkpoints.sg3_weights import (
    DEFAULTS,
    R_1024,
    T_1024,
    small,
    synthesis_layers,
)
from tests.families.sg3_models import sg3_record


@pytest.mark.parametrize("variant", ["T", "R"])
def test_converts_with_the_files_geometry(variant):
    rec = sg3_record(variant, 64, 0)
    G = from_nvidia(rec)
    assert G.family == "stylegan3" and G.family_label == f"StyleGAN3-{variant}"
    assert G.num_ws == 16 and G.img_resolution == 64 and G.z_dim == 32 and G.c_dim == 0
    sd = G.state_dict()
    assert set(sd) == set(rec.state)
    for k, v in rec.state.items():
        assert torch.equal(sd[k], v), k
    # The geometry read from the attributes is what NVIDIA's constructor computes.
    cfg = design_config(variant, 64, z_dim=32, w_dim=32, channel_base=1024 if variant == "T" else 2048, channel_max=32)
    assert G.cfg == cfg
    assert [l.name for l in G.cfg.layers] == rec.attrs["synthesis"]["layer_names"]


@pytest.mark.parametrize(
    "kwargs, names",
    [
        (
            T_1024,
            [
                "L0_36_512",
                "L1_36_512",
                "L2_52_512",
                "L3_52_512",
                "L4_84_512",
                "L5_148_512",
                "L6_148_512",
                "L7_276_323",
                "L8_276_203",
                "L9_532_128",
                "L10_1044_81",
                "L11_1044_51",
                "L12_1044_32",
                "L13_1024_32",
                "L14_1024_3",
            ],
        ),
        (
            R_1024,
            [
                "L0_36_1024",
                "L1_36_1024",
                "L2_52_1024",
                "L3_52_1024",
                "L4_84_1024",
                "L5_148_1024",
                "L6_148_1024",
                "L7_276_645",
                "L8_276_406",
                "L9_532_256",
                "L10_1044_161",
                "L11_1044_102",
                "L12_1044_64",
                "L13_1024_64",
                "L14_1024_3",
            ],
        ),
    ],
)
def test_published_1024_shapes(kwargs, names):
    """The published layer names (fact sheet B7) from the test helper's and the engine's geometry alike."""
    k = dict(DEFAULTS, **kwargs)
    _, layers = synthesis_layers(k)
    assert [a["name"] for a in layers] == names
    cfg = design_config("R" if kwargs else "T", 1024)
    assert [l.name for l in cfg.layers] == names
    assert [l.padding for l in cfg.layers] == [tuple(a["padding"]) for a in layers]
    assert [l.down_radial for l in cfg.layers] == [a["down_radial"] for a in layers]


def test_attribute_spellings_a_reader_may_hand_over():
    """Sizes as [w, h] lists or plain ints, flags as bools or 0/1, numbers as ints or floats."""
    rec = copy.deepcopy(sg3_record("T", 64, 0))
    for path, a in rec.attrs.items():
        if path.startswith("synthesis.L") and "." not in path[len("synthesis.") :]:
            a["in_size"] = a["in_size"][0]
            a["is_torgb"] = int(a["is_torgb"])
            a["in_sampling_rate"] = float(a["in_sampling_rate"])
    a = rec.attrs["synthesis.input"]
    a["size"] = tuple(a["size"])
    G = from_nvidia(rec)
    assert G.cfg == from_nvidia(sg3_record("T", 64, 0)).cfg


def test_layer_names_may_come_from_the_parameters():
    rec = copy.deepcopy(sg3_record("R", 64, 0))
    del rec.attrs["synthesis"]["layer_names"]
    assert [l.name for l in from_nvidia(rec).cfg.layers] == sg3_record("R", 64, 0).attrs["synthesis"]["layer_names"]


def _bad(edit):
    rec = copy.deepcopy(sg3_record("T", 64, 0))
    edit(rec)
    return rec


L3 = "synthesis.L3_36_32"


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda r: setattr(r, "class_name", "Discriminator"), "not a StyleGAN3 generator"),
        (lambda r: r.attrs[L3].pop("padding"), "padding"),
        (lambda r: r.attrs[L3].update(padding=[1, 2, 3]), "padding"),
        (lambda r: r.attrs[L3].update(padding=[0, 0, 0, 0]), "L3_36_32 is inconsistent"),
        (lambda r: r.attrs[L3].update(out_size=[10**9, 10**9]), "L3_36_32"),
        (lambda r: r.attrs[L3].update(in_size=[36, 40]), "square"),
        (lambda r: r.attrs[L3].update(up_factor="2"), "up_factor"),
        (lambda r: r.attrs[L3].update(in_cutoff=float("nan")), "in_cutoff"),
        (lambda r: r.attrs[L3].update(conv_kernel=-3), "conv_kernel"),
        (lambda r: r.attrs[L3].update(up_taps=100000), "L3_36_32"),
        (lambda r: r.attrs.pop("synthesis.input"), "synthesis.input"),
        (lambda r: r.attrs[""].pop("img_resolution"), "img_resolution"),
        (lambda r: r.attrs[""].update(img_resolution=128), "128"),
        (lambda r: r.attrs["synthesis"].update(layer_names=["L0_36_32", "L5_36_32"]), "named"),
        (lambda r: r.attrs["synthesis"].update(layer_names="L0"), "layer names"),
        (lambda r: r.state.pop(f"{L3}.weight"), "lacks"),
        (lambda r: r.state.pop(f"{L3}.up_filter"), "lacks"),
        (lambda r: r.state.update({f"{L3}.noise_const": torch.zeros(3)}), "unexpected"),
        (lambda r: r.state.update({f"{L3}.weight": torch.zeros(3, 3, 3, 3)}), "shape"),
        (lambda r: r.state.update({f"{L3}.bias": torch.full((32,), float("nan"))}), "NaN"),
        (lambda r: r.state.update({f"{L3}.bias": torch.zeros(32, dtype=torch.int64)}), "floating"),
        (lambda r: r.state.update({f"{L3}.magnitude_ema": torch.tensor(0.0)}), "magnitude_ema"),
        (lambda r: r.state.update({"synthesis.input.transform": torch.ones(3, 3)}), "affine"),
        (lambda r: r.state.update({"synthesis.input.freqs": "not a tensor"}), "not a tensor"),
    ],
)
def test_bad_records_raise_one_clear_error(edit, words):
    with pytest.raises(ModelFileError) as e:
        from_nvidia(_bad(edit))
    msg = str(e.value)
    assert words in msg and "\n" not in msg and len(msg) < 300


def test_feature_maps_out_of_proportion_to_the_weights_are_refused():
    """A small file whose attributes describe a consistent 8192 px network of 1-channel layers."""
    inp, layers = synthesis_layers(dict(DEFAULTS, **small("T", 8192, channel_base=16384, channel_max=1)))
    rec = copy.deepcopy(sg3_record("T", 64, 0))
    rec.attrs[""]["img_resolution"] = 8192
    rec.attrs["synthesis.input"].update(inp)
    for a in layers:
        rec.attrs[f"synthesis.{a['name']}"] = dict(a)
    rec.attrs["synthesis"]["layer_names"] = [a["name"] for a in layers]
    with pytest.raises(ModelFileError, match="out of proportion"):
        from_nvidia(rec)


def test_file_text_is_escaped_in_messages():
    rec = _bad(lambda r: r.attrs["synthesis"].update(layer_names=["L0_\x1b[31m\u202e", "x"]))
    with pytest.raises(ModelFileError) as e:
        from_nvidia(rec)
    assert "\x1b" not in str(e.value) and "\u202e" not in str(e.value)


def test_recognises_stylegan3_records():
    assert is_stylegan3(sg3_record("T", 64, 0))
    rec = copy.deepcopy(sg3_record("T", 64, 0))
    rec.module = "training.networks_stylegan2"
    rec.state = {k: v for k, v in rec.state.items() if not k.startswith("synthesis.input")}
    assert not is_stylegan3(rec)


def test_half_precision_tensors_load_as_float32():
    rec = _bad(lambda r: r.state.update({k: v.half() for k, v in r.state.items() if k.endswith("weight")}))
    G = from_nvidia(rec)
    assert all(p.dtype == torch.float32 for p in G.parameters())
