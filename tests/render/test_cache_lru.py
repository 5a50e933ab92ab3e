"""The byte-bounded LRU behind the renderer's caches."""

import numpy as np
import torch

from stylemixer.core.cache import OBJECT_BYTES, TENSOR_BYTES, ByteLRU, SlotLRU, nbytes


def test_sizes_of_what_the_renderer_stores():
    """Real bytes: the whole storage a value keeps alive (a view keeps its base), plus the objects around it."""
    assert nbytes(torch.zeros(2, 3, dtype=torch.float32)) == 24 + TENSOR_BYTES
    assert nbytes(torch.zeros(4, dtype=torch.float16)) == 8 + TENSOR_BYTES
    big = torch.zeros(100, 10)
    assert nbytes(big[:1]) == 4000 + TENSOR_BYTES
    assert nbytes(np.zeros((3, 5), np.uint8)) == 15 + 2 * OBJECT_BYTES
    assert nbytes(np.zeros((100, 5), np.uint8)[:1]) == 500 + 2 * OBJECT_BYTES


def test_the_w_cache_holds_its_entries_in_one_block():
    c = SlotLRU(5 * 40)  # room for five [1, 10] float32 entries
    ws = [torch.full((1, 10), float(i)) for i in range(7)]
    for i, w in enumerate(ws):
        c.put(i, w)
    assert len(c) == 5 and 0 not in c and 1 not in c and c.evictions == 2
    assert c.bytes == 200 and c.info()["slots"] == 5
    got = c.get(4)
    assert torch.equal(got, ws[4]) and got.untyped_storage().data_ptr() != c._block.untyped_storage().data_ptr()
    c.put(7, torch.full((1, 10), 7.0))  # 2 was the least recently used (4 was just read)
    assert 2 not in c and 4 in c and torch.equal(c.get(7), torch.full((1, 10), 7.0))
    c.put("other shape", torch.zeros(2, 10))  # a new model's entries: the block is rebuilt
    assert len(c) == 1 and c.info()["slots"] == 2
    assert SlotLRU(10).put("x", torch.zeros(1, 10)) is None and len(SlotLRU(10)) == 0
    c.clear()
    assert len(c) == 0 and c.bytes == 0


def test_least_recently_used_goes_first():
    c = ByteLRU(300)
    for k in "abc":
        c.put(k, None, size=100)
    assert c.get("a") is None and "a" in c  # a value of None is still an entry; refreshes "a"
    c.put("d", None, size=100)  # over budget: "b" is the oldest now
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
