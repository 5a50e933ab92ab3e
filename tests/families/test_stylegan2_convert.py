"""The StyleGAN2 converters: NVIDIA records (both repos), rosinality state dicts, TF variables; and what they refuse."""

import re

import numpy as np
import pytest
import torch

from stylemixer.core.errors import ModelFileError
from stylemixer.core.families.stylegan2.convert import (
    W_AVG_SAMPLES,
    engine_key,
    estimate_w_avg,
    from_nvidia,
    from_rosinality,
    from_tf,
)

from ..checkpoints.rosinality_writer import rosinality_state
from ..checkpoints.sg2_weights import nvidia_sg2_modules, nvidia_sg2_record, nvidia_sg2_state, record_for
from ..checkpoints.tf_writer import sg2_tf_variables
from .sg2_reference import Reference, z_for


def image(G, ws):
    with torch.inference_mode():
        return G.synthesis(ws, noise_mode="const")


def ws_for(G, seed=0):
    c = torch.nn.functional.one_hot(torch.tensor([seed % G.c_dim]), G.c_dim).float() if G.c_dim else None
    with torch.inference_mode():
        return G.mapping(torch.from_numpy(z_for(seed, G.z_dim)).float(), c, truncation_psi=0.7)


def tf_flat(st):
    top, mapping, syn = sg2_tf_variables(st)
    return {**top, **{f"mapping/{k}": v for k, v in mapping.items()}, **{f"synthesis/{k}": v for k, v in syn.items()}}


# ------------------------------------------------------------------------------------------------ NVIDIA


@pytest.mark.parametrize("flavor", ["ada", "sg3"])
def test_nvidia_record_copies_every_tensor(flavor):
    _kw, st, rec = record_for({"c_dim": 3, "synthesis_kwargs": {"conv_clamp": 256}}, seed=1, flavor=flavor)
    G = from_nvidia(rec)
    own = G.state_dict()
    assert set(own) == {engine_key(k) for k in st if not k.endswith("resample_filter")}
    for k, v in st.items():
        if not k.endswith("resample_filter"):
            assert torch.equal(own[engine_key(k)], v), k
    assert (G.cfg.c_dim, G.cfg.conv_clamp, G.cfg.resolution, G.cfg.mapping_layers) == (3, 256, 32, 2)
    assert G.cfg.truncation_psi == 1 and G.cfg.truncation_cutoff is None  # NVIDIA's generate.py default


def test_conv_clamp_default_depends_on_the_repo():
    """stylegan3's copy of the network defaults to conv_clamp=256, stylegan2-ada-pytorch's to None; train.py's of
    stylegan3 only passes conv_clamp with --fp32 (then None). Without attributes the converter must know that."""
    for flavor, want in (("ada", None), ("sg3", 256)):
        kw, st = nvidia_sg2_state({}, 0, flavor)
        kw = {k: v for k, v in kw.items() if k != "conv_clamp"}
        if "synthesis_kwargs" in kw:
            kw["synthesis_kwargs"] = {k: v for k, v in kw["synthesis_kwargs"].items() if k != "conv_clamp"}
        rec = nvidia_sg2_record(nvidia_sg2_modules(kw, st, flavor), flavor)
        rec.attrs = {}  # only the kwargs and the module name to go on
        assert from_nvidia(rec).cfg.conv_clamp == want, flavor


def test_layer_attributes_win_over_kwargs():
    _kw, _st, rec = record_for({}, 0)
    for _path, a in rec.attrs.items():
        if "conv_clamp" in a:
            a["conv_clamp"] = 64
    assert from_nvidia(rec).cfg.conv_clamp == 64


def test_fp16_options_are_ignored_and_the_engine_stays_fp32():
    kw, st, rec = record_for({"synthesis_kwargs": {"num_fp16_res": 4, "conv_clamp": 256, "fp16_channels_last": True}})
    G = from_nvidia(rec)
    assert all(p.dtype == torch.float32 for p in G.parameters())
    ref = Reference(kw, st)
    ws = ws_for(G, 3)
    assert (image(G, ws).double() - ref.synthesis(ws.double())).abs().max() < 1e-4


def test_missing_w_avg_is_estimated_from_fixed_latents():
    _kw, _st, rec = record_for({"mapping_kwargs": {"w_avg_beta": None}}, 2)
    assert "mapping.w_avg" not in rec.state
    info = {}
    G = from_nvidia(rec, info=info)
    assert info["w_avg"] == "estimated"
    z = np.random.RandomState(0).randn(W_AVG_SAMPLES, G.z_dim).astype(np.float32)
    with torch.inference_mode():
        want = G.mapping_net(torch.from_numpy(z)).double().mean(dim=0).float()
    assert torch.allclose(G.mapping_net.w_avg, want, atol=1e-5)
    assert torch.equal(estimate_w_avg(G), from_nvidia(rec).mapping_net.w_avg)  # the same every time


