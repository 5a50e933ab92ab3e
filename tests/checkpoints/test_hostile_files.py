"""Pickles that would run code are refused with a message naming what they asked for; a marker proves nothing ran."""

import builtins
import os
import pickle
import subprocess
import sys
import types

import pytest

from stylemixer.core.checkpoints import load_any
from stylemixer.core.checkpoints.tf_pickle import RefusedGlobal, RestrictedUnpickler
from stylemixer.core.errors import ModelFileError

from .tf_writer import Spec

EVIL_MODULE = "stylemixer_test_evil_module"


def payloads(marker):
    """(label, callable, args, the global the pickle will name) - each creates `marker` when called."""
    m = str(marker)
    return [
        ("os.system", os.system, (f"touch '{m}'",), f"{os.system.__module__}.system"),
        ("eval", builtins.eval, (f"__import__('pathlib').Path({m!r}).write_text('eval ran')",), "builtins.eval"),
        ("exec", builtins.exec, (f"open({m!r}, 'w').write('exec ran')",), "builtins.exec"),
        ("subprocess.call", subprocess.call, (["touch", m],), "subprocess.call"),
    ]


class Reduce:
    """Pickles as a call of `func(*args)`, the way a hostile file runs code on load."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.fixture
def evil_module(tmp_path, monkeypatch):
    """A real importable module that creates a marker when imported; pickles refer to its function `run`."""
    marker = tmp_path / "imported.marker"
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / f"{EVIL_MODULE}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\ndef run(*a):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    stand_in = types.ModuleType(EVIL_MODULE)  # only while pickling, so writing does not import the real one

    def run(*a):
        pass

    run.__module__, run.__qualname__ = EVIL_MODULE, "run"
    stand_in.run = run
    return marker, stand_in


def _pickle_with_stand_in(obj, stand_in, protocol=4):
    sys.modules[EVIL_MODULE] = stand_in
    try:
        return pickle.dumps(obj, protocol=protocol)
    finally:
        del sys.modules[EVIL_MODULE]


def test_the_payloads_are_live(tmp_path):
    """Sanity check of the test itself: an ordinary unpickler does run every payload."""
    for label, func, args, _ in payloads(tmp_path / "m"):
        marker = tmp_path / "m"
        pickle.loads(pickle.dumps(Reduce(func, args)))
        assert marker.exists(), label
        marker.unlink()


@pytest.mark.parametrize("index", range(4))
@pytest.mark.parametrize("where", ["static_kwargs", "variables", "top"])
def test_code_inside_an_official_looking_file_is_refused(tmp_path, index, where):
    marker = tmp_path / "ran.marker"
    label, func, args, global_name = payloads(marker)[index]
    evil = Reduce(func, args)
    spec = Spec(
        resolution=8,
        fmap_base=32,
        fmap_max=8,
        latent_size=8,
        dlatent_size=8,
        mapping_fmaps=8,
        mapping_layers=2,
        static_kwargs={"payload": evil} if where == "static_kwargs" else None,
    )
    if where == "variables":
        spec.gs[2]["4x4/Const/const"] = evil
    path = tmp_path / "karras2019stylegan-ffhq-1024x1024.pkl"
    if where == "top":
        from .tf_writer import dump

        dump(lambda N: spec.tuple(N) + (evil,), path)
    else:
        spec.write(path)
    with pytest.raises(ModelFileError) as e:
        load_any(path)
    assert global_name in str(e.value) and "never run" in str(e.value)
    assert not marker.exists(), f"{label} ran"


@pytest.mark.parametrize("index", range(4))
def test_a_bare_hostile_pickle_is_refused(tmp_path, index):
    marker = tmp_path / "ran.marker"
    label, func, args, global_name = payloads(marker)[index]
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Reduce(func, args), protocol=4))
    with pytest.raises(ModelFileError, match="pickle of a kind StyleMixer does not read"):
        load_any(path)
    # the unpickler itself, directly
    with pytest.raises(RefusedGlobal, match=global_name.replace(".", r"\.")), open(path, "rb") as f:
        RestrictedUnpickler(f).load()
    assert not marker.exists(), f"{label} ran"


def test_a_reference_to_another_module_is_not_imported(tmp_path, evil_module):
    marker, stand_in = evil_module
    spec = Spec(
        resolution=8,
        fmap_base=32,
        fmap_max=8,
        latent_size=8,
        dlatent_size=8,
        mapping_fmaps=8,
        mapping_layers=2,
        static_kwargs={"payload": Reduce(stand_in.run, ())},
    )
    path = tmp_path / "m.pkl"

    sys.modules[EVIL_MODULE] = stand_in
    try:
        spec.write(path)
        bare = pickle.dumps(Reduce(stand_in.run, ()), protocol=2)
    finally:
        del sys.modules[EVIL_MODULE]
    with pytest.raises(ModelFileError, match=f"{EVIL_MODULE}.run"):
        load_any(path)
    with pytest.raises(RefusedGlobal):
        RestrictedUnpickler(__import__("io").BytesIO(bare)).load()
    assert not marker.exists() and EVIL_MODULE not in sys.modules
    pickle.loads(bare)  # and the module really would have been imported by an ordinary unpickler
    assert marker.exists()
    del sys.modules[EVIL_MODULE]


def test_embedded_network_source_is_never_executed(tmp_path):
    marker = tmp_path / "source.marker"
    spec = Spec(
        resolution=8,
        fmap_base=32,
        fmap_max=8,
        latent_size=8,
        dlatent_size=8,
        mapping_fmaps=8,
        mapping_layers=2,
        marker=marker,
    )
    m = load_any(spec.write(tmp_path / "m.pkl"))
    assert m.G.num_ws == 4
    assert not marker.exists() and "dnnlib" not in sys.modules
    exec(compile(spec.source, "<stand-in>", "exec"), {})  # the stand-in source really writes the marker
    assert marker.exists()


def test_object_arrays_and_structured_dtypes_are_refused(tmp_path):
    import numpy as np

    for bad, text in (
        (np.array([1, "x"], dtype=object), "only plain numbers"),
        (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), "only plain numbers|structured"),
    ):
        spec = Spec(
            resolution=8, fmap_base=32, fmap_max=8, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=2
        )
        spec.gs[2]["4x4/Const/const"] = bad
        with pytest.raises(ModelFileError, match=text):
            load_any(spec.write(tmp_path / "m.pkl"))


def test_allowed_helpers_load(tmp_path):
    """EasyDict and OrderedDict (allowed, inert) come back as plain mappings."""
    import collections
    import io

    class EasyDict(dict):
        pass

    EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    mod = types.ModuleType("dnnlib.util")
    mod.EasyDict = EasyDict
    saved = {k: sys.modules.get(k) for k in ("dnnlib", "dnnlib.util")}
    sys.modules.update({"dnnlib": types.ModuleType("dnnlib"), "dnnlib.util": mod})
    try:
        data = pickle.dumps([EasyDict(a=1), collections.OrderedDict(b=2)], protocol=2)
    finally:
        for k, v in saved.items():
            sys.modules.pop(k) if v is None else sys.modules.__setitem__(k, v)
    a, b = RestrictedUnpickler(io.BytesIO(data)).load()
    assert dict(a) == {"a": 1} and dict(b) == {"b": 2} and type(a).__module__.startswith("stylemixer")


@pytest.mark.parametrize(
    "module,name",
    [
        ("dnnlib.util", "EasyDict"),
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("dnnlib.tflib.network", "Network"),
    ],
)
def test_a_file_cannot_modify_the_allowed_helpers(module, name):
    """BUILD with a slot-state dict would setattr on whatever the global resolved to; that must fail."""
    import io

    from stylemixer.core.checkpoints import tf_pickle

    data = (
        b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n"
        b"N}X\x0c\x00\x00\x00__defaults__X\x01\x00\x00\x00x\x85s\x86b."
    )
    target = tf_pickle._ALLOWED[(module, name)]
    before = getattr(target, "__defaults__", None)
    with pytest.raises((pickle.UnpicklingError, TypeError)):
        RestrictedUnpickler(io.BytesIO(data)).load()
    assert getattr(target, "__defaults__", None) == before
