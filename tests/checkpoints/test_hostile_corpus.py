"""The hostile-file corpus (hostile_corpus.py) through the API and the CLI, in one fresh process with an
address-space cap: nothing runs, nothing ends in a traceback, every refusal is one escaped line, and no file
costs more memory than 64 MB plus twice its size."""

import json
import pickle
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from . import hostile_corpus

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parents[2]
PEAK_BOUND_MB = 64  # plus twice the file's size


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    markers = folder / "markers"
    cases = hostile_corpus.build(folder / "files", markers)
    manifest = folder / "manifest.json"
    manifest.write_text(
        json.dumps([{"label": c.label, "path": str(c.path), "torch_file": c.torch_file} for c in cases])
    )
    results = folder / "results.json"
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.checkpoints.corpus_runner", str(manifest), str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\ncorpus runner: {cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime:.1f} s of CPU")
    data = json.loads(results.read_text())
    return cases, {r["label"]: r for r in data["rows"]}, markers


def test_the_payloads_are_live(tmp_path):
    """The corpus's payloads do run through an ordinary unpickler, through torch's own _load_from_bytes (a
    nested storage blob), and through exec of the embedded module source."""
    import torch

    for name, fn, args, _glob in hostile_corpus.payloads(tmp_path):
        pickle.loads(pickle.dumps(hostile_corpus.Reduce(fn, args), protocol=4))
        assert (tmp_path / f"{name}.ran").exists(), name
    marker = tmp_path / "blob.ran"
    blob = hostile_corpus.storage_blob(payload=hostile_corpus.Reduce(hostile_corpus.os.system, (f"touch '{marker}'",)))
    pickle.loads(pickle.dumps(hostile_corpus.Reduce(torch.storage._load_from_bytes, (blob,)), protocol=4))
    assert marker.exists()
    marker = tmp_path / "src.ran"
    exec(compile(hostile_corpus.nw.stand_in_source(marker=marker), "<stand-in>", "exec"), {})
    assert marker.exists()


def test_nothing_ran(corpus_results):
    cases, rows, markers = corpus_results
    assert len(rows) == len(cases) >= 90
    assert sorted(p.name for p in markers.iterdir()) == []


def test_no_tracebacks(corpus_results):
    _, rows, _ = corpus_results
    bad = {k: r["tracebacks"][0][-1500:] for k, r in rows.items() if r["tracebacks"]}
    assert not bad, bad


def test_each_file_gets_the_expected_outcome(corpus_results):
    cases, rows, _ = corpus_results
    problems = []
    for c in cases:
        r = rows[c.label]
        for a in r["api"]:
            if c.torch_file and a["via"] == "load_any":  # no torch.save model reader on this branch yet
                if a["ok"]:
                    problems.append(f"{c.label}: load_any loaded it")
                continue
            if c.expect == "refused":
                if a["ok"]:
                    problems.append(f"{c.label}: {a['via']} loaded it")
                elif not re.search(c.needle, a["message"], re.IGNORECASE):
                    problems.append(f"{c.label}: {a['via']}: {a['message']!r} lacks /{c.needle}/")
            if not a["ok"] and "not enough memory" in a["message"]:
                problems.append(f"{c.label}: ran into the memory cap")
        for cl in r["cli"]:
            lines = cl["stderr"].splitlines()
            if cl["rc"] == 2:
                if len(lines) != 1 or not lines[0].startswith("stylemixer: error: "):
                    problems.append(f"{c.label}: {cl['argv']}: stderr {cl['stderr']!r}")
            elif not (c.expect == "any" and cl["rc"] == 0):
                problems.append(f"{c.label}: {cl['argv']} exit {cl['rc']}")
    assert not problems, "\n".join(problems)


def test_messages_are_escaped(corpus_results):
    _, rows, _ = corpus_results
    for label, r in rows.items():
        texts = [a.get("message", "") for a in r["api"]] + [cl["stderr"].rstrip("\n") for cl in r["cli"]]
        for t in texts:
            assert all(ch.isprintable() for ch in t), (label, t)
    for label in ("nv-ansi-global", "bare-ansi-global"):
        assert "\\x1b[2J\\n" in rows[label]["cli"][0]["stderr"]


def test_memory_stays_bounded(corpus_results):
    _, rows, _ = corpus_results
    over = {
        k: (round(r["peak_mb"]), round(r["size"] / 2**20, 2))
        for k, r in rows.items()
        if r["peak_mb"] > PEAK_BOUND_MB + 2 * r["size"] / 2**20
    }
    assert not over, over
    worst = max(rows.values(), key=lambda r: r["peak_mb"])
    slowest = max(rows.values(), key=lambda r: r["seconds"])
    print(
        f"\n{len(rows)} hostile files x 4 paths: worst peak +{worst['peak_mb']:.0f} MB ({worst['label']}), "
        f"slowest {slowest['seconds']:.2f} s ({slowest['label']}), "
        f"total {sum(r['seconds'] for r in rows.values()):.1f} s"
    )
