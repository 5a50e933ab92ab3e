"""Open NVIDIA's PyTorch network pickles (stylegan2-ada-pytorch, stylegan3) without running anything in them.

Their training snapshots (`network-snapshot-*.pkl`, and the published `ffhq.pkl`, `stylegan3-t-*.pkl`, ...)
pickle a dict {G, D, G_ema, augment_pipe, training_set_kwargs}. Every network object in it is pickled by
`torch_utils.persistence` as a call `_reconstruct_persistent_obj(meta)` with meta = {type, version, module_src,
class_name, state}: loading it the normal way `exec`s `module_src`, the full source of the network module
stored in the file. Here the pickle is read by the bounded interpreter in safe_pickle with this allow-list:

  torch_utils.persistence._reconstruct_persistent_obj -> PersistentRecord (class name, source as text, state)
  torch._utils._rebuild_tensor_v2 / _rebuild_parameter -> TensorRef (see safe_torch)
  torch.storage._load_from_bytes                     -> the nested legacy torch.save blob, parsed by safe_torch
  dnnlib.util.EasyDict, collections.OrderedDict, builtins.set, NumPy arrays / scalars / dtypes (both spellings)

and the generator `G_ema` becomes a NetworkRecord (records.py): flat state_dict names -> tensors, init kwargs,
plain attributes per submodule. Only G_ema's tensors are ever read from the file; G's, D's and augment_pipe's
stay unread (their storages are windows on the file), so memory stays near a third of the file size.

The file records no module name (persistence keeps only the source). The record's `module` is inferred from
the source text and the structure, never by running anything:
  training.networks_stylegan3  (stylegan3 T/R: a SynthesisInput child or filtered_lrelu in the source)
  training.networks_stylegan2  (the stylegan3 repo's StyleGAN2: its source has update_emas)
  training.networks            (stylegan2-ada-pytorch)
"""

from __future__ import annotations

import importlib
import inspect
import io
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import ModelFileError, read_error_text
from . import safe_pickle as sp
from . import safe_torch
from .records import NetworkRecord
from .safe_pickle import Damaged, Global, Inert, escape
from .safe_torch import LazyStorage, TensorRef

if TYPE_CHECKING:
    from ..families.api import StyleGenerator
    from . import LoadedModel

FORMAT = "nvidia-pickle"
PERSISTENCE = ("torch_utils.persistence", "_reconstruct_persistent_obj")
HEAD_BYTES = 1 << 18
GENERATOR_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
# nn.Module bookkeeping in a module's __dict__ that is not a network attribute
_INTERNAL = {
    "training",
    "_parameters",
    "_buffers",
    "_non_persistent_buffers_set",
    "_modules",
    "_init_args",
    "_init_kwargs",
}

FAMILIES = {  # record module -> (family label, converter module)
    "training.networks_stylegan3": ("StyleGAN3", "stylemixer.core.families.stylegan3.convert"),
    "training.networks_stylegan2": ("StyleGAN2", "stylemixer.core.families.stylegan2.convert"),
    "training.networks": ("StyleGAN2", "stylemixer.core.families.stylegan2.convert"),
}


class PersistentRecord(Inert):
    """One persistence-wrapped object as data: class name, persistence version, its module's source (a string,
    never run) and its pickled __dict__."""

    __slots__ = ("class_name", "module_src", "state", "version")

    def __init__(self, class_name: str, version: int, module_src: str, state: dict) -> None:
        self.class_name, self.version, self.module_src, self.state = class_name, version, module_src, state

    def __repr__(self) -> str:
        return f"<persistent {escape(self.class_name, 60)}>"

    def child(self, name: str) -> Any:
        mods = self.state.get("_modules")
        return mods.get(name) if isinstance(mods, dict) else None

    def walk(self, prefix: str = "") -> Iterator[tuple[str, PersistentRecord]]:
        """(path, record) for this record and every persistent submodule, depth first."""
        yield prefix, self
        mods = self.state.get("_modules")
        if isinstance(mods, dict):
            for name, m in mods.items():
                if isinstance(m, PersistentRecord):
                    yield from m.walk(f"{prefix}.{name}" if prefix else name)


