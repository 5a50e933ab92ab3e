"""Time StyleGAN3-T / -R of the published 1024 px shape (random weights) on the CPU: a full frame, the share of
the filtered leaky ReLU, the time from each w index to the end (what a cached render resumes), and NVIDIA's
reference CPU path on the same weights and threads.

NVIDIA's reference path, as their code runs off CUDA: NCHW tensors, the modulated convolution as one
(grouped) conv2d, and `_filtered_lrelu_ref` (bias, zero-insertion upsampling, FIR at the upsampled rate:
two 1-D passes for separable filters, one 2-D pass for radial ones, bias_act, FIR, decimation);
`filtered_lrelu_ref` in stylegan3/ops.py is that computation. Its upsampled images reach 3 GB per layer at
1024 px, so it runs over groups of channels (the op is per channel: same arithmetic, bounded memory).

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 python tools/bench_stylegan3.py --variant T --threads 1 [--reference]

Prints one JSON object. The huge-page tunable is what the `stylemixer` command sets for itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from stylemixer.core.families.stylegan3.design import design_config, random_generator
from stylemixer.core.families.stylegan3.ops import filtered_lrelu_ref


class Timed:
    """Stands in for a layer's FilteredLReLU and adds up the CPU and wall seconds spent in it, without the
    modulated convolution that the strip path runs inside it (its rows are timed and subtracted)."""

    def __init__(self, inner, reference=None):
        self.inner, self.reference = inner, reference
        self.wall = self.cpu = self.conv_wall = self.conv_cpu = 0.0

    def _timed(self, fn, *a, **kw):
        w, c = time.perf_counter(), time.process_time()
        out = fn(*a, **kw)
        self.wall += time.perf_counter() - w
        self.cpu += time.process_time() - c
        return out

    def use_strips(self, x):
        return self.reference is None and self.inner.use_strips(x)

    def rows(self, source, *a, **kw):
        def timed_source(r0, r1):
            w, c = time.perf_counter(), time.process_time()
            out = source(r0, r1)
            self.conv_wall += time.perf_counter() - w
            self.conv_cpu += time.process_time() - c
            return out

        return self._timed(self.inner.rows, timed_source, *a, **kw)

    def __call__(self, x, fu, fd, b):
        return self._timed(self.reference or self.inner, x, fu, fd, b)

    @property
    def seconds(self):
        return self.wall - self.conv_wall, self.cpu - self.conv_cpu


def reference_flrelu(spec, max_bytes=512 << 20):
    """NVIDIA's reference filtered lrelu for one layer, over channel groups whose upsampled image fits max_bytes."""

    def run(x, fu, fd, b):
        x = x.contiguous()
        n, c, h, w = x.shape
        up_px = (h * spec.up_factor + sum(spec.padding[2:])) * (w * spec.up_factor + sum(spec.padding[:2]))
        step = max(1, max_bytes // (4 * n * up_px))
        parts = [
            filtered_lrelu_ref(
                x[:, i : i + step],
                fu,
                fd,
                b[i : i + step],
                spec.up_factor,
                spec.down_factor,
                spec.padding,
                spec.gain,
                spec.slope,
                spec.conv_clamp,
            )
            for i in range(0, c, step)
        ]
        return torch.cat(parts, dim=1)

    return run


def frame(G, ws, timer=None):
    synth = G.synthesis
    ctx = synth.context(1)
    state = synth.start(ctx)
    tails = []
    for k in range(synth.num_ws):
        w0 = time.perf_counter()
        state = synth.advance(k, state, ws[:, k], ctx)
        tails.append(time.perf_counter() - w0)
    synth.finish(state, ctx)
    # Time from w index k to the end = what a render resuming at k costs.
    return [sum(tails[k:]) for k in range(len(tails))]


def bench(variant, threads, reference, runs, resolution=1024):
    torch.set_num_threads(threads)
    cfg = design_config(variant, resolution)
    t0 = time.perf_counter()
    G = random_generator(cfg, seed=0)
    build_s = time.perf_counter() - t0
    ws = G.mapping(torch.randn(1, cfg.z_dim, generator=torch.Generator().manual_seed(1)))
    out = {
        "variant": variant,
        "resolution": resolution,
        "threads": threads,
        "flops_g": round(sum(G.flops().values()) / 1e9, 1),
        "state_mb": round(G.state_nbytes() / 2**20, 1),
        "build_s": round(build_s, 2),
        "huge_pages": "hugetlb" in os.environ.get("GLIBC_TUNABLES", ""),
    }
    modes = [("fast", False)] + ([("nvidia_ref", True)] if reference else [])
    for name, ref in modes:
        layers = [G.synthesis.layer(i) for i in range(len(cfg.layers))]
        saved = [l.flrelu for l in layers]
        G.synthesis.set_memory_format(torch.contiguous_format if ref else torch.channels_last)
        results = []
        try:
            with torch.inference_mode():
                for _ in range(runs):
                    timed = [Timed(l.flrelu, reference_flrelu(l.spec) if ref else None) for l in layers]
                    for l, t in zip(layers, timed):
                        l.flrelu = t
                    w, c = time.perf_counter(), time.process_time()
                    tails = frame(G, ws)
                    results.append(
                        (
                            time.perf_counter() - w,
                            time.process_time() - c,
                            tails,
                            {l.spec.name: t.seconds[0] for l, t in zip(layers, timed)},
                            {l.spec.name: t.seconds[1] for l, t in zip(layers, timed)},
                        )
                    )
                    for l, fl in zip(layers, saved):
                        l.flrelu = fl
        finally:
            for l, fl in zip(layers, saved):
                l.flrelu = fl
            G.synthesis.set_memory_format(torch.channels_last)
        best = min(results, key=lambda r: r[0])
        wall, cpu, tails, fl_wall, fl_cpu = best
        out[name] = {
            "frame_ms": [round(r[0] * 1000) for r in results],
            "frame_cpu_ms": [round(r[1] * 1000) for r in results],
            "flrelu_ms": round(sum(fl_wall.values()) * 1000),
            "flrelu_share": round(sum(fl_wall.values()) / wall, 3),
            "flrelu_cpu_share": round(sum(fl_cpu.values()) / cpu, 3),
            "flrelu_ms_per_layer": {k: round(v * 1000) for k, v in fl_wall.items()},
            "resume_ms_from_w": [round(t * 1000) for t in tails],
        }
    if reference:
        out["speedup_wall"] = round(min(out["nvidia_ref"]["frame_ms"]) / min(out["fast"]["frame_ms"]), 2)
        out["speedup_cpu"] = round(min(out["nvidia_ref"]["frame_cpu_ms"]) / min(out["fast"]["frame_cpu_ms"]), 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["load_avg"] = os.getloadavg()
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variant", choices=["T", "R"], default="T")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--resolution", type=int, default=1024, help="the published shape at another size (quick checks)")
    p.add_argument("--reference", action="store_true", help="also time NVIDIA's reference CPU path")
    a = p.parse_args()
    print(json.dumps(bench(a.variant, a.threads, a.reference, a.runs, a.resolution), indent=1))


if __name__ == "__main__":
    main()
