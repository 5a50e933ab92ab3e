"""Opening a large official-layout pickle in a fresh process: peak memory stays under twice the file size,
and neither dnnlib nor TensorFlow gets imported."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .tf_writer import Spec

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys, time
import numpy, torch
from stylemixer.core.checkpoints import load_any

def status_mb(field):  # VmHWM is this process's own peak; ru_maxrss would include the parent's from before exec
    with open("/proc/self/status") as f:
        return int(f.read().split(field + ":")[1].split()[0]) / 1024

base = status_mb("VmRSS")
t0 = time.perf_counter()
seen = []
m = load_any(sys.argv[1], progress=seen.append)
print(json.dumps({"base": base, "peak": status_mb("VmHWM"),
                  "seconds": time.perf_counter() - t0, "progress_calls": len(seen),
                  "params": sum(p.numel() for p in m.G.parameters()),
                  "modules": sorted(k for k in sys.modules if k.split(".")[0] in ("dnnlib", "tensorflow"))}))
"""


@pytest.mark.subprocess
def test_peak_memory_and_no_imports(tmp_path):
    # Official widths at 256 px (the bedrooms/cats layout); G pickles its own copy, as in the real files.
    spec = Spec(
        resolution=256,
        latent_size=512,
        dlatent_size=512,
        mapping_fmaps=512,
        fmap_base=8192,
        fmap_max=512,
        d_fmap_max=32,
        seed=1,
    )
    path = spec.write(tmp_path / "karras2019stylegan-bedrooms-256x256.pkl")
    size_mb = os.path.getsize(path) / 2**20
    del spec
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert size_mb > 100
    assert r["modules"] == []
    assert r["progress_calls"] >= 20
    assert r["peak"] - r["base"] < 2 * size_mb, (r, size_mb)
    print(f"\n{size_mb:.0f} MB file: peak +{r['peak'] - r['base']:.0f} MB over the baseline, {r['seconds']:.2f} s")
