"""A least-recently-used cache bounded by bytes, for the renderer's activations, images and statistics.

Entries carry their own size because they differ by four orders of magnitude (a 1024 px activation is 64 MB,
a layer's statistics a few hundred bytes), so a count limit would either waste memory or thrash.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np
import torch

OBJECT_BYTES = 64  # a small Python object, a dict slot, an LRU entry
TENSOR_BYTES = 512  # a tensor's Python object, TensorImpl and StorageImpl, beyond its storage


def nbytes(value: object) -> int:
    """Bytes a cached value keeps alive: the whole storage behind a tensor or array (a view keeps all of its
    base alive, not only what it shows) plus the objects around it; nested tuples, lists, dicts, dataclasses
    and objects with an `nbytes` attribute (LayerStats) are summed."""
    if isinstance(value, torch.Tensor):
        return value.untyped_storage().nbytes() + TENSOR_BYTES
    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base, np.ndarray) and base.base is not None:
            base = base.base
        return int(getattr(base, "nbytes", value.nbytes)) + OBJECT_BYTES * 2
    if isinstance(value, (tuple, list)):
        return OBJECT_BYTES + sum(nbytes(v) for v in value)
    if isinstance(value, dict):
        return OBJECT_BYTES + sum(nbytes(v) for v in value.values())
    if hasattr(value, "__dataclass_fields__"):
        return OBJECT_BYTES + sum(nbytes(getattr(value, f)) for f in value.__dataclass_fields__)
    n = getattr(value, "nbytes", None)
    if isinstance(n, int):
        return OBJECT_BYTES + n
    return OBJECT_BYTES


class ByteLRU:
    """get() refreshes an entry; put() evicts the least recently used entries until the total fits the budget.

    An entry larger than the whole budget is not stored (caching it would evict everything else for one item).
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = int(budget_bytes)
        self._d: OrderedDict = OrderedDict()  # key -> (value, size)
        self.bytes = 0
        self.peak_bytes = 0
        self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._d

    def get(self, key: Hashable, default: Any = None) -> Any:
        item = self._d.get(key)
        if item is None:
            self.misses += 1
            return default
        self._d.move_to_end(key)
        self.hits += 1
        return item[0]

    def peek(self, key: Hashable) -> bool:
        """Whether key is present, without counting a hit or refreshing it (for planning)."""
        return key in self._d

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        size = nbytes(value) if size is None else int(size)
        old = self._d.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if size > self.budget:
            return
        self._d[key] = (value, size)
        self.bytes += size
        while self.bytes > self.budget:
            _, (_, s) = self._d.popitem(last=False)
            self.bytes -= s
            self.evictions += 1
        self.peak_bytes = max(self.peak_bytes, self.bytes)

    def clear(self) -> None:
        self._d.clear()
        self.bytes = 0

    def info(self) -> dict:
        return {
            "entries": len(self._d),
            "bytes": self.bytes,
            "budget": self.budget,
            "peak_bytes": self.peak_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }


class SlotLRU:
    """A least-recently-used cache of equally shaped tensors (the renderer's ws per seed), held in one block.

    Each entry is copied into a slot of one tensor allocated at the first put, and get() hands out a copy.
    Why not one small tensor per entry: allocated between the mapping network's temporaries, each long-lived
    entry pinned holes in the heap that later temporaries could not reuse (docs/reliability.md, *Memory flat*).
    So memory is `budget_bytes` at most, counted exactly, and flat once full.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = int(budget_bytes)
        self._slots: OrderedDict = OrderedDict()  # key -> slot index
        self._free: list[int] = []
        self._block: torch.Tensor | None = None  # [slots, *entry shape]
        self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slots

    @property
    def bytes(self) -> int:
        """Bytes held: the whole block once allocated (it is never larger than the budget)."""
        return 0 if self._block is None else self._block.untyped_storage().nbytes()

    def get(self, key: Hashable, default: torch.Tensor | None = None) -> torch.Tensor | None:
        i = self._slots.get(key)
        if i is None:
            self.misses += 1
            return default
        self._slots.move_to_end(key)
        self.hits += 1
        assert self._block is not None  # a slot implies the block
        with torch.inference_mode():
            return self._block[i].clone()  # the slot may be reused by a later put

    def put(self, key: Hashable, value: torch.Tensor) -> None:
        with torch.inference_mode():
            b = self._block
            if b is None or b.shape[1:] != value.shape or b.dtype != value.dtype or b.device != value.device:
                per = max(1, value.numel() * value.element_size())
                count = self.budget // per
                if count < 1:
                    return
                self.clear()
                # zeros, not empty: the block is resident from the start rather than growing while slots fill
                b = self._block = torch.zeros((count, *value.shape), dtype=value.dtype, device=value.device)
                self._free = list(range(count - 1, -1, -1))
            if key in self._slots:
                i = self._slots[key]
                self._slots.move_to_end(key)
            elif self._free:
                i = self._free.pop()
            else:
                _, i = self._slots.popitem(last=False)
                self.evictions += 1
            b[i].copy_(value)
            self._slots[key] = i

    def clear(self) -> None:
        self._slots.clear()
        self._free = []
        self._block = None

    def info(self) -> dict:
        slots = 0 if self._block is None else self._block.shape[0]
        return {
            "entries": len(self._slots),
            "slots": slots,
            "bytes": self.bytes,
            "budget": self.budget,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }
