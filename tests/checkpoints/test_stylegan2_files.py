"""StyleGAN2 files in their real formats, opened through load_any: rosinality .pt (zip and legacy, both layouts),
official TF pickles (versions 4 and 5); and damaged or hostile ones, refused in one line with nothing run."""

import os
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch

from stylemixer.core.checkpoints import load_any
from stylemixer.core.errors import ModelFileError
from stylemixer.core.families.stylegan2.convert import from_nvidia

from ..families.sg2_reference import Reference, z_for
from . import rosinality_writer as rw
from .sg2_weights import record_for
from .tf_writer import NUMPY1, NUMPY2, SG2Spec, dump


@pytest.fixture(scope="module")
def weights():
    kw, st, rec = record_for({"img_resolution": 32, "synthesis_kwargs": {"conv_clamp": None}}, seed=11)
    return kw, st, from_nvidia(rec)


def ws_for(G, seed):
    with torch.inference_mode():
        return G.mapping(torch.from_numpy(z_for(seed, G.z_dim)).float(), truncation_psi=0.7)


def image(G, ws):
    with torch.inference_mode():
        return G.synthesis(ws, noise_mode="const")


# ------------------------------------------------------------------------------------------------ rosinality


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("layout", ["convert_weight", "train"])
def test_rosinality_files_render_like_the_nvidia_weights(tmp_path, weights, zip_format, layout):
    _kw, st, G_nv = weights
    obj = rw.converted_checkpoint(st) if layout == "convert_weight" else rw.train_checkpoint(st, 32)
    path = rw.save(obj, tmp_path / "550000.pt", zip_format)
    m = load_any(path)
    assert m.format == "rosinality-stylegan2" and m.G.family == "stylegan2"
    assert m.info["generator"] == "g_ema"
    assert m.info["w_avg"] == ("file" if layout == "convert_weight" else "estimated")
    if layout == "train":
        assert m.info["args"]["arch"] == "stylegan2" and m.info["args"]["size"] == 32
    for seed in (0, 1):
        ws = ws_for(G_nv, seed)
        assert torch.equal(image(m.G, ws), image(G_nv, ws))
    if layout == "convert_weight":  # truncation uses the file's latent_avg
        assert torch.equal(m.G.mapping_net.w_avg, st["mapping.w_avg"])


def test_a_bare_g_ema_state_dict(tmp_path, weights):
    _kw, st, G_nv = weights
    path = rw.save(rw.rosinality_state(st), tmp_path / "g_ema.pt")
    m = load_any(path)
    ws = ws_for(G_nv, 3)
    assert m.info["generator"] == "state dict" and torch.equal(image(m.G, ws), image(G_nv, ws))


def test_the_namespace_allowance_does_not_outlive_the_load(tmp_path, weights):
    _kw, st, _ = weights
    path = rw.save(rw.train_checkpoint(st, 32), tmp_path / "train.pt")
    load_any(path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # torch's own allow-list is as before


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("cut", [0.3, 0.97])
def test_truncated_pt(tmp_path, weights, zip_format, cut):
    _kw, st, _ = weights
    path = rw.save(rw.train_checkpoint(st, 32), tmp_path / "cut.pt", zip_format)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ModelFileError, match="truncated|damaged"):
        load_any(path)


class Reduce:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("where", ["args", "inside g_ema", "latent_avg"])
def test_pt_with_a_reduce_payload_runs_nothing(tmp_path, weights, zip_format, where):
    _kw, st, _ = weights
    marker = tmp_path / "ran"
    payload = Reduce(os.system, (f"touch '{marker}'",))
    obj = rw.train_checkpoint(st, 32) if where == "args" else rw.converted_checkpoint(st)
    if where == "args":
        obj["args"] = payload
    elif where == "inside g_ema":
        obj["g_ema"]["noises.noise_0"] = payload
    else:
        obj["latent_avg"] = payload
    path = rw.save(obj, tmp_path / "evil.pt", zip_format)
    with pytest.raises(ModelFileError, match=r"not opened: it refers to (posix|os|nt)\.system"):
        load_any(path)
    assert not marker.exists()


@pytest.mark.subprocess
def test_pt_payload_checked_in_a_fresh_process(tmp_path, weights):
    """Nothing else imported or warmed up: the refusal comes from the reader, not from an earlier import."""
    _kw, st, _ = weights
    marker = tmp_path / "ran"
    obj = rw.converted_checkpoint(st)
    obj["g_ema"]["style.1.bias"] = Reduce(subprocess.call, (["touch", str(marker)],))
    path = rw.save(obj, tmp_path / "evil.pt", False)
    code = (
        "import sys; from stylemixer.core.checkpoints import load_any\n"
        "from stylemixer.core.errors import ModelFileError\n"
        f"try:\n    load_any({str(path)!r})\nexcept ModelFileError as e:\n    print('refused:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert "refused:" in out.stdout and "refers to" in out.stdout, out.stdout + out.stderr
    assert not marker.exists()


def _legacy_bomb(path, numel):
    """A legacy torch.save stream whose one storage claims `numel` floats while the file holds 16 bytes of data."""

    class Big:
        pass

    class Tensor:
        def __reduce__(self):
            return torch._utils._rebuild_tensor_v2, (Big(), 0, (numel,), (1,), False, OrderedDict())

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", numel, None) if isinstance(obj, Big) else None

    with open(path, "wb") as f:
        for head in (
            0x1950A86A20F9469CFC6C,
            1001,
            {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}},
        ):
            pickle.dump(head, f, protocol=2)
        P(f, protocol=2).dump(
            {"g_ema": {"style.1.weight": Tensor(), "conv1.conv.weight": Tensor(), "to_rgb1.conv.weight": Tensor()}}
        )
        pickle.dump(["0"], f, protocol=2)
        f.write(np.int64(numel).tobytes() + bytes(16))
    return path


