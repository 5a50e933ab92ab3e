"""Memory stays flat after warm-up: 1,000 random renders of the built-in model after the first 100 keep the
process's RSS within 5 %.

Random seeds and weights on every render are the worst case for the caches: every w, activation and image is
new, so every cache is full and evicting. Measured in a fresh process from /proc (no psutil), so other tests'
memory does not count; nothing here depends on how fast the machine is. The w cache used to keep each seed's
ws as its own small tensor, allocated between the mapping network's temporaries: 5,000 entries counted as
25 MB pinned 197 MB of heap (RSS +13 % over these renders before the fix, flat after).
"""

import json
import os
import subprocess
import sys

import pytest

from stylemixer.core.resources import builtin_model_path

SCRIPT = r"""
import json, random, torch
torch.set_num_threads(1)
from stylemixer.core.checkpoints import load_any
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer

def status(key):
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith(key)).split()[1]) / 1024

r = Renderer(load_any("builtin").G, "cpu", threads=1)
rng = random.Random(0)
samples = []
for i in range(1, 1101):
    recipe = Recipe.for_model(r.num_ws, seed_a=rng.randrange(2**32), seed_b=rng.randrange(2**32))
    r.render(recipe.with_weights([rng.random() for _ in range(r.num_ws)]))
    if i % 10 == 0:
        samples.append((i, status("VmRSS"), status("RssAnon")))
print(json.dumps({"samples": samples, "w_cache": r.w_cache.info(), "cache": r.cache.info()}))
"""


@pytest.mark.builtin
@pytest.mark.subprocess
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads RSS from /proc (Linux)")
@pytest.mark.skipif(not builtin_model_path().exists(), reason="needs the built-in model file")
def test_rss_stays_within_5_percent_over_1000_random_renders():
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    samples = out["samples"]
    base = max(rss for i, rss, _ in samples if 80 <= i <= 100)  # after the first 100 renders
    peak = max(rss for i, rss, _ in samples if i > 100)
    anon = [a for i, _, a in samples if i >= 100]
    print(
        f"RSS after 100 renders {base:.1f} MB, peak over the next 1000 {peak:.1f} MB "
        f"({(peak / base - 1) * 100:+.1f} %); anonymous {anon[0]:.1f} -> max {max(anon):.1f} MB; "
        f"w cache {out['w_cache']['entries']} entries in {out['w_cache']['bytes'] / 2**20:.1f} MB"
    )
    assert out["cache"]["bytes"] > 0.9 * out["cache"]["budget"], "the activation cache should be full by now"
    assert peak <= 1.05 * base, f"RSS grew from {base:.1f} MB to {peak:.1f} MB"