def _reconstruct_persistent_obj(meta: object) -> PersistentRecord:
    if not isinstance(meta, dict):
        raise Damaged("a network object in the file has no meta dictionary")
    kind, version = meta.get("type"), meta.get("version")
    src, class_name, state = meta.get("module_src"), meta.get("class_name"), meta.get("state")
    if kind != "class":
        raise Damaged(
            f"a network object in the file is of persistence type {escape(repr(kind), 40)}; "
            f"NVIDIA's pickles only hold 'class'"
        )
    if (
        type(version) is not int
        or not isinstance(src, str)
        or not isinstance(class_name, str)
        or not class_name.isidentifier()
    ):
        raise Damaged("a network object in the file has a malformed meta dictionary")
    if not isinstance(state, dict) or not all(type(k) is str for k in state):
        raise Damaged(f"network object {escape(class_name, 60)} has a malformed state")
    return PersistentRecord(class_name, version, src, state)


def nvidia_globals(budget: sp.Budget) -> dict:
    g = sp.common_globals(numpy=True, easydict=True)
    g.update(safe_torch.tensor_globals(budget))
    g[PERSISTENCE] = Global("torch_utils.persistence._reconstruct_persistent_obj", call=_reconstruct_persistent_obj)
    return g


def read(
    f: io.BufferedIOBase,
    size: int | None = None,
    progress: Callable[[float], None] | None = None,
    progress_range: tuple[float, float] = (0.0, 1.0),
) -> Any:
    """The unpickled top-level object of an NVIDIA pickle open as `f` (records; tensors unread, valid while
    `f` stays open). Raises PickleRejected subclasses (ModelFileError; the message names no file)."""
    source = sp.Source(file=f, size=size)
    sp.check_size(source.size)
    budget = sp.Budget(source.size)
    return sp.load(source, nvidia_globals(budget), budget=budget, progress=progress, progress_range=progress_range)


# ----------------------------------------------------------------------------------------------------------
# Records


def infer_module(rec: PersistentRecord) -> str:
    for _path, r in rec.walk():
        if r.class_name == "SynthesisInput":
            return "training.networks_stylegan3"
    src = rec.module_src
    if "filtered_lrelu" in src or "class SynthesisInput" in src:
        return "training.networks_stylegan3"
    if "update_emas" in src:
        return "training.networks_stylegan2"
    return "training.networks"


def _plain_value(path: str, key: str) -> Callable[[object], Any]:
    def convert(v: object) -> Any:
        if isinstance(v, PersistentRecord):
            raise Damaged(
                f"attribute {escape(key, 60)} of {escape(path or 'the generator', 80)} holds a network "
                f"object outside its submodules"
            )
        if isinstance(v, TensorRef):
            return v.materialize()
        if isinstance(v, LazyStorage):
            return v.tensor()
        if isinstance(v, sp.ArrayRef):
            a = v.array
            return a.tolist() if a.size <= 4096 else a.copy()
        if isinstance(v, sp.Slice):
            return v.read()
        if isinstance(v, Global):
            return v.qualname
        return NotImplemented

    return convert


def _tensor_dict(rec: PersistentRecord, key: str, path: str) -> dict[str, TensorRef | None]:
    d = rec.state.get(key)
    if d is None:
        return {}
    if not isinstance(d, dict) or not all(type(k) is str for k in d):
        raise Damaged(f"{escape(path or 'the generator', 80)} has a malformed {key}")
    for name, t in d.items():
        if t is not None and not isinstance(t, TensorRef):
            raise Damaged(
                f"{key[1:-1] if key != '_buffers' else 'buffer'} {escape(name, 60)} of "
                f"{escape(path or 'the generator', 80)} is not a tensor"
            )
    return d


