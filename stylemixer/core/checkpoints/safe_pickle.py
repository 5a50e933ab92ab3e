"""Bounded, restricted unpickling: read the data in a pickle without running anything the file names.

Every pickle-based reader in StyleMixer (NVIDIA's TensorFlow-era and PyTorch-era pickles, `torch.save` files)
goes through this one interpreter of the pickle opcode stream. It is written out here rather than borrowed from
`pickle.Unpickler` because the standard unpickler, even with a strict `find_class`,
- calls whatever an allowed global returns and lets BUILD set attributes on it (`__setstate__`, `__dict__`),
- grows its memo to any index a file names (one LONG_BINPUT 2^27 costs gigabytes before anything is checked),
- builds arbitrarily deep or memo-shared structures ("billion laughs") that later code then walks to death,
- and reads every bytes object into memory, so D's and G's weights are held while only G_ema is wanted.

What this interpreter does instead:
- Globals resolve only through the reader's allow-list to `Global` tokens defined by StyleMixer; REDUCE, NEWOBJ
  and BUILD accept nothing else, and BUILD only reaches `Inert` records, whose state lands in their own fields
  (it can never replace a method). Anything else is refused by name (escaped: control characters in a name
  from the file are shown as escapes, never printed raw).
- Limits, checked while reading, all absolute and most proportional to the file's size (see `Budget`): opcodes
  executed, memo indices, nesting depth (containers and MARKs), and the *expanded* size of every object, that
  is the size it would have if memo-shared parts were copied. A structure whose expanded size exceeds the
  budget is refused the moment it is built, so nothing downstream (a converter, a message, `plain()`) can be
  made to walk 2^40 leaves. Declared lengths are compared with the bytes left in the file before anything is
  allocated.
- Cycles and late mutation are refused: a container can only be filled until it has been placed inside another
  object. Python's pickler never writes anything else for the acyclic data of model files, and it is what
  keeps the depth and size bookkeeping exact.
- Dict keys and set members must be strings, bytes, small integers, booleans or None (hash-collision floods
  need keys whose hashes an attacker controls; str and bytes hashes are randomised per process).
- Large bytes objects (at least `LAZY_BYTES`) are not read: they become `Slice`s, (offset, length) windows on
  the file, which a reader materialises only for the tensors it keeps. Reading an official 1024 px pickle
  therefore holds G_ema's weights, not G's and D's.
"""

from __future__ import annotations

import codecs
import collections
import io
import pickle
import struct
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from ..errors import ModelFileError

MAX_FILE_BYTES = 2 << 30  # the official 1024 px files are 0.3-0.4 GB; nothing legitimate comes close
MAX_DEPTH = 100  # NVIDIA's deepest real nesting (module tree + tensor) is about 30
BASE_OPS = 1 << 17  # opcodes any small file may execute ...
OPS_PER_BYTE = 1 / 256  # ... plus this many per byte of file (each opcode costs ~200 bytes) ...
MAX_OPS = 4_000_000  # ... and never more (a real 1024 px snapshot executes 64 k)
BASE_COST = 64 << 20  # expanded size of any file's data, in bytes ...
COST_PER_BYTE = 2  # ... plus this many times its size ...
MAX_COST = 4 << 30  # ... and never more
LAZY_BYTES = 1 << 16  # bytes objects at least this long stay in the file until needed
MAX_LINE = 256  # text-opcode arguments (GLOBAL names, INT, FLOAT)
MAX_LONG_BYTES = 64  # LONG1/LONG4 integers (the torch magic number takes 10)
_SMALL_INT = 1 << 31


# ----------------------------------------------------------------------------------------------------------
# Errors: each is a ModelFileError with a message that does not name the file; readers prefix the name.


class PickleRejected(ModelFileError, pickle.UnpicklingError):
    """The pickle cannot be read safely or is damaged."""


class RefusedGlobal(PickleRejected):
    """The pickle names a global outside the allow-list; `name` is 'module.attribute', escaped."""

    def __init__(self, module: object, name: object) -> None:
        self.name = f"{escape(str(module), 100)}.{escape(str(name), 100)}"
        super().__init__(
            f"it refers to {self.name}, which StyleMixer does not load "
            "(only network weights are read; code in a model file is never run)"
        )


class LimitExceeded(PickleRejected):
    """A structural limit (depth, size, opcode count, memo index) was exceeded."""


class Truncated(PickleRejected):
    """The data ends before the pickle does."""


class Damaged(PickleRejected):
    """The opcode stream is malformed or builds something no model file contains."""


def escape(text: str, limit: int = 200) -> str:
    """Text from a file, safe to print: control, format and other non-printable characters as escapes
    (\\x1b, \\n, \\u202e), cut to about `limit` characters."""
    text = str(text)
    cut = len(text) > limit
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text[:limit])
    return out + ("..." if cut else "")


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


class Budget:
    """The limits for one load, fixed by the size of the file (nested blobs share their file's budget)."""

    def __init__(self, nbytes: int) -> None:
        nbytes = max(int(nbytes), 0)
        self.nbytes = nbytes
        self.max_ops = int(min(MAX_OPS, BASE_OPS + nbytes * OPS_PER_BYTE))
        self.max_cost = int(min(MAX_COST, BASE_COST + COST_PER_BYTE * nbytes))
        self.max_memo = self.max_ops
        self.ops = 0

    def describe(self) -> str:
        return (
            f"depth {MAX_DEPTH}, {self.max_ops:,} opcodes, memo indices below {self.max_memo:,}, "
            f"expanded size {_mb(self.max_cost)}"
        )


# ----------------------------------------------------------------------------------------------------------
# Where the bytes come from


