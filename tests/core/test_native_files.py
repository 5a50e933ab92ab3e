import json
import os
import struct

import pytest
import torch
from safetensors.torch import save_file

from stylemixer.core.checkpoints import load_any, load_model, save_model
from stylemixer.core.errors import ModelFileError

from ..conftest import TINY


def test_save_load_bit_exact(tiny_G, tmp_path):
    p = tmp_path / "m.safetensors"
    save_model(tiny_G, p, {"note": "hello"})
    G2 = load_model(p)
    assert G2.cfg == tiny_G.cfg
    a, b = tiny_G.state_dict(), G2.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ws = tiny_G.mapping(torch.randn(2, TINY.z_dim))
    assert torch.equal(tiny_G.synthesis(ws, noise_mode="const"), G2.synthesis(ws, noise_mode="const"))


def test_loading_never_unpickles(tiny_model_path, monkeypatch):
    import pickle

    def refuse(*a, **k):
        raise AssertionError("unpickling during model load")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    load_model(tiny_model_path)


def _expect(path, pattern):
    with pytest.raises(ModelFileError, match=pattern):
        load_any(path)


def test_truncated(tiny_model_path, tmp_path):
    data = tiny_model_path.read_bytes()
    for cut in (len(data) // 2, 100, 12):
        p = tmp_path / f"cut{cut}.safetensors"
        p.write_bytes(data[:cut])
        with pytest.raises(ModelFileError):
            load_any(p)


def test_not_safetensors(tmp_path):
    p = tmp_path / "x.safetensors"
    p.write_bytes(os.urandom(4000))
    _expect(p, "not a model file|not a safetensors|pickle")
    p.write_text("hello world, this is text")
    _expect(p, "not a model file")


def test_foreign_safetensors(tmp_path):
    p = tmp_path / "other.safetensors"
    save_file({"a": torch.zeros(3)}, p)
    _expect(p, "not a StyleMixer model")


def _rewrite(tiny_G, path, mutate):
    tensors = {k: v.clone() for k, v in tiny_G.state_dict().items()}
    mutate(tensors)
    save_file(
        tensors,
        path,
        metadata={"format": "stylemixer.generator", "version": "1", "config": json.dumps(tiny_G.cfg.to_dict())},
    )


def test_missing_extra_and_misshaped(tiny_G, tmp_path):
    p = tmp_path / "m.safetensors"
    _rewrite(tiny_G, p, lambda t: t.pop("synthesis.const"))
    _expect(p, "lacks 1 tensor.*synthesis.const")
    _rewrite(tiny_G, p, lambda t: t.__setitem__("surprise", torch.zeros(1)))
    _expect(p, "unexpected tensor.*surprise")
    _rewrite(tiny_G, p, lambda t: t.__setitem__("synthesis.const", torch.zeros(1, 5, 4, 4)))
    _expect(p, r"synthesis.const has shape \[1, 5, 4, 4\]")
    _rewrite(tiny_G, p, lambda t: t.__setitem__("synthesis.const", torch.full((1, 32, 4, 4), float("nan"))))
    _expect(p, "NaN")


def test_bad_config(tiny_G, tmp_path):
    p = tmp_path / "m.safetensors"
    save_file(
        tiny_G.state_dict(),
        p,
        metadata={"format": "stylemixer.generator", "version": "1", "config": json.dumps({"resolution": 33})},
    )
    _expect(p, "invalid model configuration")
    save_file(tiny_G.state_dict(), p, metadata={"format": "stylemixer.generator", "version": "7", "config": "{}"})
    _expect(p, "version")


def test_wrong_paths(tmp_path):
    _expect(tmp_path / "nope.safetensors", "no such file")
    _expect(tmp_path, "folder")


def test_hostile_header_size(tmp_path):
    p = tmp_path / "h.safetensors"
    p.write_bytes(struct.pack("<Q", 10**6) + b"{" + b" " * 50)
    _expect(p, "truncated")


def test_failed_save_leaves_nothing(tiny_G, tmp_path):
    target = tmp_path / "missing-folder" / "m.safetensors"
    with pytest.raises(OSError):
        save_model(tiny_G, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def _rewrite_metadata(src, dst, edit):
    """Copy a native file with its metadata changed by edit(meta) (the tensors stay byte for byte)."""
    data = open(src, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    edit(header["__metadata__"])
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(raw)) + raw + data[8 + n :])


def test_the_family_is_recorded_and_files_without_one_are_v1(tiny_G, tiny_model_path, tmp_path):
    data = open(tiny_model_path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    assert json.loads(data[8 : 8 + n])["__metadata__"]["family"] == "stylegan1"
    old = tmp_path / "before-families.safetensors"
    _rewrite_metadata(tiny_model_path, old, lambda m: m.pop("family"))
    G = load_model(old)
    assert G.family == "stylegan1"
    z = torch.randn(1, TINY.z_dim)
    assert torch.equal(
        G.synthesis(G.mapping(z), noise_mode="const"), tiny_G.synthesis(tiny_G.mapping(z), noise_mode="const")
    )


def test_an_unknown_family_is_named(tiny_model_path, tmp_path):
    odd = tmp_path / "odd.safetensors"
    _rewrite_metadata(tiny_model_path, odd, lambda m: m.update(family="stylegan9"))
    with pytest.raises(ModelFileError, match="stylegan9"):
        load_model(odd)
