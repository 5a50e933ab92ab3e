"""The byte-bounded LRU behind the renderer's caches."""
import numpy as np
import torch

from stylemixer.core.cache import ByteLRU, nbytes


def test_sizes_of_what_the_renderer_stores():
    assert nbytes(torch.zeros(2, 3, dtype=torch.float32)) == 24
    assert nbytes(torch.zeros(4, dtype=torch.float16)) == 8
    assert nbytes(np.zeros((3, 5), np.uint8)) == 15


def test_least_recently_used_goes_first():
    c = ByteLRU(300)
    for k in "abc":
        c.put(k, None, size=100)
    assert c.get("a") is None and "a" in c      # a value of None is still an entry; refreshes "a"
    c.put("d", None, size=100)                  # over budget: "b" is the oldest now
    assert "b" not in c and all(k in c for k in "acd")
    assert c.bytes == 300 and c.evictions == 1


def test_an_entry_larger_than_the_budget_is_not_kept_and_evicts_nothing():
    c = ByteLRU(100)
    c.put("small", 1, size=50)
    c.put("huge", 2, size=101)
    assert "huge" not in c and c.get("small") == 1 and c.bytes == 50


def test_replacing_a_key_updates_the_total():
    c = ByteLRU(1000)
    c.put("k", 1, size=400)
    c.put("k", 2, size=100)
    assert c.bytes == 100 and c.get("k") == 2 and c.peak_bytes == 400
    c.clear()
    assert len(c) == 0 and c.bytes == 0