@pytest.mark.parametrize("arch", ["orig", "resnet"])
def test_other_architectures_are_refused_by_name(arch):
    _kw, _st, rec = record_for({"synthesis_kwargs": {"architecture": arch}})
    with pytest.raises(ModelFileError, match=f"architecture='{arch}'"):
        from_nvidia(rec)
    rec.init_kwargs["synthesis_kwargs"].pop("architecture")
    rec.attrs = {}
    with pytest.raises(ModelFileError, match=f"architecture='{arch}'"):  # recognised from the tensors alone
        from_nvidia(rec)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda r: r.init_kwargs.update(img_channels=1), "img_channels"),
        (lambda r: r.init_kwargs.update(img_resolution=(32, 16)), "square"),
        (lambda r: r.init_kwargs["mapping_kwargs"].update(activation="relu"), "activation='relu'"),
        (lambda r: r.init_kwargs["synthesis_kwargs"].update(resample_filter=[1, 2, 1]), "resample_filter"),
        (lambda r: r.init_kwargs["synthesis_kwargs"].update(magic=1), "'magic'"),
        (lambda r: r.init_kwargs.update(w_dim=64), "w_dim=64"),
        (lambda r: r.state.update({"synthesis.b8.conv1.resample_filter": torch.ones(4, 4) / 16}), "resample_filter"),
        (lambda r: r.state.update({"synthesis.b8.conv1.weight": torch.zeros(32, 31, 3, 3)}), "shape"),
        (lambda r: r.state.pop("synthesis.b16.conv0.bias"), "lacks"),
        (lambda r: r.state.update({"synthesis.b16.conv0.extra": torch.zeros(1)}), "unexpected"),
        (lambda r: r.state["mapping.fc1.weight"].__setitem__((0, 0), float("nan")), "NaN"),
        (lambda r: setattr(r, "class_name", "Discriminator"), "not a StyleGAN2 generator"),
        (lambda r: setattr(r, "module", "training.networks_stylegan3"), "not a StyleGAN2 generator"),
        (
            lambda r: r.state.update(
                {
                    "synthesis.b4.torgb.weight": torch.zeros(4, 32, 1, 1),
                    "synthesis.b32.torgb.weight": torch.zeros(4, 8, 1, 1),
                }
            ),
            "img_channels=4",
        ),
    ],
)
def test_files_the_engine_cannot_build_are_refused(change, message):
    _kw, _st, rec = record_for({}, 0)
    rec.state = {k: v.clone() for k, v in rec.state.items()}
    change(rec)
    with pytest.raises(ModelFileError, match=message):
        from_nvidia(rec, "model.pkl")


# ------------------------------------------------------------------------------------------------ rosinality


def test_rosinality_and_nvidia_weights_give_the_same_image_bit_for_bit():
    _kw, st, rec = record_for({"img_resolution": 64, "mapping_kwargs": {"num_layers": 3}}, 4)
    G_nv = from_nvidia(rec)
    info = {}
    G_ro = from_rosinality(rosinality_state(st), st["mapping.w_avg"], None, "r.pt", info)
    assert info == {"w_avg": "file", "noise_const": "file"}
    for seed in range(3):
        ws = ws_for(G_nv, seed)
        assert torch.equal(image(G_nv, ws), image(G_ro, ws))
    with torch.inference_mode():
        z = torch.from_numpy(z_for(9, G_nv.z_dim)).float()
        assert torch.equal(G_nv.mapping(z, truncation_psi=0.5), G_ro.mapping(z, truncation_psi=0.5))


def test_rosinality_up_kernels_are_used_as_stored():
    """rosinality's convert_weight.py and NVIDIA's legacy.py both flip TF's Conv0_up; between the two PyTorch
    formats there is no flip. An asymmetric kernel shows which way it went."""
    _kw, st = nvidia_sg2_state({}, 5)
    rs = rosinality_state(st)
    G = from_rosinality(rs, st["mapping.w_avg"])
    assert torch.equal(G.synthesis.b8.conv0.weight, rs["convs.0.conv.weight"][0])
    assert not torch.equal(G.synthesis.b8.conv0.weight, rs["convs.0.conv.weight"][0].flip(2, 3))