class Source:
    """Random access to the bytes of a file (kept open by the caller) or of a bytes object."""

    def __init__(
        self,
        data: bytes | bytearray | memoryview | None = None,
        file: io.BufferedIOBase | None = None,
        size: int | None = None,
    ) -> None:
        self.file: io.BufferedIOBase | None
        self.data: memoryview | None
        if file is not None:
            self.file, self.data = file, None
            if size is None:
                here = file.tell()
                size = file.seek(0, io.SEEK_END)
                file.seek(here)
            self.size = size
        elif data is not None:
            self.file, self.data = None, memoryview(data).cast("B")
            self.size = len(self.data)
        else:
            raise TypeError("a Source needs bytes or a file")

    @classmethod
    def of(cls, obj: Any) -> Source:
        """A Source for bytes, a binary file object, or a Slice."""
        if isinstance(obj, Source):
            return obj
        if isinstance(obj, (bytes, bytearray, memoryview)):
            return cls(data=obj)
        if isinstance(obj, Slice):
            return obj.source
        return cls(file=obj)

    def pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise Truncated(f"the data ends early (wanted {n} bytes at byte {offset} of {self.size})")
        if self.data is not None:
            return bytes(self.data[offset : offset + n])
        assert self.file is not None  # a Source holds bytes or a file
        self.file.seek(offset)
        out = self.file.read(n)
        if len(out) != n:
            raise Truncated(
                f"the file ends early (wanted {n} bytes at byte {offset}); it changed while reading or is truncated"
            )
        return out

    def readinto(self, offset: int, buf: bytearray | memoryview) -> None:
        mv = memoryview(buf).cast("B")
        n = len(mv)
        if offset < 0 or offset + n > self.size:
            raise Truncated(f"the data ends early (wanted {n} bytes at byte {offset} of {self.size})")
        if self.data is not None:
            mv[:] = self.data[offset : offset + n]
            return
        assert self.file is not None  # a Source holds bytes or a file
        self.file.seek(offset)
        done = 0
        while done < n:
            got = self.file.readinto(mv[done:])
            if not got:
                raise Truncated(f"the file ends early (wanted {n} bytes at byte {offset})")
            done += got


class Slice:
    """A window on the file standing for a bytes object that was not read (yet)."""

    __slots__ = ("length", "offset", "source")

    def __init__(self, source: Source, offset: int, length: int) -> None:
        self.source, self.offset, self.length = source, offset, length

    def __len__(self) -> int:
        return self.length

    def read(self) -> bytes:
        return self.source.pread(self.offset, self.length)

    def __repr__(self) -> str:
        return f"<{self.length} bytes at {self.offset}>"


def as_bytes(data: bytes | bytearray | Slice) -> bytes:
    """bytes / bytearray / Slice -> bytes (reads a Slice)."""
    if isinstance(data, Slice):
        return data.read()
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise Damaged("expected binary data")


