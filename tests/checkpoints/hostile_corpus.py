"""A corpus of hostile and broken model files, generated fresh by the tests (nothing is stored or downloaded).

Every attack shape the hardening round found (code execution, memory and time bombs that pass an
allow-list, tracebacks, terminal escapes) in the formats StyleMixer reads: NVIDIA PyTorch pickles (written by
nvidia_writer), NVIDIA TF pickles (tf_writer), bare pickles, and torch.save files. Each Case says what must
happen: "refused" (one ModelFileError whose message matches `needle`) or "any" (a model or a ModelFileError;
used where the outcome depends on which family converters are installed). Payloads that would run create a
file in `marker_dir`; the corpus runner checks that it stays empty.
"""

from __future__ import annotations

import builtins
import collections
import io
import os
import pickle
import struct
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import nvidia_writer as nw
from .tf_writer import Spec

PERSISTENCE_HEAD = b"\x8c\x17torch_utils.persistence\x8c\x1b_reconstruct_persistent_obj\x93"  # STACK_GLOBAL


@dataclass
class Case:
    label: str
    path: Path
    expect: str = "refused"  # "refused" or "any"
    needle: str = ""  # a regular expression the message must match (when refused)
    torch_file: bool = False  # read through safe_torch_load as well as load_any


class Reduce:
    """Pickles as a call func(*args) (the way a hostile pickle runs code), with optional BUILD state."""

    def __init__(self, func, args=(), state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


def payloads(marker_dir: Path):
    """(name, callable, args, global it pickles as): each creates a file in marker_dir when called."""
    m = lambda tag: str(marker_dir / f"{tag}.ran")
    return [
        ("system", os.system, (f"touch '{m('system')}'",), f"{os.system.__module__}.system"),
        ("eval", builtins.eval, (f"__import__('pathlib').Path({m('eval')!r}).write_text('x')",), "builtins.eval"),
        ("exec", builtins.exec, (f"open({m('exec')!r}, 'w').write('x')",), "builtins.exec"),
        ("subprocess", subprocess.call, (["touch", m("subprocess")],), "subprocess.call"),
    ]


def legacy_stream(obj, keys=(), data=b"", pickler=pickle.Pickler) -> bytes:
    """A legacy torch.save stream around `obj` (written by this test, not by torch): magic, protocol,
    system info, the object, the key list, raw data."""
    b = io.BytesIO()
    for x in (
        0x1950A86A20F9469CFC6C,
        1001,
        {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}},
    ):
        pickle.dump(x, b, protocol=2)
    pickler(b, protocol=2).dump(obj)
    pickle.dump(list(keys), b, protocol=2)
    b.write(data)
    return b.getvalue()


class _Storage:
    """Stands for a storage in a hand-written stream; the pickler writes it as a persistent id."""

    def __init__(self, pid):
        self.pid = pid


class _PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _Storage) else None


def storage_blob(pid_numel=4, data_count=4, payload=None) -> bytes:
    """A nested storage blob (what torch.storage._load_from_bytes reads), optionally lying about its size or
    carrying a payload instead of the storage."""
    if payload is not None:
        return legacy_stream(payload)
    st = _Storage(("storage", torch.FloatStorage, "0", "cpu", pid_numel, None))
    return legacy_stream(st, ["0"], struct.pack("<q", data_count) + b"\0" * 4 * max(data_count, 0), pickler=_PidPickler)


def tensor_from_blob(blob, size=(4,), stride=(1,), param=True):
    t = Reduce(
        torch._utils._rebuild_tensor_v2,
        (Reduce(torch.storage._load_from_bytes, (blob,)), 0, size, stride, False, collections.OrderedDict()),
    )
    return Reduce(torch._utils._rebuild_parameter, (t, False, collections.OrderedDict())) if param else t


def billion_laughs(levels=40):
    level = []
    for _ in range(levels):
        level = [level, level]
    return level


def _raw(body: bytes, claim=True) -> bytes:
    """A protocol-4 pickle: optionally the persistence global first (so the NVIDIA reader claims it), then
    `body` (which must leave one object on the stack), then STOP."""
    head = b"\x80\x04" + ((b"]" + b"(" + PERSISTENCE_HEAD + b"0") if claim else b"")
    tail = b"e" if claim else b""  # APPENDS closes the list that holds the result
    return head + body + tail + b"."


