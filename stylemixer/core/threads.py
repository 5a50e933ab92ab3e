"""How many intra-op threads a renderer uses, chosen by measurement and re-measured while it runs.

The right count changes with the load: two threads win on an idle machine and lose badly on a busy one, where
OpenMP threads spin at every barrier waiting for a descheduled partner (figures:
docs/performance.md#threads-re-measured-while-the-app-runs). A choice made once at start is wrong as soon as
the load changes, so `ThreadPolicy` keeps measuring on the renders themselves:

- Every render large enough to time (at least `min_flops` of work) is a sample of seconds per FLOP for the
  thread count it ran with; an exponential average per count smooths the noise.
- The count not in use is tried again on a real render (no extra work is done): once early, then after
  `explore_every` renders, the interval doubling each time it loses (a slow trial is a visible hitch, so a
  setting that keeps losing is tried rarely), up to `max_explore_every`; and at once when the count in use
  drifts (a render `drift` times slower or faster than its average: the load changed).
- More threads are kept only when they are at least `gain` times faster: the GUI thread needs CPU too.

The spinning is the OpenMP runtime's default wait policy; the command makes waiting threads sleep instead
(`core/perf.py`, OMP_WAIT_POLICY=PASSIVE), after which two threads under that load were about as fast as one for
the same CPU time rather than twice as slow for twice the CPU. Which count is faster still changes with the load,
so the policy keeps measuring.

One loop is the exception (`band_threads_for`): the banded per-channel moments (`channel_mean_var`, every AdaIN
of StyleGAN v1 and the statistics of every family) run a few small ops per band of a map, and on a 2-core VM
that loop ran 2-4x slower on two threads than on one while the rest of a render ran faster on two. It gets its
own count, measured once per process (docs/performance.md#band-threads).

Setting torch's thread count is process-wide, so only a caller that asked for it (`Renderer(threads="auto")`,
done by entry points) gets this; `choose_threads` is the one-shot synthetic measurement the benchmark uses.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import torch

from .families.common import band_threads, channel_mean_var

_THREAD_BUDGET: list = []


def thread_budget() -> int:
    """The most threads "auto" may use: torch's thread count the first time this is asked in the process (its
    default of one per core, or OMP_NUM_THREADS)."""
    if not _THREAD_BUDGET:
        _THREAD_BUDGET.append(max(1, torch.get_num_threads()))
    return _THREAD_BUDGET[0]


class ThreadPolicy:
    """Online choice between one thread and `budget` threads from timed renders (see the module docstring).

    Use: `n = policy.threads_for_next(flops)`, run the render with n threads, then `policy.observe(n, flops, s)`.
    """

    def __init__(
        self,
        budget: int,
        gain: float = 1.15,
        explore_every: int = 8,
        max_explore_every: int = 256,
        min_flops: float = 3e8,
        drift: float = 1.6,
        smoothing: float = 0.3,
    ) -> None:
        self.budget = max(1, int(budget))
        self.gain, self.drift, self.min_flops, self.smoothing = gain, drift, min_flops, smoothing
        self.explore_every, self.max_explore_every = explore_every, max_explore_every
        self.current = 1  # the first picture never waits for a trial
        self.rate: dict = {}  # threads -> seconds per GFLOP (exponential average)
        self.samples: dict = {}  # threads -> renders timed
        self._interval = explore_every
        self._until_trial = 1 if self.budget > 1 else -1  # timed renders until the other count is tried
        self.trials = 0
        self.switches = 0
        self.last_reason = "start"

    @property
    def other(self) -> int:
        return self.budget if self.current == 1 else 1

    def threads_for_next(self, work: float | None = None) -> int:
        """The count to run the next render with. work: its FLOPs as far as known beforehand; a trial waits for a
        render large enough to time (a drag on a small model would otherwise run on the trial count for good)."""
        if self._until_trial == 0 and (work is None or work >= self.min_flops):
            return self.other
        return self.current

    def observe(self, threads: int, flops: float, seconds: float) -> None:
        if self.budget <= 1 or flops <= 0 or flops < self.min_flops or seconds <= 0:
            return
        sample = seconds / (flops / 1e9)
        before = self.rate.get(threads)
        a = self.smoothing
        # A trial's sample replaces the old estimate (the load may have changed since); the count in use averages.
        self.rate[threads] = sample if before is None or threads != self.current else (1 - a) * before + a * sample
        self.samples[threads] = self.samples.get(threads, 0) + 1
        if threads != self.current:  # a trial: compare, then keep or switch
            self.trials += 1
            self._decide(trial=threads)
            return
        if before is not None and not (1 / self.drift < sample / before < self.drift):
            self._until_trial, self.last_reason = 0, "drift"  # conditions changed: re-measure the other count
            self._interval = self.explore_every
            return
        if self._until_trial > 0:
            self._until_trial -= 1

    def _decide(self, trial: int) -> None:
        one, many = self.rate.get(1), self.rate.get(self.budget)
        best = self.budget if (one is not None and many is not None and many * self.gain < one) else 1
        if best != self.current:
            self.current, self.switches = best, self.switches + 1
            self._interval = self.explore_every
            self.last_reason = f"{best} thread{'s' if best > 1 else ''} faster"
        else:
            self._interval = min(self.max_explore_every, 2 * self._interval)
            self.last_reason = f"{trial} thread{'s' if trial > 1 else ''} slower"
        self._until_trial = self._interval

    def info(self) -> dict:
        return {
            "threads": self.current,
            "budget": self.budget,
            "trials": self.trials,
            "switches": self.switches,
            "reason": self.last_reason,
            "next_trial_in": self._until_trial,
            "s_per_gflop": {n: round(v, 5) for n, v in self.rate.items()},
        }


def choose_threads(
    synth: Any,
    flops: dict,
    w_dim: int,
    device: torch.device,
    dtype: torch.dtype,
    channels_last: bool,
    min_flops: float = 3e8,
    gain: float = 1.15,
    budget: int | None = None,
) -> dict:
    """Time the tail of synthesis with 1 thread and with `budget` threads; set and return the choice.

    flops: the model's work per w index (`G.flops()`). The tail starts at the last w index from which at least
    `min_flops` of work remain (the whole network for small models), on a random state (speed does not depend on
    the values), so this costs 6 runs of that tail: tens of ms for the built-in model, a few hundred for 1024 px.
    A one-shot measurement (the benchmark's); the app re-measures on its renders (`ThreadPolicy`).
    """
    many = budget or os.cpu_count() or 1
    if many <= 1:
        torch.set_num_threads(1)
        return {"threads": 1, "band_threads": 1, "reason": "a budget of one thread"}
    num_ws = len(flops)
    start, remaining = num_ws - 1, flops[num_ws - 1]
    while start > 0 and remaining < min_flops:
        start -= 1
        remaining += flops[start]
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    g = torch.Generator().manual_seed(0)
    state = tuple(
        None
        if t is None
        else t.to(device, dtype).contiguous(memory_format=fmt if t.ndim == 4 else torch.contiguous_format)
        for t in synth.example_state(start, 1, g)
    )
    ws = torch.randn(1, num_ws, w_dim, generator=g).to(device, dtype)
    ctx = synth.context(1, "const", 0, None, device=device, dtype=dtype)
    times: dict[int, list[float]] = {1: [], many: []}
    band_threads_for(many)  # measured before the timing, as a renderer does
    with torch.inference_mode():
        for rep in range(3):
            for n in (1, many):
                torch.set_num_threads(n)
                t = time.perf_counter()
                x = state
                with band_threads(band_threads_for(n)):
                    for k in range(start, num_ws):
                        x = synth.advance(k, x, ws[:, k], ctx)
                    synth.finish(x, ctx)
                if rep:  # the first round warms up each setting
                    times[n].append(time.perf_counter() - t)
    med = {n: float(np.median(v)) * 1000 for n, v in times.items()}
    choice = many if med[many] * gain < med[1] else 1
    torch.set_num_threads(choice)
    return {
        "threads": choice,
        "band_threads": band_threads_for(choice),
        "ms_1": round(med[1], 3),
        f"ms_{many}": round(med[many], 3),
        "from_index": start,
    }


_BAND_THREADS: dict[int, dict] = {}


def band_threads_for(n: int) -> int:
    """Threads for `channel_mean_var`'s banded loop when a render runs on n: n, or 1 where one thread runs the
    loop faster on this machine. Measured once per process and n (`measure_band_threads`, ~0.2 s): a property of
    the machine's caches and memory; under load the policy falls back to one thread for everything anyway."""
    if n <= 1:
        return 1
    if n not in _BAND_THREADS:
        _BAND_THREADS[n] = measure_band_threads(n)
    return int(_BAND_THREADS[n]["threads"])


def band_threads_choice() -> dict:
    """What `band_threads_for` measured so far: {n: {threads, ms_1, ms_n}}."""
    return {n: dict(v) for n, v in _BAND_THREADS.items()}


def measure_band_threads(n: int, reps: int = 4) -> dict:
    """Time `channel_mean_var` on a 1024 px layer's map (64 MB, channels_last) with one thread and with n,
    interleaved; the caller's thread count is restored. The map is larger than a desktop CPU's last-level cache,
    so the loop reads memory, as in a render."""
    before = torch.get_num_threads()
    x = torch.ones(1, 16, 1024, 1024).contiguous(memory_format=torch.channels_last)
    times: dict[int, list[float]] = {1: [], n: []}
    try:
        with torch.inference_mode(), band_threads(None):
            for rep in range(reps + 1):
                for k in (1, n):
                    torch.set_num_threads(k)
                    t = time.perf_counter()
                    channel_mean_var(x)
                    if rep:  # the first round touches the memory and wakes the threads
                        times[k].append(time.perf_counter() - t)
    finally:
        torch.set_num_threads(before)
    ms = {k: float(np.median(v)) * 1000 for k, v in times.items()}
    return {"threads": 1 if ms[1] < ms[n] else n, "ms_1": round(ms[1], 2), f"ms_{n}": round(ms[n], 2)}
