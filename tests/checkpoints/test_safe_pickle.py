"""The bounded pickle interpreter: the same data as Python's unpickler for everything model files contain, and
exact, named refusals at its limits."""

import collections
import io
import pickle
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylemixer.core.checkpoints import safe_pickle as sp
from stylemixer.core.checkpoints import tf_pickle

G = sp.common_globals()

plain_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8) | st.integers(-1000, 1000), inner, max_size=5)
    ),
    max_leaves=30,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, database=None)
@given(plain_data, st.integers(2, 5))
def test_same_data_as_pickle(value, protocol):
    data = pickle.dumps(value, protocol=protocol)
    assert sp.load(data, G) == pickle.loads(data)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_containers_numpy_and_shared_objects(protocol):
    shared = [1, 2]
    value = {
        "od": collections.OrderedDict(a=1, b=[shared, shared]),
        "set": {1, "x"},
        "fs": frozenset({"y"}),
        "f32": np.float32(1.5),
        "b": np.bool_(True),
        "big": b"\x01" * 100_000,
    }
    out = sp.load(pickle.dumps(value, protocol=protocol), G)
    assert isinstance(out["od"], collections.OrderedDict) and out["od"] == value["od"]
    assert out["od"]["b"][0] is out["od"]["b"][1]  # memo sharing is kept, not copied
    assert out["set"] == {1, "x"} and out["fs"] == frozenset({"y"})
    assert out["f32"] == np.float32(1.5) and out["f32"].dtype == np.float32 and bool(out["b"]) is True
    assert sp.as_bytes(out["big"]) == value["big"]
    assert isinstance(out["big"], sp.Slice) == (protocol >= 3)  # large bytes stay in the file (protocol 2
    # writes them as latin-1 text, which has to be read)


@pytest.mark.parametrize("protocol", [2, 3, 4])
@pytest.mark.parametrize("dtype", ["f2", "f4", ">f4", "f8", "i1", "u1", "i8", "b1"])
def test_arrays(protocol, dtype):
    a = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    for arr in (a, np.asfortranarray(a), a[0]):
        out = sp.load(pickle.dumps(arr, protocol=protocol), G)
        assert isinstance(out, sp.ArrayRef)
        np.testing.assert_array_equal(out.array, arr)
        assert out.array.dtype == arr.dtype


def test_plain_is_memo_aware():
    level = []
    for _ in range(60):
        level = [level, level]
    out = sp.plain(level)  # 2^60 leaves if copied naively; one list per level here
    assert out[0] is out[1]


def _depth(n):
    return b"\x80\x04" + b"N" + b"\x85" * n + b"."


def test_depth_limit_is_exact():
    sp.load(_depth(sp.MAX_DEPTH), G)
    with pytest.raises(sp.LimitExceeded, match=f"nested more than {sp.MAX_DEPTH} levels"):
        sp.load(_depth(sp.MAX_DEPTH + 1), G)
    with pytest.raises(sp.LimitExceeded, match="nested"):
        sp.load(b"\x80\x04" + b"(" * 10**6 + b".", G)


def test_expanded_size_limit():
    budget = sp.Budget(1000)
    level = []
    for _ in range(40):
        level = [level, level]
    data = pickle.dumps(level, 4)
    with pytest.raises(sp.LimitExceeded, match="expand to more than 64 MB"):
        sp.load(data, G, budget=budget)
    shared = b"x" * (1 << 20)
    sp.load(pickle.dumps([shared] * 40, 4), G)
    with pytest.raises(sp.LimitExceeded, match="expand"):
        sp.load(pickle.dumps([shared] * 100, 4), G)


def test_memo_and_length_limits():
    with pytest.raises(sp.LimitExceeded, match="memo index 134217728"):
        sp.load(b"\x80\x04}r" + struct.pack("<I", 2**27) + b".", G)
    with pytest.raises(sp.Truncated):
        sp.load(b"\x80\x04\x8e" + struct.pack("<Q", 2**63) + b".", G)
    with pytest.raises(sp.LimitExceeded, match="opcodes"):
        sp.load(b"\x80\x04" + b"N0" * 200_000 + b"N.", G)
    with pytest.raises(sp.LimitExceeded, match="integer"):
        sp.load(b"\x80\x04\x8b" + struct.pack("<i", 1000) + b"\x01" * 1000 + b".", G)


def test_cycles_are_refused():
    a = []
    a.append(a)
    d = {}
    d["x"] = [d]
    for obj in (a, d):
        with pytest.raises(sp.Damaged, match="itself|after using"):
            sp.load(pickle.dumps(obj, 4), G)


def test_globals_are_refused_by_escaped_name():
    name = "os\x1b]0;pwned\x07\nfake line"
    data = b"\x80\x04\x8c" + bytes([len(name)]) + name.encode() + b"\x8c\x06system\x93)R."
    with pytest.raises(sp.RefusedGlobal) as e:
        sp.load(data, G)
    msg = str(e.value)
    assert "os\\x1b]0;pwned\\x07\\nfake line.system" in msg and all(c.isprintable() for c in msg)


def test_build_cannot_reach_helpers_or_shadow_methods():
    with pytest.raises(sp.Damaged, match="modify the helper"):
        sp.load(b"\x80\x02ccollections\nOrderedDict\n}X\x0c\x00\x00\x00__defaults__Nsb.", G)
    with pytest.raises(sp.Damaged, match="sets attributes on a list"):
        sp.load(b"\x80\x04]}b.", G)
    net = tf_pickle.TFNetwork()
    net._build({"own_variables": "x", "label": "y", "version": 3, "_state": 1})
    assert callable(net.own_variables) and net.version == 3 and net.label.startswith("?")


def test_escape():
    assert sp.escape("a\x1b[31mb\nc\u202ed") == "a\\x1b[31mb\\nc\\u202ed"
    assert sp.escape("x" * 500, 10) == "x" * 10 + "..."
    assert sp.escape("Grüße, 東京") == "Grüße, 東京"


def test_scan_globals_follows_memo_strings():
    data = pickle.dumps([collections.OrderedDict(), collections.OrderedDict(), np.float64(1)], protocol=4)
    assert sp.scan_globals(data)[0] == ("collections", "OrderedDict")
    assert ("numpy", "dtype") in sp.scan_globals(data)


def test_reading_from_a_file_keeps_slices_valid_while_open(tmp_path):
    path = tmp_path / "x.pkl"
    payload = bytes(range(256)) * 1000
    path.write_bytes(pickle.dumps({"blob": payload}, 4))
    with open(path, "rb") as f:
        out = sp.load(f, G)
        assert out["blob"].read() == payload
    with pytest.raises(ValueError):  # closed: the caller must keep the file open while it reads
        out["blob"].read()


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_end_in_a_model_file_error(data):
    try:
        sp.load(b"\x80\x04" + data, G)
    except sp.PickleRejected:
        pass
    except Exception as e:
        raise AssertionError(f"{type(e).__name__}: {e}") from None


def test_the_unpickler_accepts_open_bytes_io():
    assert tf_pickle.RestrictedUnpickler(io.BytesIO(pickle.dumps([1, 2], 2))).load() == [1, 2]
