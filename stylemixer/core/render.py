"""The renderer: owns one generator on one device and turns requests into images and statistics.

Synchronous and Qt-free: the GUI's worker thread, the CLI, the benchmark and the tests all call `render()`.
Not thread-safe: one thread (the worker) owns a Renderer. It knows no generator family: it speaks the
resumable-synthesis protocol of `families/api.py` (context, start, advance k, finish).

What it avoids recomputing (docs/performance.md has the measurements behind each choice):
- w per (source, psi, cutoff): the mapping network runs once per seed; a source is a seed, a fractional seed
  or a latent (mixing.py), identified by its key.
- Every image is a *chain* of ws rows. The state entering w index k depends only on rows 0..k-1 and the image's
  context (noise, input transform), so it is cached under exactly that key; moving the slider of w index k resumes
  at k. The pure A and B images are chains too (all rows from one seed), so a mix whose first rows are A's
  reuses A's states, and A and B themselves come from the cache until their seed, truncation or noise change.
- Statistics of layer k depend on rows 0..k and are cached under that key, so a stats render that resumes at k
  still returns every layer; missing ones are recomputed from a cached state (one step), not from scratch.

On the CPU every image is computed alone ([1, ...] tensors): PyTorch's CPU kernels are not batch-invariant (a
3x3 conv on a 4x4 map or a linear layer gives different last bits for a row in a batch of 3 than alone), and a
cached render must equal an uncached one bit for bit; batching bought nothing there anyway
(docs/performance.md#how-a-frame-is-made). On CUDA the chains that start at the same layer run as one batch,
and half precision is used when a calibration render shows it is faster and visually identical
(`visually_identical`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .cache import ByteLRU, SlotLRU
from .families.common import band_threads
from .images import to_uint8, uint8_tensor
from .limits import physical_memory
from .mixing import Recipe, SeedSource, mix_ws
from .stats import SOURCES, Capture, LayerStats
from .threads import ThreadPolicy, band_threads_for, choose_threads, thread_budget

if TYPE_CHECKING:
    from .families.api import StyleGenerator
    from .mixing import LatentSource

DEFAULT_CACHE_MB = 1024  # the most the activation cache takes by default (auto_cache_mb)
CHAINS = 8
MIN_CHAINS = 3  # A, B and the mix
PRECISIONS = ("auto", "fp32", "fp16")


@dataclass(frozen=True)
class RenderRequest:
    """An immutable snapshot of what to draw. `id` orders requests; the newest wins."""

    recipe: Recipe
    stats: bool = False  # capture the family's per-channel statistics of every w index
    feature_layer: int | None = None  # also return the feature maps of this w index's layer
    feature_source: str = "mix"  # ... of the mix, A or B
    preview: int | None = None  # a quick picture at most this many px wide where the family can stop early
    id: int = 0


@dataclass
class RenderResult:
    request: RenderRequest
    mix: np.ndarray  # uint8 [H, W, C]
    a: np.ndarray  # uint8 [H, W, C], pure A
    b: np.ndarray  # uint8 [H, W, C], pure B
    stats: dict | None = None  # {"mix"|"a"|"b": {w index: LayerStats}}
    features: np.ndarray | None = None  # float32 [C, H, W]
    ms: float = 0.0
    device: str = "cpu"
    info: dict = field(default_factory=dict)  # "start": {source: first w index computed (num_ws = all cached)}, ...


def visually_identical(a: np.ndarray, b: np.ndarray, mean_tol: float = 0.5, max_tol: int = 12) -> bool:
    """Two uint8 images differ by at most `mean_tol` levels on average and `max_tol` at any pixel.

    The bar half precision must clear: at 0.5 levels mean nobody sees a difference, and the max bound rejects
    the failure that matters (an overflow that wrecks a region) while allowing the odd edge pixel to move.
    """
    if a.shape != b.shape:
        return False
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(d.mean()) <= mean_tol and int(d.max()) <= max_tol


@dataclass(eq=False)  # compared by identity: its fields hold tensors
class _Chain:
    """One image to produce: its ws, the identity of each ws row, and what the request needs from it."""

    source: str
    ws: torch.Tensor  # [1, num_ws, w_dim]
    rows: tuple  # hashable identity of each ws row
    stats: bool = False
    feature_layer: int | None = None
    # filled by planning
    start: int = 0  # first w index to run; num_ws when the image comes from the cache
    state: tuple | None = None  # cached state entering w index `start`
    image: np.ndarray | None = None
    cached_stats: dict = field(default_factory=dict)
    prefix_states: dict = field(default_factory=dict)  # w index < start -> cached state to re-run one step on
    next_states: dict = field(default_factory=dict)  # ... and the cached state after that step, where there is one
    capture: Capture | None = None
    new_stats: dict = field(default_factory=dict)
    features: torch.Tensor | None = None


class Renderer:
    """Renderer(G, device): G moves to `device` and is put in eval mode.

    cache: False renders everything from scratch (the benchmark's baseline). cache_mb: the memory budget of the
    activation/image/statistics cache (default: `auto_cache_mb`, eight images' activations, 64-1024 MB).
    batch: run chains that start at the same layer as one batch (default: on CUDA only). precision: "auto" (fp16
    on CUDA when a calibration shows it faster and visually identical, else fp32), "fp32" or "fp16" (for tests;
    fp16 on CPU is slow). channels_last: NHWC activations (default: CPU and >= 128 px). threads: None (default)
    leaves torch's thread count alone; an int or "auto" (measure, see `_set_threads`) sets it, and since that is a
    process-wide torch setting only entry points (the app, the CLI, the bench) ask for it.
    """

    def __init__(
        self,
        G: StyleGenerator,
        device: str = "cpu",
        cache: bool = True,
        cache_mb: float | None = None,
        batch: bool | None = None,
        precision: str = "auto",
        channels_last: bool | None = None,
        threads: int | str | None = None,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.channels_last_opt = channels_last
        self.device = torch.device(device)
        self.G = G.eval().requires_grad_(False).to(self.device)
        self.use_cache = bool(cache)
        if cache_mb is None:
            cache_mb = auto_cache_mb(self.G)
        self.cache = ByteLRU(int(cache_mb * 2**20))
        self.w_cache = SlotLRU(4 * 2**20)  # ws per (seed, psi, cutoff): ~800 seeds at 64 px, ~110 at 1024 px
        self._batch_opt = batch
        self.precision_opt = precision
        self._ctx_key: Hashable | None = None
        self._ctx: Any = None  # the family's synthesis context
        self._synth: Any = None  # the synthesis network actually run (a half copy when fp16): a ResumableSynthesis
        self.dtype = torch.float32
        self.calibration: dict = {}
        self.threads_opt = threads
        self.thread_policy: ThreadPolicy | None = None
        self._threads: int | None = None  # torch's thread count for renders (use_threads); None: left alone
        self._band_threads: int | None = None  # ... and for the banded moments (band_threads_for)
        self._flops = G.flops()  # work per w index, to time renders per FLOP
        self._step_flops = G.step_flops()  # work of each synthesis step (advance(k); start() under -1)
        self.renders = 0
        self._last_rows: dict[str, tuple] = {}  # source -> rows of the image last returned
        self._setup()

    # ------------------------------------------------------------------------------------------------ set-up
    @property
    def num_ws(self) -> int:
        return self.G.num_ws

    @property
    def batch(self) -> bool:
        return self.device.type == "cuda" if self._batch_opt is None else bool(self._batch_opt)

    def to(self, device: str | torch.device) -> Renderer:
        """Move the model to another device (the GUI's device menu). Caches are dropped."""
        self.device = torch.device(device)
        self.G = self.G.to(self.device)
        self._setup()
        return self

    def clear_cache(self) -> None:
        """Forget every cached w, activation, image and statistic (call after changing G's weights in place)."""
        self.cache.clear()
        self.w_cache.clear()
        self._ctx_key = self._ctx = None

    def _setup(self) -> None:
        self.clear_cache()
        want = self.precision_opt
        if want == "auto":
            want = "fp32"
            if self.device.type == "cuda":
                want = self.calibrate_half()["chosen"]
        self._use_precision(want)
        self._set_threads()

    def _set_threads(self) -> None:
        """torch's CPU threads (a process-wide setting): an int sets it, None leaves it, "auto" measures.

        "auto" hands the choice to a `ThreadPolicy` (core/threads.py): one thread for the first picture, then the
        renders themselves are timed with one thread and with the process's thread budget (`thread_budget()`:
        torch's count when the first renderer was made, which respects OMP_NUM_THREADS), and timed again while
        the renderer runs, because the right answer changes with the load on the machine.
        """
        self.thread_policy = None
        self._threads = self._band_threads = None
        opt = self.threads_opt
        if opt is None or self.device.type != "cpu":
            return
        if isinstance(opt, int):
            self.use_threads(opt)
            return
        if opt != "auto":
            raise ValueError(f"threads must be an int, None or 'auto', got {opt!r}")
        self.thread_policy = ThreadPolicy(thread_budget())
        self.use_threads(self.thread_policy.current)

    def use_threads(self, n: int) -> None:
        """Render on n torch threads (a process-wide setting), the banded moments on `band_threads_for(n)` (on
        some machines one: measured once per process)."""
        n = max(1, int(n))
        self._threads = n
        self._band_threads = band_threads_for(n) if self.device.type == "cpu" else None
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)

    @property
    def thread_choice(self) -> dict:
        """What "auto" has measured and chosen so far ({} for other settings)."""
        return self.thread_policy.info() if self.thread_policy is not None else {}

    def calibrate_threads(self) -> dict:
        """A one-shot synthetic measurement (`choose_threads`, the benchmark's): set torch's thread count from it
        and return it. With threads="auto" the policy starts from this choice."""
        budget = self.thread_policy.budget if self.thread_policy is not None else thread_budget()
        choice = choose_threads(
            self._synth, self._flops, self.G.w_dim, self.device, self.dtype, self.channels_last, budget=budget
        )
        if self.thread_policy is not None:
            self.thread_policy.current = choice["threads"]
        self.use_threads(choice["threads"])
        return choice

    @property
    def channels_last(self) -> bool:
        """Activations in NHWC. Default: on the CPU for models of 128 px and up, where oneDNN's convolutions run
        without layout reorders; at 64 px it made no difference (docs/performance.md#channels_last)."""
        if self.channels_last_opt is not None:
            return bool(self.channels_last_opt)
        return self.device.type == "cpu" and self.G.img_resolution >= 128

    def _use_precision(self, name: str) -> None:
        self.clear_cache()
        self.dtype = torch.float16 if name == "fp16" else torch.float32
        synth = self.G.synthesis if self.dtype == torch.float32 else copy.deepcopy(self.G.synthesis).to(self.dtype)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        # In place on the renderer's own generator (it already owns its device and mode): no second copy of a
        # 1024 px model's weights. The values do not change, only their layout.
        synth.set_memory_format(fmt)
        self._synth = synth
        self.precision = name

    def calibrate_half(self) -> dict:
        """Render one mix in fp32 and fp16; choose fp16 only if it is faster and `visually_identical`.

        Leaves the renderer in the chosen precision and returns the measurement (also kept in `.calibration`).
        Runs on any device, so the decision logic is testable on the CPU (where fp16 is never faster).
        """
        recipe = Recipe.for_model(self.num_ws, seed_a=1, seed_b=2).with_weights([0.5] * self.num_ws)
        times, images = {}, {}
        for name in ("fp32", "fp16"):
            self._use_precision(name)
            self.use_cache, saved = False, self.use_cache
            try:
                self.render(recipe)  # warm-up (kernel selection)
                t = []
                for _ in range(3):
                    r = self.render(recipe)
                    t.append(r.ms)
                times[name], images[name] = float(np.median(t)), r.mix
            finally:
                self.use_cache = saved
        same = visually_identical(images["fp32"], images["fp16"])
        choice = "fp16" if same and times["fp16"] < 0.9 * times["fp32"] else "fp32"
        self.calibration = {"fp32_ms": times["fp32"], "fp16_ms": times["fp16"], "identical": same, "chosen": choice}
        self._use_precision(choice)
        return self.calibration

    # ------------------------------------------------------------------------------------------------ keys
    def ws(self, recipe: Recipe) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(ws_a, ws_b, ws_mix), each [1, num_ws, w_dim] float32 on the device."""
        recipe.check_model(self.num_ws, getattr(self.G, "c_dim", 0))
        ws_a = self._w(recipe.source("a"), recipe.psi, recipe.cutoff)
        ws_b = self._w(recipe.source("b"), recipe.psi, recipe.cutoff)
        return ws_a, ws_b, mix_ws(ws_a, ws_b, recipe.weights)

    def _w(self, source: SeedSource | LatentSource, psi: float, cutoff: int | None) -> torch.Tensor:
        """A source's ws (a seed, a fractional seed or a latent, see mixing.py), cached under its key."""
        key = (source.key, psi, cutoff) if source.truncated else (source.key,)
        ws = self.w_cache.get(key) if self.use_cache else None
        if ws is None:
            ws = source.ws(
                self.G,
                psi,
                cutoff,
                self.device,
                w_of_seed=lambda s: self._w(SeedSource(s, 0.0, getattr(source, "cls", None)), psi, cutoff),
            )
            if self.use_cache:
                self.w_cache.put(key, ws)
        return ws

    def _pure_rows(self, source: SeedSource | LatentSource, psi: float, cutoff: int | None) -> tuple:
        # A row is truncated iff psi != 1 and its index is below the cutoff; untruncated rows are the same tensor
        # values whatever psi is, so they share cache entries. A latent source is never truncated.
        L = self.num_ws
        return tuple(
            ("w", source.key, psi if source.truncated and psi != 1 and (cutoff is None or j < cutoff) else 1.0)
            for j in range(L)
        )

    def _rows(self, r: Recipe) -> tuple:
        """The row identities of A, B and the mix."""
        rows_a = self._pure_rows(r.source("a"), r.psi, r.cutoff)
        rows_b = self._pure_rows(r.source("b"), r.psi, r.cutoff)
        # mix_ws gives exactly A's row at weight 0 and exactly B's at 1 (torch.lerp's two-sided formula).
        rows_m = tuple(
            ra if v == 0 else rb if v == 1 else ("m", ra, rb, v) for ra, rb, v in zip(rows_a, rows_b, r.weights)
        )
        return rows_a, rows_b, rows_m

    def _chains(self, req: RenderRequest) -> list[_Chain]:
        r = req.recipe
        ws_a, ws_b, ws_mix = self.ws(r)
        rows_a, rows_b, rows_m = self._rows(r)
        out = []
        for src, ws, rows in (("a", ws_a, rows_a), ("b", ws_b, rows_b), ("mix", ws_mix, rows_m)):
            feat = req.feature_layer if req.feature_layer is not None and req.feature_source == src else None
            out.append(_Chain(src, ws.to(self.dtype), rows, req.stats, feat))
        return out

    def _context_for(self, recipe: Recipe) -> tuple[Hashable, Any]:
        """(key, context) of one image: its noise and other w-independent inputs, shared by A, B and the mix."""
        noise = ("random", recipe.noise_seed) if recipe.noise_mode == "random" else (recipe.noise_mode,)
        options = recipe.synthesis_options()
        key = (noise, tuple(sorted(options.items())))
        if key != self._ctx_key or not self.use_cache:
            self._ctx = self._synth.context(
                1, recipe.noise_mode, recipe.noise_seed, options or None, device=self.device, dtype=self.dtype
            )
            self._ctx_key = key
        return key, self._ctx

    def synthesize(self, ws: torch.Tensor, recipe: Recipe, capture: Capture | None = None) -> torch.Tensor:
        """A full, uncached synthesis of ws [N, num_ws, w_dim] in the recipe's context (the bench's baseline)."""
        _, ctx = self._context_for(recipe)
        synth = self._synth
        with torch.inference_mode(), band_threads(self._band_threads):
            state = synth.start(ctx, ws.shape[0])
            for k in range(self.num_ws):
                state = synth.advance(k, state, ws[:, k].to(self.dtype), ctx, capture)
            return synth.finish(state, ctx)

    # ------------------------------------------------------------------------------------------------ render
    def render(self, req: RenderRequest | Recipe) -> RenderResult:
        if isinstance(req, Recipe):
            req = RenderRequest(req)
        if req.feature_source not in SOURCES:
            raise ValueError(f"feature_source must be one of {SOURCES}, got {req.feature_source!r}")
        if req.feature_layer is not None and not 0 <= req.feature_layer < self.num_ws:
            raise ValueError(f"feature_layer must be between 0 and {self.num_ws - 1}, got {req.feature_layer}")
        req.recipe.check_controls(getattr(self.G, "synthesis_controls", ()))
        policy = self.thread_policy
        if policy is not None:
            threads = policy.threads_for_next(self._estimate_work(req.recipe))
            self.use_threads(threads)
        elif self._threads is not None:
            self.use_threads(self._threads)  # the count may have been changed since by another renderer
        with band_threads(self._band_threads):
            return self._render(req, policy)

    def _render(self, req: RenderRequest, policy: ThreadPolicy | None) -> RenderResult:
        threads = torch.get_num_threads() if self._threads is None else self._threads
        t0 = time.perf_counter()
        self.renders += 1
        if req.preview is not None and self.preview_stop(req.preview) is not None:
            result = self._render_preview(req, t0)
            if policy is not None:
                policy.observe(threads, result.info["work"], result.ms / 1000)
            result.info["threads"] = threads
            return result
        with torch.inference_mode():
            nkey, ctx = self._context_for(req.recipe)
            chains = self._chains(req)
            chain_of = {c.source: c for c in chains}
            # Pure images first: a mix whose first rows are A's (or B's) then resumes from their activations.
            pure = [chain_of["a"], chain_of["b"]]
            mix = chain_of["mix"]
            for c in pure:
                self._plan(c, nkey)
            if self.batch and all(c.start == 0 for c in pure) and _shared_prefix(mix, pure) == 0:
                self._plan(mix, nkey)
                if mix.start == 0:  # nothing to share with A or B: all three from the constant, one batch
                    pure = pure + [mix]
            self._run(pure, nkey, ctx)
            if mix not in pure:
                self._plan(mix, nkey)
                self._run([mix], nkey, ctx)
            result = self._result(req, chain_of)
            self._last_rows = {c.source: c.rows for c in chains}
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        result.ms = (time.perf_counter() - t0) * 1000
        work = self._work(chains)
        if policy is not None:
            policy.observe(threads, work, result.ms / 1000)
        result.info = {
            "start": {c.source: c.start for c in chains},
            "precision": self.precision,
            "cache": self.cache.info(),
            "threads": threads,
            "band_threads": self._band_threads or threads,
            "work": work,
        }
        # What one image from scratch would have taken at this render's pace: the first picture computes three, a
        # render resuming late a fraction of one. Renders of less than a tenth of an image are mostly overhead.
        frame = self._resume_flops(0)
        ran = work
        if ran >= 0.1 * frame:
            result.info["frame_ms"] = result.ms * frame / ran
        return result

    def _estimate_work(self, recipe: Recipe) -> float:
        """FLOPs a render of this recipe will run at most, from what the cache holds (nothing is taken from it)."""
        if not self.use_cache:
            return 3 * self._resume_flops(0)
        L = self.num_ws
        nkey = self._ctx_key
        total = 0.0
        for rows in self._rows(recipe):
            if self.cache.peek(self._key("img", nkey, rows)):
                continue
            s = next((j for j in range(L - 1, 0, -1) if self.cache.peek(self._key("pre", nkey, rows[:j]))), 0)
            total += self._resume_flops(s)
        return total

    def _resume_flops(self, start: int, stop: int | None = None) -> float:
        """FLOPs of the synthesis steps start .. stop - 1 (to the image by default), with start() when start is 0."""
        steps = self._step_flops
        stop = self.num_ws if stop is None else stop
        return float(sum(steps[k] for k in range(start, stop)) + (steps[-1] if start == 0 else 0.0))

    def _work(self, chains: list[_Chain]) -> float:
        """FLOPs a render ran: each computed image from the step it resumed at."""
        return float(sum(self._resume_flops(c.start) for c in chains if c.start < self.num_ws))

    # ------------------------------------------------------------------------------------------------ preview
    def preview_stop(self, max_resolution: int) -> tuple[int, int] | None:
        """(w index of the preview point, resolution) of the largest preview within max_resolution, or None."""
        points = self.preview_points()
        fits = [(k, r) for k, r in points.items() if r <= max_resolution and k < self.num_ws - 1]
        return max(fits, key=lambda kr: (kr[1], kr[0])) if fits else None

    def preview_points(self) -> dict[int, int]:
        """{w index: resolution} of the pictures the family can show early (empty when it has none)."""
        return dict(self._synth.preview_points()) if hasattr(self._synth, "preview_points") else {}

    def preview_costs(self) -> tuple[tuple[int, float], ...]:
        """(resolution, share of a full frame's FLOPs) of each progressive preview, smallest first: what a
        session weighs against its frame time to pick a preview size (`Session.preview_resolution`)."""
        total = self._resume_flops(0) or 1
        return tuple((res, self.preview_flops(res) / total) for res in sorted(set(self.preview_points().values())))

    def preview_flops(self, max_resolution: int) -> float:
        """Work of a preview from scratch, for choosing a preview size that keeps up with a drag."""
        stop = self.preview_stop(max_resolution)
        return self._resume_flops(0, stop[0]) if stop else self._resume_flops(0)

    def _render_preview(self, req: RenderRequest, t0: float) -> RenderResult:
        """The progressive preview: each image advanced only as far as its preview point, from the cache where it
        can be, and the picture of that point taken from the state entering it. A cached full image is used as is.
        States advanced here are cached like any; no image is.

        An image whose change lies past the requested preview point (a fine w index dragged) is shown at the first
        later point that shows the change: a larger preview, still far less work than the whole image (computed
        only when no later point exists). Whether a point shows the change is told by the rows of the image last
        returned: a point whose rows are the same shows the same picture. A slider position visited earlier in the
        drag finds its state cached and is shown from it at once."""
        found = self.preview_stop(req.preview) if req.preview is not None else None
        assert found is not None  # render() sends only requests for a preview the model offers
        stop, res = found
        points = self.preview_points()
        L = self.num_ws
        H = W = self.G.img_resolution
        images: dict[str, np.ndarray] = {}
        starts: dict[str, int] = {}
        shown_px: dict[str, int] = {}
        whole: list[str] = []
        work = 0.0
        with torch.inference_mode():
            nkey, ctx = self._context_for(req.recipe)
            chains = self._chains(RenderRequest(req.recipe))
            for c in chains:
                self._plan(c, nkey)
                starts[c.source] = c.start
                if c.image is not None:
                    images[c.source] = c.image
                    continue
                at = stop
                if c.start > stop:
                    # The rows before c.start are cached, not necessarily those of the picture shown: point c.start
                    # (from the cached state itself) or a later one shows them.
                    shown = self._last_rows.get(c.source)
                    later = [
                        k
                        for k in sorted(points)
                        if c.start <= k < L - 1 and (shown is None or shown[: k + 1] != c.rows[: k + 1])
                    ]
                    if not later:  # the change lies past every preview point: only the whole image shows it
                        self._run([c], nkey, ctx)
                        assert c.image is not None
                        images[c.source] = c.image
                        work += self._work([c])
                        whole.append(c.source)
                        continue
                    at = later[0]
                state = c.state
                if state is None:
                    state = self._synth.start(ctx, 1)
                    self._put("pre", nkey, c.rows[:0], state)
                if at > c.start:  # the point's own ToRGB is not counted: a sliver of the layers before it
                    work += self._resume_flops(c.start, at)
                for k in range(c.start, at):
                    state = self._synth.advance(k, state, c.ws[:, k], ctx)
                    self._put("pre", nkey, c.rows[: k + 1], state)
                picture = self._synth.preview(at, state, c.ws[:, at], ctx)
                images[c.source] = enlarge_preview(picture, H, W, self.G.cfg.crop)
                shown_px[c.source] = points[at]
        self._last_rows = {c.source: c.rows for c in chains}
        result = RenderResult(req, images["mix"], images["a"], images["b"], device=str(self.device))
        result.ms = (time.perf_counter() - t0) * 1000
        result.info = {
            "start": starts,
            "precision": self.precision,
            "cache": self.cache.info(),
            "preview": shown_px.get("mix", res),  # the size of the mix's preview (larger when its change needs it)
            "work": work,
            "whole": whole,  # images computed to the end: their change lies past every preview point
        }
        return result

    def _key(self, kind: str, nkey: Hashable, rows: tuple) -> tuple:
        return (kind, nkey, rows)

    def _plan(self, c: _Chain, nkey: Hashable) -> None:
        """Choose the first w index to run and take references to the cached entries it relies on.

        References are taken here, so entries evicted by later puts in the same render stay usable.
        """
        L = self.num_ws
        if not self.use_cache:
            c.start = 0
            return
        cache = self.cache

        def pre_ok(i: int) -> bool:
            return cache.peek(self._key("pre", nkey, c.rows[:i]))

        def stat_ok(i: int) -> bool:
            return cache.peek(self._key("st", nkey, c.rows[: i + 1]))

        def deepest_pre(limit: int) -> int:
            for j in range(limit, 0, -1):
                if pre_ok(j):
                    return j
            return 0

        s = L if cache.peek(self._key("img", nkey, c.rows)) else deepest_pre(L - 1)
        while True:  # every layer before s must be served by a cached statistic or a cached activation
            bad = next(
                (
                    i
                    for i in range(s)
                    if (c.stats and not stat_ok(i) and not pre_ok(i)) or (c.feature_layer == i and not pre_ok(i))
                ),
                None,
            )
            if bad is None:
                break
            s = deepest_pre(bad)
        c.start = s
        if s == L:
            c.image = cache.get(self._key("img", nkey, c.rows)).copy()  # the caller may write to its arrays
        elif s > 0 or pre_ok(0):
            c.state = cache.get(self._key("pre", nkey, c.rows[:s]))
        for i in range(s):
            st = cache.get(self._key("st", nkey, c.rows[: i + 1])) if c.stats else None
            if st is not None:
                c.cached_stats[i] = st
            if (c.stats and st is None) or c.feature_layer == i:
                c.prefix_states[i] = cache.get(self._key("pre", nkey, c.rows[:i]))
                if i + 1 < L and pre_ok(i + 1):
                    c.next_states[i] = cache.get(self._key("pre", nkey, c.rows[: i + 1]))

    def _put(self, kind: str, nkey: Hashable, rows: tuple, value: Any) -> None:
        if self.use_cache:
            self.cache.put(self._key(kind, nkey, rows), value)

    def _run(self, chains: list[_Chain], nkey: Hashable, ctx: Any) -> None:
        synth = self._synth
        # Layers before the start that still need statistics or features: recorded from the cached states around
        # the layer where the family can (no convolution runs), else one step from the cached state.
        for c in chains:
            if c.stats or c.feature_layer is not None:
                c.capture = Capture(stats=c.stats, feature_layer=c.feature_layer)
            for i, state in sorted(c.prefix_states.items()):
                w = c.ws[:, i]
                if not synth.record(i, state, w, ctx, c.capture, c.next_states.get(i)):
                    synth.advance(i, state, w, ctx, c.capture)
            if c.capture is not None and c.feature_layer is not None and c.feature_layer < c.start:
                assert c.capture.features is not None  # recorded by the step above
                c.features = c.capture.features[0]
        groups: dict[int, list[_Chain]] = {}
        for c in chains:
            if c.start < self.num_ws:
                groups.setdefault(c.start, []).append(c)
        for s, group in groups.items():
            if not self.batch and len(group) > 1:
                for c in group:
                    self._run_group(s, [c], nkey, ctx)
            else:
                self._run_group(s, group, nkey, ctx)
        for c in chains:
            if c.capture is not None and c.stats:
                c.new_stats.update(c.capture.result())
                # Cached now, not with the result: a mix that shares A's rows then takes A's statistics.
                for i, st in c.new_stats.items():
                    self._put("st", nkey, c.rows[: i + 1], st)

    def _run_group(self, s: int, group: list[_Chain], nkey: Hashable, ctx: Any) -> None:
        """Advance the chains of `group` (all starting at w index s) to their images, caching every state."""
        synth, n = self._synth, len(group)
        states = []
        for c in group:
            state = c.state
            if state is None:  # s == 0 and not cached
                state = synth.start(ctx, 1)
                self._put("pre", nkey, c.rows[:0], state)
            states.append(state)
        state = states[0] if n == 1 else _cat_states(states)
        ws = group[0].ws if n == 1 else torch.cat([c.ws for c in group])
        cap = None
        if any(c.capture is not None for c in group):
            cap = (
                group[0].capture
                if n == 1
                else Capture(stats=any(c.stats for c in group), feature_layer=_common_feature(group))
            )
        # A batch whose chains want different feature layers: keep the state entering each, for one more step.
        odd_feature = {
            r: c.feature_layer
            for r, c in enumerate(group)
            if n > 1
            and c.feature_layer is not None
            and c.feature_layer >= s
            and c.feature_layer != (cap.feature_layer if cap else None)
        }
        kept: dict = {}
        for k in range(s, self.num_ws):
            for r, fl in odd_feature.items():
                if fl == k:
                    kept[r] = _take_state(state, r)
            state = synth.advance(k, state, ws[:, k], ctx, cap)
            if k + 1 < self.num_ws and self.use_cache:
                for r, c in enumerate(group):
                    self._put("pre", nkey, c.rows[: k + 1], state if n == 1 else _take_state(state, r, clone=True))
        img = synth.finish(state, ctx)
        u8 = to_uint8(img.float(), self.G.cfg.crop)
        group_stats = cap.result() if n > 1 and cap is not None and cap.want_stats else {}
        for r, c in enumerate(group):
            c.image = u8[r]
            self._put("img", nkey, c.rows, c.image.copy())
            if c.stats and group_stats:
                c.new_stats.update({k: v.take(r) for k, v in group_stats.items()})
            if c.feature_layer is None or c.feature_layer < s:
                continue
            if n == 1:
                assert cap is not None and cap.features is not None  # the chain's own capture recorded its layer
                c.features = cap.features[0]
            elif r not in kept:
                assert cap is not None and cap.features is not None  # the group's common feature layer
                c.features = cap.features[r]
            else:
                cap1 = Capture(stats=False, feature_layer=c.feature_layer)
                synth.advance(c.feature_layer, kept[r], c.ws[:, c.feature_layer], ctx, cap1)
                assert cap1.features is not None
                c.features = cap1.features[0]

    def _result(self, req: RenderRequest, chain_of: dict) -> RenderResult:
        stats = None
        if req.stats:
            stats = {}
            for src in SOURCES:
                c = chain_of[src]
                per = dict(c.cached_stats)
                per.update(c.new_stats)
                stats[src] = {i: per[i] for i in range(self.num_ws)}
        features = None
        if req.feature_layer is not None:
            features = chain_of[req.feature_source].features.float().cpu().numpy()
        return RenderResult(
            req,
            chain_of["mix"].image,
            chain_of["a"].image,
            chain_of["b"].image,
            stats,
            features,
            device=str(self.device),
        )


def enlarge_preview(small: torch.Tensor, height: int, width: int, crop: tuple | None = None) -> np.ndarray:
    """A preview image [1, C, h, w] in [-1, 1] as a uint8 [H, W, C] picture of the full frame's size (and crop).

    Rounded to uint8 at its own size first (NVIDIA's rounding, `to_uint8`), then enlarged bilinearly in uint8
    on the CPU: at 1024 px enlarging in float32 and converting the result took ~40 ms of CPU per picture, more
    than computing an 8 px preview; this takes ~0.5 ms (measured on the 2-core development VM).
    """
    x = uint8_tensor(small).cpu()  # [1, C, h, w]
    x = x.contiguous(memory_format=torch.channels_last)  # the fast uint8 path works on NHWC
    big = torch.nn.functional.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    if crop is not None:
        t, b, l, r = crop
        big = big[:, :, t:b, l:r]
    return np.ascontiguousarray(big.permute(0, 2, 3, 1).numpy()[0])


def _take_state(state: tuple, r: int, clone: bool = False) -> tuple:
    """Image r of a batched state, as a batch of one."""
    return tuple(None if t is None else (t[r : r + 1].clone() if clone else t[r : r + 1]) for t in state)


def _cat_states(states: list) -> tuple:
    return tuple(None if parts[0] is None else torch.cat(parts) for parts in zip(*states))


def auto_cache_mb(G: StyleGenerator) -> float:
    """Room for CHAINS images' activations (A, B, the mix and recent drag positions) within [64, 1024] MB, and
    never less than A, B and the mix need together (MIN_CHAINS), up to a quarter of the machine's RAM.

    A growing cache makes every frame fault in fresh memory; a full one recycles evicted blocks. So the budget is
    no larger than it needs to be (docs/performance.md#filling-the-cache). Below three images, a render that
    needs A, B and the mix evicts one of them and computes it again from the constant on the next change.
    """
    chain = G.state_nbytes() / 2**20
    mb = max(64.0, min(float(DEFAULT_CACHE_MB), CHAINS * chain))
    need = 1.05 * MIN_CHAINS * chain  # and the images and statistics beside them
    if mb < need:
        ram = physical_memory()
        mb = need if ram is None else max(mb, min(need, ram / 4 / 2**20))
    return float(mb)


def _shared_prefix(c: _Chain, others: Iterable[_Chain]) -> int:
    """How many leading ws rows chain c has in common with any of `others`."""
    best = 0
    for o in others:
        n = 0
        while n < len(c.rows) and c.rows[n] == o.rows[n]:
            n += 1
        best = max(best, n)
    return best


def _common_feature(group: list[_Chain]) -> int | None:
    layers = {c.feature_layer for c in group if c.feature_layer is not None}
    return layers.pop() if len(layers) == 1 else None


__all__ = ["SOURCES", "LayerStats", "RenderRequest", "RenderResult", "Renderer", "visually_identical"]
