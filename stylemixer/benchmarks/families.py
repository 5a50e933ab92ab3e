"""`stylemixer bench --family stylegan2|stylegan3-t|stylegan3-r`: the StyleGAN2 and StyleGAN3 sections.

Each builds a random-weight generator of the published 1024 px shape in memory (speed does not depend on the
values) and times it through the public Renderer and Session API only, as the app renders:

- **StyleGAN2** (config F: 512 channels to 64 px, then 256/128/64/32; 18 w indices): a full synthesis against
  the run's own matmul and best-case 3x3 convolution rates, the speed-up of a render resuming at each w index,
  and the progressive preview of a slider drag: a `Session` driven as the window drives it (`begin_gesture`,
  `set_weight` per mouse move, `end_gesture`), so the preview size is the one its policy picks from the frame
  time (`core/session.py`, PREVIEW_MIN_MS / PREVIEW_TARGET_MS), measured in pictures per second.
- **StyleGAN3-T / -R** (NVIDIA's `stylegan3-t` / `stylegan3-r` configs, 16 w indices): a full frame, the time
  of a render resuming at w 12-15 (and 0: the full frame through the renderer), and the filtered leaky ReLU's
  share of the frame (each layer's filtered lrelu timed by a wrapper, without the convolution its strips pull
  through it). These frames take 15-45 s each on a 2-core CPU, so each is timed once.

Every section records the load average before and after and the process's CPU time next to the wall time:
on a machine shared with other work the wall time stretches while the CPU time stays about the same.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .bench import _beside, _stats, pick_threads, run_threads, synthesis_tables

FAMILIES = ("stylegan2", "stylegan3-t", "stylegan3-r")

# NVIDIA's own CPU path for StyleGAN2 (stylegan2-ada-pytorch with force_fp32, reference upfirdn2d and bias_act),
# measured on this project's 2-core development VM on the same random 1024 px config-F weights, one thread, in
# earlier sessions (docs/stylegan2.md; load average 4.5-9). Quoted, not re-run: NVIDIA's code is not available
# to the tests or the shipped bench. The bench compares its own full synthesis with the fastest of them.
NVIDIA_SG2_CPU_MS = ({"ms": 11443, "load": "~4.5"}, {"ms": 16467, "load": "~8"}, {"ms": 12286, "load": "~9"})
PREVIEW_TARGET_PER_S = 20.0  # the performance issue's target for the progressive preview while dragging
SG3_RESUME_INDICES = (0, 12, 13, 14, 15)


def load_avg() -> list | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def run_start() -> tuple:
    """What run_record measures from: the load average, wall and CPU clocks now."""
    return load_avg(), time.perf_counter(), time.process_time()


def run_record(start: tuple) -> dict:
    """The load average before and after a family's run, and the wall and CPU seconds it took."""
    load0, t0, c0 = start
    return {
        "load_avg_before": load0,
        "load_avg_after": load_avg(),
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(time.process_time() - c0, 1),
    }


@dataclass(frozen=True)
class BenchModel:
    """What a Session reads of a loaded model (the window's ModelInfo carries the same fields)."""

    source: str
    cfg: object
    layers: tuple
    preview_costs: tuple = ()

    @property
    def num_ws(self) -> int:
        return len(self.layers)


# ------------------------------------------------------------------------------------------------ StyleGAN2
def stylegan2_generator(resolution: int, narrow: bool = False, seed: int = 0):
    """A config-F StyleGAN2 of the given size with random weights (the constructor's own initialisation, as
    NVIDIA's); narrow: at most 64 channels (the quick smoke test)."""
    import torch

    from ..core.families.stylegan2.network import Generator, StyleGAN2Config, channels_for

    channels = channels_for(resolution)
    if narrow:
        channels = tuple(min(c, 64) for c in channels)
    with torch.random.fork_rng(devices=[]):  # the weights from `seed`, the process's random state untouched
        torch.manual_seed(seed)
        G = Generator(StyleGAN2Config(resolution=resolution, channels=channels))
    return G.eval().requires_grad_(False)


