"""NVIDIA PyTorch pickles (stylegan2-ada-pytorch, stylegan3) read as records: the writer's networks come back
exactly (tensors, init kwargs, attributes) in every variant real files have, only G_ema is read, and the record
goes to the right family converter."""

import itertools
import json
import os
import pickle
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from stylemixer.core.checkpoints import load_any, nvidia_pickle
from stylemixer.core.checkpoints.safe_torch import TensorRef
from stylemixer.core.errors import ModelFileError

from . import nvidia_writer as nw
from .tf_writer import NUMPY1, NUMPY2

ROOT = Path(__file__).resolve().parents[2]
SG2_CONVERT = "stylemixer.core.families.stylegan2.convert"
SG3_CONVERT = "stylemixer.core.families.stylegan3.convert"


def _expected_attr(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {k: _expected_attr(x) for k, x in v.items()}
    return v


def assert_same(rec, spec: nw.ModuleSpec):
    want = spec.state_dict()
    assert list(rec.state) == list(want)
    for k, t in want.items():
        got = rec.state[k]
        assert got.dtype == t.dtype and got.shape == t.shape and torch.equal(got, t), k
    attrs = spec.all_attrs()
    assert set(rec.attrs) == set(attrs)
    for path, a in attrs.items():
        got = rec.attrs[path]
        assert set(got) == set(a), path
        for k, v in a.items():
            e = _expected_attr(v)
            assert got[k] == e and type(got[k]) is type(e), (path, k, got[k], e)
    assert rec.init_kwargs == _expected_attr(spec.init_kwargs)
    assert type(rec.init_kwargs["mapping_kwargs"]) is dict


# Every combination in the slow tier; in the fast tier one case per family, the two differing in every choice.
ROUND_TRIPS = list(itertools.product([nw.tiny_stylegan2, nw.tiny_stylegan3], [3, 4], [NUMPY1, NUMPY2], [False, True]))
FAST_ROUND_TRIPS = [(nw.tiny_stylegan2, 3, NUMPY1, False), (nw.tiny_stylegan3, 4, NUMPY2, True)]


@pytest.mark.parametrize(
    "maker,protocol,numpy_names,old_torch",
    [c if c in FAST_ROUND_TRIPS else pytest.param(*c, marks=pytest.mark.slow) for c in ROUND_TRIPS],
)
def test_round_trip(tmp_path, maker, protocol, numpy_names, old_torch):
    rng = np.random.default_rng(protocol * 10 + old_torch)
    G_ema = maker(rng)
    path = nw.write(
        tmp_path / "network-snapshot-000100.pkl",
        G_ema,
        protocol=protocol,
        numpy_names=numpy_names,
        G=maker(rng),
        D=nw.tiny_discriminator(rng),
        augment_pipe=nw.tiny_augment_pipe(rng),
        old_torch=old_torch,
        layout="sg3" if old_torch else "ada",
    )
    rec, info = nvidia_pickle.read_record(path)
    assert_same(rec, G_ema)
    assert rec.class_name == "Generator" and rec.source_format == "nvidia-pickle"
    assert info["networks"] == ["D", "G", "G_ema", "augment_pipe"]
    assert all(k.split(".")[0] not in ("torch_utils", "dnnlib", "training") for k in sys.modules)


def test_only_g_ema_is_read(tmp_path):
    rng = np.random.default_rng(1)
    path = nw.write(
        tmp_path / "s.pkl",
        nw.tiny_stylegan2(rng),
        G=nw.tiny_stylegan2(rng),
        D=nw.tiny_discriminator(rng),
        augment_pipe=nw.tiny_augment_pipe(rng),
    )
    with open(path, "rb") as f:
        top = nvidia_pickle.read(f)
        nvidia_pickle.network_record(top["G_ema"])

    def refs(rec):
        for _p, r in rec.walk():
            for key in ("_parameters", "_buffers"):
                yield from (t for t in (r.state.get(key) or {}).values() if isinstance(t, TensorRef))

    assert all(t.storage._tensor is not None for t in refs(top["G_ema"]))
    for key in ("G", "D", "augment_pipe"):
        assert all(t.storage._tensor is None for t in refs(top[key])), key


def test_a_pickle_of_the_generator_alone(tmp_path):
    rng = np.random.default_rng(2)
    spec = nw.tiny_stylegan2(rng)
    path = nw.dump(nw.build_module(spec), tmp_path / "G_ema.pkl", protocol=4)
    rec, info = nvidia_pickle.read_record(path)
    assert_same(rec, spec)
    assert info["networks"] == ["Generator"]


def test_legacy_py_style_file_with_none_entries(tmp_path):
    rng = np.random.default_rng(3)
    spec = nw.tiny_stylegan2(rng)
    path = nw.write(
        tmp_path / "converted.pkl",
        spec,
        G=spec,
        D=nw.tiny_discriminator(rng),
        augment_pipe=None,
        training_set_kwargs={},
    )
    rec, _ = nvidia_pickle.read_record(path)
    assert_same(rec, spec)


@pytest.mark.parametrize(
    "kind,module", [("stylegan2", "training.networks"), ("stylegan2-sg3repo", "training.networks_stylegan2")]
)
def test_module_inferred_from_the_source_text(tmp_path, kind, module):
    rng = np.random.default_rng(4)
    path = nw.write(tmp_path / "s.pkl", nw.tiny_stylegan2(rng, src=nw.stand_in_source(kind)))
    assert nvidia_pickle.read_record(path)[0].module == module


def test_stylegan3_recognised_by_its_structure_even_with_other_source(tmp_path):
    rng = np.random.default_rng(5)
    path = nw.write(tmp_path / "s.pkl", nw.tiny_stylegan3(rng, src="# some fork\n"))
    assert nvidia_pickle.read_record(path)[0].module == "training.networks_stylegan3"


class _FakeG(torch.nn.Module):
    def __init__(self, rec):
        super().__init__()
        self.rec = rec


@pytest.mark.parametrize("maker,modname", [(nw.tiny_stylegan2, SG2_CONVERT), (nw.tiny_stylegan3, SG3_CONVERT)])
def test_load_any_hands_the_record_to_the_family(tmp_path, monkeypatch, maker, modname):
    fake = types.ModuleType(modname)
    fake.from_nvidia = _FakeG
    monkeypatch.setitem(sys.modules, modname, fake)
    rng = np.random.default_rng(6)
    spec = maker(rng)
    path = nw.write(tmp_path / "ffhq.pkl", spec, D=nw.tiny_discriminator(rng))
    seen = []
    m = load_any(path, progress=seen.append)
    assert m.format == "nvidia-pickle" and m.name == "ffhq.pkl" and m.source == os.path.abspath(path)
    assert isinstance(m.G, _FakeG)
    assert_same(m.G.rec, spec)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_a_missing_family_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, SG3_CONVERT, None)  # as if the family were not installed
    path = nw.write(tmp_path / "stylegan3-t.pkl", nw.tiny_stylegan3(np.random.default_rng(7)))
    with pytest.raises(
        ModelFileError,
        match="stylegan3-t.pkl is an NVIDIA StyleGAN3 pickle; this StyleMixer has no StyleGAN3 family installed",
    ):
        load_any(path)


def test_a_converter_failure_becomes_one_message(tmp_path, monkeypatch):
    fake = types.ModuleType(SG2_CONVERT)

    def from_nvidia(rec):
        raise KeyError("synthesis.b4.const")

    fake.from_nvidia = from_nvidia
    monkeypatch.setitem(sys.modules, SG2_CONVERT, fake)
    path = nw.write(tmp_path / "odd.pkl", nw.tiny_stylegan2(np.random.default_rng(8)))
    with pytest.raises(ModelFileError, match=r"odd.pkl: its StyleGAN2 generator cannot be built .*KeyError"):
        load_any(path)


def test_files_without_a_generator(tmp_path):
    rng = np.random.default_rng(9)
    path = tmp_path / "D.pkl"
    nw.dump({"D": nw.build_module(nw.tiny_discriminator(rng)), "augment_pipe": None}, path)
    with pytest.raises(ModelFileError, match="D.pkl holds only a discriminator"):
        load_any(path)
    nw.dump(nw.build_module(nw.tiny_discriminator(rng)), path)
    with pytest.raises(ModelFileError, match="only a discriminator"):
        load_any(path)
    nw.dump({"G": nw.build_module(nw.tiny_stylegan2(rng))}, path)
    with pytest.raises(ModelFileError, match=r"holds no G_ema generator \(G \(Generator\)\)"):
        load_any(path)


def test_other_pickles_are_left_to_other_readers(tmp_path):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    assert nvidia_pickle.try_load(path, "pickle") is None
    with pytest.raises(ModelFileError, match="a Python pickle of a kind StyleMixer does not read"):
        load_any(path)


PROBE = r"""
import json, sys, time
import numpy, torch
from stylemixer.core.checkpoints import nvidia_pickle

def status_mb(field):
    with open("/proc/self/status") as f:
        return int(f.read().split(field + ":")[1].split()[0]) / 1024

base = status_mb("VmRSS")
t0 = time.perf_counter()
calls = []
rec, info = nvidia_pickle.read_record(sys.argv[1], progress=calls.append)
print(json.dumps({"peak": status_mb("VmHWM") - base, "seconds": time.perf_counter() - t0,
                  "g_ema_mb": sum(t.numel() * t.element_size() for t in rec.state.values()) / 2 ** 20,
                  "progress_calls": len(calls),
                  "modules": sorted(k for k in sys.modules if k.split(".")[0] in ("dnnlib", "torch_utils"))}))
"""


@pytest.mark.subprocess
def test_peak_memory_is_g_ema_not_the_file(tmp_path):
    """G, D and G_ema of the same size, as in a training snapshot: reading costs about G_ema, a third of the file.
    STYLEMIXER_OFFICIAL_SIZE=1 runs it at the official 1024 px config-F size (a 364 MB file)."""
    rng = np.random.default_rng(10)
    if os.environ.get("STYLEMIXER_OFFICIAL_SIZE"):
        shape = dict(res=1024)
    else:
        shape = dict(res=256, channel_base=8192, channel_max=256, z_dim=256, w_dim=256)
    G_ema = nw.stylegan2_generator(rng, **shape)
    disc = {k: v for k, v in shape.items() if k in ("res", "channel_base", "channel_max")}
    path = nw.write(
        tmp_path / "network-snapshot.pkl",
        G_ema,
        G=nw.stylegan2_generator(rng, **shape),
        D=nw.stylegan2_discriminator(rng, **disc),
        augment_pipe=nw.tiny_augment_pipe(rng),
    )
    del G_ema
    size_mb = os.path.getsize(path) / 2**20
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["modules"] == [] and r["progress_calls"] >= 10
    assert r["g_ema_mb"] < size_mb / 2.5
    assert r["peak"] < r["g_ema_mb"] + 16 + 0.05 * size_mb, (r, size_mb)
    print(f"\n{size_mb:.0f} MB snapshot: peak +{r['peak']:.0f} MB (G_ema {r['g_ema_mb']:.0f} MB), {r['seconds']:.2f} s")


# ----------------------------------------------------------------------------------------------------------
# With the family converters and their NVIDIA-named test networks (present once the family branches are in)


def _family(flavor):
    if flavor == "sg3":
        weights = pytest.importorskip("tests.checkpoints.sg3_weights")
        convert = pytest.importorskip("stylemixer.core.families.stylegan3.convert")
        return weights.nvidia_sg3_record(weights.small("T", 16) if hasattr(weights, "small") else None), convert
    weights = pytest.importorskip("tests.checkpoints.sg2_weights")
    convert = pytest.importorskip("stylemixer.core.families.stylegan2.convert")
    return weights.record_for(None, seed=3, flavor=flavor)[2], convert


@pytest.mark.parametrize(
    "flavor,protocol,numpy_names,old_torch",
    [
        ("ada", 3, NUMPY1, True),
        pytest.param("ada", 4, NUMPY2, False, marks=pytest.mark.slow),
        ("sg3", 4, NUMPY1, False),
        pytest.param("sg3", 3, NUMPY2, True, marks=pytest.mark.slow),
    ],
)
def test_family_networks_through_a_real_pickle(tmp_path, flavor, protocol, numpy_names, old_torch):
    """The families' NVIDIA-named random networks, written as persistence pickles beside a D, come back as the
    same record, and load_any renders them exactly as their converter does from the record itself."""
    rec, convert = _family(flavor)
    rng = np.random.default_rng(11)
    spec = nw.spec_from_record(rec)
    path = nw.write(
        tmp_path / "network-snapshot.pkl",
        spec,
        protocol=protocol,
        numpy_names=numpy_names,
        G=spec,
        D=nw.tiny_discriminator(rng),
        augment_pipe=nw.tiny_augment_pipe(rng),
        old_torch=old_torch,
    )
    got, _ = nvidia_pickle.read_record(path)
    assert got.module == rec.module and got.class_name == rec.class_name
    assert got.init_kwargs == rec.init_kwargs
    # torch's own `training` flag is module bookkeeping, not a network attribute: the reader leaves it out
    assert got.attrs == {p: {k: v for k, v in a.items() if k != "training"} for p, a in rec.attrs.items()}
    assert set(got.state) == set(rec.state) and all(torch.equal(got.state[k], rec.state[k]) for k in rec.state)
    loaded = load_any(path)
    want = convert.from_nvidia(rec)
    a, b = loaded.G.state_dict(), want.state_dict()
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert loaded.format == "nvidia-pickle"
