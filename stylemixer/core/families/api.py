"""The generator-family seam: what the renderer, the cache, the statistics views, the exports and the bench may
assume about a generator. Each family (StyleGAN v1, StyleGAN2, StyleGAN3) implements it; nothing outside
`core/families/` names a family's layers or quantities.

The one fact the renderer relies on holds for every StyleGAN: the *state entering w index k* depends only on
ws rows < k (and the image's context: noise, input transform). So synthesis is exposed as
    ctx   = synth.context(n, noise_mode, noise_seed, options)   # w-independent inputs of the image
    state = synth.start(ctx, n)                                   # the state entering w index 0
    state = synth.advance(k, state, ws[:, k], ctx, capture)       # ... entering k + 1, for k = 0 .. num_ws-1
    img   = synth.finish(state, ctx)                              # [N, C, H, W] in [-1, 1]
and a cache keyed by (context, rows < k) can resume anywhere. A state is a tuple of tensors (or None), so the
renderer can split, join and size it without knowing what it holds. `advance` must not modify the state it is
given (the renderer keeps it in its cache); in-place work is fine on tensors it made itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import torch

    from ..stats import Capture, LayerStats

GROUPS = ("coarse", "middle", "fine")
NOISE_MODES = ("const", "random", "none")
State = tuple  # tuple[torch.Tensor | None, ...]


@dataclass(frozen=True)
class LayerInfo:
    """What one w index drives."""

    index: int  # w index
    resolution: int  # feature-map height/width of the layer this w styles (its output)
    channels: int  # feature maps this w styles (output channels)
    name: str  # the family's own name for it, e.g. "16x16/Conv0_up", "b16.conv0", "L3_52_1024"
    role: str  # what w drives there, in words: "const + conv", "conv0 (up)", "toRGB + conv0", ...
    group: str  # "coarse", "middle" or "fine"
    in_channels: int = 0  # input channels of that layer (0 when the same as `channels`)

    @property
    def short_name(self) -> str:
        return self.name.split("/")[-1]

    @property
    def label(self) -> str:
        return f"{self.index}: {self.resolution}px {self.short_name} ({self.channels} ch, {self.group})"


@dataclass(frozen=True)
class Control:
    """A per-image synthesis input a family offers besides the latents (StyleGAN3's input transform)."""

    key: str  # the recipe's option name, e.g. "rotate"
    label: str  # e.g. "rotate input"
    minimum: float
    maximum: float
    default: float = 0.0
    step: float = 0.01
    unit: str = ""  # e.g. "°"
    help: str = ""


@dataclass(frozen=True)
class Quantity:
    """One per-channel statistic a family records at each w index."""

    key: str  # field name in LayerStats, e.g. "y_s"
    label: str  # plot title, e.g. "y_s (scale)"
    short: str  # column / legend name, e.g. "y_s"
    axis: str = "out"  # "in": indexed by the layer's input channels, "out": by its output channels
    help: str = ""  # one sentence for tooltips


@dataclass(frozen=True)
class StatsSpec:
    """Which statistics a family records, how to show them, and the A-vs-B distance."""

    title: str  # panel title, e.g. "AdaIN statistics"
    features_title: str  # e.g. "Feature maps after AdaIN"
    quantities: tuple  # tuple[Quantity, ...], in display order
    distance_keys: tuple  # quantities whose |A - B| is summed into the distance
    distance_label: str  # e.g. "|Δy_s| + |Δy_b|"
    distance_help: str = ""  # one sentence for tooltips
    features_help: str = ""  # what the feature maps are (e.g. StyleGAN3's margin crop)

    @property
    def keys(self) -> tuple:
        return tuple(q.key for q in self.quantities)

    def quantity(self, key: str) -> Quantity:
        for q in self.quantities:
            if q.key == key:
                return q
        raise KeyError(key)

    def channel_distance(self, a: LayerStats, b: LayerStats) -> np.ndarray:
        """[C] per-channel sum over `distance_keys` of |A - B| (first image of each LayerStats)."""
        return sum(np.abs(a[k][0].astype(np.float64) - b[k][0]) for k in self.distance_keys)

    def distance(self, a: LayerStats, b: LayerStats) -> float:
        """The mean over channels of `channel_distance`: how differently A and B style this layer."""
        return float(np.mean(self.channel_distance(a, b)))


@runtime_checkable
class ResumableSynthesis(Protocol):
    num_ws: int

    def context(
        self,
        n: int,
        noise_mode: str = "const",
        noise_seed: int = 0,
        options: dict | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> Any: ...
    def start(self, ctx: Any, n: int = 1) -> State: ...
    def advance(self, k: int, state: State, w: torch.Tensor, ctx: Any, capture: Capture | None = None) -> State: ...
    def finish(self, state: State, ctx: Any) -> torch.Tensor: ...
    def example_state(self, k: int, n: int = 1, generator: torch.Generator | None = None) -> State: ...
    def set_memory_format(self, memory_format: torch.memory_format) -> None: ...
    # A progressive preview (optional: families without one return {}). For each k in preview_points(), w index k
    # finishes a picture of preview_points()[k] px on the way (the skip generator's ToRGB): preview(k, state, w,
    # ctx), from the state entering k and ws row k, returns that picture [N, C, r, r] without running the rest of
    # what k drives (the next block's convolution), so a preview costs only the layers before it.
    def preview_points(self) -> dict: ...
    def preview(self, k: int, state: State, w: torch.Tensor, ctx: Any) -> torch.Tensor: ...
    # Statistics of a layer already computed (optional): record into capture what advance(k, state, w, ctx,
    # capture) would, from the state entering k and the state after k (None where not at hand), without running
    # the layer's convolution; False where it cannot, and then the renderer runs advance().
    def record(
        self, k: int, state: State, w: torch.Tensor, ctx: Any, capture: Capture, after: State | None
    ) -> bool: ...


@runtime_checkable
class StyleGenerator(Protocol):
    family: str  # "stylegan1", "stylegan2", "stylegan3"
    family_label: str  # "StyleGAN", "StyleGAN2", "StyleGAN3-T", ... for titles
    cfg: Any  # the family's config dataclass (to_dict / from_dict, resolution, crop, truncation defaults)
    synthesis: Any  # a torch module that is also a ResumableSynthesis
    stats_spec: StatsSpec
    synthesis_controls: tuple  # Control per per-image input the recipe's options may set (often none)

    @property
    def z_dim(self) -> int: ...
    @property
    def w_dim(self) -> int: ...
    @property
    def c_dim(self) -> int: ...
    @property
    def num_ws(self) -> int: ...
    @property
    def img_resolution(self) -> int: ...
    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor: ...
    def layer_table(self) -> list[LayerInfo]: ...
    def flops(self) -> dict[int, float]: ...
    # The work of synthesis.advance(k) per k (what a render resuming at k runs from k on), and of start() under
    # key -1: flops() counts each layer at its own w index, which is not always the step that runs it.
    def step_flops(self) -> dict[int, float]: ...
    def state_nbytes(self, bytes_per_value: int = 4) -> int: ...

    # A generator is a torch.nn.Module; these of its methods are used outside the family.
    def to(self, device: torch.device | str) -> StyleGenerator: ...
    def eval(self) -> StyleGenerator: ...
    def requires_grad_(self, requires_grad: bool = True) -> StyleGenerator: ...
    def state_dict(self) -> dict[str, Any]: ...
    def parameters(self, recurse: bool = True) -> Iterator[torch.nn.Parameter]: ...
