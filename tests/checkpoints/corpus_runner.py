"""Runs a hostile-file corpus in a fresh process under a memory cap: every file through the API (load_any, and
safe_torch_load for torch files) and the CLI (`info`, `render`, `convert`), recording per file the outcome,
the messages, whether anything escaped as a traceback, the peak memory above the level before the file, and
the time. Used by test_hostile_corpus.py; also a command for a longer look:

    python -m tests.checkpoints.corpus_runner MANIFEST.json RESULTS.json

MANIFEST.json: [{"label", "path", "torch_file"}]. The address-space cap (RLIMIT_AS) is the size after imports
plus STYLEMIXER_CORPUS_CAP_MB (default 1536).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
import traceback


def status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return int(f.read().split(field + ":")[1].split()[0])


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def main(manifest, results):

    from stylemixer import cli
    from stylemixer.core.checkpoints import load_any
    from stylemixer.core.checkpoints.safe_torch import safe_torch_load
    from stylemixer.core.errors import StyleMixerError

    cap = status_kb("VmSize") * 1024 + int(os.environ.get("STYLEMIXER_CORPUS_CAP_MB", "1536")) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    with open(manifest) as f:
        cases = json.load(f)
    out_dir = os.path.dirname(os.path.abspath(results))
    rows = []
    for case in cases:
        path = case["path"]
        row = {"label": case["label"], "size": os.path.getsize(path), "api": [], "cli": [], "tracebacks": []}
        reset_peak()
        before = status_kb("VmRSS")
        t0 = time.perf_counter()
        apis = [("load_any", load_any)]
        if case.get("torch_file"):
            apis.append(("safe_torch_load", safe_torch_load))
        for name, call in apis:
            try:
                call(path)
                row["api"].append({"via": name, "ok": True})
            except StyleMixerError as e:
                row["api"].append({"via": name, "ok": False, "message": str(e), "type": type(e).__name__})
            except BaseException:
                row["tracebacks"].append(traceback.format_exc())
        png, st = os.path.join(out_dir, "out.png"), os.path.join(out_dir, "out.safetensors")
        for argv in (["info", path], ["render", "--model", path, "-o", png], ["convert", path, st]):
            err, outs = io.StringIO(), io.StringIO()
            try:
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(outs):
                    rc = cli.main(argv)
            except BaseException:
                row["tracebacks"].append(traceback.format_exc())
                rc = None
            row["cli"].append({"argv": argv[0], "rc": rc, "stderr": err.getvalue()})
        row["seconds"] = time.perf_counter() - t0
        row["peak_mb"] = (status_kb("VmHWM") - before) / 1024
        rows.append(row)
    with open(results, "w") as f:
        json.dump({"rows": rows, "cap_mb": cap / 2**20}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
