"""A least-recently-used cache bounded by bytes, for the renderer's activations, images and statistics.

Entries carry their own size because they differ by four orders of magnitude (a 1024 px activation is 64 MB,
a layer's statistics a few hundred bytes), so a count limit would either waste memory or thrash.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch


def nbytes(value) -> int:
    """Bytes held by a tensor, an array, or a (nested) tuple/list/dict of them; small objects count 64."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return 64 + sum(nbytes(v) for v in value)
    if isinstance(value, dict):
        return 64 + sum(nbytes(v) for v in value.values())
    if hasattr(value, "__dataclass_fields__"):
        return 64 + sum(nbytes(getattr(value, f)) for f in value.__dataclass_fields__)
    return 64


class ByteLRU:
    """get() refreshes an entry; put() evicts the least recently used entries until the total fits the budget.

    An entry larger than the whole budget is not stored (caching it would evict everything else for one item).
    """

    def __init__(self, budget_bytes: int):
        self.budget = int(budget_bytes)
        self._d: OrderedDict = OrderedDict()   # key -> (value, size)
        self.bytes = 0
        self.peak_bytes = 0
        self.hits = self.misses = self.evictions = 0

    def __len__(self):
        return len(self._d)

    def __contains__(self, key):
        return key in self._d

    def get(self, key, default=None):
        item = self._d.get(key)
        if item is None:
            self.misses += 1
            return default
        self._d.move_to_end(key)
        self.hits += 1
        return item[0]

    def peek(self, key) -> bool:
        """Whether key is present, without counting a hit or refreshing it (for planning)."""
        return key in self._d

    def put(self, key, value, size: int | None = None):
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

    def clear(self):
        self._d.clear()
        self.bytes = 0

    def info(self) -> dict:
        return {"entries": len(self._d), "bytes": self.bytes, "budget": self.budget, "peak_bytes": self.peak_bytes,
                "hits": self.hits, "misses": self.misses, "evictions": self.evictions}
