"""torch.save files and pickled tensors read without torch's unpickler: the same tensors torch.load gives,
an argparse.Namespace as an inert record, only the tensors asked for, and clean refusals."""

import argparse
import collections
import io
import os
import pickle

import pytest
import torch

from stylemixer.core.checkpoints import safe_pickle as sp
from stylemixer.core.checkpoints import safe_torch
from stylemixer.core.checkpoints.safe_torch import (
    NamespaceRecord,
    TensorInfo,
    safe_torch_load,
)
from stylemixer.core.errors import ModelFileError

DTYPES = [
    torch.float32,
    torch.float64,
    torch.float16,
    torch.bfloat16,
    torch.int64,
    torch.int32,
    torch.int16,
    torch.int8,
    torch.uint8,
    torch.bool,
]


def checkpoint():
    """Shaped like a rosinality train.py checkpoint: state dicts, optimisers, args, a float."""
    base = torch.randn(10, 10)
    g = collections.OrderedDict((f"t{i}", (torch.randn(3, 4) * 10).to(dt)) for i, dt in enumerate(DTYPES))
    g["view"], g["transposed"], g["scalar"] = base[2:5, 1:3], base.t(), torch.tensor(2.5)
    g["big"] = torch.randn(300, 300)
    p = torch.nn.Parameter(torch.randn(4))
    opt = torch.optim.Adam([p], lr=0.002, betas=(0.0, 0.99))
    p.sum().backward()
    opt.step()
    return {
        "g_ema": g,
        "d": {"w": torch.randn(5)},
        "g_optim": opt.state_dict(),
        "args": argparse.Namespace(size=256, channel_multiplier=2, path="lmdb", r1=10.0, augment=False),
        "ada_aug_p": 0.25,
        "latent_avg": torch.randn(512),
    }


def assert_equal(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    elif isinstance(a, dict):
        assert type(a) is type(b) and list(a) == list(b)
        for k in a:
            assert_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_equal(x, y)
    else:
        assert a == b and type(a) is type(b), (a, b)


@pytest.mark.parametrize("legacy", [False, True])
def test_same_as_torch_load(tmp_path, legacy):
    obj = checkpoint()
    path = tmp_path / "100000.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    ours = safe_torch_load(path)
    args = ours.pop("args")
    assert isinstance(args, NamespaceRecord) and args.size == 256 and args.attrs == vars(obj["args"])
    del obj["args"]  # torch.load(weights_only=True) refuses the Namespace; compare the rest
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    theirs = torch.load(path, weights_only=True)
    assert_equal(theirs, safe_torch_load(path))
    assert_equal(theirs, {k: v for k, v in ours.items()})


def test_torch_itself_refuses_the_namespace(tmp_path):
    path = tmp_path / "c.pt"
    torch.save({"args": argparse.Namespace(a=1)}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    assert safe_torch_load(path)["args"].a == 1


def test_only_the_kept_tensors_are_read(tmp_path):
    path = tmp_path / "c.pt"
    torch.save(checkpoint(), path)
    out = safe_torch_load(path, keep={"g_ema", "latent_avg", "args"})
    assert isinstance(out["g_ema"]["big"], torch.Tensor) and isinstance(out["latent_avg"], torch.Tensor)
    assert isinstance(out["d"]["w"], TensorInfo) and out["d"]["w"].shape == (5,)
    assert isinstance(out["g_optim"]["state"][0]["exp_avg"], TensorInfo)
    assert out["g_optim"]["param_groups"][0]["betas"] == (0.0, 0.99) and out["ada_aug_p"] == 0.25


def test_bytes_and_open_files(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.arange(6.0).reshape(2, 3)}, buf)
    assert torch.equal(safe_torch_load(buf.getvalue())["w"], torch.arange(6.0).reshape(2, 3))
    path = tmp_path / "c.pt"
    path.write_bytes(buf.getvalue())
    with open(path, "rb") as f:
        assert safe_torch_load(f)["w"].shape == (2, 3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nested_storage_blobs_of_every_type(dtype):
    """A tensor pickled with plain pickle (as NVIDIA's snapshots do): its storage is a nested torch.save blob."""
    t = (torch.randn(7, 5) * 5).to(dtype)
    for value in (t, t[1:4, 2:], torch.nn.Parameter(t.float(), requires_grad=False)):
        g = sp.common_globals()
        budget = sp.Budget(10**6)
        g.update(safe_torch.tensor_globals(budget))
        ref = sp.load(pickle.dumps(value, protocol=4), g, budget=budget)
        assert isinstance(ref, safe_torch.TensorRef) and ref.param == isinstance(value, torch.nn.Parameter)
        out = ref.materialize()
        assert out.dtype == value.dtype and torch.equal(out, value.detach())


def test_a_bare_storage_pickle_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.pt"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(ModelFileError, match="x.pt: it is not a torch.save checkpoint"):
        safe_torch_load(path)


def test_damaged_files(tmp_path):
    path = tmp_path / "c.pt"
    torch.save(checkpoint(), path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    for cut in (20, len(data) // 3, len(data) - 5):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="c.pt: "):
            safe_torch_load(path)
    torch.save(checkpoint(), path)
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelFileError, match="c.pt: "):
        safe_torch_load(path)
    os.unlink(path)
    with pytest.raises(ModelFileError, match="cannot read c.pt"):
        safe_torch_load(path)