class Reader:
    """Sequential reading of [start, end) of a Source, through a buffer, with every length checked first."""

    def __init__(self, source: Source, start: int = 0, end: int | None = None, chunk: int = 1 << 18) -> None:
        self.source = source
        self.pos = start
        self.start = start
        self.end = source.size if end is None else end
        if not 0 <= start <= self.end <= source.size:
            raise Truncated(f"the data ends early (bytes {start}..{self.end} of {source.size} wanted)")
        self.CHUNK = chunk
        self.buf: bytes | memoryview
        if source.data is not None:
            self.buf, self.bstart = source.data, 0
        else:
            self.buf, self.bstart = b"", start

    def remaining(self) -> int:
        return self.end - self.pos

    def _fill(self, n: int) -> None:
        self.buf = self.source.pread(self.pos, min(max(n, self.CHUNK), self.end - self.pos))
        self.bstart = self.pos

    def read(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise Truncated(f"the data ends early: {n} bytes announced at byte {self.pos}, {self.end - self.pos} left")
        off = self.pos - self.bstart
        if off + n > len(self.buf):
            if n >= self.CHUNK and self.source.data is None:
                out = self.source.pread(self.pos, n)
                self.pos += n
                return out
            self._fill(n)
            off = 0
        self.pos += n
        return bytes(self.buf[off : off + n])

    def read1(self) -> int:
        if self.pos >= self.end:
            raise Truncated(f"the data ends early (at byte {self.pos}, in the middle of the pickle)")
        off = self.pos - self.bstart
        if off >= len(self.buf):
            self._fill(1)
            off = 0
        self.pos += 1
        return self.buf[off]

    def read_bytes(self, n: int) -> bytes | Slice:
        """n bytes as bytes, or as a Slice (not read) when large."""
        if n >= LAZY_BYTES:
            if n > self.end - self.pos:
                raise Truncated(
                    f"the data ends early: {n} bytes announced at byte {self.pos}, {self.end - self.pos} left"
                )
            s = Slice(self.source, self.pos, n)
            self.pos += n
            return s
        return self.read(n)

    def skip(self, n: int) -> None:
        if n < 0 or n > self.end - self.pos:
            raise Truncated(f"the data ends early: {n} bytes expected at byte {self.pos}, {self.end - self.pos} left")
        self.pos += n

    def readline(self, limit: int = MAX_LINE) -> bytes:
        """Bytes up to the next newline (consumed, not returned); at most `limit` before it."""
        parts, got = [], 0
        while True:
            if self.pos >= self.end:
                raise Truncated(f"the data ends early (at byte {self.pos}, in a text argument)")
            off = self.pos - self.bstart
            if off >= len(self.buf):
                self._fill(1)
                off = 0
            stop = min(len(self.buf), self.end - self.bstart, off + limit + 1 - got)
            window = bytes(self.buf[off:stop])
            i = window.find(b"\n")
            if i >= 0:
                parts.append(window[:i])
                self.pos += i + 1
                return b"".join(parts)
            parts.append(window)
            got += len(window)
            self.pos += len(window)
            if got > limit:
                raise Damaged(f"a text argument at byte {self.pos} is longer than {limit} bytes")


# ----------------------------------------------------------------------------------------------------------
# What the interpreter builds


class Inert:
    """Base of every object the interpreter creates for a global: plain data, no behaviour reachable from the
    file. BUILD calls `_build(state)`; a record that takes no state refuses it."""

    __slots__ = ()

    def _build(self, state: Any) -> None:
        raise Damaged(f"the file tries to set state on {type(self).__name__}, which takes none")


class Global(Inert):
    """An allowed global. `call(*args)` serves REDUCE, `new(*args)` NEWOBJ; either may be None."""

    __slots__ = ("call", "new", "qualname")

    def __init__(
        self, qualname: str, call: Callable[..., Any] | None = None, new: Callable[..., Any] | None = None
    ) -> None:
        self.qualname, self.call, self.new = qualname, call, new

    def __repr__(self) -> str:
        return f"<global {self.qualname}>"

    def _build(self, state: Any) -> NoReturn:
        raise Damaged(f"the file tries to modify the helper {self.qualname}")


class Node:
    """Bookkeeping for one object on the stack or in the memo: nesting depth, expanded size, and whether it
    has been placed inside another object (after which it may not change)."""

    __slots__ = ("cost", "depth", "obj", "sealed")

    def __init__(self, obj: Any, depth: int = 0, cost: int = 8, sealed: bool = False) -> None:
        self.obj, self.depth, self.cost, self.sealed = obj, depth, cost, sealed


_KEY_TYPES = (str, bytes, bool, type(None))


def _check_key(obj: Any) -> Any:
    t = type(obj)
    if t in _KEY_TYPES or (t is int and -_SMALL_INT <= obj < _SMALL_INT):
        return obj
    raise Damaged(
        f"the file uses a {t.__name__} as a dictionary key or set member; model files use names and small integers"
    )


class Unpickler:
    """One pickle from `reader`, through `globals` {(module, name): Global}.

    persistent_load(pid) -> (object, expanded size) serves BINPERSID (torch.save files); None refuses it.
    """

    def __init__(
        self,
        reader: Reader,
        globals: dict,
        budget: Budget,
        persistent_load: Callable[[Any], tuple[Any, int]] | None = None,
        progress: Callable[[float], None] | None = None,
        progress_range: tuple[float, float] = (0.0, 1.0),
        encoding: str = "latin1",
    ) -> None:
        self.r = reader
        self.globals = globals
        self.budget = budget
        self.persistent_load = persistent_load
        self.progress = progress
        self.progress_range = progress_range
        self.encoding = encoding
        self.stack: list = []
        self.marks: list = []
        self.memo: dict = {}
        self.proto = 0
        self._reported = -1.0

    # -- helpers
    def _pop(self) -> Node:
        try:
            return self.stack.pop()
        except IndexError:
            raise Damaged(f"the pickle's stack runs empty at byte {self.r.pos}") from None

    def _top(self) -> Node:
        if not self.stack:
            raise Damaged(f"the pickle's stack runs empty at byte {self.r.pos}")
        return self.stack[-1]

    def _pop_mark(self) -> list:
        if not self.marks:
            raise Damaged(f"the pickle closes a MARK it never opened (byte {self.r.pos})")
        items = self.stack
        self.stack = self.marks.pop()
        return items

    def _leaf(self, obj: Any, size: int = 0) -> None:
        self.stack.append(Node(obj, 0, 8 + size))

    def _check(self, node: Node) -> None:
        if node.depth > MAX_DEPTH:
            raise LimitExceeded(
                f"the data is nested more than {MAX_DEPTH} levels deep (at byte {self.r.pos}); no model file is"
            )
        if node.cost > self.budget.max_cost:
            raise LimitExceeded(
                f"the data would expand to more than {_mb(self.budget.max_cost)} (memo-shared "
                f"structures, at byte {self.r.pos}), far more than a "
                f"{_mb(self.budget.nbytes)} file holds"
            )

    def _compound(self, obj: Any, children: list[Node]) -> Node:
        depth, cost = 0, 8
        for c in children:
            c.sealed = True
            depth = max(depth, c.depth)
            cost += c.cost
        node = Node(obj, depth + 1, cost)
        self._check(node)
        return node

    def _add(self, parent: Node, child: Node) -> None:
        if parent.sealed:
            raise Damaged(
                f"the pickle modifies an object after using it (a cycle or a crafted stream, at byte {self.r.pos})"
            )
        if child is parent:
            raise Damaged(f"the pickle puts an object inside itself (byte {self.r.pos})")
        child.sealed = True
        parent.depth = max(parent.depth, child.depth + 1)
        parent.cost += child.cost
        self._check(parent)

    def _memo_index(self, i: int) -> int:
        if not 0 <= i < self.budget.max_memo:
            raise LimitExceeded(
                f"the pickle uses memo index {i}, beyond what any model file needs (< {self.budget.max_memo:,})"
            )
        return i

    def _line_int(self) -> int:
        text = self.r.readline()
        try:
            return int(text)
        except ValueError:
            raise Damaged(f"a malformed number {escape(repr(text), 60)} at byte {self.r.pos}") from None

    def _global(self, module: str, name: str) -> Node:
        g = self.globals.get((module, name))
        if g is None:
            raise RefusedGlobal(module, name)
        return Node(g, 0, 8)

    def _report(self) -> None:
        if self.progress is not None:
            r = self.r
            frac = (r.pos - r.start) / max(r.end - r.start, 1)
            if frac - self._reported >= 0.01:
                self._reported = frac
                a, b = self.progress_range
                self.progress(a + (b - a) * frac)

    # -- the loop
    def load(self) -> Any:
        r, budget = self.r, self.budget
        dispatch = self._dispatch
        next_report = budget.ops + 256
        while True:
            budget.ops += 1
            if budget.ops > budget.max_ops:
                raise LimitExceeded(
                    f"the pickle runs more than {budget.max_ops:,} opcodes; no model file of this size needs as many"
                )
            if budget.ops >= next_report:
                next_report = budget.ops + 256
                self._report()
            op = r.read1()
            handler = dispatch.get(op)
            if handler is None:
                raise Damaged(f"byte {r.pos - 1} holds {op:#04x}, which is not a pickle opcode StyleMixer reads")
            if handler(self) is _STOP:
                node = self._pop()
                return node.obj

    # -- opcodes (each takes self; returns _STOP only for STOP)
    def op_proto(self) -> None:
        p = self.r.read1()
        if p > 5:
            raise Damaged(f"pickle protocol {p} is unknown")
        self.proto = p

    def op_frame(self) -> None:
        n = struct.unpack("<Q", self.r.read(8))[0]
        if n > self.r.remaining():
            raise Truncated(
                f"the data ends early: a frame of {n} bytes at byte {self.r.pos}, {self.r.remaining()} left"
            )

    def op_stop(self) -> object:
        return _STOP

    def op_mark(self) -> None:
        if len(self.marks) >= MAX_DEPTH:
            raise LimitExceeded(
                f"the data is nested more than {MAX_DEPTH} levels deep (MARKs, at byte {self.r.pos}); no model file is"
            )
        self.marks.append(self.stack)
        self.stack = []

    def op_pop(self) -> None:
        if self.stack:
            self.stack.pop()
        else:
            self._pop_mark()

    def op_pop_mark(self) -> None:
        self._pop_mark()

    def op_dup(self) -> None:
        self.stack.append(self._top())

    # numbers
    def op_none(self) -> None:
        self._leaf(None)

    def op_newtrue(self) -> None:
        self._leaf(True)

    def op_newfalse(self) -> None:
        self._leaf(False)

    def op_int(self) -> None:
        text = self.r.readline()
        if text == b"00":
            self._leaf(False)
        elif text == b"01":
            self._leaf(True)
        else:
            try:
                self._leaf(int(text))
            except ValueError:
                raise Damaged(f"a malformed number at byte {self.r.pos}") from None

    def op_long(self) -> None:
        text = self.r.readline()
        try:
            self._leaf(int(text[:-1] if text.endswith(b"L") else text))
        except ValueError:
            raise Damaged(f"a malformed number at byte {self.r.pos}") from None

    def op_binint(self) -> None:
        self._leaf(struct.unpack("<i", self.r.read(4))[0])

    def op_binint1(self) -> None:
        self._leaf(self.r.read1())

    def op_binint2(self) -> None:
        self._leaf(struct.unpack("<H", self.r.read(2))[0])

    def _long(self, n: int) -> None:
        if n < 0:
            raise Damaged(f"a negative length at byte {self.r.pos}")
        if n > MAX_LONG_BYTES:
            raise LimitExceeded(f"an integer of {n} bytes at byte {self.r.pos}; model files hold none this long")
        self._leaf(int.from_bytes(self.r.read(n), "little", signed=True), n)

    def op_long1(self) -> None:
        self._long(self.r.read1())

    def op_long4(self) -> None:
        self._long(struct.unpack("<i", self.r.read(4))[0])

    def op_float(self) -> None:
        text = self.r.readline()
        try:
            self._leaf(float(text))
        except ValueError:
            raise Damaged(f"a malformed number at byte {self.r.pos}") from None

    def op_binfloat(self) -> None:
        self._leaf(struct.unpack(">d", self.r.read(8))[0])

    # strings and bytes
    def _text(self, raw: bytes, errors: str = "surrogatepass") -> str:
        try:
            return str(raw, "utf-8", errors)
        except UnicodeDecodeError:
            raise Damaged(f"a string that is not valid UTF-8 at byte {self.r.pos}") from None

    def _len(self, fmt: str, size: int) -> int:
        n = struct.unpack(fmt, self.r.read(size))[0]
        if n < 0:
            raise Damaged(f"a negative length at byte {self.r.pos}")
        if n > self.r.remaining():
            raise Truncated(f"the data ends early: {n} bytes announced at byte {self.r.pos}, {self.r.remaining()} left")
        return n

    def op_binunicode(self) -> None:
        n = self._len("<I", 4)
        self._leaf(self._text(self.r.read(n)), n)

    def op_binunicode8(self) -> None:
        n = self._len("<Q", 8)
        self._leaf(self._text(self.r.read(n)), n)

    def op_short_binunicode(self) -> None:
        n = self.r.read1()
        self._leaf(self._text(self.r.read(n)), n)

    def op_unicode(self) -> None:
        raw = self.r.readline(self.r.remaining())
        try:
            self._leaf(str(raw, "raw-unicode-escape"), len(raw))
        except UnicodeDecodeError:
            raise Damaged(f"a malformed string at byte {self.r.pos}") from None

    def _py2str(self, raw: bytes) -> str | bytes:
        if self.encoding == "bytes":
            return raw
        return raw.decode(self.encoding, "strict")

    def op_string(self) -> None:
        raw = self.r.readline(self.r.remaining())
        if len(raw) < 2 or raw[0] != raw[-1] or raw[0] not in b"\"'":
            raise Damaged(f"a malformed quoted string at byte {self.r.pos}")
        try:
            data = codecs.escape_decode(raw[1:-1])[0]
            self._leaf(self._py2str(data), len(data))
        except (ValueError, UnicodeDecodeError):
            raise Damaged(f"a malformed quoted string at byte {self.r.pos}") from None

    def op_binstring(self) -> None:
        n = self._len("<i", 4)
        try:
            self._leaf(self._py2str(self.r.read(n)), n)
        except UnicodeDecodeError:
            raise Damaged(f"a malformed string at byte {self.r.pos}") from None

    def op_short_binstring(self) -> None:
        n = self.r.read1()
        try:
            self._leaf(self._py2str(self.r.read(n)), n)
        except UnicodeDecodeError:
            raise Damaged(f"a malformed string at byte {self.r.pos}") from None

    def op_binbytes(self) -> None:
        n = self._len("<I", 4)
        self._leaf(self.r.read_bytes(n), n)
        if n >= LAZY_BYTES:
            self._report()

    def op_short_binbytes(self) -> None:
        n = self.r.read1()
        self._leaf(self.r.read(n), n)

    def op_binbytes8(self) -> None:
        n = self._len("<Q", 8)
        self._leaf(self.r.read_bytes(n), n)
        self._report()

    def op_bytearray8(self) -> None:
        n = self._len("<Q", 8)
        data = self.r.read_bytes(n)
        self._leaf(bytearray(data) if isinstance(data, bytes) else data, n)

    # containers
    def op_empty_list(self) -> None:
        self.stack.append(Node([], 1, 8))

    def op_empty_dict(self) -> None:
        self.stack.append(Node({}, 1, 8))

    def op_empty_set(self) -> None:
        self.stack.append(Node(set(), 1, 8))

    def op_empty_tuple(self) -> None:
        self._leaf(())

    def op_list(self) -> None:
        items = self._pop_mark()
        node = self._compound([c.obj for c in items], items)
        self.stack.append(node)

    def op_tuple(self) -> None:
        items = self._pop_mark()
        self.stack.append(self._compound(tuple(c.obj for c in items), items))

    def _tuple_n(self, n: int) -> None:
        if len(self.stack) < n:
            raise Damaged(f"the pickle's stack runs empty at byte {self.r.pos}")
        items = self.stack[-n:]
        del self.stack[-n:]
        self.stack.append(self._compound(tuple(c.obj for c in items), items))

    def op_tuple1(self) -> None:
        self._tuple_n(1)

    def op_tuple2(self) -> None:
        self._tuple_n(2)

    def op_tuple3(self) -> None:
        self._tuple_n(3)

    def op_dict(self) -> None:
        items = self._pop_mark()
        if len(items) % 2:
            raise Damaged(f"a dictionary with an odd number of keys and values at byte {self.r.pos}")
        node = Node({}, 1, 8)
        for k, v in zip(items[::2], items[1::2]):
            self._setitem(node, k, v)
        self.stack.append(node)

    def op_frozenset(self) -> None:
        items = self._pop_mark()
        self.stack.append(self._compound(frozenset(_check_key(c.obj) for c in items), items))

    def _container(self, kind: type) -> Node:
        node = self._top()
        if not isinstance(node.obj, kind) or isinstance(node.obj, Inert):
            raise Damaged(f"the pickle adds items to a {type(node.obj).__name__} at byte {self.r.pos}")
        return node

    def op_append(self) -> None:
        value = self._pop()
        lst = self._container(list)
        self._add(lst, value)
        lst.obj.append(value.obj)

    def op_appends(self) -> None:
        items = self._pop_mark()
        lst = self._container(list)
        for v in items:
            self._add(lst, v)
            lst.obj.append(v.obj)

    def _setitem(self, d: Node, k: Node, v: Node) -> None:
        key = _check_key(k.obj)
        self._add(d, k)
        self._add(d, v)
        d.obj[key] = v.obj

    def op_setitem(self) -> None:
        v = self._pop()
        k = self._pop()
        self._setitem(self._container(dict), k, v)

    def op_setitems(self) -> None:
        items = self._pop_mark()
        if len(items) % 2:
            raise Damaged(f"a dictionary with an odd number of keys and values at byte {self.r.pos}")
        d = self._container(dict)
        for i in range(0, len(items), 2):
            self._setitem(d, items[i], items[i + 1])

    def op_additems(self) -> None:
        items = self._pop_mark()
        s = self._container(set)
        for v in items:
            key = _check_key(v.obj)
            self._add(s, v)
            s.obj.add(key)

    # memo
    def _get(self, i: int) -> None:
        try:
            self.stack.append(self.memo[i])
        except KeyError:
            raise Damaged(f"the pickle refers to memo entry {i}, which it never stored (byte {self.r.pos})") from None

    def op_get(self) -> None:
        self._get(self._line_int())

    def op_binget(self) -> None:
        self._get(self.r.read1())

    def op_long_binget(self) -> None:
        self._get(struct.unpack("<I", self.r.read(4))[0])

    def _put(self, i: int) -> None:
        self.memo[self._memo_index(i)] = self._top()

    def op_put(self) -> None:
        self._put(self._line_int())

    def op_binput(self) -> None:
        self._put(self.r.read1())

    def op_long_binput(self) -> None:
        self._put(struct.unpack("<I", self.r.read(4))[0])

    def op_memoize(self) -> None:
        self._put(len(self.memo))

    # globals and calls
    def op_global(self) -> None:
        module = self._text(self.r.readline(), "strict")
        name = self._text(self.r.readline(), "strict")
        self.stack.append(self._global(module, name))

    def op_stack_global(self) -> None:
        name, module = self._pop().obj, self._pop().obj
        if type(name) is not str or type(module) is not str:
            raise Damaged(f"STACK_GLOBAL with names that are not strings (byte {self.r.pos})")
        self.stack.append(self._global(module, name))

    def _callable(self, node: Node, what: str) -> tuple[Global, Callable[..., Any]]:
        g = node.obj
        if not isinstance(g, Global):
            raise Damaged(
                f"the pickle calls a {type(g).__name__} at byte {self.r.pos}; only functions named "
                f"by the file's globals can be called"
            )
        fn = g.call if what == "call" else g.new
        if fn is None:
            raise Damaged(
                f"the pickle {'calls' if what == 'call' else 'instantiates'} {g.qualname}, which model files do not"
            )
        return g, fn

    def _result(self, obj: Any, parts: list[Node]) -> Node:
        return self._compound(obj, parts)  # a new node: it can still be filled or built until it is used

    def _invoke(self, g: Global, fn: Callable[..., Any], args: tuple, kwargs: dict | None = None) -> Any:
        try:
            return fn(*args, **(kwargs or {}))
        except PickleRejected:
            raise
        except (
            TypeError,
            ValueError,
            OverflowError,
            KeyError,
            IndexError,
            AttributeError,
            UnicodeError,
            struct.error,
        ) as e:
            raise Damaged(
                f"{g.qualname} was given arguments no model file contains ({type(e).__name__}: {escape(str(e), 120)})"
            ) from None

    def op_reduce(self) -> None:
        self._apply("call", "called")

    def op_newobj(self) -> None:
        self._apply("new", "created")

    def _apply(self, how: str, done: str) -> None:
        """REDUCE and NEWOBJ: a callable and a tuple of arguments on the stack."""
        args = self._pop()
        g, fn = self._callable(self._pop(), how)
        if type(args.obj) is not tuple:
            raise Damaged(f"{g.qualname} is {done} with arguments that are not a tuple (byte {self.r.pos})")
        self.stack.append(self._result(self._invoke(g, fn, args.obj), [args]))

    def op_newobj_ex(self) -> None:
        kwargs = self._pop()
        args = self._pop()
        g, fn = self._callable(self._pop(), "new")
        if type(args.obj) is not tuple or type(kwargs.obj) is not dict:
            raise Damaged(f"{g.qualname} is created with malformed arguments (byte {self.r.pos})")
        self.stack.append(self._result(self._invoke(g, fn, args.obj, kwargs.obj), [args, kwargs]))

    def op_build(self) -> None:
        state = self._pop()
        target = self._top()
        obj = target.obj
        if not isinstance(obj, Inert):
            raise Damaged(f"the pickle sets attributes on a {type(obj).__name__} at byte {self.r.pos}")
        self._add(target, state)
        try:
            obj._build(state.obj)
        except PickleRejected:
            raise
        except (TypeError, ValueError, OverflowError, KeyError, IndexError, AttributeError) as e:
            raise Damaged(
                f"malformed state for {type(obj).__name__} ({type(e).__name__}: {escape(str(e), 120)})"
            ) from None

    def op_inst(self) -> None:
        module = self._text(self.r.readline(), "strict")
        name = self._text(self.r.readline(), "strict")
        self._global(module, name)  # refuses by name when not allowed
        raise Damaged("the file uses protocol-0 object opcodes, which model files never contain")

    def op_obj(self) -> None:
        items = self._pop_mark()
        if items and isinstance(items[0].obj, Global):
            raise Damaged(
                f"the file creates {items[0].obj.qualname} with protocol-0 opcodes, which model files never contain"
            )
        raise Damaged("the file uses protocol-0 object opcodes, which model files never contain")

    def op_persid(self) -> None:
        self._persistent(self._text(self.r.readline(), "strict"))

    def op_binpersid(self) -> None:
        pid = self._pop()
        pid.sealed = True
        self._persistent(pid.obj, pid)

    def _persistent(self, pid: Any, pid_node: Node | None = None) -> None:
        if self.persistent_load is None:
            raise Damaged("the file uses persistent references, which only torch.save files contain")
        obj, cost = self.persistent_load(pid)
        node = Node(obj, (pid_node.depth if pid_node else 0) + 1, 8 + cost)
        self._check(node)
        self.stack.append(node)

    def op_ext(self) -> NoReturn:
        raise Damaged("the file uses the copyreg extension registry, which model files never do")

    def op_buffer(self) -> NoReturn:
        raise Damaged("the file uses out-of-band buffers, which model files never do")

    _dispatch: dict = {}


_STOP = object()

_OPS = {
    b"\x80": "proto",
    b"\x95": "frame",
    b".": "stop",
    b"(": "mark",
    b"0": "pop",
    b"1": "pop_mark",
    b"2": "dup",
    b"N": "none",
    b"\x88": "newtrue",
    b"\x89": "newfalse",
    b"I": "int",
    b"L": "long",
    b"J": "binint",
    b"K": "binint1",
    b"M": "binint2",
    b"\x8a": "long1",
    b"\x8b": "long4",
    b"F": "float",
    b"G": "binfloat",
    b"X": "binunicode",
    b"\x8d": "binunicode8",
    b"\x8c": "short_binunicode",
    b"V": "unicode",
    b"S": "string",
    b"T": "binstring",
    b"U": "short_binstring",
    b"B": "binbytes",
    b"C": "short_binbytes",
    b"\x8e": "binbytes8",
    b"\x96": "bytearray8",
    b"]": "empty_list",
    b"}": "empty_dict",
    b"\x8f": "empty_set",
    b")": "empty_tuple",
    b"l": "list",
    b"t": "tuple",
    b"\x85": "tuple1",
    b"\x86": "tuple2",
    b"\x87": "tuple3",
    b"d": "dict",
    b"\x91": "frozenset",
    b"a": "append",
    b"e": "appends",
    b"s": "setitem",
    b"u": "setitems",
    b"\x90": "additems",
    b"g": "get",
    b"h": "binget",
    b"j": "long_binget",
    b"p": "put",
    b"q": "binput",
    b"r": "long_binput",
    b"\x94": "memoize",
    b"c": "global",
    b"\x93": "stack_global",
    b"R": "reduce",
    b"\x81": "newobj",
    b"\x92": "newobj_ex",
    b"b": "build",
    b"i": "inst",
    b"o": "obj",
    b"P": "persid",
    b"Q": "binpersid",
    b"\x82": "ext",
    b"\x83": "ext",
    b"\x84": "ext",
    b"\x97": "buffer",
    b"\x98": "buffer",
}
Unpickler._dispatch = {code[0]: getattr(Unpickler, "op_" + name) for code, name in _OPS.items()}


# ----------------------------------------------------------------------------------------------------------
# Allowed helpers shared by the readers: dicts, sets, bytes, NumPy arrays, scalars and dtypes


class EasyDict(dict):
    """dnnlib.util.EasyDict as a plain dict (its attribute access is not needed). Not Inert: BUILD refuses it."""


def _new_easydict(*args: object, **kwargs: object) -> EasyDict:
    if args or kwargs:
        raise Damaged("an EasyDict is created with arguments")
    return EasyDict()


def _ordered_dict(*args: object) -> collections.OrderedDict:
    if args:
        raise Damaged("an OrderedDict is created from arguments; model files fill it with SETITEMS")
    return collections.OrderedDict()


def _set(items: object = (), *rest: object) -> set:
    if rest or not isinstance(items, (list, tuple)):
        raise Damaged("a set is created from something other than a list")
    return set(_check_key(v) for v in items)


def _frozenset(items: object = (), *rest: object) -> frozenset:
    return frozenset(_set(items, *rest))


def _empty_bytes(*args: object) -> bytes:
    # Protocol 2 writes b"" as a call of bytes() with no arguments.
    if args:
        raise Damaged("bytes() is called with arguments; protocol 2 only writes bytes() for empty bytes")
    return b""


def _codecs_encode(text: object, encoding: str = "utf-8") -> bytes:
    # Protocol 2 writes a bytes object as _codecs.encode(latin-1 text, 'latin1'); nothing else is needed.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise Damaged(f"refusing _codecs.encode with encoding {escape(repr(encoding), 40)}")
    return text.encode("latin-1")


NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")  # NumPy 1.x writers, NumPy 2.x writers
_DTYPES = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"}
MAX_DIMS = 8


class DtypeRef(Inert):
    """What `numpy.dtype(...)` gives; BUILD may only set the byte order."""

    __slots__ = ("code", "dtype")

    def __init__(self, code: object, align: bool = False, copy: bool = True) -> None:
        if not isinstance(code, str) or code not in _DTYPES:
            raise Damaged(f"an array in the file has data type {escape(repr(code), 40)}; only plain numbers are read")
        self.code = code
        self.dtype = np.dtype(code)

    def _build(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) >= 2 and state[1] in ("<", ">", "|", "=")):
            raise Damaged("an array data type in the file has an unexpected pickled form")
        if any(s is not None for s in state[2:5]):  # subarray, names, fields: structured types are refused
            raise Damaged("the file holds structured arrays; only plain numeric arrays are read")
        if state[1] in ("<", ">"):
            self.dtype = np.dtype(self.code).newbyteorder(state[1])


