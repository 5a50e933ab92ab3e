"""Property-based fuzzing (Hypothesis) of the readers that take files from users: the safetensors model reader,
the recipe JSON parser and the PNG recipe reader. Random mutations of real files must end in a model (or
recipe), or in a ModelFileError (RecipeError), never another exception, and within a memory bound set by the
file (peak RSS measured around each example).

A short run is part of the suite (a few seconds). The long run is the same tests with more examples:

    STYLEMIXER_FUZZ_EXAMPLES=20000 QT_QPA_PLATFORM=offscreen python -m pytest tests/hardening/test_fuzz.py
"""

import io
import json
import os
import struct
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylemixer.core.checkpoints.native import load_model_bytes
from stylemixer.core.errors import ModelFileError, RecipeError
from stylemixer.core.export import load_recipe_file
from stylemixer.core.mixing import Recipe

from .corpus import TINY, itxt_chunk, model_bytes, png, recipe_json, text_chunk, tiny_state, ztxt_chunk

# Many random examples per test: the slow tier's. The hostile corpus (test_hostile_inputs) is the fast tier's.
pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("STYLEMIXER_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MEMORY_SLACK_MB = 48  # beyond the file's own size (x4: bytes read, tensors, the generator, one copy)

SMALL = TINY.__class__(z_dim=8, w_dim=8, mapping_layers=2, mapping_fmaps=8, resolution=8, channels=(8, 4))
GOOD_MODEL = model_bytes(config=SMALL.to_dict(), state=tiny_state(SMALL))
GOOD_RECIPE = recipe_json()
GOOD_PNG = png([text_chunk(GOOD_RECIPE)])
FOLDER = tempfile.mkdtemp(prefix="stylemixer-fuzz-")

# ---------------------------------------------------------------------------------------------- memory
try:
    with open("/proc/self/clear_refs", "w") as _f:
        _f.write("5")
    PEAK = True
except OSError:  # not Linux, or not allowed: the memory bound is not checked
    PEAK = False


def _status(key):
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith(key)).split()[1]) / 1024


class Bounded:
    """Peak RSS (MB) of the block must stay within the file size times 4 plus a slack."""

    def __init__(self, nbytes):
        self.limit = MEMORY_SLACK_MB + 4 * nbytes / 2**20

    def __enter__(self):
        if PEAK:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.before = _status("VmRSS")
        return self

    def __exit__(self, *exc):
        if PEAK and exc[0] is None:
            grew = _status("VmHWM") - self.before
            assert grew < self.limit, f"peak RSS grew {grew:.1f} MB reading a {self.limit:.0f} MB-bounded file"


# ---------------------------------------------------------------------------------------------- mutations
INTERESTING = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"9" * 30,
    b"-1",
    b"1e308",
    b"NaN",
    b"Infinity",
    b"[",
    b"{",
    b'"',
    b"\\",
    b"\x1b[2J",
    b"\n",
    b"\xff" * 8,
    struct.pack("<Q", 2**63),
    struct.pack(">I", 2**31),
]