def drag_every_index(r, G, moves: int, log, always_preview: bool = False) -> dict:
    """Previews per second on new slider positions for every w index, one renderer (its cache full, as in the
    app after a few pictures): per index a gesture of `moves` new positions, then the release's full frame.
    A preview's cost is set by the dragged index, not the preview size asked for: an index that finishes a
    picture (a ToRGB) is shown from its cached state; one that drives a convolution needs that convolution at
    its own resolution before any picture shows it. always_preview: previews even where full frames are fast
    enough not to want them (the quick smoke test's small model)."""
    from ..core.session import InlineExecutor, Session

    s = Session(InlineExecutor(r))
    if always_preview:
        s.preview_min_ms = 0.0
    s.set_model(BenchModel("bench", G.cfg, tuple(G.layer_table()), r.preview_costs()))
    out = {}
    for k in range(G.num_ws):
        s.set_weight(k, 0.5)  # a full frame resuming at k: the policy's frame time, the cache's states up to k
        s.begin_gesture()
        ms, px, whole = [], set(), 0
        t = time.perf_counter()
        c = time.process_time()
        for i in range(moves):
            s.set_weight(k, round(0.55 + 0.4 * i / max(1, moves - 1), 3))
            last = s.last_result
            ms.append(last.ms)
            px.add(last.info.get("preview"))
            whole += "mix" in last.info.get("whole", ())
        seconds, cpu = time.perf_counter() - t, time.process_time() - c
        s.end_gesture()
        out[k] = {
            "pictures_per_s": round(moves / seconds, 1),
            "median_ms": round(sorted(ms)[len(ms) // 2], 1),
            "cpu_ms_per_picture": round(1000 * cpu / moves, 1),
            "preview_px": sorted(p for p in px if p is not None) or None,
            "whole_images": whole,
        }
    log(
        "  drag per w index, new positions, pictures/s: "
        + ", ".join(f"w{k} {v['pictures_per_s']}" for k, v in out.items())
    )
    return out


def preview_drag(r, G, index: int, moves: int, log) -> dict:
    """A slider drag on w index `index` as the window makes it: a Session with an inline executor, one
    `set_weight` per mouse move, the preview size chosen by the session's policy from its estimate of the time of
    one image from scratch (the renderer may show a larger preview when the dragged index needs it).

    Two sweeps over the same slider positions (0.001 steps, as the slider has): out to the right, then back,
    as a hand drags; the way back revisits positions. Pictures per second = moves / seconds of the sweep, each
    move rendered before the next (the window renders the newest state as soon as the previous one is shown,
    so this is the rate a drag gets when the renderer is the bottleneck).
    """
    from ..core.session import PREVIEW_MIN_MS, PREVIEW_TARGET_MS, InlineExecutor, Session

    s = Session(InlineExecutor(r))
    s.set_model(BenchModel("bench", G.cfg, tuple(G.layer_table()), r.preview_costs()))  # the first full frame
    first_ms = s.last_result.ms
    # One full frame of the kind a drag's release makes (one image from w `index` on), so the policy sees a
    # typical frame time rather than the first picture's three images.
    s.set_weight(index, 0.5)
    positions = [round(0.1 + 0.8 * i / max(1, moves - 1), 3) for i in range(moves)]
    sweeps = {}
    s.begin_gesture()
    for name, values in (("out", positions), ("back", positions[::-1])):
        ms, cpu, res_used, past = [], [], [], 0
        t = time.perf_counter()
        for v in values:
            c = time.process_time()
            s.set_weight(index, v)
            cpu.append((time.process_time() - c) * 1000)
            last = s.last_result
            ms.append(last.ms)
            px = last.info.get("preview")
            res_used.append(px)
            # A preview request whose mix was computed to the end (its change lies past the preview's layers).
            if px is not None and "mix" in last.info.get("whole", ()):
                past += 1
        seconds = time.perf_counter() - t
        sweeps[name] = {
            "pictures_per_s": round(len(values) / seconds, 1),
            "seconds": round(seconds, 3),
            "render_ms": _stats(ms),
            "cpu_ms_median": round(sorted(cpu)[len(cpu) // 2], 1),  # CPU time per move (the render and the session)
            "max_ms": round(max(ms), 1),
            "preview_px": sorted({p for p in res_used if p is not None}),
            "full_frames": sum(p is None for p in res_used),
            "computed_past_the_preview": past,
        }
    full_ms_seen = s.full_ms
    picked = s.preview_resolution()
    s.end_gesture()  # the input rests: the full frame follows
    after = s.last_result.ms
    both = 2 * len(positions) / sum(v["seconds"] for v in sweeps.values())
    out = {
        "index": index,
        "moves_per_sweep": moves,
        "policy": {"preview_min_ms": PREVIEW_MIN_MS, "preview_target_ms": PREVIEW_TARGET_MS},
        "full_frame_ms_seen_by_policy": round(full_ms_seen, 1) if full_ms_seen else None,
        "first_picture_ms": round(first_ms, 1),
        "preview_px_picked": picked,
        "estimated_preview_ms": {
            res: round(share * full_ms_seen, 1) for res, share in r.preview_costs() if full_ms_seen is not None
        },
        "sweeps": sweeps,
        "pictures_per_s": round(both, 1),
        "release_frame_ms": round(after, 1),
    }
    log(
        f"  drag w {index}: preview {picked} px picked (full frame {out['full_frame_ms_seen_by_policy']} ms), "
        + ", ".join(
            f"{k} {v['pictures_per_s']}/s (median {v['render_ms']['median_ms']:.0f} ms, {v['full_frames']} full)"
            for k, v in sweeps.items()
        )
    )
    return out


def bench_stylegan2(size: int, device, reps: int, rates: dict, log, fixed_threads=None, quick=False) -> dict:
    from ..core.families import indices_of_group
    from ..core.render import Renderer, auto_cache_mb

    start = run_start()
    t = time.perf_counter()
    G = stylegan2_generator(size, narrow=quick)
    log(f"  built a random {size} px config-F StyleGAN2 in {time.perf_counter() - t:.1f} s")
    threads = pick_threads(G, device, fixed_threads, log)
    chosen = threads["threads"]
    # The per-index table times what resuming costs, so its renderer holds three images' states (A, B and the
    # mix), as the app's default budget does (auto_cache_mb; on a machine with under 6 GB of RAM it is smaller).
    cache_mb = max(auto_cache_mb(G), 3 * G.state_nbytes() / 2**20 + 64)
    r = Renderer(G, device, threads=run_threads(device), cache_mb=cache_mb)
    flops, total, full_by, idx = synthesis_tables(r, G, device, fixed_threads, chosen, rates, reps, log, quick)
    idx["per_index_cache_mb"] = round(cache_mb)
    del r
    # The drag: a fresh renderer as a model load makes one (its cache fills during the first frames).
    moves = 6 if quick else 12
    drags = {}
    for group in ("coarse", "middle", "fine"):
        k = (indices_of_group(G, group) or [G.num_ws - 1])[0]
        drags[group] = preview_drag(Renderer(G, device, threads=run_threads(device)), G, k, moves, log)
    every = drag_every_index(
        Renderer(G, device, threads=run_threads(device)), G, 3 if quick else 5, log, always_preview=quick
    )
    main = full_by[chosen]
    best_nvidia = min(x["ms"] for x in NVIDIA_SG2_CPU_MS)
    # The target is read on new slider positions (the outward sweep): coming back is served from the cache.
    slowest_drag = min(d["sweeps"]["out"]["pictures_per_s"] for d in drags.values())
    by_group = {g: d["sweeps"]["out"]["pictures_per_s"] >= PREVIEW_TARGET_PER_S for g, d in drags.items()}
    official = size == 1024 and not quick
    targets = {
        "previews_per_s": {
            "target": PREVIEW_TARGET_PER_S,
            "slowest_drag_new_positions": slowest_drag,
            "met": slowest_drag >= PREVIEW_TARGET_PER_S,
            "met_by_group": by_group,
        },
        "nvidia_reference_cpu": {
            "quoted_ms": list(NVIDIA_SG2_CPU_MS),
            "source": "docs/stylegan2.md (NVIDIA's code, same weights and one thread; not re-run)",
            # Only the 1024 px config-F shape is what NVIDIA's figures were measured on.
            "full_synthesis_1_thread_ms": full_by.get(1, {}).get("median_ms") if official else None,
            "met": (full_by[1]["median_ms"] <= best_nvidia) if official and 1 in full_by else None,
        },
    }
    return {
        "label": f"StyleGAN2 config F {size}px" + (" narrow" if quick else ""),
        "config": G.cfg.to_dict(),
        "flops_per_image": total,
        "flops_per_layer": flops,
        "state_mb_per_image": round(G.state_nbytes() / 2**20, 1),
        "default_cache_mb": round(auto_cache_mb(G)),
        "threads": threads,
        "full_synthesis": {**main, "threads": chosen},
        "full_synthesis_by_threads": full_by,
        **idx,
        "preview_drag": drags,
        "drag_every_index": every,
        "targets": targets,
        **run_record(start),
    }


# ------------------------------------------------------------------------------------------------ StyleGAN3
def stylegan3_generator(variant: str, resolution: int, narrow: bool = False, seed: int = 0):
    """NVIDIA's stylegan3-t / stylegan3-r configuration at `resolution` with random weights and designed filters
    (the family's own `design` module); narrow: at most 32 channels (the quick smoke test)."""
    from ..core.families.stylegan3.design import design_config, random_generator

    kw = {"channel_base": 2048, "channel_max": 32} if narrow else {}
    return random_generator(design_config(variant, resolution, **kw), seed=seed)


class _TimedFLReLU:
    """Stands in for one layer's filtered lrelu and adds its wall and CPU time to `totals`, less the
    convolution rows the strip path computes inside it (those are timed and subtracted)."""

    def __init__(self, inner, totals: dict):
        self.inner, self.totals = inner, totals

    def __getattr__(self, name):  # geometry and anything else the layer reads
        return getattr(self.inner, name)

    def _add(self, key, wall, cpu):
        self.totals[key][0] += wall
        self.totals[key][1] += cpu

    def rows(self, source, *a, **kw):
        def timed_source(r0, r1):
            w, c = time.perf_counter(), time.process_time()
            out = source(r0, r1)
            self._add("conv", time.perf_counter() - w, time.process_time() - c)
            return out

        w, c = time.perf_counter(), time.process_time()
        out = self.inner.rows(timed_source, *a, **kw)
        self._add("flrelu", time.perf_counter() - w, time.process_time() - c)
        return out

    def __call__(self, *a, **kw):
        w, c = time.perf_counter(), time.process_time()
        out = self.inner(*a, **kw)
        self._add("flrelu", time.perf_counter() - w, time.process_time() - c)
        return out


class FilteredLReLUTimer:
    """`with FilteredLReLUTimer(G):` times every layer's filtered leaky ReLU (the layer's `flrelu`, reached
    through the synthesis network's public `layer(i)`); `.seconds()` gives (wall, cpu) spent in it, without
    the convolutions its strips pull through it. The layers get their own objects back on exit."""

    def __init__(self, G):
        self.layers = [G.synthesis.layer(i) for i in range(len(G.cfg.layers))]
        self.totals = {"flrelu": [0.0, 0.0], "conv": [0.0, 0.0]}
        self._saved = []

    def __enter__(self):
        self._saved = [l.flrelu for l in self.layers]
        for l in self.layers:
            l.flrelu = _TimedFLReLU(l.flrelu, self.totals)
        return self

    def __exit__(self, *_exc):
        for l, f in zip(self.layers, self._saved):
            l.flrelu = f

    def seconds(self) -> tuple:
        (fw, fc), (cw, cc) = self.totals["flrelu"], self.totals["conv"]
        return fw - cw, fc - cc


def bench_stylegan3(variant: str, size: int, device, log, fixed_threads=None, quick=False) -> dict:
    """Full frame, resume speed-ups at SG3_RESUME_INDICES and the filtered lrelu's share, each render once.

    A and B are the same seed and the mix starts as all-A, so after the first render (which computes A and B:
    two frames, reported as `cache_fill_ms`) a render that changes only w[k] of the mix resumes from A's state
    entering k and A and B come from the cache. The renderer's cache is sized for two images' states (the
    app's default of at most 1 GB holds less than one 1024 px StyleGAN3 image's: 1.2 GB for T, 2.4 GB for R).
    The indices are rendered from the last to w 0, the full frame, which is also the one timed for the
    filtered lrelu's share.
    """
    import torch

    from ..core.mixing import Recipe
    from ..core.render import Renderer

    start = run_start()
    threads = fixed_threads or 1
    if device.type == "cpu":
        torch.set_num_threads(threads)
    t = time.perf_counter()
    G = stylegan3_generator(variant, size, narrow=quick)
    log(f"  built a random {size} px StyleGAN3-{variant} in {time.perf_counter() - t:.1f} s")
    flops = G.flops()
    total = sum(flops.values())
    cache_mb = max(64.0, 2 * G.state_nbytes() / 2**20 + 64)
    r = Renderer(G, device, cache_mb=cache_mb, threads=run_threads(device))
    base = Recipe.for_model(G.num_ws, seed_a=5, seed_b=5)
    t, c = time.perf_counter(), time.process_time()
    r.render(base)
    fill = {"ms": round((time.perf_counter() - t) * 1000, 1), "cpu_ms": round((time.process_time() - c) * 1000, 1)}
    log(f"  first render (A and B: two frames): {fill['ms'] / 1000:.1f} s")
    resume = {}
    timer = FilteredLReLUTimer(G)
    for k in sorted(SG3_RESUME_INDICES, reverse=True):
        rec = base.with_weight(k, 0.5)
        t, c = time.perf_counter(), time.process_time()
        if k == 0:
            with timer:
                res = r.render(rec)
        else:
            res = r.render(rec)
        resume[k] = {
            "ms": round((time.perf_counter() - t) * 1000, 1),
            "cpu_ms": round((time.process_time() - c) * 1000, 1),
            "start": res.info["start"]["mix"],  # the w index the render really resumed at
        }
        log(f"  render resuming at w {k}: {resume[k]['ms'] / 1000:.2f} s (started at {resume[k]['start']})")
    full = resume[0]
    for v in resume.values():
        v["speedup"] = round(full["ms"] / max(v["ms"], 1e-6), 2)
        v["cpu_speedup"] = round(full["cpu_ms"] / max(v["cpu_ms"], 1e-6), 2)
    fl_wall, fl_cpu = timer.seconds()
    share = {
        "ms": round(fl_wall * 1000, 1),
        "cpu_ms": round(fl_cpu * 1000, 1),
        "share": round(fl_wall * 1000 / full["ms"], 3),
        "cpu_share": round(fl_cpu * 1000 / full["cpu_ms"], 3) if full["cpu_ms"] else None,
    }
    log(
        f"  full frame {full['ms'] / 1000:.1f} s (CPU {full['cpu_ms'] / 1000:.1f} s), filtered lrelu "
        f"{100 * share['share']:.0f}% of it (CPU {100 * (share['cpu_share'] or 0):.0f}%)"
    )
    return {
        "label": f"StyleGAN3-{variant} {size}px" + (" narrow" if quick else ""),
        "variant": variant,
        "config": {"resolution": size, "layers": [l.name for l in G.cfg.layers], "channels": list(G.cfg.channels)},
        "flops_per_image": total,
        "state_mb_per_image": round(G.state_nbytes() / 2**20, 1),
        "cache_mb": round(cache_mb),
        "threads": {"threads": threads, "reason": "--threads" if fixed_threads else "one thread (default)"},
        "full_frame": {**full, "gflops": round(total / (full["ms"] / 1000) / 1e9, 1)},
        "cache_fill_ms": fill,
        "resume": resume,
        "filtered_lrelu": share,
        **run_record(start),
    }


# ------------------------------------------------------------------------------------------------ output
def format_family(key: str, sec: dict) -> list:
    lines = [
        "",
        f"{sec['label']} (random weights, {sec['flops_per_image'] / 1e9:.1f} GFLOP per image; load average "
        f"{sec['load_avg_before']} -> {sec['load_avg_after']}; {sec['seconds']:.0f} s wall, "
        f"{sec['cpu_seconds']:.0f} s CPU)",
    ]
    if key == "stylegan2":
        for n, f in sec["full_synthesis_by_threads"].items():
            lines.append(
                f"  full synthesis, {n} thread{'s' if int(n) > 1 else ''}: {f['median_ms']:.0f} ms (p90 "
                f"{f['p90_ms']:.0f}, CPU {f['cpu_ms']:.0f}) = {f['gflops']:.1f} GFLOP/s = {f['pct_of_conv3x3']:.0f}% "
                f"of the best-case conv, {f['pct_of_matmul']:.0f}% of matmul with as many threads{_beside(f)}"
            )
        nv = sec["targets"]["nvidia_reference_cpu"]
        quoted = ", ".join(f"{q['ms']} ms (load {q['load']})" for q in nv["quoted_ms"])
        verdict = "not comparable (not the 1024 px shape)" if nv["met"] is None else ("met" if nv["met"] else "NOT met")
        lines.append(f"  NVIDIA's reference CPU path, 1 thread, quoted from docs/stylegan2.md: {quoted}: {verdict}")
        scratch = sec["picture_from_scratch_ms"]["median_ms"]
        lines.append(
            f"  changing only w index k, cache full ({sec['per_index_cache_mb']} MB); baseline one picture from "
            f"scratch ({scratch:.0f} ms):"
        )
        ks = list(sec["per_index"])
        lines.append("    w   " + "".join(f"{k:>7}" for k in ks))
        lines.append("    ms  " + "".join(f"{sec['per_index'][k]['median_ms']:>7.0f}" for k in ks))
        lines.append("    x   " + "".join(f"{sec['per_index'][k]['speedup']:>7.2f}" for k in ks))
        if "cpu_ms" in sec["per_index"][ks[0]]:
            lines.append("    CPU " + "".join(f"{sec['per_index'][k]['cpu_ms']:>7.0f}" for k in ks))
            lines.append("    x   " + "".join(f"{sec['per_index'][k]['cpu_speedup']:>7.2f}" for k in ks))
        for group, d in sec["preview_drag"].items():
            sw = d["sweeps"]
            lines.append(
                f"  drag w {d['index']} ({group}): {d['pictures_per_s']} pictures/s, preview {d['preview_px_picked']} "
                f"px (policy saw a {d['full_frame_ms_seen_by_policy']} ms frame); out {sw['out']['pictures_per_s']}/s "
                f"(median {sw['out']['render_ms']['median_ms']:.0f} ms, CPU {sw['out']['cpu_ms_median']:.0f} ms), back "
                f"{sw['back']['pictures_per_s']}/s (median {sw['back']['render_ms']['median_ms']:.0f} ms, CPU "
                f"{sw['back']['cpu_ms_median']:.0f} ms, max {sw['back']['max_ms']:.0f} ms)"
            )
        every = sec.get("drag_every_index", {})
        if every:
            ks = list(every)
            lines.append("  drag per w index, new positions (preview px; 'img' = whole image):")
            lines.append("    w    " + "".join(f"{k:>7}" for k in ks))
            lines.append("    /s   " + "".join(f"{every[k]['pictures_per_s']:>7.1f}" for k in ks))
            lines.append("    CPU  " + "".join(f"{every[k]['cpu_ms_per_picture']:>7.0f}" for k in ks))
            lines.append(
                "    px   "
                + "".join(
                    f"{'img' if every[k]['whole_images'] else (every[k]['preview_px'] or ['img'])[-1]!s:>7}" for k in ks
                )
            )
        t = sec["targets"]["previews_per_s"]
        lines.append(
            f"  target >= {t['target']:.0f} previews/s on new positions: "
            + ", ".join(f"{g} {'met' if ok else 'NOT met'}" for g, ok in t["met_by_group"].items())
        )
    else:
        f = sec["full_frame"]
        fl = sec["filtered_lrelu"]
        lines.append(
            f"  full frame (a render from w 0), {sec['threads']['threads']} thread(s): {f['ms'] / 1000:.2f} s, CPU "
            f"{f['cpu_ms'] / 1000:.2f} s = {f['gflops']:.1f} GFLOP/s; filtered lrelu {fl['ms'] / 1000:.2f} s = "
            f"{100 * fl['share']:.0f}% (CPU {100 * (fl['cpu_share'] or 0):.0f}%)"
        )
        lines.append(
            f"  first render (A and B computed, cache filling): {sec['cache_fill_ms']['ms'] / 1000:.1f} s; "
            f"cache {sec['cache_mb']} MB for {sec['state_mb_per_image']:.0f} MB of states per image"
        )
        lines.append(
            "  resuming at w k: "
            + ", ".join(
                f"w {k}: {v['ms'] / 1000:.2f} s x{v['speedup']}" + ("" if v["start"] == k else f" (from {v['start']})")
                for k, v in sorted(sec["resume"].items(), key=lambda kv: int(kv[0]))
            )
        )
    return lines