class ArrayRef(Inert):
    """What `numpy...._reconstruct` gives; BUILD passes NumPy's array state, checked here. The data stays
    a Slice of the file until `.array` is asked for."""

    __slots__ = ("_array", "data", "dtype", "fortran", "shape")

    def __init__(self) -> None:
        self.shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None
        self.fortran = False
        self.data: bytes | bytearray | Slice | None = None
        self._array: np.ndarray | None = None

    def _build(self, state: Any) -> None:
        if self.dtype is not None:
            raise Damaged("an array in the file is given its data twice")
        if not (isinstance(state, tuple) and len(state) == 5):
            raise Damaged("an array in the file has an unexpected pickled form")
        _version, shape, dtype, fortran, data = state
        if not isinstance(dtype, DtypeRef):
            raise Damaged("an array in the file has no valid data type")
        dt = dtype.dtype
        if (
            not isinstance(shape, tuple)
            or len(shape) > MAX_DIMS
            or not all(type(s) is int and 0 <= s < 1 << 40 for s in shape)
        ):
            raise Damaged(f"an array in the file has an invalid shape {escape(repr(shape), 80)}")
        if isinstance(data, str):  # Python 2 writers (read with encoding latin1)
            data = data.encode("latin-1")
        if not isinstance(data, (bytes, bytearray, Slice)):
            raise Damaged("an array in the file does not hold raw numeric data")
        count = 1
        for s in shape:
            count *= s
        if len(data) != count * dt.itemsize:
            raise Damaged(f"an array of shape {list(shape)} holds {len(data)} bytes, expected {count * dt.itemsize}")
        self.shape, self.dtype, self.fortran, self.data = shape, dt, bool(fortran), data

    @property
    def nbytes(self) -> int:
        return len(self.data) if self.data is not None else 0

    @property
    def size(self) -> int:
        return self.nbytes // self.dtype.itemsize if self.dtype is not None else 0

    @property
    def array(self) -> np.ndarray:
        """The array (read from the file on first use; read-only)."""
        if self._array is None:
            if self.dtype is None or self.data is None:
                raise Damaged("an array in the file was never given its data")
            count = len(self.data) // self.dtype.itemsize
            raw = as_bytes(self.data)
            self._array = np.frombuffer(raw, dtype=self.dtype, count=count).reshape(
                self.shape, order="F" if self.fortran else "C"
            )
        return self._array


