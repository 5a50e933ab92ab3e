"""Full-synthesis time of the official-shape generator with each of the renderer's CPU choices taken away.

    python tools/ablation.py [--resolution 1024] [--reps 3] [--threads 1]

Variants: the shipped code; NCHW instead of channels_last; the original out-of-place epilogue and AdaIN
(x + noise * s, + bias, lrelu; normalize(x) * y_s + y_b); both. Each variant runs in this process, so run it
once with huge pages (as `stylemixer` does) and once without GLIBC_TUNABLES
to see their effect: `--huge-pages both` does that by re-running itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def original_pre(self, x, noise):
    import torch.nn.functional as F

    if self.conv is not None:
        x = self.conv(x)
    if noise is not None:
        x = x + noise * self.noise_strength[None, :, None, None]
    return F.leaky_relu(x + self.bias[None, :, None, None], 0.2)


def original_adain(self, x, w):
    import torch

    y_s, y_b = self.styles(w)
    x = x - x.mean(dim=(2, 3), keepdim=True)
    x = x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + 1e-8)
    return x * y_s[:, :, None, None] + y_b[:, :, None, None]


def measure(args) -> dict:
    import torch

    from stylemixer.core.families.stylegan1 import network as N
    from stylemixer.core.perf import huge_pages_active

    torch.set_num_threads(args.threads)
    cfg = N.GeneratorConfig(resolution=args.resolution, channels=N.default_channels(args.resolution))
    G = N.init_for_training(N.Generator(cfg), 0).eval().requires_grad_(False)
    ws = torch.randn(1, cfg.num_ws, cfg.w_dim)
    flops = sum(G.flops().values())
    shipped = (N.SynthesisLayer.pre, N.AdaIN.forward)
    out = {"huge_pages": huge_pages_active(), "threads": args.threads, "resolution": args.resolution}
    for name, layout, epilogue in (
        ("shipped", "cl", "new"),
        ("nchw", "nchw", "new"),
        ("out-of-place epilogue", "cl", "old"),
        ("nchw + out-of-place", "nchw", "old"),
    ):
        fmt = torch.channels_last if layout == "cl" else torch.contiguous_format
        G.synthesis.set_memory_format(fmt)
        N.SynthesisLayer.pre, N.AdaIN.forward = shipped if epilogue == "new" else (original_pre, original_adain)
        times = []
        with torch.inference_mode():
            for i in range(args.reps + 1):
                t = time.perf_counter()
                G.synthesis(ws, noise_mode="const")
                if i:
                    times.append(time.perf_counter() - t)
        med = sorted(times)[len(times) // 2]
        out[name] = {"ms": round(med * 1000, 1), "gflops": round(flops / med / 1e9, 1)}
        print(
            f"{'huge pages' if out['huge_pages'] else '4 KB pages'}  {name:<24} {med * 1000:8.1f} ms "
            f"{flops / med / 1e9:7.1f} GFLOP/s",
            file=sys.stderr,
            flush=True,
        )
    N.SynthesisLayer.pre, N.AdaIN.forward = shipped
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resolution", type=int, default=1024)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--huge-pages", choices=("as-is", "both"), default="both")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.huge_pages == "both":
        from stylemixer.core.perf import allocator_env

        runs = []
        for env in (allocator_env(), {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}):
            cmd = [
                sys.executable,
                os.path.abspath(__file__),
                "--huge-pages",
                "as-is",
                "--resolution",
                str(args.resolution),
                "--reps",
                str(args.reps),
                "--threads",
                str(args.threads),
            ]
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
            runs.append(json.loads(r.stdout))
        result = {"with_huge_pages": runs[0], "without": runs[1]}
    else:
        result = measure(args)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