def network_record(rec: PersistentRecord, source_format: str = FORMAT) -> NetworkRecord:
    """A persistent generator (e.g. G_ema) -> NetworkRecord, reading its tensors (and no others)."""
    state: dict[str, TensorRef] = {}
    attrs: dict[str, dict] = {}
    seen: dict = {}
    for path, r in rec.walk():
        prefix = f"{path}." if path else ""
        for key in ("_parameters", "_buffers"):
            for name, t in _tensor_dict(r, key, path).items():
                if t is None:
                    continue
                full = prefix + name
                if full in state or "." in name or not name:
                    raise Damaged(f"the generator has a malformed or repeated tensor name {escape(full, 80)}")
                state[full] = t
        mods = r.state.get("_modules")
        if mods is not None and (
            not isinstance(mods, dict) or not all(type(k) is str and k and "." not in k for k in mods)
        ):
            raise Damaged(f"{escape(path or 'the generator', 80)} has a malformed list of submodules")
        for name, m in (mods or {}).items():
            if m is not None and not isinstance(m, PersistentRecord):
                raise Damaged(f"submodule {escape(prefix + name, 80)} is of a kind NVIDIA's networks do not use")
        attrs[path] = {
            k: sp.plain(v, _plain_value(path, k), seen)
            for k, v in r.state.items()
            if k not in _INTERNAL and not (k.startswith("_") and "hook" in k)
        }
    init_kwargs = rec.state.get("_init_kwargs") or {}
    init_args = rec.state.get("_init_args") or ()
    if not isinstance(init_kwargs, dict) or not isinstance(init_args, (tuple, list)):
        raise Damaged("the generator's constructor arguments are malformed")
    kwargs = sp.plain(init_kwargs, _plain_value("", "_init_kwargs"), seen)
    kwargs = _dicts(kwargs)
    if init_args:
        if rec.class_name != "Generator" or len(init_args) > len(GENERATOR_POSITIONAL):
            raise Damaged(f"{escape(rec.class_name, 60)} was built with {len(init_args)} positional arguments")
        for k, v in zip(GENERATOR_POSITIONAL, sp.plain(tuple(init_args))):
            kwargs.setdefault(k, v)
    tensors = {k: t.materialize() for k, t in state.items()}
    return NetworkRecord(
        module=infer_module(rec),
        class_name=rec.class_name,
        init_kwargs=kwargs,
        state=tensors,
        attrs=attrs,
        source_format=source_format,
    )