NDARRAY = Global("numpy.ndarray")  # only ever the first argument of _reconstruct


def _reconstruct(subtype: object, shape: object = (0,), typecode: bytes = b"b") -> ArrayRef:
    if subtype is not NDARRAY:
        raise Damaged("only plain numpy.ndarray objects are read from a model file")
    return ArrayRef()


def _scalar(dtype: object, data: object = None) -> Any:
    if not isinstance(dtype, DtypeRef):
        raise Damaged("a NumPy scalar in the file has no valid data type")
    if isinstance(data, str):
        data = data.encode("latin-1")
    if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.dtype.itemsize:
        raise Damaged("a NumPy scalar in the file has the wrong number of bytes")
    return np.frombuffer(bytes(data), dtype=dtype.dtype, count=1)[0]


def common_globals(numpy: bool = True, easydict: bool = True) -> dict:
    """The allow-list every model-file reader shares."""
    g = {
        ("collections", "OrderedDict"): Global("collections.OrderedDict", call=_ordered_dict),
        ("builtins", "set"): Global("builtins.set", call=_set),
        ("builtins", "frozenset"): Global("builtins.frozenset", call=_frozenset),
        ("__builtin__", "set"): Global("builtins.set", call=_set),  # protocol 2 spells builtins this way
        ("__builtin__", "frozenset"): Global("builtins.frozenset", call=_frozenset),
        ("_codecs", "encode"): Global("_codecs.encode", call=_codecs_encode),
        ("__builtin__", "bytes"): Global("builtins.bytes", call=_empty_bytes),
        ("builtins", "bytes"): Global("builtins.bytes", call=_empty_bytes),
    }
    if easydict:
        g[("dnnlib.util", "EasyDict")] = Global("dnnlib.util.EasyDict", new=_new_easydict)
    if numpy:
        g[("numpy", "ndarray")] = NDARRAY
        g[("numpy", "dtype")] = Global("numpy.dtype", call=DtypeRef)
        for m in NUMPY_CORE:
            g[(m, "_reconstruct")] = Global(f"{m}._reconstruct", call=_reconstruct)
            g[(m, "scalar")] = Global(f"{m}.scalar", call=_scalar)
    return g


