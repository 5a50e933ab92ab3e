"""Read NVIDIA's TensorFlow-era network pickles as inert data, never running anything they contain.

The official StyleGAN files pickle the tuple (G, D, Gs) of `dnnlib.tflib.network.Network` objects. Loading them
the normal way imports dnnlib and TensorFlow and `exec`s the network source stored inside the pickle. Here a
restricted unpickler resolves exactly these globals and refuses every other one, naming it:

  dnnlib.tflib.network.Network          -> TFNetwork, an inert record of the pickled state
  dnnlib.util.EasyDict                  -> a plain dict subclass
  collections.OrderedDict               -> collections.OrderedDict
  numpy[._]core.multiarray._reconstruct -> a placeholder that BUILD turns into an array (checked, no object dtype)
  numpy.ndarray                         -> only as the first argument of _reconstruct
  numpy.dtype                           -> a placeholder that becomes a plain numeric dtype
  numpy[._]core.multiarray.scalar       -> a numeric NumPy scalar (TF scalar variables such as `lod`)
  _codecs.encode                        -> latin-1 only (how protocol 2 writes bytes)

Arrays are never built by NumPy's own __setstate__ from file data: the placeholders check the state (shape,
numeric dtype, exact byte count) and wrap the bytes with np.frombuffer, which also avoids a copy.
`build_module_src` stays a string; nothing here imports, compiles or evaluates it.
"""
from __future__ import annotations

import collections
import math
import pickle
import pickletools

import numpy as np

NETWORK_CLASS = ("dnnlib.tflib.network", "Network")
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")  # NumPy 1.x writers, NumPy 2.x writers
_DTYPES = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"}
_MAX_DIMS = 8


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle asked for a global outside the allow-list; `name` is 'module.attribute'."""

    def __init__(self, module: str, name: str):
        self.name = f"{module}.{name}"
        super().__init__(f"it refers to {self.name}, which StyleMixer does not load "
                         "(only network weights are read; code in a model file is never run)")


class TFNetwork:
    """Stands in for dnnlib.tflib.network.Network. BUILD hands it the pickled state dict, which lands in
    attributes: version, name, static_kwargs, components, build_module_src, build_func_name, variables."""

    def __setstate__(self, state):
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise pickle.UnpicklingError("a network's pickled state is not a dict of named fields")
        self.__dict__.update(state)

    @property
    def label(self) -> str:
        return f"{getattr(self, 'name', '?')} ({getattr(self, 'build_func_name', '?')})"

    def own_variables(self) -> dict:
        """{local name: np.ndarray} of this network's own variables (not its components')."""
        out = {}
        for item in getattr(self, "variables", None) or []:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise pickle.UnpicklingError(f"network {self.label} has a malformed variable list")
            out[item[0]] = as_array(item[1], item[0])
        return out

    def component(self, key: str):
        comps = getattr(self, "components", None) or {}
        c = comps.get(key) if isinstance(comps, dict) else None
        return c if isinstance(c, TFNetwork) else None


class _EasyDict(dict):
    """dnnlib.util.EasyDict without its attribute access; the keys are all we need."""

    def __setstate__(self, state):  # also stops a BUILD aimed at the class itself from setting class attributes
        if state:
            raise pickle.UnpicklingError("an EasyDict in the file carries unexpected attributes")


class _Call:
    """An allowed function, wrapped so that a BUILD opcode aimed at it cannot set attributes (e.g. __defaults__)
    that would outlive this load."""
    __slots__ = ("_fn",)

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args):
        return self._fn(*args)

    def __setstate__(self, state):
        raise pickle.UnpicklingError("the file tries to modify a built-in helper")


class _ArrayBox:
    """What `_reconstruct` returns; BUILD passes NumPy's array state, which is checked before use."""
    __slots__ = ("array",)

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise pickle.UnpicklingError("an array in the file has an unexpected pickled form")
        _version, shape, dtype, fortran, data = state
        dt = _dtype_of(dtype)
        if (not isinstance(shape, tuple) or len(shape) > _MAX_DIMS
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)):
            raise pickle.UnpicklingError(f"an array in the file has an invalid shape {shape!r}")
        if not isinstance(data, (bytes, bytearray)):
            raise pickle.UnpicklingError("an array in the file does not hold raw numeric data")
        count = math.prod(shape)
        if len(data) != count * dt.itemsize:
            raise pickle.UnpicklingError(f"an array of shape {list(shape)} holds {len(data)} bytes, "
                                         f"expected {count * dt.itemsize}")
        self.array = np.frombuffer(data, dtype=dt, count=count).reshape(shape, order="F" if fortran else "C")