def _dicts(v: Any) -> Any:
    """EasyDict and OrderedDict -> dict, recursively (init kwargs as plain data)."""
    if isinstance(v, dict):
        return {k: _dicts(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dicts(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_dicts(x) for x in v)
    return v


def pick_generator(top: object, name: str) -> PersistentRecord:
    """G_ema from the snapshot dict; a file holding one bare Generator object is accepted too."""
    if isinstance(top, PersistentRecord):
        if top.class_name == "Generator":
            return top
        raise ModelFileError(_not_generator(name, [top.class_name]))
    if not isinstance(top, dict):
        raise ModelFileError(
            f"{name} is an NVIDIA network pickle whose top level is not the dictionary of "
            f"networks NVIDIA's training code writes"
        )
    g = top.get("G_ema")
    if isinstance(g, PersistentRecord):
        if g.class_name != "Generator":
            raise ModelFileError(f"{name}: its G_ema is a {escape(g.class_name, 60)}, not a Generator")
        return g
    held = [
        f"{k} ({escape(v.class_name, 40)})"
        for k, v in top.items()
        if isinstance(k, str) and isinstance(v, PersistentRecord)
    ]
    raise ModelFileError(_not_generator(name, held))


def _not_generator(name: str, held: list[str]) -> str:
    if held and all("Discriminator" in h for h in held):
        return (
            f"{name} holds only a discriminator ({', '.join(held)}); StyleMixer needs the generator G_ema "
            f"that NVIDIA's training snapshots store beside it"
        )
    what = ", ".join(held) if held else "no networks"
    return f"{name} holds no G_ema generator ({what}); StyleMixer reads the G_ema of NVIDIA's network-snapshot pickles"


def read_record(
    path: str | os.PathLike[str], progress: Callable[[float], None] | None = None
) -> tuple[NetworkRecord, dict]:
    """(G_ema as a NetworkRecord, info) from an NVIDIA pickle at `path`. ModelFileError naming the file."""
    path = os.fspath(path)
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size and not sp.ends_complete(f):
                raise ModelFileError(f"{name} is truncated (it ends before the pickle does); download it again")
            try:
                top = read(f, size, progress, (0.0, 0.8))
                G = pick_generator(top, name)
                rec = network_record(G)
            except sp.Truncated:
                raise ModelFileError(f"{name} is truncated (the data ends early); download it again") from None
            except sp.RefusedGlobal as e:
                raise ModelFileError(f"{name} was not opened: {e}") from None
            except sp.PickleRejected as e:
                raise ModelFileError(f"{name} is damaged or not a model file: {e}") from None
            info = {
                "nvidia_module": rec.module,
                "class_name": rec.class_name,
                "networks": sorted(k for k, v in top.items() if isinstance(v, PersistentRecord))
                if isinstance(top, dict)
                else ["Generator"],
            }
            del top, G
    except OSError as e:
        raise ModelFileError(read_error_text(path, e)) from None
    except MemoryError:
        raise ModelFileError(f"not enough memory to read {name}") from None
    return rec, info


def claims(head: bytes) -> bool:
    """Whether the first bytes of a pickle look like an NVIDIA PyTorch network pickle."""
    return PERSISTENCE in sp.scan_globals(head, limit=256)


def try_load(
    path: str | os.PathLike[str], kind: str, device: str = "cpu", progress: Callable[[float], None] | None = None
) -> LoadedModel | None:
    """A LoadedModel for an NVIDIA PyTorch pickle; None for any other file; ModelFileError if it is one that
    cannot be used."""
    if kind != "pickle":
        return None
    path = os.fspath(path)
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as e:
        raise ModelFileError(read_error_text(path, e)) from None
    if not claims(head):
        return None
    rec, info = read_record(path, progress)
    G = convert(rec, name, info)
    if progress is not None:
        progress(1.0)
    from . import LoadedModel

    return LoadedModel(G.to(device), os.path.abspath(path), name, FORMAT, info)


def convert(rec: NetworkRecord, name: str, info: dict | None = None) -> StyleGenerator:
    """The family's generator for a record, through the family's converter (imported only when needed; it is
    given the file's name and the info dict when its signature takes them)."""
    family = FAMILIES.get(rec.module)
    if family is None:  # cannot happen with infer_module; kept for records built elsewhere
        raise ModelFileError(f"{name} holds a network from {escape(rec.module, 80)}, which StyleMixer does not read")
    label, modname = family
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name and modname.startswith(e.name):
            raise ModelFileError(
                f"{name} is an NVIDIA {label} pickle; this StyleMixer has no {label} family installed"
            ) from None
        raise
    fn = mod.from_nvidia
    accepted = inspect.signature(fn).parameters
    extra = {k: v for k, v in (("name", name), ("info", info)) if k in accepted}
    try:
        out = fn(rec, **extra)
    except ModelFileError as e:
        msg = str(e)
        raise ModelFileError(msg if msg.startswith(name) else f"{name}: {msg}") from None
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError) as e:
        raise ModelFileError(
            f"{name}: its {label} generator cannot be built from the file's parameters "
            f"({type(e).__name__}: {escape(str(e), 160)})"
        ) from None
    return out[0] if isinstance(out, tuple) else out


__all__ = [
    "FORMAT",
    "PersistentRecord",
    "claims",
    "infer_module",
    "network_record",
    "pick_generator",
    "read",
    "read_record",
    "try_load",
]