# ----------------------------------------------------------------------------------------------------------
# Entry points


def check_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise LimitExceeded(
            f"the file is {size / 2**30:.1f} GB; StyleMixer reads model files up to "
            f"{MAX_FILE_BYTES / 2**30:.0f} GB (the largest StyleGAN checkpoints are under 1 GB)"
        )


def ends_complete(f: io.BufferedIOBase) -> bool:
    """Whether a non-empty file ends with the STOP opcode, as every complete pickle does; leaves f at its start."""
    f.seek(-1, io.SEEK_END)
    complete = f.read(1) == b"."
    f.seek(0)
    return complete


def load(
    src: Any,
    globals: dict,
    *,
    budget: Budget | None = None,
    start: int = 0,
    end: int | None = None,
    persistent_load: Callable[[Any], tuple[Any, int]] | None = None,
    progress: Callable[[float], None] | None = None,
    progress_range: tuple[float, float] = (0.0, 1.0),
    encoding: str = "latin1",
    reader: Reader | None = None,
) -> Any:
    """Unpickle one pickle from `src` (bytes, an open binary file, a Source; or continue on `reader`).

    Returns the unpickled object, in which allowed globals became Inert records, large bytes became Slices of
    `src` (valid while the file stays open), and everything else is plain Python data.
    Raises RefusedGlobal, LimitExceeded, Truncated or Damaged (all ModelFileError; messages name no file).
    """
    if reader is None:
        source = Source.of(src)
        check_size(source.size)
        reader = Reader(source, start, end)
    if budget is None:
        budget = Budget(reader.end - reader.start)
    up = Unpickler(reader, globals, budget, persistent_load, progress, progress_range, encoding)
    try:
        return up.load()
    except RecursionError:  # cannot happen by construction (nothing recurses); kept as a last line
        raise LimitExceeded("the data is nested too deeply") from None
    except MemoryError:
        raise LimitExceeded("not enough memory to read the file") from None
    finally:
        up.stack, up.marks, up.memo = [], [], {}