def test_rosinality_without_latent_avg_or_noise_buffers():
    _kw, st = nvidia_sg2_state({}, 6)
    info = {}
    G = from_rosinality(
        rosinality_state(st, with_noises=False), None, {"arch": "stylegan2", "size": 32}, "old.pt", info
    )
    assert info == {"w_avg": "estimated", "noise_const": "drawn (the file has none)"}
    again = from_rosinality(rosinality_state(st, with_noises=False), None)
    assert torch.equal(G.synthesis.b16.conv0.noise_const, again.synthesis.b16.conv0.noise_const)
    assert torch.equal(G.mapping_net.w_avg, again.mapping_net.w_avg)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda s, a: a.update(arch="swagan"), "arch='swagan'"),
        (lambda s, a: s.update({"iwt.ll": torch.zeros(1)}), "SWAGAN"),
        (lambda s, a: a.update(size=64), "size=64"),
        (lambda s, a: s.update({"convs.1.conv.blur.kernel": torch.ones(4, 4)}), "blur_kernel"),
        (lambda s, a: s.update({"to_rgbs.1.conv.weight": torch.zeros(1, 3, 7, 1, 1)}), "shape"),
        (lambda s, a: s.update({"convs.0.conv.weight": torch.zeros(32, 32, 3, 3)}), "leading 1"),
        (lambda s, a: s.update({"strange.key": torch.zeros(1)}), "cannot place"),
        (lambda s, a: s.pop("style.2.bias"), "lacks"),
    ],
)
def test_rosinality_refusals(change, message):
    _kw, st = nvidia_sg2_state({}, 7)
    rs, args = dict(rosinality_state(st)), {"arch": "stylegan2", "size": 32}
    change(rs, args)
    with pytest.raises(ModelFileError, match=message):
        from_rosinality(rs, st["mapping.w_avg"], args, "x.pt")


# ------------------------------------------------------------------------------------------------ TF


def test_tf_variables_follow_legacy_py():
    kw, st, rec = record_for({"c_dim": 2}, 8)
    variables = tf_flat(st)
    G = from_tf(variables, {"resolution": 32, "label_size": 2}, "tf.pkl", "G_synthesis_stylegan2")
    # The rules of NVIDIA's legacy.py, written out here independently of the writer's inverse:
    tf_up = variables["synthesis/16x16/Conv0_up/weight"]
    assert np.array_equal(G.synthesis.b16.conv0.weight.numpy(), tf_up[::-1, ::-1].transpose(3, 2, 0, 1))
    tf_c = variables["synthesis/16x16/Conv1/weight"]
    assert np.array_equal(G.synthesis.b16.conv1.weight.numpy(), tf_c.transpose(3, 2, 0, 1))
    assert np.array_equal(G.synthesis.b16.conv1.affine.bias.numpy(), variables["synthesis/16x16/Conv1/mod_bias"] + 1)
    assert np.array_equal(G.synthesis.b16.conv0.noise_const.numpy(), variables["synthesis/noise3"][0, 0])
    assert np.array_equal(G.synthesis.b16.conv1.noise_const.numpy(), variables["synthesis/noise4"][0, 0])
    assert np.array_equal(G.mapping_net.embed.weight.numpy(), variables["mapping/LabelEmbed/weight"].T)
    ws = ws_for(from_nvidia(rec), 1)
    want = Reference(kw, st).synthesis(ws.double())
    assert (image(G, ws).double() - want).abs().max() < 1e-4


@pytest.mark.parametrize(
    "kwargs,variables_change,message",
    [
        ({"architecture": "resnet"}, None, "architecture='resnet'"),
        (
            {},
            lambda v: v.update({"synthesis/ToRGB_lod0/weight": np.zeros((1, 1, 8, 3), np.float32)}),
            "architecture='orig'",
        ),
        (
            {},
            lambda v: v.update({"synthesis/16x16/Skip/weight": np.zeros((1, 1, 16, 8), np.float32)}),
            "architecture='resnet'",
        ),
        ({"num_channels": 1}, None, "num_channels=1"),
        ({"nonlinearity": "relu"}, None, "nonlinearity='relu'"),
        ({"resample_kernel": [1, 1]}, None, "resample_kernel"),
        ({"resolution": 64}, None, "resolution"),
        ({}, lambda v: v.update({"synthesis/16x16/Conv1/weight": np.zeros((3, 3, 16, 15), np.float32)}), "shape"),
        ({}, lambda v: v.pop("synthesis/8x8/ToRGB/bias"), "lacks"),
    ],
)
def test_tf_refusals(kwargs, variables_change, message):
    _kw, st = nvidia_sg2_state({}, 9)
    variables = tf_flat(st)
    if variables_change is not None:
        variables_change(variables)
    with pytest.raises(ModelFileError, match=re.escape(message) if "=" in message else message):
        from_tf(variables, {"resolution": 32, **kwargs}, "tf.pkl", "G_synthesis_stylegan2")


def test_tf_configs_a_to_d_are_refused():
    _kw, st = nvidia_sg2_state({}, 9)
    with pytest.raises(ModelFileError, match="config E/F"):
        from_tf(tf_flat(st), {}, "tf.pkl", "G_synthesis_stylegan_revised")
