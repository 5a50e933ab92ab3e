"""Reading a .safetensors model within bounds set by the file itself.

A safetensors file is an 8-byte little-endian header length, a JSON header ({name: {dtype, shape,
data_offsets}}, plus an optional "__metadata__" of text -> text), then the raw tensor bytes. Everything the
header says is checked before a byte of tensor data is read or a parameter allocated:

1. `read_header`: the header length against the file size, the JSON (no NaN, no duplicate keys, bounded
   nesting and numbers), every entry's dtype, shape and offsets, and that the offsets tile the data section
   exactly up to the end of the file. So the declared tensors can never need more memory than the file holds.
2. `expected_state`: the generator the config describes is built on torch's "meta" device (shapes only, no
   memory) to learn the tensors it needs.
3. `check_declared_tensors`: the header declares exactly those names, shapes and floating dtypes.
4. `load_checked`: only then the generator is built for real and filled tensor by tensor, each read with one
   bounded read and checked for NaN and infinities.

Family-agnostic: a family only has to be constructible on the meta device. Every problem is a ModelFileError.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import numpy as np
import torch

from ..errors import ModelFileError, describe, printable

MAX_HEADER_BYTES = 16 * 2**20  # a 1024 px generator's header is ~20 KB; the safetensors library allows 100 MB
MAX_TENSORS = 100_000
MAX_DIMS = 8
MAX_METADATA_ITEMS = 1000
M = TypeVar("M", bound=torch.nn.Module)  # the module load_checked builds

# dtype -> (torch dtype or None when StyleMixer cannot use it, bytes per element)
DTYPES = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (None, 8),
    "U64": (None, 8),
    "I32": (None, 4),
    "U32": (None, 4),
    "I16": (None, 2),
    "U16": (None, 2),
    "I8": (None, 1),
    "U8": (None, 1),
    "BOOL": (None, 1),
    "F8_E5M2": (None, 1),
    "F8_E4M3": (None, 1),
}


@dataclass(frozen=True)
class TensorEntry:
    dtype: str  # safetensors code, e.g. "F32"
    shape: tuple
    begin: int  # byte offsets into the data section
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Header:
    tensors: dict  # name -> TensorEntry
    metadata: dict  # str -> str
    data_start: int  # file offset of the data section


def read_header(f: io.BufferedIOBase, file_size: int, name: str) -> Header:
    """Parse and check the header of the open file `f` (positioned anywhere) of `file_size` bytes."""
    if file_size < 10:
        raise ModelFileError(f"{name} is too short to be a safetensors file ({file_size} bytes)")
    f.seek(0)
    (n,) = struct.unpack("<Q", f.read(8))
    if n > file_size - 8:
        raise ModelFileError(f"{name} is truncated: its header says {n:,} bytes but the file has {file_size:,}")
    if n > MAX_HEADER_BYTES:
        raise ModelFileError(f"{name} has a {n:,}-byte header; a model header is at most {MAX_HEADER_BYTES:,}")
    raw = f.read(n)
    if len(raw) != n:
        raise ModelFileError(f"{name} is truncated: its header ends early")
    return parse_header(raw, file_size, name)


def parse_header(raw: bytes, file_size: int, name: str) -> Header:
    doc = _json(raw, name)
    if not isinstance(doc, dict):
        raise ModelFileError(f"{name}: the safetensors header is not a JSON object")
    meta = doc.pop("__metadata__", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ModelFileError(f"{name}: the safetensors metadata must map text to text, got {describe(meta)}")
    for k, v in meta.items():
        if not isinstance(v, str):
            raise ModelFileError(
                f"{name}: the safetensors metadata must map text to text, but {printable(k, 60)} is {describe(v)}"
            )
    if len(meta) > MAX_METADATA_ITEMS:
        raise ModelFileError(f"{name} has {len(meta)} metadata entries; at most {MAX_METADATA_ITEMS}")
    if len(doc) > MAX_TENSORS:
        raise ModelFileError(f"{name} declares {len(doc):,} tensors; at most {MAX_TENSORS:,}")
    data_start = 8 + len(raw)
    data_size = file_size - data_start
    tensors = {key: _entry(key, value, data_size, name) for key, value in doc.items()}
    # The data section must be covered exactly once, in any order, with nothing after the last tensor: then
    # the declared tensors hold exactly as many bytes as the file, and no two tensors share bytes.
    pos = 0
    for key, e in sorted(tensors.items(), key=lambda kv: (kv[1].begin, kv[1].end)):
        if e.begin != pos:
            what = "overlaps another tensor" if e.begin < pos else f"leaves a gap of {e.begin - pos:,} bytes before it"
            raise ModelFileError(f"{name}: tensor {printable(key)} {what}; the file is damaged")
        pos = e.end
    if pos != data_size:
        if pos > data_size:
            raise ModelFileError(f"{name} is truncated: its tensors need {pos:,} bytes of data, it has {data_size:,}")
        raise ModelFileError(f"{name} has {data_size - pos:,} bytes after its last tensor; the file is damaged")
    return Header(tensors, dict(meta), data_start)


def _json(raw: bytes, name: str) -> Any:
    def no_constants(c: str) -> NoReturn:
        raise ValueError(f"{c} is not allowed")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError(f"the key {printable(k)} appears twice")
            d[k] = v
        return d

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=no_constants, object_pairs_hook=unique)
    except UnicodeDecodeError:
        raise ModelFileError(f"{name}: the safetensors header is not UTF-8 text") from None
    except RecursionError:
        raise ModelFileError(f"{name}: the safetensors header is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, integers beyond Python's digit limit, NaN, duplicate keys
        raise ModelFileError(f"{name}: the safetensors header is not valid JSON ({printable(e, 120)})") from None


def _entry(key: str, value: object, data_size: int, name: str) -> TensorEntry:
    k = printable(key)
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data_offsets"}:
        raise ModelFileError(
            f"{name}: tensor {k} must have exactly dtype, shape and data_offsets, got {describe(value)}"
        )
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ModelFileError(f"{name}: tensor {k} has an unknown dtype {describe(dtype)}")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(_is_int(d) and 0 <= d <= data_size for d in shape)
    ):
        raise ModelFileError(f"{name}: tensor {k} has an invalid shape {describe(shape)}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets):
        raise ModelFileError(f"{name}: tensor {k} has invalid data_offsets {describe(offsets)}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_size:
        raise ModelFileError(
            f"{name}: tensor {k} lies outside the file (bytes {describe(begin)} to "
            f"{describe(end)} of {data_size:,}); the file is truncated or damaged"
        )
    nbytes = math.prod(shape) * DTYPES[dtype][1]
    if end - begin != nbytes:
        raise ModelFileError(
            f"{name}: tensor {k} of shape {shape} and dtype {dtype} needs {nbytes:,} bytes "
            f"but its offsets hold {end - begin:,}"
        )
    return TensorEntry(dtype, tuple(shape), begin, end)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def expected_state(make_module: Callable[[], torch.nn.Module]) -> dict:
    """{name: (shape, dtype)} of the state dict of `make_module()`, built on the meta device (no memory)."""
    with torch.device("meta"):
        module = make_module()
    return {k: (tuple(v.shape), v.dtype) for k, v in module.state_dict().items()}


def check_declared_tensors(header: Header, expected: dict, name: str, file_size: int | None = None) -> None:
    """The header declares exactly the expected tensors, with their shapes and a floating dtype.

    expected: {name: (shape, dtype)}, e.g. from `expected_state`. With `file_size`, also that the data
    section ends where the file does (read_header already checked this for headers it parsed).
    """
    declared = header.tensors
    missing = sorted(set(expected) - set(declared))
    extra = sorted(set(declared) - set(expected))
    if missing:
        raise ModelFileError(f"{name} lacks {len(missing)} tensor(s), e.g. {printable(missing[0])}")
    if extra:
        raise ModelFileError(f"{name} has {len(extra)} unexpected tensor(s), e.g. {printable(extra[0])}")
    for key, (shape, dtype) in expected.items():
        e = declared[key]
        if e.shape != tuple(shape):
            raise ModelFileError(f"{name}: tensor {key} has shape {list(e.shape)}, expected {list(shape)}")
        usable = DTYPES[e.dtype][0]
        if usable is None or (dtype.is_floating_point and not usable.is_floating_point):
            raise ModelFileError(f"{name}: tensor {key} has dtype {e.dtype}, expected floating point")
    if file_size is not None:
        end = header.data_start + max((e.end for e in declared.values()), default=0)
        if end != file_size:
            raise ModelFileError(f"{name}: its tensors end at byte {end:,} but the file has {file_size:,}")


def read_tensor(f: io.BufferedIOBase, header: Header, key: str, name: str) -> torch.Tensor:
    """One declared tensor, read with one bounded read (the header was checked against the file size)."""
    e = header.tensors[key]
    torch_dtype, _ = DTYPES[e.dtype]
    if torch_dtype is None:  # check_declared_tensors refuses these first
        raise ModelFileError(f"{name}: tensor {key} has dtype {e.dtype}, which StyleMixer does not read")
    n = e.end - e.begin
    buf = bytearray(n)
    f.seek(header.data_start + e.begin)
    if f.readinto(buf) != n:
        raise ModelFileError(f"{name} is truncated (it ended while reading {key})")
    if n == 0:
        return torch.empty(e.shape, dtype=torch_dtype)
    t = torch.frombuffer(buf, dtype=torch_dtype)
    if sys.byteorder == "big" and t.element_size() > 1:  # safetensors is little-endian
        t = torch.from_numpy(t.numpy().byteswap())
    return t.reshape(e.shape)


def load_checked(cls: type[M], cfg: Any, header: Header, f: io.BufferedIOBase, name: str) -> M:
    """Compare the header with the state of `cls(cfg)`; then build it and fill it from `f`.

    The expected state comes from `cls.state_shapes(cfg)` when the family provides it, else from building
    `cls(cfg)` on the meta device (the first meta build in a process imports torch._dynamo: ~1.4 s and
    70 MB, measured; so the families StyleMixer ships provide state_shapes). Peak memory: the module plus its
    largest tensor, both bounded by the file's size through the checks.
    """
    shapes = getattr(cls, "state_shapes", None)
    expected = shapes(cfg) if shapes is not None else expected_state(lambda: cls(cfg))
    check_declared_tensors(header, expected, name)
    module = cls(cfg)
    state = module.state_dict()
    with torch.no_grad():
        for key, target in state.items():
            t = read_tensor(f, header, key, name)
            if not _finite(t):
                raise ModelFileError(f"{name}: tensor {key} contains NaN or infinite values")
            target.copy_(t)
    return module


def _finite(t: torch.Tensor) -> bool:
    # NumPy for the common dtypes: one pass, no thread pool (torch.isfinite on ~400 small tensors spent
    # 1.3 s of a 2.7 s load of the built-in model on a busy 2-core machine, mostly waking its threads).
    if t.dtype in (torch.float32, torch.float64, torch.float16):
        return bool(np.isfinite(t.numpy()).all())
    return bool(torch.isfinite(t).all())


def file_size(f: io.BufferedIOBase) -> int:
    """Size of an open file (a real file or an in-memory buffer)."""
    try:
        return os.fstat(f.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        here = f.tell()
        size = f.seek(0, os.SEEK_END)
        f.seek(here)
        return size