def test_a_storage_larger_than_the_file_is_refused_before_allocation(tmp_path):
    path = _legacy_bomb(tmp_path / "bomb.pt", 10**12)  # 4 TB declared
    with pytest.raises(ModelFileError, match="truncated|more tensor data"):
        load_any(path)


@pytest.mark.parametrize(
    "obj,message",
    [
        ({"d": rw.discriminator_state(32), "d_optim": {}}, "only a discriminator"),
        (
            {"generator": {"progression.0.conv1.weight": torch.zeros(1)}, "g_running": {}},
            "PyTorch checkpoint; StyleMixer does not read this kind",
        ),
        ({"weights": [1, 2, 3]}, "PyTorch checkpoint; StyleMixer does not read this kind"),
    ],
)
def test_other_pt_files(tmp_path, obj, message):
    path = rw.save(obj, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match=message):
        load_any(path)


def test_rosinality_file_with_wrong_shapes(tmp_path, weights):
    _kw, st, _ = weights
    obj = rw.converted_checkpoint(st)
    obj["g_ema"]["convs.3.conv.weight"] = torch.zeros(1, 16, 15, 3, 3)
    with pytest.raises(ModelFileError, match="shape"):
        load_any(rw.save(obj, tmp_path / "bad.pt"))


def test_torchscript_archive(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    with pytest.raises(ModelFileError, match="TorchScript"):
        load_any(path)


# ------------------------------------------------------------------------------------------------ TF


@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize("protocol,numpy_names", [(2, NUMPY1), (4, NUMPY2)])
def test_tf_stylegan2_pickles(tmp_path, weights, version, protocol, numpy_names):
    kw, st, G_nv = weights
    _, g_st, _ = record_for({"img_resolution": 32}, seed=12)  # G (not the moving average) differs from Gs
    marker = tmp_path / "ran"
    path = SG2Spec(kw, st, g_st, version=version, marker=marker).write(
        tmp_path / "stylegan2-test-config-f.pkl", protocol, numpy_names
    )
    m = load_any(path)
    assert m.format == "stylegan2-tf" and m.info["tf_network_version"] == version and m.info["network_name"] == "Gs"
    ref = Reference(kw, st)
    for seed in (0, 1):
        ws = ws_for(G_nv, seed)
        got = image(m.G, ws)
        assert (got - image(G_nv, ws)).abs().max() < 1e-5
        assert (got.double() - ref.synthesis(ws.double())).abs().max() < 1e-4
    assert not marker.exists()


def test_tf_stylegan2_discriminator_only(tmp_path, weights):
    kw, st, _ = weights
    path = SG2Spec(kw, st).write(tmp_path / "D.pkl", what="D")
    with pytest.raises(ModelFileError, match="only a discriminator"):
        load_any(path)


def test_tf_stylegan2_truncated(tmp_path, weights):
    kw, st, _ = weights
    path = SG2Spec(kw, st, version=5).write(tmp_path / "cut.pkl")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="StyleGAN2-ADA TensorFlow pickle.*truncated"):
        load_any(path)


def test_tf_stylegan2_with_a_reduce_payload(tmp_path, weights):
    kw, st, _ = weights
    marker = tmp_path / "ran"
    spec = SG2Spec(kw, st)
    spec.gs[1]["Dense0/bias"] = Reduce(os.system, (f"touch '{marker}'",))
    path = spec.write(tmp_path / "evil.pkl")
    with pytest.raises(ModelFileError, match=r"refers to (posix|os|nt)\.system"):
        load_any(path)
    assert not marker.exists()


def test_tf_stylegan2_resnet_generator_is_refused(tmp_path, weights):
    kw, st, _ = weights
    path = SG2Spec(kw, st, static_kwargs={"architecture": "resnet"}).write(tmp_path / "resnet.pkl")
    with pytest.raises(ModelFileError, match="architecture='resnet'"):
        load_any(path)


def test_stylegan_v1_pickles_still_go_to_the_v1_reader(tmp_path):
    from .tf_writer import Spec

    path = Spec(
        resolution=8, latent_size=8, dlatent_size=8, mapping_fmaps=8, fmap_base=32, fmap_max=8, mapping_layers=2
    ).write(tmp_path / "v1.pkl")
    m = load_any(path)
    assert m.format == "stylegan1-tf"


def test_dump_helper_is_the_real_container(tmp_path, weights):
    """The TF writer goes through the same stand-in Network class as the v1 writer (a sanity check of the test)."""
    kw, st, _ = weights
    path = tmp_path / "gs.pkl"
    dump(lambda N: SG2Spec(kw, st).generator(N, "Gs", SG2Spec(kw, st).gs), path)
    assert load_any(path).format == "stylegan2-tf"
