"""`stylemixer bench`: how fast the picture follows the controls, with and without the renderer's caches.

For the built-in model (an untrained model of the same shape when the file is absent; the output says which) and a
generator with the official 1024 px StyleGAN shape (random weights: speed does not depend on the values), it
times frames of the kinds a user makes: a new seed, a coarse w index moved, a fine w index moved, each with and
without statistics, against the same frames with the caches off. For the 1024 px model it also times a full
synthesis with one thread and with every core against an analytic FLOP count and this run's own best-case
convolution and matrix-multiply rates with as many threads, and the speed-up of changing each w index once the
cache is full (the renders that fill it are reported beside). Finally it launches the real app and times the
first image shown (the app's --exit-after-first-image option). Every table says which thread counts were used.

These are the default section, `--family stylegan`; `--family stylegan2,stylegan3-t,stylegan3-r` (or `all`) adds
the StyleGAN2 and StyleGAN3 sections of families.py, minutes each at 1024 px on a 2-core CPU.

Prints a table and writes JSON. `--quick` shrinks everything for a smoke test: narrow 64 px stand-ins for the
official shapes, three frames each, one launch of the app; seconds on a quiet machine, under half a minute on 2
busy cores. Uses only the public Renderer and Session API.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

SCENARIOS = ("seed", "coarse", "fine")
FIRST_IMAGE_OPTION = "--exit-after-first-image"  # the app's launch-probe option (gui/app.py)
FIRST_IMAGE_LINE = "stylemixer: first image shown"


# ------------------------------------------------------------------------------------------------ timing
def _stats(ms: list) -> dict:
    s = sorted(ms)
    n = len(s)
    med = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    p90 = s[min(n - 1, int(round(0.9 * (n - 1))))]
    return {"median_ms": round(med, 3), "p90_ms": round(p90, 3), "n": n}


def matmul_gflops(n: int, reps: int) -> float:
    """The machine's practical fp32 limit: best of `reps` n x n matrix products."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def conv_gflops(reps: int, channels: int = 512, size: int = 32) -> float:
    """A best-case 3x3 convolution (512 -> 512 channels on 32 x 32, NHWC): what oneDNN reaches on this CPU.

    On the AMD EPYC the project is measured on, MKL's matrix multiply (torch.mm) runs at ~105 GFLOP/s per thread
    while oneDNN's AVX-512 convolutions reach ~250: the synthesis is compared against both.
    """
    import torch
    import torch.nn.functional as F

    fmt = torch.channels_last
    x = torch.randn(1, channels, size, size).contiguous(memory_format=fmt)
    w = torch.randn(channels, channels, 3, 3).contiguous(memory_format=fmt)
    F.conv2d(x, w, padding=1)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        F.conv2d(x, w, padding=1)
        best = min(best, time.perf_counter() - t)
    return 2 * channels * channels * 9 * size * size / best / 1e9


def _base_recipe(G, seed=100):
    from ..core.families import indices_of_group
    from ..core.mixing import Recipe

    # Coarse from A, middle half-way, fine from B: the mix shares A's first activations, as a typical mix does.
    num_ws = G.num_ws
    w = [0.0] * num_ws
    for i in indices_of_group(G, "middle"):
        w[i] = 0.5
    for i in indices_of_group(G, "fine"):
        w[i] = 1.0
    return Recipe.for_model(num_ws, seed_a=seed, seed_b=seed + 1).with_weights(w)


def scenario_recipes(kind: str, base, index: int, n: int):
    """n recipes that each differ from the one before in one way: a new seed A, or a new value of w[index]."""
    from dataclasses import replace

    if kind == "seed":
        return [replace(base, seed_a=base.seed_a + 1000 + i) for i in range(n)]
    return [base.with_weight(index, 0.05 + 0.9 * (i + 1) / (n + 1)) for i in range(n)]