def _short(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def build(folder: Path, marker_dir: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    marker_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    cases: list[Case] = []

    def nv(label, G_ema=None, needle="", expect="refused", **kw):
        path = folder / f"{label}.pkl"
        nw.write(path, G_ema if G_ema is not None else nw.tiny_stylegan2(rng), **kw)
        cases.append(Case(label, path, expect, needle))

    def raw(label, data: bytes, needle, expect="refused", ext=".pkl"):
        path = folder / f"{label}{ext}"
        path.write_bytes(data)
        cases.append(Case(label, path, expect, needle))

    # --- code execution: payloads anywhere in an NVIDIA pickle
    for name, fn, args, glob in payloads(marker_dir):
        nv(f"nv-reduce-top-{name}", extra={"evil": Reduce(fn, args)}, needle=glob.replace(".", r"\."))
        G = nw.tiny_stylegan2(rng)
        G.init_kwargs["evil"] = Reduce(fn, args)
        nv(f"nv-reduce-init-kwargs-{name}", G, needle=glob.replace(".", r"\."))
        G = nw.tiny_stylegan2(rng)
        G.children["synthesis"].children["b4"].children["conv1"].params["weight"] = Reduce(fn, args)
        nv(f"nv-reduce-param-{name}", G, needle=glob.replace(".", r"\."))
        G = nw.tiny_stylegan2(rng)
        G.children["mapping"].children["fc0"].params["weight"] = tensor_from_blob(
            storage_blob(payload=Reduce(fn, args))
        )
        # the blob is a protocol-2 stream: Python writes builtins as __builtin__ there
        nv(f"nv-reduce-in-blob-{name}", G, needle=r"\." + glob.split(".")[-1])
    G = nw.tiny_stylegan2(rng)
    big = legacy_stream([b"x" * 100_000, Reduce(os.system, (f"touch '{marker_dir / 'bigblob.ran'}'",))])
    G.children["mapping"].children["fc1"].params["weight"] = tensor_from_blob(big)
    nv("nv-reduce-in-large-blob", G, needle=r"system")
    G = nw.tiny_stylegan2(rng)
    G.children["synthesis"].attrs["evil"] = Reduce(builtins.eval, ("1+1",))
    nv("nv-reduce-attr", G, needle=r"builtins\.eval")
    nv(
        "nv-poisoned-module-src",
        nw.tiny_stylegan2(rng, src=nw.stand_in_source(marker=marker_dir / "src.ran")),
        expect="any",
    )
    nv(
        "nv-poisoned-module-src-sg3",
        nw.tiny_stylegan3(rng, src=nw.stand_in_source("stylegan3", marker=marker_dir / "src3.ran")),
        expect="any",
    )

    # --- names from the file are escaped
    ansi = "evil\x1b[2J\nstylemixer: model verified\x07"
    raw("nv-ansi-global", _raw(_short(ansi) + _short("run\x1b[31m") + b"\x93)R"), r"evil\\x1b\[2J\\nstylemixer")
    raw("bare-ansi-global", _raw(_short(ansi) + _short("run") + b"\x93)R", claim=False), r"evil\\x1b\[2J\\n")

    # --- memory and time bombs that pass an allow-list
    G = nw.tiny_stylegan2(rng)
    G.init_kwargs["mapping_kwargs"]["bomb"] = billion_laughs(40)
    nv("nv-billion-laughs", G, needle=r"expand")
    shared_w = torch.nn.Parameter(torch.randn(512, 512), requires_grad=False)
    shared_b = torch.nn.Parameter(torch.randn(512), requires_grad=False)
    G = nw.tiny_stylegan2(rng)
    G.children["mapping"].children = {
        f"fc{i}": nw.ModuleSpec("FullyConnectedLayer", G.module_src, params={"weight": shared_w, "bias": shared_b})
        for i in range(1000)
    }
    nv("nv-1000-memo-shared-512x512-layers", G, needle=r"expand")
    raw("nv-deep-marks", _raw(b"(" * 1_000_000 + b"N"), r"nested")
    raw("nv-deep-lists", _raw(b"]" * 1_000_000 + b"a" * 999_999), r"nested|opcodes")
    raw("nv-deep-tuples", _raw(b"N" + b"\x85" * 1_000_000), r"nested")
    raw("nv-deep-dicts", _raw(b"}" + b"\x8c\x01k}" * 300_000 + b"s" * 300_000), r"nested|opcodes")
    lst = []
    lst.append(lst)
    raw("nv-self-reference-list", _raw(pickle.dumps(lst, 4)[2:-1]), r"itself|cycle|after using")
    d = {}
    d["self"] = d
    raw("nv-self-reference-dict", _raw(pickle.dumps(d, 4)[2:-1]), r"itself|cycle|after using")
    raw("nv-huge-memo-index", _raw(b"}r" + struct.pack("<I", 2**27)), r"memo index")
    raw("nv-max-memo-index", _raw(b"}r" + struct.pack("<I", 2**32 - 1)), r"memo index")
    raw("nv-binbytes8-overflow", _raw(b"\x8e" + struct.pack("<Q", 2**63 + 5) + b"xx"), r"truncated|ends early")
    raw("nv-binbytes8-max", _raw(b"\x8e" + struct.pack("<Q", 2**64 - 1)), r"truncated|ends early")
    raw("nv-binunicode8-huge", _raw(b"\x8d" + struct.pack("<Q", 2**40) + b"abc"), r"truncated|ends early")
    raw("nv-frame-huge", b"\x80\x04\x95" + struct.pack("<Q", 2**62) + _raw(b"N")[2:], r"truncated|ends early")
    raw("nv-long4-huge", _raw(b"\x8b" + struct.pack("<i", 1_000_000) + b"\x01" * 1_000_000), r"integer")
    raw("nv-5000-digit-int", _raw(b"I" + b"9" * 5000 + b"\n"), r"longer than")
    raw("nv-opcode-flood", _raw(b"N0" * 1_000_000 + b"N"), r"opcodes")
    meta = {"type": "class", "version": 6, "module_src": "", "class_name": "Generator", "state": {}}
    raw("nv-build-on-record", nw.dumps(Reduce(nw._reconstruct_persistent_obj, (meta,), {"walk": 1})), r"takes none")
    raw(
        "nv-build-on-global",
        _raw(b"\x8c\x0bcollections\x8c\x0bOrderedDict\x93}\x8c\x0c__defaults__Nsb"),
        r"modify the helper",
    )
    raw("nv-reduce-on-a-list", _raw(b"])R"), r"calls a list")
    raw("nv-float-dict-key", _raw(b"}G" + struct.pack(">d", float("nan")) + b"Ns"), r"dictionary key")
    raw("nv-unknown-opcode", _raw(b"\xff"), r"not a pickle opcode")
    raw("nv-ext-registry", _raw(b"\x82\x01"), r"extension")
    raw("nv-persistent-ref", _raw(b"\x8c\x01xQ"), r"persistent")
    G = nw.tiny_stylegan2(rng)
    G.children["mapping"].children["fc0"].params["weight"] = tensor_from_blob(storage_blob(pid_numel=2**40))
    nv("nv-huge-declared-storage", G, needle=r"expand|truncated|ends early")
    G = nw.tiny_stylegan2(rng)
    G.children["mapping"].children["fc0"].params["weight"] = tensor_from_blob(storage_blob(), size=(10**9,))
    nv("nv-tensor-beyond-its-storage", G, needle=r"reaches element")
    G = nw.tiny_stylegan2(rng)
    G.children["mapping"].children["fc0"].params["weight"] = tensor_from_blob(storage_blob(4, 3))
    nv("nv-blob-wrong-count", G, needle=r"holds 3")
    G = nw.tiny_stylegan2(rng)
    G.children["mapping"].children["fc0"].params["weight"] = tensor_from_blob(storage_blob(), size=(-4,))
    nv("nv-negative-size", G, needle=r"invalid size")
    G = nw.tiny_stylegan2(rng)
    G.children["mapping"].attrs["w_avg_beta"] = 10**5000
    nv("nv-5000-digit-attr", G, needle=r"integer")

    # --- damaged or incomplete NVIDIA files
    good = folder / "nv-good.pkl"
    nw.write(
        good,
        nw.tiny_stylegan2(rng),
        G=nw.tiny_stylegan2(rng),
        D=nw.tiny_discriminator(rng),
        augment_pipe=nw.tiny_augment_pipe(rng),
    )
    cases.append(Case("nv-good", good, "any"))
    data = good.read_bytes()
    n = len(data)
    cuts = sorted({int(n * f) for f in np.linspace(0.02, 0.98, 24)} | {n - 1, n - 2, n - 9, 40, 100})
    for c in cuts:
        raw(f"nv-truncated-at-{c}", data[:c], r"truncated|damaged")
    path = folder / "nv-d-only.pkl"
    nw.dump({"D": nw.build_module(nw.tiny_discriminator(rng))}, path)
    cases.append(Case("nv-d-only", path, "refused", r"only a discriminator"))
    path = folder / "nv-no-g-ema.pkl"
    nw.dump({"G": nw.build_module(nw.tiny_stylegan2(rng)), "D": nw.build_module(nw.tiny_discriminator(rng))}, path)
    cases.append(Case("nv-no-g-ema", path, "refused", r"no G_ema"))
    raw(
        "nv-meta-not-a-class",
        nw.dumps(Reduce(nw._reconstruct_persistent_obj, ({"type": "function", "state": {}},))),
        r"persistence type",
    )

    # --- TensorFlow-era pickles
    def tf(label, spec, needle, expect="refused", patch=None):
        path = folder / f"{label}.pkl"
        if patch:
            orig = spec._state
            spec._state = lambda *a, **k: {**orig(*a, **k), **patch}
        spec.write(path)
        cases.append(Case(label, path, expect, needle))

    small = dict(
        resolution=8, fmap_base=32, fmap_max=8, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=2
    )
    tf("tf-billion-laughs", Spec(**small, static_kwargs={"bomb": billion_laughs(40)}), r"expand")
    tf(
        "tf-reduce-static-kwargs",
        Spec(**small, static_kwargs={"x": Reduce(os.system, (f"touch '{marker_dir}/tf.ran'",))}),
        r"system",
    )
    tf(
        "tf-build-shadows-methods",
        Spec(**small),
        "",
        expect="any",
        patch={"own_variables": 1, "component": 2, "label": "\x1b[31mred", "_state": 3, "__class__": 4},
    )
    spec = Spec(
        resolution=8,
        fmap_base=32,
        fmap_max=8,
        latent_size=512,
        dlatent_size=512,
        mapping_fmaps=512,
        mapping_layers=2,
        static_kwargs={"mapping_layers": 1000},
        g_mode="none",
    )
    w, b = spec.gs[1]["Dense0/weight"], spec.gs[1]["Dense0/bias"]
    spec.gs[1].clear()
    for i in range(1000):
        spec.gs[1][f"Dense{i}/weight"], spec.gs[1][f"Dense{i}/bias"] = w, b
    path = folder / "tf-1000-memo-shared-512x512-layers.pkl"
    from .tf_writer import dump

    dump(lambda N: (spec.generator(N, "Gs", spec.gs),), path)
    cases.append(Case("tf-1000-memo-shared-512x512-layers", path, "refused", r"expand"))

    # --- bare pickles
    for name, fn, args, glob in payloads(marker_dir):
        raw(f"bare-reduce-{name}", pickle.dumps(Reduce(fn, args), protocol=4), glob.replace(".", r"\."))

    # --- torch.save files (read by safe_torch_load; load_any has no reader for them on this branch)
    def pt(label, obj, needle, legacy=False):
        path = folder / f"{label}.pt"
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
        cases.append(Case(label, path, "refused", needle, torch_file=True))

    evil = Reduce(os.system, (f"touch '{marker_dir}/pt.ran'",))
    pt("pt-zip-reduce", {"g_ema": {"w": torch.ones(2)}, "evil": evil}, r"system")
    pt("pt-legacy-reduce", {"g_ema": {"w": torch.ones(2)}, "evil": evil}, r"system", legacy=True)
    t = torch.randn(512, 512)
    pt("pt-zip-1000-shared-views", {"g_ema": {f"l{i}": t for i in range(1000)}}, r"expand")
    pt("pt-legacy-billion-laughs", {"args": billion_laughs(40)}, r"expand", legacy=True)
    src = folder / "pt-zip-reduce.pt"
    path = folder / "pt-zip-compressed.pt"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    cases.append(Case("pt-zip-compressed", path, "refused", r"compressed", torch_file=True))
    path = folder / "pt-torchscript.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m/data.pkl", pickle.dumps({}, 2))
        z.writestr("m/code/m.py", "def forward(self): pass\n")
        z.writestr("m/constants.pkl", pickle.dumps((), 2))
    cases.append(Case("pt-torchscript", path, "refused", r"TorchScript", torch_file=True))
    path = folder / "pt-zip-storage-size-lie.pt"
    with zipfile.ZipFile(path, "w") as z:
        buf = io.BytesIO()
        _PidPickler(buf, protocol=2).dump(
            {
                "w": Reduce(
                    torch._utils._rebuild_tensor_v2,
                    (
                        _Storage(("storage", torch.FloatStorage, "0", "cpu", 10**9)),
                        0,
                        (10**9,),
                        (1,),
                        False,
                        collections.OrderedDict(),
                    ),
                )
            }
        )
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/data/0", b"\0" * 16)
    cases.append(Case("pt-zip-storage-size-lie", path, "refused", r"holds 16 bytes|expand", torch_file=True))
    path = folder / "pt-legacy-whole-module.pt"
    path.write_bytes(legacy_stream(_Storage(("module", torch.nn.Linear, "linear.py", "source")), pickler=_PidPickler))
    cases.append(Case("pt-legacy-whole-module", path, "refused", r"whole modules|Linear", torch_file=True))
    data = (folder / "pt-legacy-reduce.pt").read_bytes()
    path = folder / "pt-legacy-truncated.pt"
    path.write_bytes(data[: len(data) * 2 // 3])
    cases.append(Case("pt-legacy-truncated", path, "refused", r"truncated|ends early|damaged|system", torch_file=True))
    return cases
