"""A mixing session without Qt: the recipe and its undo history, the selected layer, and the render flow control.

The desktop window is a view of one Session: widgets call its edit methods, and its events update the widgets.
Everything that decides *what* is rendered *when* lives here, so it can be tested without a window:

- **Recipe and history.** Every edit is one undo step; between `begin_gesture()` and `end_gesture()` (a slider
  drag) only the state before the first change is pushed. The history starts afresh with each model.
- **Selection.** One selected w index, which the statistics follow; moving a layer's weight selects that layer.
- **Flow control** (the newest state wins). A change is sent to the executor at once (leading edge); while that
  request renders, later changes only mark the state dirty, and the newest state is sent when the result comes
  back (trailing flush). So at most one request is in flight, the render rate follows what the executor keeps up
  with, nothing stale is computed, and the last result shown is always the last state.
- **Results.** A result is shown only if it is newer than the one shown and made for the current model.

The executor is pluggable: anything with `submit(request)` that later calls `finished(result)` or
`failed(request_id, message)` on the session's thread. The desktop app's render worker thread is one;
`InlineExecutor` (render at once, in the caller's thread) serves scripts and tests.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

from .latents import MAX_SEED
from .mixing import Latent, LatentSource, Recipe, seed_source
from .render import Renderer, RenderRequest, RenderResult
from .stats import SOURCES

UNDO_LIMIT = 500
STREAM_GAP_S = 0.5  # results further apart than this are separate interactions, not one frame rate
FPS_SAMPLES = 30
_UNSET = object()


class ModelInfoLike(Protocol):
    """What the session reads of a loaded model (the GUI's ModelInfo; the generator itself stays elsewhere)."""

    @property
    def source(self) -> str: ...  # "builtin" or the file's path, as recipes record it
    @property
    def cfg(self) -> Any: ...  # the family's config: truncation defaults
    @property
    def layers(self) -> tuple: ...  # LayerInfo per w index
    @property
    def num_ws(self) -> int: ...


class Event:
    """A list of callbacks: what a Qt signal is, without Qt. The window connects widgets; tests connect lists."""

    def __init__(self) -> None:
        self._callbacks: list[Callable] = []

    def connect(self, fn: Callable) -> Callable:
        self._callbacks.append(fn)
        return fn

    def disconnect(self, fn: Callable | None = None) -> None:
        self._callbacks = [] if fn is None else [f for f in self._callbacks if f is not fn]

    def emit(self, *args: Any) -> None:
        for fn in list(self._callbacks):
            fn(*args)


class Executor(Protocol):
    def submit(self, request: RenderRequest) -> None:
        """Start rendering `request` (replacing any request not yet started); answer through the session."""


class InlineExecutor:
    """Renders each request at once, in the calling thread, and answers the session before `submit` returns."""

    def __init__(self, renderer: Renderer, session: "Session | None" = None) -> None:
        self.renderer = renderer
        self.session = session
        self.renders_done = 0

    def bind(self, session: "Session") -> None:
        self.session = session

    def submit(self, request: RenderRequest) -> None:
        if self.session is None:
            raise RuntimeError("InlineExecutor has no session to answer (Session(executor) binds it)")
        try:
            result = self.renderer.render(request)
        except Exception as e:  # what a worker thread would report
            self.session.failed(request.id, f"{type(e).__name__}: {e}")
            return
        self.renders_done += 1
        self.session.finished(result)


class FrameRate:
    """Pictures per second of the current burst of results (a pause ends a burst), None until there are five."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.times: deque = deque()

    def add(self) -> float | None:
        now = self.clock()
        if self.times and now - self.times[-1] > STREAM_GAP_S:
            self.times.clear()
        self.times.append(now)
        while len(self.times) > FPS_SAMPLES:
            self.times.popleft()
        span = now - self.times[0]
        return (len(self.times) - 1) / span if len(self.times) >= 5 and span > 0 else None


def from_cache(result: RenderResult) -> bool:
    """True when every image of the result came from the renderer's cache (nothing was computed)."""
    start = (result.info or {}).get("start")
    if not start:
        return False
    num_ws = len(result.request.recipe.weights)
    return all(s >= num_ws for s in start.values())


def frame_time_text(result: RenderResult) -> str:
    """'cached' for a frame served from the cache, else its render time ('0.4 ms', '12 ms', '1.3 s')."""
    if from_cache(result):
        return "cached"
    ms = result.ms
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


PREVIEW_MIN_MS = 40.0  # full frames faster than this are shown whole even while dragging
PREVIEW_TARGET_MS = 50.0  # a preview should take at most this (>= 20 pictures per second)


class Session:
    """The state of one mixing session and the flow of its render requests (see the module docstring).

    Events (connect callbacks): recipe_changed(recipe), history_changed(can_undo, can_redo),
    selection_changed(index), capture_changed(), request_sent(request), rendering_changed(bool),
    result_ready(result) for every fresh result in order, render_failed(request_id, message).
    """

    def __init__(self, executor: Executor | None = None, rng: Any = random) -> None:
        self.executor = executor
        bind = getattr(executor, "bind", None)
        if callable(bind):  # an executor that answers the session directly (InlineExecutor) learns which one
            bind(self)
        self.rng = rng
        self.model: ModelInfoLike | None = None  # the loaded model's description
        self.recipe: Recipe | None = None
        self.selected: int | None = None
        self.capture_stats = False
        self.feature_layer: int | None = None
        self.feature_source = "mix"
        self._undo: list[Recipe] = []
        self._redo: list[Recipe] = []
        self._gesture_open = False
        self._gesture_pushed = False
        # progressive preview: while a drag is open on a model whose full frame is slow, ask for a smaller picture
        self.preview_min_ms = PREVIEW_MIN_MS
        self.preview_target_ms = PREVIEW_TARGET_MS
        self.full_ms: float | None = None  # how long one image from scratch takes (from the last full frame)
        # measured / estimated time of the previews shown, per size: a preview's small layers run at a lower
        # rate than the whole image's average (about half at 1024 px), so its share of the FLOPs underestimates it
        self.preview_slowdown: dict[int, float] = {}
        # flow control
        self._next_id = 1
        self._in_flight: int | None = None  # id of the request sent and not yet answered
        self._dirty = False  # the state changed while a request was in flight
        self._accept_from = 0  # results of older requests were made for a previous model
        self._shown_id = 0
        self._rendering = False
        self.closed = False
        self.last_result: RenderResult | None = None
        self.results_shown = 0
        self.results_dropped = 0

        self.recipe_changed = Event()
        self.history_changed = Event()
        self.selection_changed = Event()
        self.capture_changed = Event()
        self.request_sent = Event()
        self.rendering_changed = Event()
        self.result_ready = Event()
        self.render_failed = Event()

    # ---- model ---------------------------------------------------------------------------------------
    def set_model(self, info: ModelInfoLike, recipe: Recipe | None = None) -> None:
        """A newly loaded model. Without a recipe, keep the seeds and noise of the old one with the model's own
        truncation. The history refers to the previous model's w indices, so it starts afresh. Raises
        RecipeError (and changes nothing) if `recipe` does not fit the model."""
        if recipe is None:
            old = self.recipe
            cfg = info.cfg
            kw = dict(psi=cfg.truncation_psi, cutoff=cfg.truncation_cutoff)
            if old is not None:
                kw.update(seed_a=old.seed_a, seed_b=old.seed_b, noise_mode=old.noise_mode, noise_seed=old.noise_seed)
            recipe = Recipe.for_model(info.num_ws, model=info.source, **kw)
        else:
            recipe = replace(recipe, model=info.source).check_model(info.num_ws)
        self.model = info
        self.preview_slowdown = {}
        # The executor dropped whatever it held for the previous model: nothing in flight answers any more.
        self._accept_from = self._next_id
        self._in_flight = None
        self._dirty = False
        if self.feature_layer is not None and self.feature_layer >= info.num_ws:
            self.feature_layer = None
        self._undo.clear()
        self._redo.clear()
        self.end_gesture()
        self.recipe = recipe
        self.recipe_changed.emit(recipe)
        self._history()
        # the layer shown stays if the new model has it; announced again either way (the rows are new)
        keep = self.selected if self.selected is not None and self.selected < info.num_ws else 0
        self.selected = None
        self.select(keep)
        self.request_render()
        self._sync_rendering()

    @property
    def num_ws(self) -> int:
        return self.model.num_ws if self.model is not None else 0

    # ---- edits ---------------------------------------------------------------------------------------
    def apply(self, recipe: Recipe) -> None:
        """Make `recipe` current as one undo step (or part of the open gesture)."""
        if self.recipe is None or recipe == self.recipe:
            return
        recipe.check_model(self.num_ws)  # a recipe implies a model
        if not (self._gesture_open and self._gesture_pushed):
            self._undo.append(self.recipe)
            del self._undo[:-UNDO_LIMIT]
            self._gesture_pushed = self._gesture_open
        self._redo.clear()
        self._set_recipe(recipe)

    def begin_gesture(self) -> None:
        """The changes until `end_gesture()` are one undo step (a slider drag)."""
        self._gesture_open = True
        self._gesture_pushed = False

    def end_gesture(self) -> None:
        self._gesture_open = False
        self._gesture_pushed = False
        if self.last_result is not None and self.last_result.info.get("preview") is not None:
            self.request_render()  # the input rests: the full frame (the export and statistics use it)

    def preview_resolution(self) -> int | None:
        """The preview size for the next request: the largest the model offers whose estimated time keeps a drag
        at >= 1000 / preview_target_ms pictures per second, while a gesture is open and full frames are slower
        than preview_min_ms; otherwise None (the full frame)."""
        costs = getattr(self.model, "preview_costs", ()) if self.model is not None else ()
        if not (self._gesture_open and costs and self.full_ms is not None and self.full_ms > self.preview_min_ms):
            return None
        slow = self.preview_slowdown
        fits = [res for res, share in costs if share * self.full_ms * slow.get(res, 1.0) <= self.preview_target_ms]
        return max(fits) if fits else min(res for res, _ in costs)

    def set_weight(self, index: int, value: float) -> None:
        """Move one w index towards A (0) or B (1); that layer becomes the selected one."""
        if self.recipe is None:
            return
        self.select(index)
        self._edit(lambda r: r.with_weight(index, min(1.0, max(0.0, float(value)))))

    def set_weights(self, weights: Iterable[float]) -> None:
        self._edit(lambda r: r.with_weights(weights))

    def set_seed(self, which: str, seed: int) -> None:
        """A or B becomes this integer seed (leaving a fractional seed or a latent)."""
        self._edit(lambda r: r.with_source(which, int(seed)))

    def set_seed_value(self, which: str, value: float) -> None:
        """A continuous seed: 3.25 interpolates w a quarter of the way from seed 3's to seed 4's."""
        self._edit(lambda r: r.with_source(which, seed_source(max(0.0, float(value)), f"seed_{which.lower()}")))

    def set_latent(self, which: str, latent: Latent | None) -> None:
        """A or B comes from a loaded latent (mixing.Latent); None goes back to the seed."""
        if latent is None:
            no_latent: dict[str, Any] = {f"latent_{which.lower()}": None}
            self._edit(lambda r: replace(r, **no_latent))
        else:
            self._edit(lambda r: r.with_source(which, LatentSource(latent)))

    def set_option(self, name: str, value: float) -> None:
        """A per-image synthesis control (e.g. StyleGAN3's input rotation), recorded in the recipe."""
        self._edit(lambda r: r.with_option(name, value))

    def reset_options(self) -> None:
        self._edit(lambda r: replace(r, options=()))

    def random_seeds(self, which: str = "ab") -> None:
        """New random seeds for A, B or both, from the whole seed range."""
        seeds = {w: self.rng.randrange(0, MAX_SEED + 1) for w in which.lower()}

        def edit(r: Recipe) -> Recipe:
            for w, seed in seeds.items():
                r = r.with_source(w, seed)
            return r

        self._edit(edit)

    def set_truncation(self, psi: Any = _UNSET, cutoff: Any = _UNSET) -> None:
        kw: dict[str, Any] = {}
        if psi is not _UNSET:
            kw["psi"] = float(psi)
        if cutoff is not _UNSET:
            kw["cutoff"] = cutoff
        self._edit(lambda r: replace(r, **kw))

    def set_noise(self, mode: Any = _UNSET, seed: Any = _UNSET) -> None:
        kw: dict[str, Any] = {}
        if mode is not _UNSET:
            kw["noise_mode"] = mode
        if seed is not _UNSET:
            kw["noise_seed"] = int(seed)
        self._edit(lambda r: replace(r, **kw))

    def preset(self, name: str) -> None:
        """'all_a', 'all_b', a group name ('coarse', 'middle', 'fine': that group from B, the rest from A), or
        'swap' (A and B trade seeds, the picture stays)."""
        if self.recipe is None or self.model is None:
            return
        if name == "swap":
            self.apply(self.recipe.swapped())
            return
        layers = self.model.layers
        if name == "all_a":
            w = [0.0] * len(layers)
        elif name == "all_b":
            w = [1.0] * len(layers)
        elif name in {l.group for l in layers} or name in ("coarse", "middle", "fine"):
            w = [1.0 if l.group == name else 0.0 for l in layers]
        else:
            raise ValueError(f"unknown preset {name!r}")
        self.set_weights(w)

    def _edit(self, fn: Callable[[Recipe], Recipe]) -> None:
        if self.recipe is not None:
            self.apply(fn(self.recipe))

    def _set_recipe(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.recipe_changed.emit(recipe)
        self._history()
        self.request_render()

    # ---- history -------------------------------------------------------------------------------------
    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        self.end_gesture()
        if self._undo and self.recipe is not None:
            self._redo.append(self.recipe)
            self._set_recipe(self._undo.pop())

    def redo(self) -> None:
        self.end_gesture()
        if self._redo and self.recipe is not None:
            self._undo.append(self.recipe)
            self._set_recipe(self._redo.pop())

    def _history(self) -> None:
        self.history_changed.emit(self.can_undo(), self.can_redo())

    # ---- selection and capture -----------------------------------------------------------------------
    def select(self, index: int | None) -> None:
        """The w index the statistics and feature maps show."""
        if index is not None:
            index = int(index)
            if self.model is not None and not 0 <= index < self.model.num_ws:
                raise ValueError(f"w index {index} is outside 0-{self.model.num_ws - 1}")
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit(index)

    def set_capture(self, stats: Any = _UNSET, feature_layer: Any = _UNSET, feature_source: Any = _UNSET) -> None:
        """What every following render also returns (statistics, one layer's feature maps). Arguments left out
        keep their value; a change asks for a fresh render."""
        if feature_source is not _UNSET and feature_source not in SOURCES:
            raise ValueError(f"feature_source must be one of {SOURCES}, got {feature_source!r}")
        if feature_layer is not _UNSET and feature_layer is not None:
            feature_layer = int(feature_layer)
            if self.model is not None and not 0 <= feature_layer < self.model.num_ws:
                raise ValueError(f"feature_layer {feature_layer} is outside 0-{self.model.num_ws - 1}")
        before = (self.capture_stats, self.feature_layer, self.feature_source)
        if stats is not _UNSET:
            self.capture_stats = bool(stats)
        if feature_layer is not _UNSET:
            self.feature_layer = feature_layer
        if feature_source is not _UNSET:
            self.feature_source = feature_source
        if (self.capture_stats, self.feature_layer, self.feature_source) != before:
            self.capture_changed.emit()
            self.request_render()

    # ---- flow control --------------------------------------------------------------------------------
    def make_request(self) -> RenderRequest:
        """A snapshot of the current recipe and capture settings, with a fresh, increasing id."""
        if self.recipe is None:
            raise ValueError("there is nothing to render before a model is set")
        req = RenderRequest(
            self.recipe,
            stats=self.capture_stats,
            feature_layer=self.feature_layer,
            feature_source=self.feature_source,
            preview=self.preview_resolution(),
            id=self._next_id,
        )
        self._next_id += 1
        return req

    @property
    def last_request_id(self) -> int:
        return self._next_id - 1

    def request_render(self) -> None:
        """The state changed (or the device did): render it, now or when the request in flight comes back."""
        if self.model is None or self.recipe is None or self.closed or self.executor is None:
            return
        if self._in_flight is not None:
            self._dirty = True
            return
        self._submit()
        self._sync_rendering()

    def _submit(self) -> None:
        self._dirty = False
        req = self.make_request()
        self._in_flight = req.id  # before submitting: an inline executor answers inside submit()
        self.request_sent.emit(req)
        assert self.executor is not None  # request_render checked
        self.executor.submit(req)

    def _request_done(self, rid: int) -> None:
        """A result or failure for request `rid` arrived; send the newest state if it changed meanwhile."""
        if self._in_flight is not None and rid >= self._in_flight:
            self._in_flight = None
            if self._dirty and not self.closed:
                self._submit()
            self._sync_rendering()

    def request_dropped(self) -> None:
        """The executor dropped the request in flight without answering (it was superseded inside it)."""
        if self._in_flight is not None:
            self._request_done(self._in_flight)

    def finished(self, result: RenderResult) -> bool:
        """A result from the executor. Returns whether it is shown (it is dropped when stale)."""
        rid = result.request.id
        self._request_done(rid)  # first, so the executor renders the next state while this one is drawn
        if self.closed or rid < self._accept_from or rid <= self._shown_id:
            self.results_dropped += 1
            return False
        self._shown_id = rid
        self.last_result = result
        self._learn_preview_pace(result)
        if result.info.get("preview") is None and not from_cache(result):
            # One image from scratch, as the renderer estimates it from this render's pace (a render resuming at
            # the last w index is no measure of it); a result that does not say (another executor) is taken as one.
            info = result.info
            self.full_ms = info.get("frame_ms", self.full_ms) if "work" in info else result.ms
        self.results_shown += 1
        self.result_ready.emit(result)
        return True

    def _learn_preview_pace(self, result: RenderResult) -> None:
        """Keep how much slower than its FLOP share a preview of each size was (averaged over the last few)."""
        res = result.info.get("preview")
        costs = dict(getattr(self.model, "preview_costs", ()) or ())
        if res is None or res not in costs or not self.full_ms or result.info.get("work", 1.0) <= 0:
            return  # not a preview, or one that computed nothing (every state cached): no measure of its pace
        ratio = result.ms / max(costs[res] * self.full_ms, 1e-3)
        old = self.preview_slowdown.get(res)
        self.preview_slowdown[res] = ratio if old is None else 0.5 * old + 0.5 * ratio

    def failed(self, rid: int, message: str) -> None:
        self._request_done(rid)
        if rid >= self._accept_from and not self.closed:
            self.render_failed.emit(rid, message)

    @property
    def rendering(self) -> bool:
        """A request is in flight."""
        return self._in_flight is not None

    def is_idle(self) -> bool:
        """Nothing in flight and nothing waiting to be sent: the last result shown is the current state."""
        return self._in_flight is None and not self._dirty

    def _sync_rendering(self) -> None:
        now = self._in_flight is not None
        if now != self._rendering:
            self._rendering = now
            self.rendering_changed.emit(now)

    def close(self) -> None:
        """No more requests; results still arriving are dropped."""
        self.closed = True
        self._dirty = False
