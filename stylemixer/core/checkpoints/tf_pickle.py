"""Read NVIDIA's TensorFlow-era network pickles as inert data, never running anything they contain.

The official StyleGAN files pickle the tuple (G, D, Gs) of `dnnlib.tflib.network.Network` objects. Loading them
the normal way imports dnnlib and TensorFlow and `exec`s the network source stored inside the pickle. Here the
bounded interpreter in safe_pickle reads them with exactly these globals and refuses every other one, naming it:

  dnnlib.tflib.network.Network          -> TFNetwork, an inert record of the pickled state
  dnnlib.util.EasyDict                  -> a plain dict subclass
  collections.OrderedDict, builtins.set -> themselves
  numpy[._]core.multiarray._reconstruct -> ArrayRef, which BUILD fills with a checked array state
  numpy.ndarray                         -> only as the first argument of _reconstruct
  numpy.dtype                           -> a plain numeric dtype (structured and object dtypes refused)
  numpy[._]core.multiarray.scalar       -> a numeric NumPy scalar (TF scalar variables such as `lod`)
  _codecs.encode                        -> latin-1 only (how protocol 2 writes bytes)

Arrays are never built by NumPy's own __setstate__ from file data: ArrayRef checks the state (shape, numeric
dtype, exact byte count) and reads the bytes only when the array is asked for, straight from the file, so the
arrays of G and D in the (G, D, Gs) tuple are never read. `build_module_src` stays a string; nothing here
imports, compiles or evaluates it. Depth, size and opcode limits: see safe_pickle.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import pickletools
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..errors import ModelFileError, read_error_text
from . import safe_pickle as sp
from .safe_pickle import Damaged, Global, Inert, RefusedGlobal

NETWORK_CLASS = ("dnnlib.tflib.network", "Network")


class TFNetwork(Inert):
    """Stands in for dnnlib.tflib.network.Network. BUILD hands it the pickled state dict (version, name,
    static_kwargs, components, build_module_src, build_func_name, variables), kept apart from the class's own
    methods: `net.version` reads the state, but no state key can replace `own_variables` or `label`."""

    def __init__(self) -> None:
        object.__setattr__(self, "_state", None)

    def _build(self, state: object) -> None:
        if self._state is not None:
            raise Damaged("a network in the file is given its state twice")
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise Damaged("a network's pickled state is not a dict of named fields")
        object.__setattr__(self, "_state", state)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_state":
            raise AttributeError(name)
        state = object.__getattribute__(self, "_state") or {}
        try:
            return state[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(
        self, name: str, value: Any
    ) -> None:  # a loader dropping what it has used, e.g. net.variables = None
        if name.startswith("_"):
            raise AttributeError(name)
        if self._state is None:
            object.__setattr__(self, "_state", {})
        self._state[name] = value

    @property
    def label(self) -> str:
        return (
            f"{sp.escape(str(getattr(self, 'name', '?')), 60)} "
            f"({sp.escape(str(getattr(self, 'build_func_name', '?')), 60)})"
        )

    def own_variables(self, lazy: bool = False) -> dict:
        """{local name: np.ndarray} of this network's own variables (not its components'), read now; with
        lazy=True the arrays stay ArrayRefs (shape and dtype known, data read by `as_array`)."""
        out: dict[str, Any] = {}
        for item in getattr(self, "variables", None) or []:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise Damaged(f"network {self.label} has a malformed variable list")
            value = item[1]
            if lazy and isinstance(value, sp.ArrayRef) and value.dtype is not None:
                out[item[0]] = value
            else:
                out[item[0]] = as_array(value, item[0])
        return out

    def component(self, key: str) -> TFNetwork | None:
        comps = getattr(self, "components", None) or {}
        c = comps.get(key) if isinstance(comps, dict) else None
        return c if isinstance(c, TFNetwork) else None


def _new_network(*args: object, **kwargs: object) -> TFNetwork:
    if args or kwargs:
        raise Damaged("a TensorFlow network in the file is created with arguments")
    return TFNetwork()


_ALLOWED = sp.common_globals(numpy=True, easydict=True)
_ALLOWED[NETWORK_CLASS] = Global("dnnlib.tflib.network.Network", new=_new_network)


class RestrictedUnpickler:
    """`RestrictedUnpickler(f).load()`: one TF-era pickle from a binary file through the allow-list above.
    Arrays stay unread until asked for, so `f` must stay open while they are used."""

    def __init__(self, f: io.BufferedIOBase, encoding: str = "latin1") -> None:
        self.f, self.encoding = f, encoding

    def load(
        self, progress: Callable[[float], None] | None = None, progress_range: tuple[float, float] = (0.0, 1.0)
    ) -> Any:
        return sp.load(
            self.f,
            _ALLOWED,
            start=self.f.tell(),
            progress=progress,
            progress_range=progress_range,
            encoding=self.encoding,
        )


def as_array(value: object, what: str = "a value") -> np.ndarray:
    """The array behind a variable value: an unpickled ArrayRef or a NumPy scalar."""
    if isinstance(value, sp.ArrayRef) and value.dtype is not None:
        return value.array
    if isinstance(value, (np.generic, np.ndarray)) and value.dtype.kind in "fiub":
        return np.asarray(value)
    raise Damaged(f"{sp.escape(str(what), 80)} is not a numeric array")


def plain(value: Any) -> Any:
    """static_kwargs with array records replaced by arrays, memo-aware (a structure shared many times in the
    file is converted once), for reading and for error messages."""
    return sp.plain(value)


def load(
    f: io.BufferedIOBase, size: int | None = None, progress: Callable[[float], None] | None = None, scale: float = 1.0
) -> Any:
    """Unpickle an open binary file through the allow-list. Raises safe_pickle's ModelFileError subclasses
    (RefusedGlobal, Truncated, LimitExceeded, Damaged); the caller adds the file's name. progress gets
    fractions up to `scale`. The arrays inside are read from `f` on use: keep it open until then."""
    return sp.load(sp.Source(file=f, size=size), _ALLOWED, progress=progress, progress_range=(0.0, scale))


HEAD_BYTES = 1 << 18  # what scan_head is given: enough for the first network's class and version


class Head(NamedTuple):
    """What scan_head found in the first HEAD_BYTES of a file (`length` of them were there)."""

    first: tuple[str, str] | None
    version: int | None
    ran_out: bool
    length: int


@contextlib.contextmanager
def open_pickle(path: str) -> Iterator[tuple[io.BufferedReader, int, Head]]:
    """(the open file, its size, its head scanned). An OSError anywhere in the block, the caller's reading
    included, becomes ModelFileError 'cannot read NAME: REASON'."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            yield f, size, Head(*scan_head(head), len(head))
    except OSError as e:
        raise ModelFileError(read_error_text(path, e)) from None


