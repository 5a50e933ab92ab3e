"""Tensors from pickles and `torch.save` files, read through the bounded interpreter in safe_pickle.

torch itself is only used to hold the numbers: no `torch.load(weights_only=False)`, no torch unpickler at all.
What a file may name (besides safe_pickle's common helpers):

  torch._utils._rebuild_tensor_v2 / _rebuild_tensor   -> TensorRef (shape, stride, offset checked against the
                                                         storage before anything is read)
  torch._utils._rebuild_parameter[_with_state]        -> the same TensorRef, marked as a parameter
  torch.storage._load_from_bytes                      -> the nested legacy torch.save stream of one storage,
                                                         parsed here (torch's own version runs
                                                         torch.load(weights_only=False) on it)
  torch.<Type>Storage (inside persistent ids only)    -> the element type of a storage
  torch.Size, torch.device                            -> a tuple, a string
  argparse.Namespace (torch.save files only)          -> NamespaceRecord, an inert record of its attributes

Storages are `LazyStorage`s: where their bytes are in the file, read only by `.tensor()`. A reader keeps the
tensors it needs and never reads the others, so D's and G's weights in an NVIDIA snapshot cost nothing.

Formats of the files (torch 1.x-2.x, see the fact sheet 0.1 and B3):
- zip (torch.save since 1.6): `<stem>/data.pkl` (protocol 2, storages as persistent ids
  ('storage', type, key, location, numel)), raw storages in `<stem>/data/<key>` (stored, not compressed),
  `<stem>/byteorder`.
- legacy: pickles of the magic number, the protocol version 1001 and a system-info dict, then the object
  (persistent ids ('storage', type, key, location, numel, view)), then the list of storage keys, then for each
  key an int64 element count and the raw bytes.
"""

from __future__ import annotations

import collections
import io
import os
import struct
import zipfile
from collections.abc import Callable, Collection, Iterable
from typing import Any

import torch

from ..errors import read_error_text
from . import safe_pickle as sp
from .safe_pickle import Damaged, Global, Inert, Slice, Source, escape

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
MAX_TENSOR_DIMS = 8

STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class StorageType(Global):
    """torch.FloatStorage and friends: only the element type of a storage named in a persistent id."""

    __slots__ = ("dtype",)

    def __init__(self, name: str, dtype: torch.dtype) -> None:
        super().__init__(f"torch.{name}")
        self.dtype = dtype


class LazyStorage(Inert):
    """A storage: its element type, length, and where its bytes are. `.tensor()` reads them, once."""

    __slots__ = ("_tensor", "dtype", "numel", "offset", "source")

    def __init__(self, source: Source, offset: int | None, dtype: torch.dtype, numel: int) -> None:
        self.source, self.offset, self.dtype, self.numel = source, offset, dtype, numel
        self._tensor: torch.Tensor | None = None

    @property
    def itemsize(self) -> int:
        return torch.empty((), dtype=self.dtype).element_size()

    @property
    def nbytes(self) -> int:
        return self.numel * self.itemsize

    def tensor(self) -> torch.Tensor:
        """The storage's elements as a 1-D CPU tensor (read from the file on first use)."""
        if self._tensor is None:
            if self.offset is None:
                raise Damaged("a tensor's data is missing from the file")
            t = torch.empty(self.numel, dtype=self.dtype)
            if self.numel:
                self.source.readinto(self.offset, t.view(torch.uint8).numpy().data)
            self._tensor = t
        return self._tensor

    def __repr__(self) -> str:
        return f"<storage {self.dtype} x {self.numel}>"


class TensorRef(Inert):
    """A tensor not yet read: its storage, offset, size and stride (all checked), and whether it was a
    torch.nn.Parameter."""

    __slots__ = ("offset", "param", "size", "storage", "stride")

    def __init__(
        self, storage: LazyStorage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], param: bool = False
    ) -> None:
        self.storage, self.offset, self.size, self.stride, self.param = storage, offset, size, stride, param

    @property
    def shape(self) -> tuple:
        return self.size

    @property
    def dtype(self) -> torch.dtype:
        return self.storage.dtype

    @property
    def numel(self) -> int:
        n = 1
        for s in self.size:
            n *= s
        return n

    @property
    def nbytes(self) -> int:
        return self.numel * self.storage.itemsize

    def materialize(self) -> torch.Tensor:
        """The tensor (CPU). Contiguous tensors covering their whole storage share its memory; views copy."""
        base = self.storage.tensor()
        if self.offset == 0 and self.numel == base.numel() and _is_contiguous(self.size, self.stride):
            return base.view(self.size)
        return base.as_strided(self.size, self.stride, self.offset).clone()

    def __repr__(self) -> str:
        return f"<tensor {self.dtype} {list(self.size)}>"


