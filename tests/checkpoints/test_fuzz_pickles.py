"""Property-based fuzzing of the pickle readers: random mutations of real files (NVIDIA PyTorch snapshots in
both protocols, a TF-era StyleGAN pickle, torch.save zip and legacy files) end in a result or a
ModelFileError, never another exception, and what they return stays within the file's budget.

The CI run is short; the long run (docs/reading-model-files.md):

    STYLEMIXER_FUZZ_EXAMPLES=20000 PYTHONPATH=. python -m pytest -q -p no:cacheprovider \\
        tests/checkpoints/test_fuzz_pickles.py
"""

import io
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylemixer.core.checkpoints import load_any, nvidia_pickle
from stylemixer.core.checkpoints import safe_pickle as sp
from stylemixer.core.checkpoints.safe_torch import safe_torch_load
from stylemixer.core.errors import ModelFileError

from . import nvidia_writer as nw
from .tf_writer import NUMPY1, Spec

# Many random examples per test: the slow tier's. The hostile files (test_hostile_files) are the fast tier's.
pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("STYLEMIXER_FUZZ_EXAMPLES", "30"))
OPCODES = list(b"()].}N\x88\x89KJM\x8a\x8bGXB\x8c\x8e\x94hjqr\x93cRb\x81\x85\x86\x87tlduseaQ\x95\x80")


def _seed_files():
    folder = Path(tempfile.mkdtemp(prefix="stylemixer-fuzz-"))
    rng = np.random.default_rng(0)
    files = {}
    files["nvidia-p4"] = nw.write(
        folder / "p4.pkl",
        nw.tiny_stylegan2(rng, channels=48),  # one blob > 64 KB
        D=nw.tiny_discriminator(rng),
        augment_pipe=nw.tiny_augment_pipe(rng),
    )
    files["nvidia-p3-numpy1-old"] = nw.write(
        folder / "p3.pkl", nw.tiny_stylegan3(rng), protocol=3, numpy_names=NUMPY1, old_torch=True, layout="sg3"
    )
    files["tf"] = Spec(
        resolution=8, fmap_base=32, fmap_max=8, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=2
    ).write(folder / "tf.pkl")
    state = {
        "g_ema": {"w": torch.randn(40, 40), "b": torch.arange(5)},
        "latent_avg": torch.randn(8),
        "args": __import__("argparse").Namespace(size=8),
        "iter": 3,
    }
    for legacy in (False, True):
        p = folder / f"{'legacy' if legacy else 'zip'}.pt"
        torch.save(state, p, _use_new_zipfile_serialization=not legacy)
        files["torch-legacy" if legacy else "torch-zip"] = p
    return folder, {k: Path(v).read_bytes() for k, v in files.items()}


FOLDER, SEEDS = _seed_files()

mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("opcode"), st.floats(0, 1), st.sampled_from(OPCODES)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 64)),
    st.tuples(st.just("duplicate"), st.floats(0, 1), st.integers(1, 512)),
    st.tuples(st.just("big-int"), st.floats(0, 1), st.sampled_from([0x7FFFFFFF, 0xFFFFFFFF, 2**27, 0x80000000])),
)


def mutate(data: bytes, muts) -> bytes:
    b = bytearray(data)
    for kind, where, arg in muts:
        i = min(int(where * len(b)), max(len(b) - 1, 0))
        if not b:
            break
        if kind == "flip":
            b[i] ^= arg
        elif kind == "opcode":
            b[i] = arg
        elif kind == "truncate":
            del b[i:]
        elif kind == "insert":
            b[i:i] = arg
        elif kind == "delete":
            del b[i : i + arg]
        elif kind == "duplicate":
            b[i:i] = b[i : i + arg]
        elif kind == "big-int":
            b[i : i + 4] = struct.pack("<I", arg)
    return bytes(b)


def read(kind: str, path: Path):
    """The reader a user's file of this kind goes through; returns the tensors it produced."""
    if kind.startswith("nvidia"):
        rec, _ = nvidia_pickle.read_record(path)
        return list(rec.state.values())
    if kind == "tf":
        return list(load_any(path).G.state_dict().values())
    out = safe_torch_load(path)

    def tensors(v):
        if isinstance(v, torch.Tensor):
            yield v
        elif isinstance(v, dict):
            for x in v.values():
                yield from tensors(x)

    return list(tensors(out))


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_the_seed_files_read(kind):
    path = FOLDER / f"seed-{kind}"
    path.write_bytes(SEEDS[kind])
    assert read(kind, path)


@pytest.mark.parametrize("kind", sorted(SEEDS))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(muts=st.lists(mutation, min_size=1, max_size=4))
def test_mutations_end_in_a_result_or_a_model_file_error(kind, muts):
    data = mutate(SEEDS[kind], muts)
    path = FOLDER / f"mutant-{kind}"
    path.write_bytes(data)
    try:
        tensors = read(kind, path)
    except ModelFileError:
        return
    budget = sp.Budget(len(data))
    assert sum(t.numel() * t.element_size() for t in tensors) <= budget.max_cost


def test_mutate_is_deterministic():
    assert mutate(b"abcdef", [("flip", 0.0, 1), ("delete", 0.5, 1), ("insert", 0.0, b"x")]) == b"x`bcef"
    assert io.BytesIO(mutate(b"abc", [("truncate", 0.5, 0)])).read() == b"a"