def plain(value: Any, convert: Callable[[Any], Any] | None = None, _seen: dict | None = None) -> Any:
    """A copy of unpickled data as plain Python: dict subclasses -> dict (OrderedDict kept), tuples and lists
    kept, NumPy scalars -> Python numbers, ArrayRefs -> their arrays. `convert(obj)` may map other records
    (return NotImplemented to fall through). Memo-aware: an object shared in the file is converted once and
    stays shared, so the cost is the file's, never the expanded structure's."""
    seen = {} if _seen is None else _seen
    key = id(value)
    if key in seen:
        return seen[key][1]
    if convert is not None:
        out = convert(value)
        if out is not NotImplemented:
            seen[key] = (value, out)
            return out
    if isinstance(value, collections.OrderedDict):
        out = collections.OrderedDict()
        seen[key] = (value, out)
        for k, v in value.items():
            out[k] = plain(v, convert, seen)
    elif isinstance(value, dict):
        out = {}
        seen[key] = (value, out)
        for k, v in value.items():
            out[k] = plain(v, convert, seen)
    elif isinstance(value, list):
        out = []
        seen[key] = (value, out)
        out.extend(plain(v, convert, seen) for v in value)
    elif isinstance(value, tuple):
        out = tuple(plain(v, convert, seen) for v in value)
        seen[key] = (value, out)
    elif isinstance(value, (set, frozenset)):
        out = type(value)(value)
    elif isinstance(value, np.generic):
        out = value.item()
    elif isinstance(value, ArrayRef):
        out = value.array
    else:
        out = value
    return out


