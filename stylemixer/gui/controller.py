"""The controller: the current recipe, its undo/redo history, and the render requests made from it.

No widgets here. Widgets call the edit methods; the controller emits `recipe_changed` and the window
turns that into a request for the worker. A slider drag is one undo step: between `begin_gesture()` and
`end_gesture()` every change replaces the recipe but only the state before the first change is pushed.
"""
from __future__ import annotations

import random
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from ..core.families import GROUPS
from ..core.mixing import LatentSource, Recipe, seed_source
from ..core.render import SOURCES, RenderRequest

UNDO_LIMIT = 500
_UNSET = object()


class Controller(QObject):
    recipe_changed = Signal(object)      # Recipe
    history_changed = Signal(bool, bool)  # can undo, can redo
    capture_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None            # ModelInfo of the loaded model, None before the first load
        self.recipe: Recipe | None = None
        self._undo: list[Recipe] = []
        self._redo: list[Recipe] = []
        self._gesture_open = False
        self._gesture_pushed = False
        self._next_id = 1
        self.capture_stats = False
        self.feature_layer: int | None = None
        self.feature_source = "mix"

    # ---- model ---------------------------------------------------------------------------------------
    def set_model(self, info, recipe: Recipe | None = None):
        """A newly loaded model. Keep the seeds (and noise settings) of the old recipe when no recipe is
        given; the history refers to the previous model's w indices, so it starts afresh."""
        self.model = info
        if recipe is None:
            old = self.recipe
            cfg = info.cfg
            kw = dict(psi=cfg.truncation_psi, cutoff=cfg.truncation_cutoff)
            if old is not None:
                kw.update(seed_a=old.seed_a, seed_b=old.seed_b, noise_mode=old.noise_mode, noise_seed=old.noise_seed)
            recipe = Recipe.for_model(info.num_ws, model=info.source, **kw)
        else:
            recipe = replace(recipe, model=info.source).check_model(info.num_ws)
        if self.feature_layer is not None and self.feature_layer >= info.num_ws:
            self.feature_layer = None
        self._undo.clear()
        self._redo.clear()
        self.recipe = recipe
        self.recipe_changed.emit(recipe)
        self._history()

    # ---- edits ---------------------------------------------------------------------------------------
    def apply(self, recipe: Recipe):
        """Make `recipe` current as one undo step (or part of the open gesture)."""
        if self.recipe is None or recipe == self.recipe:
            return
        recipe.check_model(self.model.num_ws)
        if not (self._gesture_open and self._gesture_pushed):
            self._undo.append(self.recipe)
            del self._undo[:-UNDO_LIMIT]
            self._gesture_pushed = self._gesture_open
        self._redo.clear()
        self.recipe = recipe
        self.recipe_changed.emit(recipe)
        self._history()

    def begin_gesture(self):
        self._gesture_open = True
        self._gesture_pushed = False

    def end_gesture(self):
        self._gesture_open = False
        self._gesture_pushed = False

    def set_weight(self, index: int, value: float):
        self._edit(lambda r: r.with_weight(index, min(1.0, max(0.0, float(value)))))

    def set_weights(self, weights):
        self._edit(lambda r: r.with_weights(weights))

    def set_seed(self, which: str, seed: int):
        """A or B becomes this integer seed (leaving a fractional seed or a latent)."""
        self._edit(lambda r: r.with_source(which, int(seed)))

    def set_seed_value(self, which: str, value: float):
        """A continuous seed: 3.25 interpolates w a quarter of the way from seed 3's to seed 4's."""
        self._edit(lambda r: r.with_source(which, seed_source(max(0.0, float(value)))))

    def set_latent(self, which: str, latent):
        """A or B comes from a loaded latent (mixing.Latent); None goes back to the seed."""
        if latent is None:
            self._edit(lambda r: replace(r, **{f"latent_{which.lower()}": None}))
        else:
            self._edit(lambda r: r.with_source(which, LatentSource(latent)))

    def random_seeds(self, which: str = "ab", rng=random):
        """New random seeds for A, B or both (kept within what a spin box shows)."""
        seeds = {w: rng.randrange(0, 2**31 - 1) for w in which.lower()}

        def edit(r):
            for w, seed in seeds.items():
                r = r.with_source(w, seed)
            return r
        self._edit(edit)

    def set_truncation(self, psi=_UNSET, cutoff=_UNSET):
        kw = {}
        if psi is not _UNSET:
            kw["psi"] = float(psi)
        if cutoff is not _UNSET:
            kw["cutoff"] = cutoff
        self._edit(lambda r: replace(r, **kw))

    def set_noise(self, mode=_UNSET, seed=_UNSET):
        kw = {}
        if mode is not _UNSET:
            kw["noise_mode"] = mode
        if seed is not _UNSET:
            kw["noise_seed"] = int(seed)
        self._edit(lambda r: replace(r, **kw))

    def preset(self, name: str):
        """'all_a', 'all_b', 'coarse' / 'middle' / 'fine' (that group from B, the rest from A) or 'swap'."""
        if self.recipe is None:
            return
        if name == "swap":
            self.apply(self.recipe.swapped())
            return
        n = self.model.num_ws
        if name == "all_a":
            w = [0.0] * n
        elif name == "all_b":
            w = [1.0] * n
        elif name in GROUPS:
            w = [1.0 if l.group == name else 0.0 for l in self.model.layers]
        else:
            raise ValueError(f"unknown preset {name!r}")
        self.set_weights(w)

    def _edit(self, fn):
        if self.recipe is not None:
            self.apply(fn(self.recipe))

    # ---- history -------------------------------------------------------------------------------------
    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self):
        self.end_gesture()
        if self._undo:
            self._redo.append(self.recipe)
            self.recipe = self._undo.pop()
            self.recipe_changed.emit(self.recipe)
            self._history()

    def redo(self):
        self.end_gesture()
        if self._redo:
            self._undo.append(self.recipe)
            self.recipe = self._redo.pop()
            self.recipe_changed.emit(self.recipe)
            self._history()

    def _history(self):
        self.history_changed.emit(self.can_undo(), self.can_redo())

    # ---- requests ------------------------------------------------------------------------------------
    def set_capture(self, stats=_UNSET, feature_layer=_UNSET, feature_source=_UNSET):
        """What every following render also returns (for the statistics panels). Arguments left out keep
        their value; a change triggers a fresh render through `capture_changed`."""
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

    def make_request(self) -> RenderRequest:
        """A snapshot of the current recipe and capture settings, with a fresh, increasing id."""
        req = RenderRequest(self.recipe, stats=self.capture_stats, feature_layer=self.feature_layer,
                            feature_source=self.feature_source, id=self._next_id)
        self._next_id += 1
        return req

    @property
    def last_request_id(self) -> int:
        return self._next_id - 1
