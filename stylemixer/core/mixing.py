"""The mix recipe: a frozen description of one style-mixed image, and the pure function recipe -> ws.

weights[k] in [0, 1] says how much of B's w feeds w index k: 0 = A's w, 1 = B's w, between = linear
interpolation of w (not of the styles). Truncation is applied to each seed's ws before mixing.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

import torch

from .errors import RecipeError
from .latents import MAX_SEED
from .layers import GROUPS, layer_table
from .networks import NOISE_MODES

RECIPE_FORMAT = "stylemixer.recipe"
RECIPE_VERSION = 1
BUILTIN_MODEL = "builtin"


@dataclass(frozen=True)
class Recipe:
    weights: tuple              # one float in [0, 1] per w index
    seed_a: int = 0
    seed_b: int = 1
    model: str = BUILTIN_MODEL  # "builtin" or a file path
    psi: float = 1.0            # truncation psi (1 = none)
    cutoff: int | None = None   # truncate w indices < cutoff; None = all
    noise_mode: str = "const"
    noise_seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "weights", tuple(self.weights))
        _validate(self)

    @classmethod
    def for_model(cls, num_ws: int, **kw) -> "Recipe":
        return cls(weights=(0.0,) * num_ws, **kw)

    def with_weight(self, index: int, value: float) -> "Recipe":
        w = list(self.weights)
        w[index] = float(value)
        return replace(self, weights=tuple(w))

    def with_weights(self, weights) -> "Recipe":
        return replace(self, weights=tuple(float(v) for v in weights))

    def swapped(self) -> "Recipe":
        """Swap A and B, keeping the picture: each weight becomes 1 - weight."""
        return replace(self, seed_a=self.seed_b, seed_b=self.seed_a, weights=tuple(1.0 - v for v in self.weights))

    def check_model(self, num_ws: int) -> "Recipe":
        if len(self.weights) != num_ws:
            raise RecipeError(f"weights: the recipe has {len(self.weights)} weights but the model has {num_ws} "
                              f"w indices")
        if self.cutoff is not None and self.cutoff > num_ws:
            raise RecipeError(f"cutoff: {self.cutoff} is larger than the model's {num_ws} w indices")
        return self

    def to_dict(self) -> dict:
        return {"format": RECIPE_FORMAT, "version": RECIPE_VERSION, "model": self.model,
                "seed_a": self.seed_a, "seed_b": self.seed_b, "weights": list(self.weights),
                "psi": self.psi, "cutoff": self.cutoff, "noise_mode": self.noise_mode, "noise_seed": self.noise_seed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d) -> "Recipe":
        if not isinstance(d, dict):
            raise RecipeError("recipe: expected a JSON object")
        d = dict(d)
        fmt = d.pop("format", RECIPE_FORMAT)
        if fmt != RECIPE_FORMAT:
            raise RecipeError(f"format: expected {RECIPE_FORMAT!r}, got {fmt!r}")
        version = d.pop("version", RECIPE_VERSION)
        if version != RECIPE_VERSION:
            raise RecipeError(f"version: this StyleMixer reads recipe version {RECIPE_VERSION}, got {version!r}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise RecipeError(f"{unknown[0]}: unknown recipe field")
        if "weights" not in d:
            raise RecipeError("weights: missing")
        if not isinstance(d["weights"], (list, tuple)):
            raise RecipeError("weights: expected a list of numbers")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RecipeError(f"recipe: not valid JSON ({e})") from None
        return cls.from_dict(d)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _validate(r: Recipe):
    if not r.weights:
        raise RecipeError("weights: must not be empty")
    for i, v in enumerate(r.weights):
        if not _is_num(v):
            raise RecipeError(f"weights[{i}]: expected a number, got {v!r}")
        if not 0.0 <= v <= 1.0:
            raise RecipeError(f"weights[{i}]: {v} is outside [0, 1]")
    object.__setattr__(r, "weights", tuple(float(v) for v in r.weights))
    for name in ("seed_a", "seed_b", "noise_seed"):
        v = getattr(r, name)
        if not _is_int(v):
            raise RecipeError(f"{name}: expected an integer, got {v!r}")
        if not 0 <= v <= MAX_SEED:
            raise RecipeError(f"{name}: must be between 0 and {MAX_SEED}, got {v}")
    if not isinstance(r.model, str) or not r.model:
        raise RecipeError(f"model: expected a non-empty string, got {r.model!r}")
    if not _is_num(r.psi):
        raise RecipeError(f"psi: expected a number, got {r.psi!r}")
    object.__setattr__(r, "psi", float(r.psi))
    if r.cutoff is not None and (not _is_int(r.cutoff) or r.cutoff < 0):
        raise RecipeError(f"cutoff: expected a non-negative integer or null, got {r.cutoff!r}")
    if r.noise_mode not in NOISE_MODES:
        raise RecipeError(f"noise_mode: expected one of {', '.join(NOISE_MODES)}, got {r.noise_mode!r}")


def mix_ws(ws_a: torch.Tensor, ws_b: torch.Tensor, weights) -> torch.Tensor:
    """[N, num_ws, w_dim] x2 -> mixed; weight 0 gives exactly A's row, 1 exactly B's row."""
    t = torch.as_tensor(list(weights), dtype=ws_a.dtype, device=ws_a.device)[None, :, None]
    return torch.lerp(ws_a, ws_b, t)


def parse_mix_spec(spec: str, cfg) -> tuple:
    """'coarse=A,middle=B,fine=0.5' or '0-3=0,4-9=0.5' -> weights tuple (unlisted indices stay A)."""
    table = layer_table(cfg)
    weights = [0.0] * len(table)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise RecipeError(f"mix: {part!r} should look like coarse=B or 0-3=0.5")
        key, val = (s.strip() for s in part.split("=", 1))
        v = {"A": 0.0, "a": 0.0, "B": 1.0, "b": 1.0}.get(val)
        if v is None:
            try:
                v = float(val)
            except ValueError:
                raise RecipeError(f"mix: value {val!r} must be A, B or a number in [0, 1]") from None
        if not 0.0 <= v <= 1.0:
            raise RecipeError(f"mix: value {val!r} is outside [0, 1]")
        if key in GROUPS:
            idx = [l.index for l in table if l.group == key]
        elif key == "all":
            idx = list(range(len(table)))
        else:
            try:
                lo, _, hi = key.partition("-")
                lo, hi = int(lo), int(hi or lo)
            except ValueError:
                raise RecipeError(f"mix: {key!r} is not coarse, middle, fine, all, an index or a range") from None
            if not 0 <= lo <= hi < len(table):
                raise RecipeError(f"mix: index range {key!r} is outside 0-{len(table) - 1}")
            idx = range(lo, hi + 1)
        for i in idx:
            weights[i] = v
    return tuple(weights)


def split_mix_spec(spec: str) -> list:
    """Check the syntax of a --mix spec without a model: [(key, weight)], where key is a group name, 'all',
    or (lo, hi) w indices. Whether indices exist is checked against the model by `parse_mix_spec`."""
    items = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise RecipeError(f"mix: {part!r} should look like coarse=B or 0-3=0.5")
        key, val = (s.strip() for s in part.split("=", 1))
        v = {"A": 0.0, "a": 0.0, "B": 1.0, "b": 1.0}.get(val)
        if v is None:
            try:
                v = float(val)
            except ValueError:
                raise RecipeError(f"mix: value {val!r} must be A, B or a number in [0, 1]") from None
        if not 0.0 <= v <= 1.0:
            raise RecipeError(f"mix: value {val!r} is outside [0, 1]")
        if key in GROUPS or key == "all":
            items.append((key, v))
            continue
        try:
            lo, _, hi = key.partition("-")
            lo, hi = int(lo), int(hi or lo)
        except ValueError:
            raise RecipeError(f"mix: {key!r} is not coarse, middle, fine, all, an index or a range") from None
        if not 0 <= lo <= hi:
            raise RecipeError(f"mix: index range {key!r} is empty or negative")
        items.append(((lo, hi), v))
    return items