def time_frames(renderer, recipes, stats: bool, warmup) -> list:
    from ..core.render import RenderRequest

    renderer.render(RenderRequest(warmup, stats=stats))
    out = []
    for r in recipes:
        t = time.perf_counter()
        renderer.render(RenderRequest(r, stats=stats))
        out.append((time.perf_counter() - t) * 1000)
    return out


def run_threads(device):
    """The `threads` a bench renderer gets: torch's current count on the CPU, so that it renders as the app's
    renderer does with that count (the banded moments on their own measured count), None elsewhere."""
    import torch

    return torch.get_num_threads() if device.type == "cpu" else None


def pick_threads(G, device, fixed, log) -> dict:
    """The thread count the app would use for this model (the renderer's measurement), or the one asked for."""
    import torch

    from ..core.render import Renderer
    from ..core.threads import band_threads_for

    if fixed:
        torch.set_num_threads(fixed)
        band = band_threads_for(fixed) if device.type == "cpu" else None
        return {"threads": fixed, "band_threads": band, "reason": "--threads"}
    choice = Renderer(G, device).calibrate_threads() or {"threads": torch.get_num_threads()}
    log(f"  threads: {choice}")
    return choice


def bench_model(G, device, frames: int, label: str, log, fixed_threads=None, fill_most: int = 16) -> dict:
    """Frame times for the three scenarios, with and without statistics, cached and uncached.

    The cached renderer is timed in its steady state: its cache filled first (`_fill_cache`), as it is after the
    first few pictures in the app; the renders that fill it are reported as `scenario_cache_fill_ms`."""
    from ..core.families import indices_of_group
    from ..core.render import Renderer

    threads = pick_threads(G, device, fixed_threads, log)
    base = _base_recipe(G)
    # The first index of each group: the most work a change in that group causes. Models below 64 px have no
    # fine group; their last resolution stands in.
    fine = indices_of_group(G, "fine") or [G.num_ws - 2]
    index = {"seed": None, "coarse": indices_of_group(G, "coarse")[0], "fine": fine[0]}
    rows, fills = {}, {}
    for stats in (False, True):
        # Without caches every frame is the same work (three images from the constant), whatever changed:
        # one uncached sequence is the baseline of all three scenarios.
        unc = Renderer(G, device, cache=False, threads=run_threads(device))
        base_ms = time_frames(unc, scenario_recipes("seed", base, 0, frames), stats, base)
        del unc
        r = Renderer(G, device, threads=run_threads(device))
        fills["stats" if stats else "plain"] = _fill_cache(r, G, log, most=fill_most)
        for kind in SCENARIOS:
            ms = time_frames(r, scenario_recipes(kind, base, index[kind], frames), stats, base)
            row = {"index": index[kind], "stats": stats, "cached": _stats(ms), "uncached": _stats(base_ms)}
            row["speedup"] = round(row["uncached"]["median_ms"] / max(row["cached"]["median_ms"], 1e-6), 2)
            rows[f"{kind}{'+stats' if stats else ''}"] = row
            log(
                f"  {label} {kind:6s} stats={'on ' if stats else 'off'} cached {row['cached']['median_ms']:9.2f} ms"
                f"  uncached {row['uncached']['median_ms']:9.2f} ms  x{row['speedup']}"
            )
    # The statistics' budget: at most 25% over the same render without them (full, uncached frames).
    plain = rows["seed"]["uncached"]["median_ms"]
    withs = rows["seed+stats"]["uncached"]["median_ms"]
    overhead = {"full_render_pct": round(100 * (withs / plain - 1), 1)}
    for kind in SCENARIOS:
        a, b = rows[kind]["cached"]["median_ms"], rows[f"{kind}+stats"]["cached"]["median_ms"]
        overhead[f"{kind}_cached_pct"] = round(100 * (b / a - 1), 1)
    return {
        "scenarios": rows,
        "stats_overhead": overhead,
        "threads": threads,
        "scenario_cache_fill_ms": fills,
        "channels_last": Renderer(G, device, threads=run_threads(device)).channels_last,
    }


