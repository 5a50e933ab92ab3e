"""The mix recipe: a frozen description of one style-mixed image, and the pure function recipe -> ws.

weights[k] in [0, 1] says how much of B's w feeds w index k: 0 = A's w, 1 = B's w, between = linear
interpolation of w (not of the styles). Truncation is applied to each seed's ws before mixing.

Where A's and B's ws come from is a *source* (`Recipe.source("a")`): a seed, a fractional seed (w interpolated
between the neighbouring integer seeds, as NVIDIA's visualizer does), or a latent loaded from a file and carried
inside the recipe itself. A source has a hashable `key` that identifies its ws for the renderer's caches and
`ws(G, psi, cutoff, device)` that produces them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .errors import RecipeError, describe, printable
from .families import GROUPS, NOISE_MODES
from .latents import MAX_SEED, ws_from_seed
from .limits import MAX_CUTOFF, MAX_NUM_WS, MAX_PSI

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .families.api import Control, LayerInfo, StyleGenerator

RECIPE_FORMAT = "stylemixer.recipe"
RECIPE_VERSION = 1
BUILTIN_MODEL = "builtin"
LATENT_MAX_VALUES = 64 * 4096  # num_ws x w_dim of any real StyleGAN is far below this (18 x 512 = 9216)


@dataclass(frozen=True, eq=False)
class Latent:
    """A named W ([w_dim]) or W+ ([num_ws, w_dim]) latent, carried inside a recipe as float32 bytes.

    Stored exactly (base64 of the little-endian float32 values in JSON), so a PNG re-renders without the file
    the latent came from. Compared and hashed by its values (a digest), not its name.
    """

    name: str
    shape: tuple  # (w_dim,) or (num_ws, w_dim)
    data: bytes  # float32 little-endian, row-major
    digest: str = field(init=False, repr=False)  # sha256 of shape and data, set in __post_init__

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(v) for v in self.shape))
        if not isinstance(self.name, str):
            raise RecipeError(f"latent name: expected a string, got {self.name!r}")
        if len(self.shape) not in (1, 2) or min(self.shape) < 1:
            raise RecipeError(f"latent shape: expected [w_dim] or [num_ws, w_dim], got {list(self.shape)}")
        n = math.prod(self.shape)
        if n > LATENT_MAX_VALUES:
            raise RecipeError(f"latent shape: {list(self.shape)} is larger than any StyleGAN latent")
        if not isinstance(self.data, bytes) or len(self.data) != 4 * n:
            raise RecipeError(f"latent data: expected {4 * n} bytes of float32 for shape {list(self.shape)}")
        if not np.isfinite(self.array()).all():
            raise RecipeError("latent data: contains NaN or infinity")
        object.__setattr__(self, "digest", hashlib.sha256(repr(self.shape).encode() + self.data).hexdigest())

    @classmethod
    def from_array(cls, name: str, arr: ArrayLike) -> "Latent":
        a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
        return cls(name, a.shape, a.tobytes())

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype="<f4").reshape(self.shape).astype(np.float32)

    @property
    def kind(self) -> str:
        return "W" if len(self.shape) == 1 else "W+"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Latent) and self.digest == other.digest and self.name == other.name

    def __hash__(self) -> int:
        return hash((self.digest, self.name))

    def __repr__(self) -> str:
        return f"Latent({self.name!r}, {self.kind} {list(self.shape)}, {self.digest[:12]})"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": "float32",
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, d: object, field_name: str = "latent") -> "Latent":
        if not isinstance(d, dict) or set(d) != {"name", "shape", "dtype", "data"}:
            raise RecipeError(f"{field_name}: expected an object with name, shape, dtype and data")
        if d["dtype"] != "float32":
            raise RecipeError(f"{field_name}: dtype must be float32, got {d['dtype']!r}")
        shape = d["shape"]
        if not isinstance(shape, list) or not all(_is_int(v) for v in shape):
            raise RecipeError(f"{field_name}: shape must be a list of integers")
        if not isinstance(d["data"], str):
            raise RecipeError(f"{field_name}: data must be base64 text")
        try:
            data = base64.b64decode(d["data"].encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise RecipeError(f"{field_name}: data is not valid base64") from None
        try:
            return cls(d["name"], tuple(shape), data)
        except RecipeError as e:
            raise RecipeError(f"{field_name}: {e}") from None

    def fit(self, num_ws: int, w_dim: int) -> np.ndarray:
        """float32 [num_ws, w_dim] for a model, or a RecipeError that names both shapes."""
        a = self.array()
        if a.shape == (w_dim,):
            return np.repeat(a[None], num_ws, axis=0)
        if a.shape == (num_ws, w_dim):
            return a
        raise RecipeError(
            f"latent {self.name!r} has shape {list(a.shape)} ({self.kind}), but this model takes "
            f"[{num_ws}, {w_dim}] (W+) or [{w_dim}] (W)"
        )


@dataclass(frozen=True)
class SeedSource:
    """An integer seed, or a fractional one: w = lerp(w(seed), w(seed + 1), frac), each truncated first.
    cls: the class of a conditional model (None: unconditional, or class 0 of a conditional one)."""

    seed: int
    frac: float = 0.0
    cls: int | None = None
    truncated = True  # the recipe's psi and cutoff apply

    @property
    def key(self) -> Hashable:
        base = self.seed if self.frac == 0 else ("seed", self.seed, self.frac)
        return base if self.cls is None else ("class", self.cls, base)

    @property
    def label(self) -> str:
        return f"seed {self.seed}" if self.frac == 0 else f"seed {self.seed + self.frac:.2f}"

    def ws(
        self,
        G: StyleGenerator,
        psi: float = 1.0,
        cutoff: int | None = None,
        device: torch.device | str | None = None,
        w_of_seed: Callable[[int], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """[1, num_ws, w_dim]. `w_of_seed(seed)` may serve the neighbouring integer seeds from a cache."""
        w0 = ws_from_seed(G, self.seed, psi, cutoff, device, class_index=self.cls)
        if self.frac == 0:
            return w0
        w1 = (w_of_seed or (lambda s: ws_from_seed(G, s, psi, cutoff, device, class_index=self.cls)))(self.seed + 1)
        return torch.lerp(w0, w1, float(self.frac))


@dataclass(frozen=True)
class LatentSource:
    """A loaded W or W+ latent, used as it is: truncation does not apply (it is already a w, e.g. a photo's
    projection, which truncation would pull away from the photo)."""

    latent: Latent
    truncated = False

    @property
    def key(self) -> Hashable:
        return ("latent", self.latent.digest)

    @property
    def label(self) -> str:
        return f"{self.latent.name} ({self.latent.kind})"

    def ws(
        self,
        G: StyleGenerator,
        psi: float = 1.0,
        cutoff: int | None = None,
        device: torch.device | str | None = None,
        w_of_seed: Callable[[int], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        device = device or next(G.parameters()).device
        return torch.from_numpy(self.latent.fit(G.num_ws, G.w_dim).copy())[None].to(device)


MAX_CLASS = 1_000_000  # class indices are one-hot positions; no real label set is larger
MAX_MODEL_PATH = 4096  # characters of the recorded model path


@dataclass(frozen=True)
class Recipe:
    weights: tuple  # one float in [0, 1] per w index
    seed_a: int = 0
    seed_b: int = 1
    model: str = BUILTIN_MODEL  # "builtin" or a file path
    psi: float = 1.0  # truncation psi (1 = none)
    cutoff: int | None = None  # truncate w indices < cutoff; None = all
    noise_mode: str = "const"
    noise_seed: int = 0
    options: tuple = ()  # per-image synthesis inputs a family offers, sorted (name, value) pairs,
    # e.g. StyleGAN3's input transform (("rotate", 10.0), ("translate_x", 0.1))
    # Optional sources (absent from the JSON while at their defaults, so older recipes read and write as before):
    frac_a: float = 0.0  # fractional part of A's seed, in [0, 1): A is seed_a + frac_a
    frac_b: float = 0.0
    latent_a: Latent | None = None  # when set, A's ws come from this latent instead of the seed
    latent_b: Latent | None = None
    class_a: int | None = None  # class of A and of B for conditional models (c_dim > 0); None for unconditional
    class_b: int | None = None  # ones (a conditional model then uses class 0, see latents.ws_from_seed)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", tuple(self.weights))
        if isinstance(self.options, dict):
            object.__setattr__(self, "options", tuple(sorted(self.options.items())))
        _validate(self)

    @classmethod
    def for_model(cls, num_ws: int, **kw: Any) -> "Recipe":
        return cls(weights=(0.0,) * num_ws, **kw)

    def with_weight(self, index: int, value: float) -> "Recipe":
        w = list(self.weights)
        w[index] = float(value)
        return replace(self, weights=tuple(w))

    def with_weights(self, weights: Iterable[float]) -> "Recipe":
        return replace(self, weights=tuple(float(v) for v in weights))

    def swapped(self) -> "Recipe":
        """Swap A and B, keeping the picture: each weight becomes 1 - weight."""
        return replace(
            self,
            seed_a=self.seed_b,
            seed_b=self.seed_a,
            frac_a=self.frac_b,
            frac_b=self.frac_a,
            latent_a=self.latent_b,
            latent_b=self.latent_a,
            class_a=self.class_b,
            class_b=self.class_a,
            weights=tuple(1.0 - v for v in self.weights),
        )

    def source(self, which: str) -> SeedSource | LatentSource:
        """A's or B's source: a LatentSource when a latent is set, else a SeedSource."""
        which = which.lower()
        latent = getattr(self, f"latent_{which}")
        if latent is not None:
            return LatentSource(latent)
        return SeedSource(
            getattr(self, f"seed_{which}"), getattr(self, f"frac_{which}"), getattr(self, f"class_{which}")
        )

    def with_source(self, which: str, source: SeedSource | LatentSource | int | float) -> "Recipe":
        """The recipe with A's or B's source replaced (a SeedSource, a LatentSource, an int or a float seed)."""
        which = which.lower()
        if isinstance(source, LatentSource):
            latent: dict[str, Any] = {f"latent_{which}": source.latent}
            return replace(self, **latent)
        if not isinstance(source, SeedSource):
            source = seed_source(source, f"seed_{which}")
        seed: dict[str, Any] = {
            f"seed_{which}": source.seed,
            f"frac_{which}": source.frac,
            f"class_{which}": getattr(self, f"class_{which}") if source.cls is None else source.cls,
            f"latent_{which}": None,
        }
        return replace(self, **seed)

    def synthesis_options(self) -> dict:
        """Per-image synthesis inputs other than noise, for the family's `context` (see `G.synthesis_controls`)."""
        return dict(self.options)

    def with_option(self, name: str, value: float) -> "Recipe":
        opts = dict(self.options)
        opts[name] = float(value)
        return replace(self, options=tuple(sorted(opts.items())))

    def check_controls(self, controls: Iterable[Control]) -> "Recipe":
        """Every option is one the model offers (`G.synthesis_controls`) and within its range."""
        by_key = {c.key: c for c in controls}
        for name, value in self.options:
            c = by_key.get(name)
            if c is None:
                offered = ", ".join(by_key) or "none"
                raise RecipeError(f"options: this model has no input control {name!r} (it offers {offered})")
            if not c.minimum <= value <= c.maximum:
                raise RecipeError(f"options.{name}: {value} is outside [{c.minimum}, {c.maximum}]")
        return self

    def check_model(self, num_ws: int, c_dim: int | None = None) -> "Recipe":
        """Refuse a recipe that does not fit the model; c_dim (when given) checks the classes."""
        if len(self.weights) != num_ws:
            raise RecipeError(
                f"weights: the recipe has {len(self.weights)} weights but the model has {num_ws} w indices"
            )
        # A cutoff at or above num_ws truncates every w index, as in NVIDIA's code (a 16 px model keeps the
        # official cutoff 8 and truncates all its 6 rows).
        if c_dim is not None:
            for name in ("class_a", "class_b"):
                v = getattr(self, name)
                if v is not None and c_dim == 0:
                    raise RecipeError(f"{name}: the model is unconditional (it has no classes)")
                if v is not None and v >= c_dim:
                    raise RecipeError(f"{name}: {v} is not a class of this model (0 to {c_dim - 1})")
        return self

    def to_dict(self) -> dict:
        d = {
            "format": RECIPE_FORMAT,
            "version": RECIPE_VERSION,
            "model": self.model,
            "seed_a": self.seed_a,
            "seed_b": self.seed_b,
            "weights": list(self.weights),
            "psi": self.psi,
            "cutoff": self.cutoff,
            "noise_mode": self.noise_mode,
            "noise_seed": self.noise_seed,
        }
        if self.options:  # omitted when empty, so recipes of models without input controls stay as they were
            d["options"] = dict(self.options)
        for k in ("frac_a", "frac_b"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        for k in ("latent_a", "latent_b"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k).to_dict()
        # Classes only when set: recipes of unconditional models stay exactly as before.
        for name in ("class_a", "class_b"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: object) -> "Recipe":
        # A recipe may leave out its format: recipes were written by hand before the field existed.
        d = document_fields(d, "recipe", RECIPE_FORMAT, RECIPE_VERSION, cls.__dataclass_fields__, format_required=False)
        if "weights" not in d:
            raise RecipeError("weights: missing")
        if not isinstance(d["weights"], (list, tuple)):
            raise RecipeError("weights: expected a list of numbers")
        if len(d["weights"]) > MAX_NUM_WS:
            raise RecipeError(f"weights: {len(d['weights'])} weights; a model has at most {MAX_NUM_WS} w indices")
        if "options" in d and not isinstance(d["options"], dict):
            raise RecipeError("options: expected an object of name: number")
        for k in ("latent_a", "latent_b"):
            if d.get(k) is not None and not isinstance(d[k], Latent):
                d[k] = Latent.from_dict(d[k], k)
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        return cls.from_dict(document_json(text, "recipe"))


def document_json(text: str | bytes, what: str, error: type[RecipeError] = RecipeError) -> object:
    """The parsed JSON of a StyleMixer document (a recipe, grid or sweep); `error` for any text that is not JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise error(f"{what}: not valid JSON (nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, integers beyond Python's digit limit
        raise error(f"{what}: not valid JSON ({printable(e, 120)})") from None


def document_fields(
    d: object,
    what: str,
    fmt: str,
    version: int,
    fields: Iterable[str],
    error: type[RecipeError] = RecipeError,
    format_required: bool = True,
) -> dict:
    """The fields of a StyleMixer JSON document (a recipe, grid or sweep), without its format and version, once
    those are `fmt` and `version` (a missing version is the current one) and no field is unknown."""
    if not isinstance(d, dict):
        raise error(f"{what}: expected a JSON object")
    d = dict(d)
    got = d.pop("format", None if format_required else fmt)
    if got != fmt:
        raise error(f"format: expected {fmt!r}, got {describe(got)}")
    got = d.pop("version", version)
    if got != version:
        raise error(f"version: this StyleMixer reads {what} version {version}, got {describe(got)}")
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise error(f"{printable(unknown[0], 60)}: unknown {what} field")
    return d


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _validate(r: Recipe) -> None:
    if not r.weights:
        raise RecipeError("weights: must not be empty")
    if len(r.weights) > MAX_NUM_WS:
        raise RecipeError(f"weights: {len(r.weights)} weights; a model has at most {MAX_NUM_WS} w indices")
    for i, v in enumerate(r.weights):
        if not _is_num(v):
            raise RecipeError(f"weights[{i}]: expected a number, got {describe(v)}")
        if not 0.0 <= v <= 1.0:
            raise RecipeError(f"weights[{i}]: {v} is outside [0, 1]")
    object.__setattr__(r, "weights", tuple(float(v) for v in r.weights))
    for name in ("seed_a", "seed_b", "noise_seed"):
        v = getattr(r, name)
        if not _is_int(v):
            raise RecipeError(f"{name}: expected an integer, got {describe(v)}")
        if not 0 <= v <= MAX_SEED:
            raise RecipeError(f"{name}: must be between 0 and {MAX_SEED}, got {describe(v)}")
    if not isinstance(r.model, str) or not r.model:
        raise RecipeError(f"model: expected a non-empty string, got {describe(r.model)}")
    if len(r.model) > MAX_MODEL_PATH or "\0" in r.model:
        raise RecipeError(f"model: not a usable file path ({describe(r.model)})")
    if not _is_num(r.psi) or abs(r.psi) > MAX_PSI:
        raise RecipeError(f"psi: expected a number within +-{MAX_PSI:g}, got {describe(r.psi)}")
    object.__setattr__(r, "psi", float(r.psi))
    if r.cutoff is not None and (not _is_int(r.cutoff) or not 0 <= r.cutoff <= MAX_CUTOFF):
        raise RecipeError(f"cutoff: expected an integer from 0 to {MAX_CUTOFF} or null, got {describe(r.cutoff)}")
    for name in ("class_a", "class_b"):
        v = getattr(r, name)
        if v is not None and (not _is_int(v) or not 0 <= v <= MAX_CLASS):
            raise RecipeError(f"{name}: expected a class index between 0 and {MAX_CLASS} or null, got {v!r}")
    if not isinstance(r.noise_mode, str) or r.noise_mode not in NOISE_MODES:
        raise RecipeError(f"noise_mode: expected one of {', '.join(NOISE_MODES)}, got {describe(r.noise_mode)}")
    opts = []
    for item in r.options:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise RecipeError("options: expected name: number pairs")
        if not _is_num(item[1]):
            raise RecipeError(f"options.{item[0][:40]}: expected a finite number, got {item[1]!r}")
        opts.append((item[0], float(item[1])))
    object.__setattr__(r, "options", tuple(sorted(opts)))
    for which in ("a", "b"):
        name, f = f"frac_{which}", getattr(r, f"frac_{which}")
        if not _is_num(f) or not 0.0 <= f < 1.0:
            raise RecipeError(f"{name}: expected a number in [0, 1), got {f!r}")
        object.__setattr__(r, name, float(f))
        if f > 0 and getattr(r, f"seed_{which}") >= MAX_SEED:
            raise RecipeError(f"{name}: seed {MAX_SEED} has no next seed to interpolate towards")
        latent = getattr(r, f"latent_{which}")
        if latent is not None and not isinstance(latent, Latent):
            raise RecipeError(f"latent_{which}: expected a latent, got {type(latent).__name__}")


def seed_source(value: object, field: str = "seed") -> SeedSource:
    """3 -> seed 3; 3.25 -> a quarter of the way from seed 3's w to seed 4's (a RecipeError naming `field` if out
    of range)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
    ):
        raise RecipeError(f"{field}: expected a number, got {describe(value)}")
    if not 0 <= value <= MAX_SEED:
        raise RecipeError(f"{field}: must be between 0 and {MAX_SEED}, got {describe(value)}")
    seed = int(math.floor(value))
    frac = round(float(value) - seed, 6)  # seeds are shown and typed with a few decimals; keep the recipe tidy
    if frac >= 1.0:
        seed, frac = seed + 1, 0.0
    return SeedSource(seed, frac)