SCAN_OPS = 20000  # the globals that identify a format come within the first hundred opcodes of real files


def scan_globals(head: bytes, limit: int = 64) -> list:
    """The globals named in the first bytes of a pickle, in order, without loading anything: [(module,
    name)], at most `limit`, looking at most SCAN_OPS opcodes. Parses opcodes only (memo strings are followed
    for STACK_GLOBAL)."""
    import itertools
    import pickletools

    found: list[tuple[str, str]] = []
    memo: dict[int, Any] = {}
    strings: list[str] = []
    last = None
    try:
        for op, arg, _pos in itertools.islice(pickletools.genops(io.BytesIO(head)), SCAN_OPS):
            n = op.name
            if n in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"):
                if n == "MEMOIZE":
                    memo[len(memo)] = last
                elif isinstance(arg, int) and arg < 1 << 24:
                    memo[arg] = last
                continue
            if n in ("BINGET", "LONG_BINGET", "GET"):
                last = memo.get(arg) if isinstance(arg, int) else None
            elif n in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                last = arg
            elif n == "GLOBAL":
                module, _, name = str(arg).partition(" ")
                found.append((module, name))
                last = None
            elif n == "STACK_GLOBAL":
                if len(strings) >= 2:
                    found.append((strings[-2], strings[-1]))
                last = None
            elif n != "FRAME":
                last = None
            if isinstance(last, str):
                strings.append(last)
            if len(found) >= limit or n == "STOP":
                break
    except Exception:  # the head ends mid-opcode or is not a pickle: what was found so far is the answer
        pass
    return found


__all__ = [
    "LAZY_BYTES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "ArrayRef",
    "Budget",
    "Damaged",
    "DtypeRef",
    "EasyDict",
    "Global",
    "Inert",
    "LimitExceeded",
    "PickleRejected",
    "Reader",
    "RefusedGlobal",
    "Slice",
    "Source",
    "Truncated",
    "Unpickler",
    "as_bytes",
    "check_size",
    "common_globals",
    "ends_complete",
    "escape",
    "load",
    "plain",
    "scan_globals",
]