def _fill_cache(r, G, log, most: int = 16) -> list:
    """Render new seed pairs until the renderer's cache is full; returns their times (ms).

    While the cache grows, every activation it keeps is memory the process has never touched, and the kernel
    must supply it (figures: docs/performance.md#filling-the-cache). After that every put evicts an older entry
    and the memory is recycled. The per-index table times that steady state (what a user dragging a slider
    sees); the filling renders are reported beside it.
    """
    from ..core.mixing import Recipe

    out = []
    seed = 1000
    while r.cache.bytes + G.state_nbytes() <= r.cache.budget and len(out) < most:
        t = time.perf_counter()
        r.render(Recipe.for_model(G.num_ws, seed_a=seed, seed_b=seed + 1).with_weights([0.5] * G.num_ws))
        out.append(round((time.perf_counter() - t) * 1000, 1))
        seed += 2
    log(
        f"  cache filled ({r.cache.bytes / 2**20:.0f} of {r.cache.budget / 2**20:.0f} MB) in {len(out)} renders: "
        f"{out} ms"
    )
    return out


def _picture_from_scratch(r, ws, recipe) -> float:
    """ms for one image from the constant to a uint8 picture, nothing cached: the baseline of a cached render."""
    import torch

    from ..core.images import to_uint8

    t = time.perf_counter()
    img = r.synthesize(ws, recipe)
    to_uint8(img.float(), r.G.cfg.crop)
    if r.device.type == "cuda":
        torch.cuda.synchronize(r.device)
    return (time.perf_counter() - t) * 1000