def mix_ws(ws_a: torch.Tensor, ws_b: torch.Tensor, weights: Iterable[float]) -> torch.Tensor:
    """[N, num_ws, w_dim] x2 -> mixed; weight 0 gives exactly A's row, 1 exactly B's row."""
    t = torch.as_tensor(list(weights), dtype=ws_a.dtype, device=ws_a.device)[None, :, None]
    return torch.lerp(ws_a, ws_b, t)


def parse_mix_spec(spec: str, G_or_table: StyleGenerator | list[LayerInfo]) -> tuple:
    """'coarse=A,middle=B,fine=0.5' or '0-3=0,4-9=0.5' -> weights tuple (unlisted indices stay A).

    G_or_table: a generator or its layer table (which w indices each group holds).
    """
    table = G_or_table.layer_table() if hasattr(G_or_table, "layer_table") else list(G_or_table)
    weights = [0.0] * len(table)
    for key, v in split_mix_spec(spec):
        idx: Iterable[int]
        if key == "all":
            idx = range(len(table))
        elif isinstance(key, str):  # a group
            idx = [info.index for info in table if info.group == key]
        else:
            lo, hi = key
            if hi >= len(table):
                raise RecipeError(f"mix: index range {lo}-{hi} is outside 0-{len(table) - 1}")
            idx = range(lo, hi + 1)
        for i in idx:
            weights[i] = v
    return tuple(weights)


def split_mix_spec(spec: str) -> list[tuple[str | tuple[int, int], float]]:
    """Check the syntax of a --mix spec without a model: [(key, weight)], where key is a group name, 'all',
    or (lo, hi) w indices. Whether indices exist is checked against the model by `parse_mix_spec`."""
    items: list[tuple[str | tuple[int, int], float]] = []
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
            first, _, last = key.partition("-")
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise RecipeError(f"mix: {key!r} is not coarse, middle, fine, all, an index or a range") from None
        if not 0 <= lo <= hi:
            raise RecipeError(f"mix: index range {key!r} is empty or negative")
        items.append(((lo, hi), v))
    return items