@st.composite
def mutated(draw, data: bytes, max_edits=6):
    """data with a few random edits: byte flips, overwrites, insertions, deletions, truncation, duplication."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "duplicate", "interesting"]))
        n = len(buf)
        pos = draw(st.integers(0, max(n - 1, 0)))
        if kind == "flip" and n:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and n:
            buf[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete" and n:
            del buf[pos : pos + draw(st.integers(1, 256))]
        elif kind == "truncate":
            del buf[pos:]
        elif kind == "duplicate" and n:
            buf[pos:pos] = buf[pos : pos + draw(st.integers(1, 4096))]
        elif kind == "interesting":
            v = draw(st.sampled_from(INTERESTING))
            buf[pos : pos + len(v)] = v
    return bytes(buf)


class HugeInt:
    """Stands for a 5,000-digit integer (beyond Python's int <-> str limit) until the JSON is written."""

    def __repr__(self):
        return "HugeInt()"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from([HugeInt(), -0.0, 1e308, 2**63, "NaN", "\x1b[2J\n"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _dumps(value) -> str:
    text = json.dumps(value, default=lambda o: "\0huge\0")
    return text.replace('"\\u0000huge\\u0000"', "9" * 5000)


@st.composite
def edited_json(draw, doc):
    """doc (parsed JSON) with random nodes replaced by random JSON values, keys added or removed."""

    def walk(node, depth):
        if depth > 4 or draw(st.integers(0, 9)) == 0:
            return draw(json_values)
        if isinstance(node, dict):
            out = {
                k: walk(v, depth + 1) if draw(st.booleans()) else v for k, v in node.items() if draw(st.integers(0, 15))
            }
            if draw(st.integers(0, 5)) == 0:
                out[draw(st.text(max_size=12))] = draw(json_values)
            return out
        if isinstance(node, list):
            return [walk(v, depth + 1) if draw(st.integers(0, 3)) == 0 else v for v in node]
        return node

    return walk(doc, 0)


def _header(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _with_header(header, rest) -> bytes:
    raw = (header if isinstance(header, str) else _dumps(header)).encode("utf-8", "surrogatepass")
    return struct.pack("<Q", len(raw)) + raw + rest


# ---------------------------------------------------------------------------------------------- models
def load_or_refuse(data: bytes):
    with Bounded(len(data)):
        try:
            G = load_model_bytes(data, "fuzzed.safetensors")
        except ModelFileError as e:
            assert "\n" not in str(e) and "\x1b" not in str(e), repr(str(e))
            return None
    assert G.num_ws >= 2
    return G


@FUZZ
@given(mutated(GOOD_MODEL))
def test_safetensors_byte_mutations(data):
    load_or_refuse(data)


@FUZZ
@given(st.data())
def test_safetensors_header_mutations(d):
    header, rest = _header(GOOD_MODEL)
    new = d.draw(edited_json(header))
    tail = d.draw(st.sampled_from([rest, rest[: len(rest) // 2], rest + b"\0" * 16, b""]))
    load_or_refuse(_with_header(new, tail))


@FUZZ
@given(st.data())
def test_safetensors_config_mutations(d):
    header, rest = _header(GOOD_MODEL)
    config = d.draw(edited_json(json.loads(header["__metadata__"]["config"])))
    header["__metadata__"]["config"] = _dumps(config)
    G = load_or_refuse(_with_header(header, rest))
    if G is not None:  # only a config that still describes the same tensors can load
        assert {k: tuple(v.shape) for k, v in G.state_dict().items()} == {
            k: s for k, (s, _) in G.state_shapes(G.cfg).items()
        }


# ---------------------------------------------------------------------------------------------- recipes
def read_or_refuse(data: bytes, suffix: str):
    path = os.path.join(FOLDER, "fuzzed" + suffix)
    with open(path, "wb") as f:
        f.write(data)
    with Bounded(len(data)):
        try:
            recipe = load_recipe_file(path)
        except RecipeError as e:
            assert "\n" not in str(e) and "\x1b" not in str(e), repr(str(e))
            return None
    assert isinstance(recipe, Recipe)
    return recipe


@FUZZ
@given(mutated(GOOD_RECIPE.encode()))
def test_recipe_json_byte_mutations(data):
    read_or_refuse(data, ".json")


@FUZZ
@given(st.data())
def test_recipe_json_structure_mutations(d):
    doc = d.draw(edited_json(json.loads(GOOD_RECIPE)))
    r = read_or_refuse(_dumps(doc).encode("utf-8", "surrogatepass"), ".json")
    if r is not None:  # what parses is within the documented bounds
        assert all(0 <= w <= 1 for w in r.weights) and abs(r.psi) <= 100


@FUZZ
@given(mutated(GOOD_PNG, max_edits=4))
def test_png_recipe_byte_mutations(data):
    read_or_refuse(data, ".png")


@FUZZ
@given(st.data())
def test_png_recipe_chunk_mutations(d):
    """Chunks of every text kind, in random order and number, with damaged lengths and random text."""
    text = d.draw(st.sampled_from([GOOD_RECIPE, _dumps(d.draw(edited_json(json.loads(GOOD_RECIPE))))]))
    kinds = [
        lambda: text_chunk(text.encode("utf-8", "surrogatepass").decode("latin-1")),
        lambda: ztxt_chunk(text.encode("utf-8", "surrogatepass")),
        lambda: itxt_chunk(text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), True),
        lambda: text_chunk("x" * d.draw(st.integers(0, 100)), key=d.draw(st.text("abc.", max_size=20))),
    ]
    chunks = [d.draw(st.sampled_from(kinds))() for _ in range(d.draw(st.integers(0, 4)))]
    data = png(chunks, image=d.draw(st.booleans()), end=d.draw(st.booleans()))
    read_or_refuse(d.draw(mutated(data, max_edits=2)) if d.draw(st.booleans()) else data, ".png")


def test_the_fuzzers_start_from_files_that_work():
    assert load_model_bytes(GOOD_MODEL).num_ws == SMALL.num_ws
    for data, suffix in ((GOOD_RECIPE.encode(), ".json"), (GOOD_PNG, ".png")):
        assert read_or_refuse(data, suffix) == Recipe.from_json(GOOD_RECIPE)
    png_recipe = read_or_refuse(png([itxt_chunk(GOOD_RECIPE, True)]), ".png")
    assert png_recipe == Recipe.from_json(GOOD_RECIPE)
    with pytest.raises(ModelFileError):
        load_model_bytes(io.BytesIO(GOOD_MODEL[:100]).getvalue())