def full_synthesis_by_threads(r, ws, recipe, counts, reps: int, rates: dict, total: float, log) -> dict:
    """A full synthesis of one image with each thread count in `counts` (exactly what a render does for an image
    with nothing cached), compared with the convolution and matmul rates this run measured with as many threads.

    {threads: {median_ms, p90_ms, n, cpu_ms, gflops, pct_of_conv3x3, pct_of_matmul, pct_of_conv3x3_beside}};
    cpu_ms is the process's CPU time per synthesis (all threads), which a machine shared with other work stretches
    less than wall time. On the CPU the best-case convolution is also timed right before each synthesis, with the
    same threads: a virtual machine's speed drifts by 10-30 % between the run's opening rates and the synthesis
    minutes later, and `pct_of_conv3x3_beside` (the median over the repetitions of each synthesis's rate against
    the convolution rate measured beside it) compares the two under the same conditions.
    """
    import torch

    device = r.device
    chosen = torch.get_num_threads()
    full_by = {}
    with torch.inference_mode():
        for n in counts:
            if device.type == "cpu":
                r.use_threads(n)
            ms, cpu, beside = [], [], []
            for i in range(reps + 1):
                conv_now = conv_gflops(3) if device.type == "cpu" and i else None
                t, c = time.perf_counter(), time.process_time()
                r.synthesize(ws, recipe)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                if i:  # the first run pays one-time costs (first touch of memory, kernel selection)
                    ms.append((time.perf_counter() - t) * 1000)
                    cpu.append((time.process_time() - c) * 1000)
                    if conv_now:
                        beside.append(100 * total / (ms[-1] / 1000) / 1e9 / conv_now)
            st = _stats(ms)
            g = total / (st["median_ms"] / 1000) / 1e9
            conv = rates["conv3x3"].get(n, max(rates["conv3x3"].values()))
            mm = rates["matmul"].get(n, max(rates["matmul"].values()))
            full_by[n] = {
                **st,
                "cpu_ms": round(sorted(cpu)[len(cpu) // 2], 1),
                "gflops": round(g, 1),
                "pct_of_conv3x3": round(100 * g / conv, 1),
                "pct_of_matmul": round(100 * g / mm, 1),
                "band_threads": r._band_threads or n,
            }
            if beside:
                full_by[n]["pct_of_conv3x3_beside"] = round(float(sorted(beside)[len(beside) // 2]), 1)
            log(
                f"  full synthesis with {n} thread{'s' if n > 1 else ''}: {st['median_ms']:.0f} ms = {g:.1f} GFLOP/s "
                f"of {total / 1e9:.1f} GFLOP ({full_by[n]['pct_of_conv3x3']:.0f}% of the best-case conv and "
                f"{full_by[n]['pct_of_matmul']:.0f}% of matmul with as many threads{_beside(full_by[n])})"
            )
    if device.type == "cpu":
        r.use_threads(chosen)
    return full_by


def _beside(f: dict) -> str:
    if "pct_of_conv3x3_beside" not in f:
        return ""
    return f"; {f['pct_of_conv3x3_beside']:.0f}% of the conv timed beside each synthesis"


def thread_counts(device, fixed_threads, chosen: int, rates: dict) -> list:
    """The thread counts a full synthesis is timed with: one, every core and the chosen count on the CPU."""
    if device.type != "cpu" or fixed_threads:
        return [chosen]
    return sorted({1, max(rates["conv3x3"]), chosen})


def per_index_speedups(r, G, ws, base, reps: int, log, fill_most: int = 16) -> dict:
    """Per w index: a cached renderer in its steady state (cache full), only w[k] of the mix changes each frame.

    Each round also makes one picture from scratch, so the baseline is timed under the same conditions. Returns
    {"per_index": {k: {median_ms, speedup}}, "picture_from_scratch_ms": stats, "cache_fill_ms": [...]}.
    """
    import torch

    from ..core.mixing import Recipe

    fill = _fill_cache(r, G, log, most=fill_most)
    per_ms = {k: [] for k in range(G.num_ws)}
    per_cpu = {k: [] for k in range(G.num_ws)}
    starts = {k: [] for k in range(G.num_ws)}
    scratch, scratch_cpu = [], []
    rec = Recipe.for_model(G.num_ws, seed_a=7, seed_b=8).with_weights([0.5] * G.num_ws)
    r.render(rec)
    with torch.inference_mode():
        for i in range(reps):
            c = time.process_time()
            scratch.append(_picture_from_scratch(r, ws, base))
            scratch_cpu.append((time.process_time() - c) * 1000)
            for k in range(G.num_ws):
                rec = rec.with_weight(k, 0.123 + 0.7 * (i + 1) / (reps + 1) + 0.001 * k)  # never 0.5
                t, c = time.perf_counter(), time.process_time()
                res = r.render(rec)
                per_ms[k].append((time.perf_counter() - t) * 1000)
                per_cpu[k].append((time.process_time() - c) * 1000)
                starts[k].append(res.info["start"]["mix"])  # k, unless the cache lost the state entering k
    base_ms = _stats(scratch)["median_ms"]
    base_cpu = _stats(scratch_cpu)["median_ms"]
    per_index = {}
    for k, ms in per_ms.items():
        m, mc = _stats(ms)["median_ms"], _stats(per_cpu[k])["median_ms"]
        per_index[k] = {
            "median_ms": m,
            "speedup": round(base_ms / max(m, 1e-6), 2),
            "cpu_ms": round(mc, 1),  # CPU time: steadier than wall time on a machine shared with other work
            "cpu_speedup": round(base_cpu / max(mc, 1e-6), 2),
        }
        if any(s != k for s in starts[k]):
            per_index[k]["started_at"] = starts[k]
    missed = {k: v["started_at"] for k, v in per_index.items() if "started_at" in v}
    if missed:
        log(f"  renders that did not resume where the change was (cache too small): {missed}")
    log(
        f"  per-index speed-up vs one picture from scratch ({base_ms:.0f} ms): "
        + ", ".join(f"{k}:{v['speedup']}x" for k, v in per_index.items())
    )
    return {
        "per_index": per_index,
        "picture_from_scratch_ms": _stats(scratch),
        "picture_from_scratch_cpu_ms": _stats(scratch_cpu),
        "cache_fill_ms": fill,
    }


def synthesis_tables(r, G, device, fixed_threads, chosen: int, rates: dict, reps: int, log, quick: bool) -> tuple:
    """What every big-model bench measures on its renderer `r`: (FLOPs by layer, total FLOPs per image, full
    synthesis by thread count, per-w-index speed-ups)."""
    flops = G.flops()
    total = sum(flops.values())
    base = _base_recipe(G)
    ws = r.ws(base)[2].to(r.dtype)
    counts = thread_counts(device, fixed_threads, chosen, rates)
    full_by = full_synthesis_by_threads(r, ws, base, counts, reps, rates, total, log)
    idx = per_index_speedups(r, G, ws, base, reps, log, fill_most=3 if quick else 16)
    return flops, total, full_by, idx


def bench_big(
    cfg, device, frames: int, index_reps: int, rates: dict, log, fixed_threads=None, quick: bool = False
) -> dict:
    """The official-shape model: full synthesis rate by thread count, per-w-index speed-ups, scenario frames.

    rates: {"matmul": {threads: GFLOP/s}, "conv3x3": {threads: GFLOP/s}} measured by this run.
    """
    from ..core.families.stylegan1.network import Generator, init_for_training
    from ..core.render import Renderer

    t = time.perf_counter()
    G = init_for_training(Generator(cfg), 0)
    log(f"  built a random {cfg.resolution} px generator in {time.perf_counter() - t:.1f} s")
    threads = pick_threads(G, device, fixed_threads, log)
    chosen = threads["threads"]
    r = Renderer(G, device, threads=run_threads(device))
    flops, total, full_by, idx = synthesis_tables(r, G, device, fixed_threads, chosen, rates, index_reps, log, quick)
    del r
    scen = bench_model(
        G, device, frames, f"{cfg.resolution}px", log, fixed_threads=chosen, fill_most=3 if quick else 16
    )
    scen["threads"] = threads  # what was chosen above (bench_model was told it)
    main = full_by[chosen]
    return {
        "config": cfg.to_dict(),
        "flops_per_image": total,
        "flops_per_layer": flops,
        "full_synthesis": {**main, "threads": chosen},
        "full_synthesis_by_threads": full_by,
        **idx,
        **scen,
    }


def launch_time(timeout: float = 60.0, model: str | None = None, runs: int = 1, warm: bool = False) -> dict:
    """Seconds from starting `stylemixer` (the real app, offscreen) to its first image shown.

    The app prints FIRST_IMAGE_LINE and quits when started with FIRST_IMAGE_OPTION. model: a file to open instead of the
    built-in model (for tests). runs: launches timed (the median is `seconds`). warm: one untimed launch first,
    so the timed ones start as an installed app usually does: its files in the OS cache and its bytecode compiled
    (the child may write .pyc files even when this process may not, as an installed package has them).
    Never waits longer than `timeout` per launch: the app is killed if it shows nothing.
    """
    times, cpu = [], []
    for i in range(int(warm) + max(1, runs)):
        res = _launch_once(timeout, model)
        if res.get("seconds") is None:
            return res
        if i >= int(warm):
            times.append(res["seconds"])
            cpu.append(res["cpu_seconds"])
    return {
        "seconds": sorted(times)[len(times) // 2],
        "runs": times,
        "warm": warm,
        "cpu_seconds": sorted(cpu)[len(cpu) // 2],
    }


def _launch_once(timeout: float, model) -> dict:
    import queue
    import threading

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = (
        [sys.executable, "-m", "stylemixer", FIRST_IMAGE_OPTION]
        if model is None
        else [sys.executable, "-m", "stylemixer.gui.app", str(model), FIRST_IMAGE_OPTION]
    )
    lines: queue.Queue = queue.Queue()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as home:
        env["XDG_CONFIG_HOME"] = home  # fresh settings: what a first start does
        t = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        reader = threading.Thread(target=lambda: [lines.put(x) for x in p.stdout] + [lines.put(None)], daemon=True)
        reader.start()
        seen, out = None, []
        try:
            while seen is None:
                left = t + timeout - time.perf_counter()
                if left <= 0:
                    break
                try:
                    line = lines.get(timeout=left)
                except queue.Empty:
                    break
                if line is None:
                    break
                out.append(line.rstrip())
                if FIRST_IMAGE_LINE in line:
                    seen = time.perf_counter() - t
        finally:
            try:
                p.wait(timeout=10 if seen is not None else 0.1)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    if seen is None:
        return {"seconds": None, "error": "no first image reported", "output": out[-5:]}
    # CPU time of the whole run (to its exit just after the picture): on a machine shared with other work, the
    # time to the picture stretches while the work stays about the same.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": round(seen, 3), "cpu_seconds": round(cpu, 3)}


# ------------------------------------------------------------------------------------------------ output
def machine() -> dict:
    import torch

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from ..core.perf import allocator_tunables_active, huge_pages_active

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_default_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "os": platform.platform(),
        "huge_pages": huge_pages_active(),
        "allocator_keeps_memory": allocator_tunables_active(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def peak_device_mb(device):
    """Peak memory allocated on a CUDA device since the last call (None on the CPU: see peak_rss_mb)."""
    import torch

    if device.type != "cuda":
        return None
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    torch.cuda.reset_peak_memory_stats(device)
    return round(peak, 1)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def format_table(res: dict) -> str:
    lines = []
    m = res["machine"]
    lines.append(
        f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, huge pages {m['huge_pages']}, "
        f"allocator keeps freed memory {m.get('allocator_keeps_memory')}, "
        f"device {res['device']}"
    )
    for key, what in (
        ("matmul_by_threads", "fp32 matmul (torch.mm)"),
        ("conv3x3_by_threads", "fp32 3x3 conv 512->512 on 32x32 (oneDNN)"),
    ):
        lines.append(
            f"{what}: "
            + ", ".join(f"{v:.0f} GFLOP/s with {k} thread{'s' if int(k) > 1 else ''}" for k, v in res[key].items())
        )
    if res.get("builtin") or res.get("big"):
        lines.append("")
        lines.append(
            f"{'model':<22} {'frame':<14} {'cached med':>10} {'p90':>8} {'no cache':>10} {'p90':>8} {'ratio':>7}"
        )
    for key in ("builtin", "big"):
        sec = res.get(key)
        if not sec:
            continue
        name = sec["label"]
        for scen, row in sec["scenarios"].items():
            c, u = row["cached"], row["uncached"]
            lines.append(
                f"{name:<22} {scen:<14} {c['median_ms']:>10.2f} {c['p90_ms']:>8.2f} {u['median_ms']:>10.2f}"
                f" {u['p90_ms']:>8.2f} {row['speedup']:>6.1f}x"
            )
        o = sec["stats_overhead"]
        lines.append(
            f"{name:<22} statistics overhead: full render {o['full_render_pct']:+.0f}%, cached "
            + ", ".join(f"{k} {o[f'{k}_cached_pct']:+.0f}%" for k in SCENARIOS)
        )
        lines.append(
            f"{name:<22} peak memory (process RSS so far): {sec['peak_rss_mb']:.0f} MB; render threads "
            f"{sec['threads']['threads']}; channels_last {sec['channels_last']}"
        )
    big = res.get("big")
    if big:
        lines.append("")
        res_px = big["config"]["resolution"]
        for n, f in big.get(
            "full_synthesis_by_threads", {big["full_synthesis"].get("threads", 1): big["full_synthesis"]}
        ).items():
            lines.append(
                f"full {res_px} px synthesis, {n} thread{'s' if int(n) > 1 else ''}: {f['median_ms']:.0f} ms "
                f"(p90 {f['p90_ms']:.0f}), {big['flops_per_image'] / 1e9:.1f} GFLOP -> {f['gflops']:.1f} "
                f"GFLOP/s = {f['pct_of_conv3x3']:.0f}% of the best-case conv, {f['pct_of_matmul']:.0f}% of "
                f"matmul with as many threads{_beside(f)}"
            )
        if big.get("cache_fill_ms") is not None:
            lines.append(
                f"filling the cache (again after each model load): {len(big['cache_fill_ms'])} renders, "
                f"{big['cache_fill_ms']} ms"
            )
        scratch = big.get("picture_from_scratch_ms", {}).get("median_ms")
        lines.append(
            f"changing only w index k, cache full, {big['threads']['threads']} render thread(s); "
            f"baseline: one picture from scratch" + (f" ({scratch:.0f} ms)" if scratch else "") + ":"
        )
        ks = list(big["per_index"])
        lines.append("  w   " + "".join(f"{k:>7}" for k in ks))
        lines.append("  ms  " + "".join(f"{big['per_index'][k]['median_ms']:>7.0f}" for k in ks))
        lines.append("  x   " + "".join(f"{big['per_index'][k]['speedup']:>7.2f}" for k in ks))
    from .families import FAMILIES, format_family

    for key in FAMILIES:
        if res.get(key):
            lines.extend(format_family(key, res[key]))
    if "launch" in res:
        la = res["launch"]
        s = la.get("seconds")
        lines.append("")
        if s is None:
            lines.append(f"start to first image shown: not measured ({la.get('error')})")
        else:
            runs = la.get("runs", [s])
            lines.append(
                f"start to first image shown: {s:.2f} s (median of {len(runs)}: {runs}"
                + (", after an untimed warm-up launch" if la.get("warm") else "")
                + (f"; CPU time {la['cpu_seconds']:.2f} s" if la.get("cpu_seconds") is not None else "")
                + ")"
            )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ command
def run(args, log=print) -> dict:
    import torch

    threads = torch.get_num_threads()
    try:
        return _run(args, log)
    finally:
        torch.set_num_threads(threads)  # --threads is for this run only (the bench also runs inside tests)


def _run(args, log) -> dict:
    import torch

    from ..core.devices import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    quick = args.quick
    frames = args.frames or (3 if quick else 15)
    reps = args.reps or (1 if quick else 3)
    res = {"quick": quick, "device": str(device), "machine": machine()}
    t0 = time.perf_counter()
    # The practical fp32 limit: matrix products with one thread and with every core; the larger is the reference.
    before = torch.get_num_threads()
    mm, conv = {}, {}
    for n in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(n)
        mm[n] = round(matmul_gflops(512 if quick else 2048, 3 if quick else 8), 1)
        conv[n] = round(conv_gflops(3 if quick else 8), 1)
    torch.set_num_threads(before)
    res["matmul_by_threads"] = mm
    res["matmul_gflops"] = max(mm.values())
    res["conv3x3_by_threads"] = conv
    res["conv3x3_gflops"] = max(conv.values())
    log(f"fp32 matmul: {mm} GFLOP/s by threads; best-case 3x3 conv: {conv}")
    families = parse_families(getattr(args, "family", None) or "stylegan")
    res["families"] = list(families)
    if "stylegan" in families:
        _run_stylegan(args, res, device, frames, reps, {"matmul": mm, "conv3x3": conv}, log)
    _run_families(args, res, families, device, reps, {"matmul": mm, "conv3x3": conv}, log)
    res["bench_seconds"] = round(time.perf_counter() - t0, 1)
    return res


FAMILY_CHOICES = ("stylegan", "stylegan2", "stylegan3-t", "stylegan3-r", "all")


def parse_families(text: str) -> tuple:
    """'stylegan2,stylegan3-t' -> the sections in run order; 'all' is every one. ValueError for an unknown name."""
    from .families import FAMILIES

    every = ("stylegan",) + FAMILIES
    names = [t.strip().lower() for t in str(text).split(",") if t.strip()]
    bad = [n for n in names if n not in FAMILY_CHOICES]
    if bad or not names:
        raise ValueError(f"unknown --family {', '.join(bad) or repr(text)}; choose from {', '.join(FAMILY_CHOICES)}")
    chosen = every if "all" in names else names
    return tuple(n for n in every if n in chosen)


def _run_families(args, res, families, device, reps, rates, log):
    """The StyleGAN2 and StyleGAN3 sections (families.py): official 1024 px shapes, or --big-resolution."""
    from .families import bench_stylegan2, bench_stylegan3

    size = args.big_resolution or (64 if args.quick else 1024)
    for name in families:
        if name == "stylegan2":
            log(f"StyleGAN2 config F at {size} px{', narrow' if args.quick else ''} (random weights)")
            sec = bench_stylegan2(size, device, reps, rates, log, fixed_threads=args.threads, quick=args.quick)
        elif name.startswith("stylegan3-"):
            variant = name[-1].upper()
            log(f"StyleGAN3-{variant} at {size} px{', narrow' if args.quick else ''} (random weights)")
            sec = bench_stylegan3(variant, size, device, log, fixed_threads=args.threads, quick=args.quick)
        else:
            continue
        sec["peak_rss_mb"] = round(peak_rss_mb(), 1)
        sec["peak_device_mb"] = peak_device_mb(device)
        res[name] = sec


def _run_stylegan(args, res, device, frames, reps, rates, log):
    """The StyleGAN (v1) sections: the built-in model, the official 1024 px shape, the app's start."""
    from ..core.checkpoints import load_any
    from ..core.errors import ModelFileError
    from ..core.families.stylegan1.network import Generator, GeneratorConfig, default_channels, init_for_training

    quick = args.quick
    try:
        loaded = load_any(args.model, device)
        G, label = loaded.G, ("built-in model" if loaded.source == "builtin" else loaded.name)
    except ModelFileError as e:
        if args.model != "builtin":
            raise
        # Same shape as the shipped model; speed does not depend on the weights.
        from ..training.loop import TrainConfig

        G = init_for_training(Generator(TrainConfig().generator_config()), 0).to(device)
        label = "untrained built-in shape"
        log(f"({e}; timing an untrained model of the built-in shape)")
    log(f"{label}: {G.cfg.resolution} px, {G.num_ws} w indices")
    res["builtin"] = {
        "label": label,
        "config": G.cfg.to_dict(),
        **bench_model(G, device, frames, label, log, fixed_threads=args.threads, fill_most=3 if quick else 16),
    }
    res["builtin"]["peak_rss_mb"] = round(peak_rss_mb(), 1)
    res["builtin"]["peak_device_mb"] = peak_device_mb(device)
    del G

    if not args.no_big:
        size = args.big_resolution or (64 if quick else 1024)
        channels = default_channels(size)
        if quick:  # the official widths (512 at 64 px) take minutes here; a smoke test needs the code paths only
            channels = tuple(min(c, 64) for c in channels)
        cfg = GeneratorConfig(resolution=size, channels=channels)
        log(
            f"official StyleGAN layout at {size} px{', narrow' if quick else ''} (random weights), "
            f"{cfg.num_ws} w indices"
        )
        big = bench_big(
            cfg,
            device,
            max(2, frames // 5) if not quick else frames,
            reps,
            rates,
            log,
            fixed_threads=args.threads,
            quick=quick,
        )
        big["label"] = f"official {size}px" + (" narrow" if quick else "")
        big["peak_rss_mb"] = round(peak_rss_mb(), 1)
        big["peak_device_mb"] = peak_device_mb(device)
        res["big"] = big

    if not args.no_launch:
        # Full run: an untimed launch first (bytecode, OS file cache), then the median of three.
        res["launch"] = launch_time(runs=1 if quick else 3, warm=not quick)
        log(f"start to first image: {res['launch']}")


def cmd_bench(args) -> int:
    from ..core.errors import StyleMixerError

    try:
        parse_families(args.family)
    except ValueError as e:
        raise StyleMixerError(str(e)) from None
    if args.json:
        from ..core.export import check_output_path

        check_output_path(args.json)  # now, not after minutes of timing
    res = run(args, log=(lambda *a: None) if args.silent else (lambda *a: print(*a, file=sys.stderr, flush=True)))
    print(format_table(res))
    if args.json:
        from ..core.atomic import atomic_write_bytes

        atomic_write_bytes(args.json, json.dumps(res, indent=1, default=str).encode())
        print(f"\nwrote {args.json}")
    return 0