def load_file(f: io.BufferedIOBase, size: int, name: str, progress: Callable[[float], None] | None) -> Any:
    """load() with the file's name in every error, as ModelFileError. progress gets fractions up to 0.8."""
    try:
        return load(f, size, progress, scale=0.8)
    except RefusedGlobal as e:
        raise ModelFileError(f"{name} was not opened: {e}") from None
    except sp.Truncated:
        raise ModelFileError(f"{name} is truncated (the data ends early); download it again") from None
    except sp.PickleRejected as e:
        raise ModelFileError(f"{name} is damaged: {e}") from None
    except MemoryError:
        raise ModelFileError(f"not enough memory to read {name} (or the file is damaged)") from None


def networks(top: object) -> list[TFNetwork]:
    """The networks at the top of a file: those of the (G, D, Gs) tuple, or the one network it holds."""
    nets = [top] if isinstance(top, TFNetwork) else list(top) if isinstance(top, (tuple, list)) else []
    return [n for n in nets if isinstance(n, TFNetwork)]


def pick_built_by(nets: list[TFNetwork], build_func: str, model: str, name: str) -> TFNetwork:
    """Gs from the networks of (G, D, Gs): the one built by `build_func` named Gs, else the last one so built
    (Gs comes last). ModelFileError naming what the file holds instead."""
    if not nets:
        raise ModelFileError(f"{name} refers to TensorFlow networks but holds no network at its top level")
    gens = [n for n in nets if getattr(n, "build_func_name", None) == build_func]
    if not gens:
        funcs = sorted({str(getattr(n, "build_func_name", "?"))[:80] for n in nets})
        if all(fn.startswith("D_") for fn in funcs):
            raise ModelFileError(
                f"{name} holds only a discriminator ({', '.join(funcs)}); StyleMixer needs the "
                f"generator, which the official files store as Gs in the tuple (G, D, Gs)"
            )
        raise ModelFileError(
            f"{name} holds TensorFlow networks built by {', '.join(funcs)}, not the {model} generator {build_func}"
        )
    named = [n for n in gens if getattr(n, "name", None) == "Gs"]
    return named[0] if named else gens[-1]


def scan_head(head: bytes) -> tuple[tuple[str, str] | None, int | None, bool]:
    """Look at the first bytes of a pickle without loading it: (first global, first 'version' int after it,
    whether the bytes ran out in the middle of the opcode stream).

    Only parses opcodes (pickletools never executes). The global is None when none shows up in `head`.
    """
    first: tuple[str, str] | None = None
    version: int | None = None
    memo: dict[Any, Any] = {}
    strings: list[str] = []
    ran_out = False
    last, after_version_key = None, False
    try:
        for op, arg, _pos in itertools.islice(pickletools.genops(head), sp.SCAN_OPS):
            n = op.name
            if n == "FRAME":
                continue
            if n in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"):
                memo[len(memo) if n == "MEMOIZE" else arg] = last
                continue
            if n in ("BINGET", "LONG_BINGET", "GET"):
                value = memo.get(arg)
            elif n in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                value = arg
            else:
                value = None
            if after_version_key and n in ("BININT1", "BININT2", "BININT", "INT", "LONG1"):
                version = int(arg) if isinstance(arg, int) else None
                break
            if first is None and n == "GLOBAL":
                module, _, name = str(arg).partition(" ")
                first = (module, name)
            elif first is None and n == "STACK_GLOBAL" and len(strings) >= 2:
                first = (strings[-2], strings[-1])
            after_version_key = first is not None and value == "version"
            if isinstance(value, str):
                strings.append(value)
            last = value
    except ValueError as e:  # the head ends mid-opcode, or the bytes are not a pickle at all
        ran_out = any(t in str(e) for t in ("remain", "exhausted", "not enough data", "no newline"))
    except Exception:
        pass
    return first, version, ran_out


__all__ = [
    "HEAD_BYTES",
    "NETWORK_CLASS",
    "Head",
    "RefusedGlobal",
    "RestrictedUnpickler",
    "TFNetwork",
    "as_array",
    "load",
    "load_file",
    "networks",
    "open_pickle",
    "pick_built_by",
    "plain",
    "scan_head",
]