class _DtypeBox:
    """What `numpy.dtype(...)` returns; BUILD's state may only set the byte order."""
    __slots__ = ("code", "dtype")

    def __init__(self, code, align=False, copy=True):
        if not isinstance(code, str) or code not in _DTYPES:
            raise pickle.UnpicklingError(f"an array in the file has data type {code!r}; only plain numbers are read")
        self.code = code
        self.dtype = np.dtype(code)

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) >= 2 and state[1] in ("<", ">", "|", "=")):
            raise pickle.UnpicklingError("an array data type in the file has an unexpected pickled form")
        if any(s is not None for s in state[2:5]):  # subarray, names, fields: structured types are refused
            raise pickle.UnpicklingError("the file holds structured arrays; only plain numeric arrays are read")
        if state[1] in ("<", ">"):
            self.dtype = np.dtype(self.code).newbyteorder(state[1])


_NDARRAY = object()  # the token the unpickler hands out for numpy.ndarray


def _dtype_of(d) -> np.dtype:
    if isinstance(d, _DtypeBox):
        return d.dtype
    raise pickle.UnpicklingError("an array in the file has no valid data type")


def _reconstruct(subtype, shape, typecode):
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError("only plain numpy.ndarray objects are read from a model file")
    return _ArrayBox()


def _scalar(dtype, data=None):
    dt = _dtype_of(dtype)
    if not isinstance(data, (bytes, bytearray)) or len(data) != dt.itemsize:
        raise pickle.UnpicklingError("a NumPy scalar in the file has the wrong number of bytes")
    return np.frombuffer(data, dtype=dt, count=1)[0]


def _codecs_encode(text, encoding="utf-8"):
    # Protocol 2 writes a bytes object as _codecs.encode(latin-1 text, 'latin1'); nothing else is needed.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin-1")


_ALLOWED = {
    NETWORK_CLASS: TFNetwork,
    ("dnnlib.util", "EasyDict"): _EasyDict,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeBox,
    ("_codecs", "encode"): _Call(_codecs_encode),
}
for _m in _NUMPY_CORE:
    _ALLOWED[(_m, "_reconstruct")] = _Call(_reconstruct)
    _ALLOWED[(_m, "scalar")] = _Call(_scalar)


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose find_class only knows the allow-list above."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise RefusedGlobal(str(module), str(name)) from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("the file uses persistent references, which StyleMixer does not read")


def as_array(value, what="a value") -> np.ndarray:
    """The array behind a variable value: an unpickled array placeholder or a NumPy scalar."""
    if isinstance(value, _ArrayBox) and value.array is not None:
        return value.array
    if isinstance(value, np.generic) and value.dtype.kind in "fiub":
        return np.asarray(value)
    raise pickle.UnpicklingError(f"{what} is not a numeric array")


def plain(value):
    """static_kwargs with array placeholders replaced by arrays (for reading and for error messages)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, _ArrayBox):
        return value.array
    return value


class ProgressReader:
    """A file wrapper that reports the fraction read to `progress(fraction)`, at most every 1%."""

    def __init__(self, f, size: int, progress=None, scale: float = 1.0):
        self._f, self._size, self._progress, self._scale = f, max(size, 1), progress, scale
        self._done, self._last = 0, -1.0

    def _tick(self, n):
        self._done += n
        if self._progress is not None:
            frac = min(self._done / self._size, 1.0) * self._scale
            if frac - self._last >= 0.01:
                self._last = frac
                self._progress(frac)

    def read(self, n=-1):
        data = self._f.read(n)
        self._tick(len(data))
        return data

    def readinto(self, b):
        n = self._f.readinto(b)
        self._tick(n or 0)
        return n

    def readline(self, size=-1):
        data = self._f.readline(size)
        self._tick(len(data))
        return data


def load(f, size: int | None = None, progress=None, scale: float = 1.0):
    """Unpickle an open binary file through the allow-list. Raises RefusedGlobal, pickle.UnpicklingError,
    EOFError and the like; the caller turns them into a message. progress gets fractions up to `scale`."""
    reader = ProgressReader(f, size or 1, progress, scale) if progress is not None else f
    up = RestrictedUnpickler(reader, encoding="latin1")
    try:
        return up.load()
    finally:
        del up  # drop the memo (it references every object in the file) before the caller keeps only a part


def scan_head(head: bytes):
    """Look at the first bytes of a pickle without loading it: (first global, first 'version' int after it,
    whether the bytes ran out in the middle of the opcode stream).

    Only parses opcodes (pickletools never executes). The global is None when none shows up in `head`.
    """
    first, version, memo, strings, ran_out = None, None, {}, [], False
    last, after_version_key = None, False
    try:
        for op, arg, _pos in pickletools.genops(head):
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
                version = int(arg)
                break
            if first is None and n == "GLOBAL":
                first = tuple(str(arg).split(" ", 1))
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


__all__ = ["TFNetwork", "RestrictedUnpickler", "RefusedGlobal", "load", "scan_head", "as_array", "plain",
           "NETWORK_CLASS"]