def _is_contiguous(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    expected = 1
    for s, st in zip(reversed(size), reversed(stride)):
        if s != 1 and st != expected:
            return False
        expected *= s
    return True


class NamespaceRecord(Inert):
    """argparse.Namespace as data: its attributes in `.attrs`; attribute access reads them."""

    def __init__(self, attrs: dict | None = None) -> None:
        object.__setattr__(self, "attrs", dict(attrs or {}))

    def _build(self, state: object) -> None:
        if not isinstance(state, dict) or not all(type(k) is str for k in state):
            raise Damaged("an argparse.Namespace in the file has malformed attributes")
        self.attrs.update(state)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self.attrs[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"NamespaceRecord({', '.join(f'{k}={v!r}' for k, v in list(self.attrs.items())[:20])})"


class TensorInfo:
    """What safe_torch_load leaves for a tensor it was told not to read."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape: Iterable[int], dtype: torch.dtype) -> None:
        self.shape, self.dtype = tuple(shape), dtype

    def __repr__(self) -> str:
        return f"<unread tensor {self.dtype} {list(self.shape)}>"


# ----------------------------------------------------------------------------------------------------------
# The allowed torch functions


def _int(v: object, what: str, lo: int = 0, hi: int = 1 << 48) -> int:
    if type(v) is not int or not lo <= v < hi:
        raise Damaged(f"a tensor in the file has an invalid {what}: {escape(repr(v), 60)}")
    return v


def _rebuild_tensor(
    storage: object,
    storage_offset: object,
    size: object,
    stride: object,
    requires_grad: bool = False,
    backward_hooks: object = None,
    metadata: object = None,
    *rest: object,
) -> TensorRef:
    if not isinstance(storage, LazyStorage):
        raise Damaged("a tensor in the file is built on something other than a storage")
    if rest or (metadata not in (None, {}) and not (isinstance(metadata, dict) and not metadata)):
        raise Damaged("a tensor in the file carries metadata StyleMixer does not read")
    if backward_hooks is not None and (not isinstance(backward_hooks, dict) or backward_hooks):
        raise Damaged("a tensor in the file carries backward hooks")
    if type(requires_grad) is not bool:
        raise Damaged("a tensor in the file has a malformed requires_grad flag")
    if (
        not isinstance(size, tuple)
        or not isinstance(stride, tuple)
        or len(size) != len(stride)
        or len(size) > MAX_TENSOR_DIMS
    ):
        raise Damaged(f"a tensor in the file has size {escape(repr(size), 60)} and stride {escape(repr(stride), 60)}")
    offset = _int(storage_offset, "offset")
    size = tuple(_int(s, "size") for s in size)
    stride = tuple(_int(s, "stride") for s in stride)
    numel = 1
    for s in size:
        numel *= s
    last = offset + sum((s - 1) * st for s, st in zip(size, stride)) if numel else offset - 1
    if last >= storage.numel:
        raise Damaged(f"a tensor of size {list(size)} reaches element {last} of a storage of {storage.numel}")
    return TensorRef(storage, offset, size, stride)


def _rebuild_parameter(
    data: object, requires_grad: bool = False, backward_hooks: object = None, *rest: object
) -> TensorRef:
    if not isinstance(data, TensorRef):
        raise Damaged("a parameter in the file does not hold a tensor")
    if len(rest) > 1 or (rest and not isinstance(rest[0], (dict, type(None)))):
        raise Damaged("a parameter in the file has malformed state")
    if backward_hooks is not None and (not isinstance(backward_hooks, dict) or backward_hooks):
        raise Damaged("a parameter in the file carries backward hooks")
    return TensorRef(data.storage, data.offset, data.size, data.stride, param=True)


def _torch_size(dims: object = ()) -> tuple[int, ...]:
    if not isinstance(dims, (tuple, list)) or not all(type(d) is int and 0 <= d < 1 << 48 for d in dims):
        raise Damaged("a torch.Size in the file is malformed")
    return tuple(dims)


def _torch_device(kind: object, index: object = None) -> str:
    if not isinstance(kind, str) or len(kind) > 32 or (index is not None and type(index) is not int):
        raise Damaged("a torch.device in the file is malformed")
    return kind if index is None else f"{kind}:{index}"


def _new_namespace(*args: object, **kwargs: Any) -> NamespaceRecord:
    if args:
        raise Damaged("an argparse.Namespace is created with positional arguments")
    return NamespaceRecord(kwargs)


def storage_globals() -> dict:
    return {("torch", name): StorageType(name, dt) for name, dt in STORAGE_DTYPES.items()}


def tensor_globals(budget: sp.Budget) -> dict:
    """The torch functions a pickle of tensors names; `_load_from_bytes` parses nested blobs within `budget`."""

    def load_from_bytes(blob: object) -> Any:
        if not isinstance(blob, (bytes, bytearray, Slice)):
            raise Damaged("torch.storage._load_from_bytes is given something other than bytes")
        if isinstance(blob, Slice):
            source, start, end = blob.source, blob.offset, blob.offset + blob.length
        else:
            source, start, end = Source(data=bytes(blob)), 0, len(blob)
        obj = read_legacy(source, budget, start, end, chunk=4096)
        if not isinstance(obj, LazyStorage):
            raise Damaged("a nested torch storage blob holds something other than one storage")
        return obj

    g = {
        ("torch._utils", "_rebuild_tensor_v2"): Global("torch._utils._rebuild_tensor_v2", call=_rebuild_tensor),
        ("torch._utils", "_rebuild_tensor"): Global("torch._utils._rebuild_tensor", call=_rebuild_tensor),
        ("torch._utils", "_rebuild_parameter"): Global("torch._utils._rebuild_parameter", call=_rebuild_parameter),
        ("torch._utils", "_rebuild_parameter_with_state"): Global(
            "torch._utils._rebuild_parameter_with_state", call=_rebuild_parameter
        ),
        ("torch.storage", "_load_from_bytes"): Global("torch.storage._load_from_bytes", call=load_from_bytes),
        ("torch", "Size"): Global("torch.Size", call=_torch_size),
        ("torch", "device"): Global("torch.device", call=_torch_device),
    }
    return g


def torch_file_globals(budget: sp.Budget) -> dict:
    """Everything a torch.save checkpoint of state dicts (and an argparse.Namespace) may name."""
    g = sp.common_globals(numpy=True, easydict=False)
    g.update(tensor_globals(budget))
    g.update(storage_globals())
    g[("argparse", "Namespace")] = Global("argparse.Namespace", new=_new_namespace)
    return g


# ----------------------------------------------------------------------------------------------------------
# torch.save formats


def _storage_pid(pid: Any, legacy: bool) -> tuple[StorageType, str, int]:
    """('storage', type, key, location, numel[, view]) -> (StorageType, key, numel)."""
    if not (isinstance(pid, tuple) and pid and isinstance(pid[0], str)):
        raise Damaged("a persistent reference in the file is malformed")
    if pid[0] == "module":
        raise Damaged("the file pickles whole modules (with their source code); StyleMixer reads state dicts")
    if pid[0] != "storage" or len(pid) != (6 if legacy else 5):
        raise Damaged(f"a persistent reference of kind {escape(repr(pid[0]), 40)} is not a storage")
    stype, key, location, numel = pid[1:5]
    if not isinstance(stype, StorageType):
        raise Damaged("a storage in the file has no known element type")
    if not isinstance(key, str) or len(key) > 200 or not isinstance(location, str) or len(location) > 64:
        raise Damaged("a storage in the file has a malformed key or location")
    if type(numel) is not int or not 0 <= numel < 1 << 44:
        raise Damaged(f"a storage in the file claims {escape(repr(numel), 40)} elements")
    if legacy and pid[5] is not None:
        raise Damaged("the file uses storage views (torch before 0.4), which StyleMixer does not read")
    return stype, key, numel


def read_legacy(
    source: Source,
    budget: sp.Budget,
    start: int = 0,
    end: int | None = None,
    chunk: int = 1 << 18,
    globals: dict | None = None,
    progress: Callable[[float], None] | None = None,
) -> Any:
    """The object of a legacy (non-zip) torch.save stream in [start, end) of `source`, with LazyStorages."""
    r = sp.Reader(source, start, end, chunk=chunk)
    plain_only = sp.common_globals(numpy=False, easydict=False)
    magic = sp.load(None, plain_only, reader=r, budget=budget)
    if magic != LEGACY_MAGIC:
        raise Damaged("the data is not a torch.save stream (wrong magic number)")
    proto = sp.load(None, plain_only, reader=r, budget=budget)
    if proto != LEGACY_PROTOCOL:
        raise Damaged(f"a torch.save stream of protocol {escape(repr(proto), 30)}, expected {LEGACY_PROTOCOL}")
    info = sp.load(None, plain_only, reader=r, budget=budget)
    if not isinstance(info, dict) or info.get("little_endian", True) is not True:
        raise Damaged("the torch.save stream was written on a big-endian machine or has no system info")
    storages: dict = {}

    def persistent_load(pid: Any) -> tuple[Any, int]:
        stype, key, numel = _storage_pid(pid, legacy=True)
        st = storages.get(key)
        if st is None:
            st = storages[key] = LazyStorage(source, None, stype.dtype, numel)
        elif st.dtype != stype.dtype or st.numel != numel:
            raise Damaged("two references to one storage disagree on its type or size")
        return st, st.nbytes

    if globals is None:
        globals = dict(plain_only)
        globals.update(tensor_globals(budget))
    globals = dict(globals)
    globals.update(storage_globals())
    obj = sp.load(None, globals, reader=r, budget=budget, persistent_load=persistent_load, progress=progress)
    keys = sp.load(None, plain_only, reader=r, budget=budget)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
        raise Damaged("the torch.save stream's list of storages is malformed")
    for key in keys:
        st = storages.pop(key, None)
        if st is None:
            raise Damaged("the torch.save stream holds data for a storage its pickle never names")
        count = struct.unpack("<q", r.read(8))[0]
        if count != st.numel:
            raise Damaged(f"a storage declared with {st.numel} elements holds {count}")
        st.offset = r.pos
        r.skip(st.nbytes)
    if storages:
        raise Damaged("the torch.save stream lacks the data of a storage it names")
    return obj


def _zip_data_offset(source: Source, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes start: after its local header (30 bytes, name, extra field)."""
    head = source.pread(info.header_offset, 30)
    if head[:4] != b"PK\x03\x04":
        raise Damaged(f"the zip entry {escape(info.filename, 80)} has no valid local header")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.file_size > source.size:
        raise sp.Truncated(f"the zip entry {escape(info.filename, 80)} ends beyond the end of the file")
    return start


def read_zip(source: Source, budget: sp.Budget, progress: Callable[[float], None] | None = None) -> Any:
    """The object of a zip-format torch.save file, with LazyStorages pointing into the file."""
    try:
        fileobj = source.file if source.data is None else io.BytesIO(source.data)
        assert fileobj is not None  # a Source holds bytes or a file
        zf = zipfile.ZipFile(fileobj)
        infos = zf.infolist()
    except (
        zipfile.BadZipFile,
        ValueError,
        OSError,
        EOFError,
        struct.error,
        NotImplementedError,
        RuntimeError,
        KeyError,
        UnicodeDecodeError,
        OverflowError,
    ) as e:
        raise Damaged(f"the zip archive is damaged ({escape(str(e), 120)})") from None
    by_name = {i.filename: i for i in infos}
    pkls = [n for n in by_name if n == "data.pkl" or (n.endswith("/data.pkl") and n.count("/") == 1)]
    if any(n.endswith("constants.pkl") or "/code/" in n for n in by_name):
        raise Damaged("it is a TorchScript archive (compiled code), not a checkpoint of weights")
    if len(pkls) != 1:
        raise Damaged("the zip archive is not a torch.save file (no single data.pkl)")
    prefix = pkls[0][: -len("data.pkl")]
    order = by_name.get(prefix + "byteorder")
    if order is not None and _read_member(source, order, 16) != b"little":
        raise Damaged("the checkpoint was written on a big-endian machine")
    data = _read_member(source, by_name[pkls[0]], source.size)

    def persistent_load(pid: Any) -> tuple[Any, int]:
        stype, key, numel = _storage_pid(pid, legacy=False)
        info = by_name.get(f"{prefix}data/{key}")
        if info is None:
            raise Damaged(f"the archive lacks the data of storage {escape(key, 40)}")
        st = storages.get(key)
        if st is None:
            itemsize = torch.empty((), dtype=stype.dtype).element_size()
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != numel * itemsize:
                raise Damaged(
                    f"storage {escape(key, 40)} holds {info.file_size} bytes, expected "
                    f"{numel * itemsize} (or is compressed, which torch.save never does)"
                )
            st = storages[key] = LazyStorage(source, _zip_data_offset(source, info), stype.dtype, numel)
        elif st.dtype != stype.dtype or st.numel != numel:
            raise Damaged("two references to one storage disagree on its type or size")
        return st, st.nbytes

    storages: dict = {}
    return sp.load(data, torch_file_globals(budget), budget=budget, persistent_load=persistent_load, progress=progress)


def _read_member(source: Source, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.compress_type != zipfile.ZIP_STORED:
        raise Damaged(f"the zip entry {escape(info.filename, 80)} is compressed, which torch.save never does")
    if info.file_size > limit:
        raise Damaged(f"the zip entry {escape(info.filename, 80)} is larger than expected")
    return source.pread(_zip_data_offset(source, info), info.file_size)


def sniff_torch(head: bytes) -> str | None:
    """'zip', 'legacy' or None from the first bytes."""
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:2] == b"\x80\x02" and head[2:4] == b"\x8a\x0a":
        return "legacy"
    return None


def materialize(obj: Any, keep: Callable[[tuple], bool] | None = None) -> Any:
    """Plain Python data with TensorRefs read as torch tensors (LazyStorages as 1-D tensors). A tensor whose
    path (tuple of keys/indices from the top) fails `keep` becomes a TensorInfo and is never read."""
    seen: dict = {}

    def convert(v: object) -> Any:
        if isinstance(v, TensorRef):
            return v.materialize()
        if isinstance(v, LazyStorage):
            return v.tensor()
        if isinstance(v, NamespaceRecord):
            return NamespaceRecord(sp.plain(v.attrs, convert, seen))
        if isinstance(v, Slice):
            return v.read()
        if isinstance(v, Global):
            return v.qualname
        return NotImplemented

    def skip(v: object) -> Any:
        if isinstance(v, TensorRef):
            return TensorInfo(v.size, v.dtype)
        if isinstance(v, LazyStorage):
            return TensorInfo((v.numel,), v.dtype)
        return convert(v)

    if isinstance(obj, dict) and keep is not None:
        out = collections.OrderedDict() if isinstance(obj, collections.OrderedDict) else {}
        for k, v in obj.items():
            out[k] = sp.plain(v, convert if keep((k,)) else skip, seen if keep((k,)) else {})
        return out
    return sp.plain(obj, convert, seen)


def safe_torch_load(
    src: Any, keep: Collection[str] | None = None, progress: Callable[[float], None] | None = None
) -> Any:
    """Read a torch.save checkpoint (zip or legacy) without running anything in it, within bounds set by its
    size. Returns plain Python data (dict, OrderedDict, list, tuple, numbers, strings, NumPy arrays) with
    torch.Tensor for every tensor and NamespaceRecord for an argparse.Namespace.

    src: a path, bytes, or an open binary file. keep: None (read every tensor) or a collection of top-level
    keys whose tensors to read; the tensors under other keys become TensorInfo (shape, dtype) and are never
    read, so e.g. a rosinality training file costs only its g_ema.
    Raises ModelFileError (for a path, the message starts with the file's name).
    """
    name = None
    if isinstance(src, (str, os.PathLike)):
        name = os.path.basename(os.fspath(src))
        try:
            with open(src, "rb") as f:
                return _load_open(Source(file=f), keep, progress)
        except sp.PickleRejected as e:
            raise sp.PickleRejected(f"{name}: {e}") from None
        except OSError as e:
            raise sp.PickleRejected(read_error_text(src, e)) from None
    return _load_open(Source.of(src), keep, progress)


def _load_open(source: Source, keep: Collection[str] | None, progress: Callable[[float], None] | None) -> Any:
    sp.check_size(source.size)
    budget = sp.Budget(source.size)
    kind = sniff_torch(source.pread(0, min(16, source.size)))
    if kind == "zip":
        obj = read_zip(source, budget, progress)
    elif kind == "legacy":
        g = torch_file_globals(budget)
        obj = read_legacy(source, budget, globals=g, progress=progress)
    else:
        raise Damaged("it is not a torch.save checkpoint (neither a zip archive nor a legacy stream)")
    keep_fn = None if keep is None else (lambda path: path[0] in keep)
    return materialize(obj, keep_fn)


__all__ = [
    "STORAGE_DTYPES",
    "LazyStorage",
    "NamespaceRecord",
    "TensorInfo",
    "TensorRef",
    "materialize",
    "read_legacy",
    "read_zip",
    "safe_torch_load",
    "sniff_torch",
    "storage_globals",
    "tensor_globals",
    "torch_file_globals",
]
