"""What the statistics and feature-map views show, computed without Qt: channel order, summaries, distances,
colour maps and the feature montage as a plain RGB array.

The GUI only draws what these functions return, so the tests can check the numbers without a window, and the
exporters write exactly what the views show.

Inputs are the renderer's statistics: `stats = {"mix"|"a"|"b": {w index: LayerStats}}`, each field [1, C]
(one image per source). Only the first image of each LayerStats is used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .families.api import StatsSpec
from .stats import SOURCE_LABELS, SOURCES, LayerStats

ORDERS = ("index", "difference")
NORMALISATIONS = ("channel", "shared")


def channel_values(s: LayerStats, quantity: str) -> np.ndarray:
    """[C] float32 values of one quantity for the first image."""
    return np.asarray(s[quantity][0], dtype=np.float32)


def style_difference(a: LayerStats, b: LayerStats, spec: StatsSpec) -> np.ndarray:
    """[C] per-channel distance between A's and B's styles (the family's `distance_keys`)."""
    return spec.channel_distance(a, b).astype(np.float32)


def distance_axis(spec: StatsSpec) -> str:
    """Which channels ("in" or "out") the distance, and so the difference order, is indexed by."""
    return spec.quantity(spec.distance_keys[0]).axis


def channel_order(a: LayerStats, b: LayerStats, order: str, spec: StatsSpec) -> np.ndarray:
    """Channel indices of the distance axis in display order: by index, or by style difference, largest first."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    d = style_difference(a, b, spec)
    if order == "index":
        return np.arange(d.shape[0])
    # A stable sort of the negated score keeps equal channels in index order, so the display does not jitter.
    return np.argsort(-d, kind="stable")


@dataclass(frozen=True)
class LayerSummary:
    means: dict  # {source: {quantity: mean over channels}}
    mix_to_a: float  # style distance of the mix from A (0 when the mix takes this layer from A)
    mix_to_b: float
    a_to_b: float  # how different A's and B's styles are here (the across-layers chart's bar)

    @property
    def position(self) -> float:
        """Where the mix sits between A (0) and B (1) in style space; 0.5 when A and B are identical."""
        total = self.mix_to_a + self.mix_to_b
        return 0.5 if total == 0 else self.mix_to_a / total


def layer_summary(stats: dict, index: int, spec: StatsSpec) -> LayerSummary:
    layer = {src: stats[src][index] for src in SOURCES if src in stats and index in stats[src]}
    means = {src: {q: float(np.mean(channel_values(s, q))) for q in spec.keys} for src, s in layer.items()}
    mix, a, b = layer["mix"], layer["a"], layer["b"]
    return LayerSummary(means, spec.distance(mix, a), spec.distance(mix, b), spec.distance(a, b))


def distances_across_layers(stats: dict, spec: StatsSpec) -> tuple[np.ndarray, np.ndarray]:
    """(w indices [L], the A-B style distance at each [L]) for the across-layers chart."""
    keys = np.array(sorted(stats["a"]), dtype=np.int64)
    return keys, np.array([spec.distance(stats["a"][k], stats["b"][k]) for k in keys], dtype=np.float64)


def channel_report(stats: dict, index: int, channel: int, spec: StatsSpec, axis: str | None = None) -> str:
    """Exact values of one channel for the hover read-out and the feature view's side panel (a fixed-width
    table, narrow enough to sit beside the summary). axis: only quantities indexed by these channels ("in" or
    "out"; all that have this channel when None)."""
    layer = {src: stats[src][index] for src in SOURCES if src in stats and index in stats[src]}
    lines = [f"w {index}, channel {channel}", f"{'':<9}" + "".join(f"{SOURCE_LABELS[src]:>9}" for src in layer)]
    for q in spec.quantities:
        if (axis is not None and q.axis != axis) or any(channel >= s[q.key].shape[1] for s in layer.values()):
            continue
        vals = "".join(f"{float(s[q.key][0, channel]):>9.4f}" for s in layer.values())
        lines.append(f"{q.short:<9}{vals}")
    if "a" in layer and "b" in layer and (axis is None or axis == distance_axis(spec)):
        d = style_difference(layer["a"], layer["b"], spec)
        if channel < d.shape[0]:
            lines.append(f"{'|A−B|':<9}{float(d[channel]):>9.4f}  ({spec.distance_label})")
    return "\n".join(lines)


# ---- colour maps ---------------------------------------------------------------------------------------------

# Anchor colours, interpolated linearly in RGB to 256 entries. "viridis" follows the published anchor colours of
# that perceptually uniform map; "diverging" is blue - near white - red for signed maps centred on zero.
_ANCHORS = {
    "viridis": [
        "#440154",
        "#482878",
        "#3e4a89",
        "#31688e",
        "#26828e",
        "#1f9e89",
        "#35b779",
        "#6ece58",
        "#b5de2b",
        "#fde725",
    ],
    "diverging": ["#2166ac", "#4393c3", "#92c5de", "#f7f7f7", "#f4a582", "#d6604d", "#b2182b"],
    "gray": ["#000000", "#ffffff"],
}
COLORMAPS = tuple(_ANCHORS)
_LUTS: dict = {}


def colormap(name: str) -> np.ndarray:
    """uint8 [256, 3] lookup table."""
    if name not in _ANCHORS:
        raise ValueError(f"colour map must be one of {COLORMAPS}, got {name!r}")
    if name not in _LUTS:
        rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in _ANCHORS[name]], dtype=np.float64)
        pos = np.linspace(0.0, 1.0, len(rgb))
        t = np.linspace(0.0, 1.0, 256)
        lut = np.stack([np.interp(t, pos, rgb[:, j]) for j in range(3)], axis=1)
        _LUTS[name] = np.round(lut).astype(np.uint8)
    return _LUTS[name]


def is_symmetric(cmap: str) -> bool:
    """A diverging map is centred on zero, so its range is symmetric: white means 0."""
    return cmap == "diverging"


def value_ranges(features: np.ndarray, norm: str = "channel", symmetric: bool = False) -> np.ndarray:
    """[C, 2] (low, high) that map to the ends of the colour map, per channel or shared by all channels."""
    if norm not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {norm!r}")
    f = np.asarray(features, dtype=np.float32)
    c = f.shape[0]
    if norm == "channel":
        lo, hi = f.reshape(c, -1).min(axis=1), f.reshape(c, -1).max(axis=1)
    else:
        lo, hi = np.full(c, f.min()), np.full(c, f.max())
    if symmetric:
        m = np.maximum(np.abs(lo), np.abs(hi))
        lo, hi = -m, m
    return np.stack([lo, hi], axis=1).astype(np.float32)


def colorize(plane: np.ndarray, lo: float, hi: float, cmap: str) -> np.ndarray:
    """float [H, W] -> uint8 [H, W, 3]; a constant plane (hi == lo) maps to the middle of the colour map."""
    lut = colormap(cmap)
    span = float(hi) - float(lo)
    if span <= 0 or not math.isfinite(span):
        t = np.full(plane.shape, 0.5, dtype=np.float32)
    else:
        t = (np.asarray(plane, dtype=np.float32) - float(lo)) / span
    idx = np.clip(np.nan_to_num(t, nan=0.5) * 255 + 0.5, 0, 255).astype(np.intp)
    return lut[idx]


# ---- the montage -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Montage:
    """A grid of channel thumbnails. Tile i (row-major) shows channel order[i]."""

    image: np.ndarray  # uint8 [rows * pitch - gap, cols * pitch - gap, 3]
    order: np.ndarray  # channel shown in each tile
    cols: int
    rows: int
    tile: int  # tile height and width in pixels (feature size x scale)
    gap: int

    @property
    def pitch(self) -> int:
        return self.tile + self.gap

    def tile_origin(self, i: int) -> tuple[int, int]:
        """(top, left) pixel of tile i."""
        return (i // self.cols) * self.pitch, (i % self.cols) * self.pitch

    def channel_at(self, x: float, y: float) -> int | None:
        """The channel under pixel (x, y) of the image, or None for the gaps and the empty tail."""
        if x < 0 or y < 0:
            return None
        col, row = int(x // self.pitch), int(y // self.pitch)
        in_gap = x - col * self.pitch >= self.tile or y - row * self.pitch >= self.tile
        if col >= self.cols or row >= self.rows or in_gap:
            return None
        i = row * self.cols + col
        return int(self.order[i]) if i < len(self.order) else None


def montage_columns(
    channels: int, tile: int = 1, gap: int = 0, width: float | None = None, height: float | None = None
) -> int:
    """Columns for a grid of `channels` tiles. Without an area: near-square, slightly wider than tall. With an
    area (width x height, e.g. the widget showing it): the column count that lets the tiles be drawn largest."""
    if not width or not height:
        return max(1, math.ceil(math.sqrt(channels * 1.3)))
    best, best_scale = 1, -1.0
    for cols in range(1, max(1, channels) + 1):
        rows = math.ceil(channels / cols)
        scale = min(width / (cols * (tile + gap) - gap), height / (rows * (tile + gap) - gap))
        if scale > best_scale + 1e-9:
            best, best_scale = cols, scale
    return best


def shrink(features: np.ndarray, max_size: int) -> np.ndarray:
    """[C, H, W] -> block means with H, W at most max_size (an integer factor; a ragged edge is dropped).

    Thumbnails of a 1024 px layer need not hold a million pixels each: colouring them all would take the GUI
    thread most of a second per frame."""
    f = np.asarray(features, dtype=np.float32)
    c, h, w = f.shape
    k = math.ceil(max(h, w) / max_size)
    if k <= 1:
        return f
    h2, w2 = h // k, w // k
    return f[:, : h2 * k, : w2 * k].reshape(c, h2, k, w2, k).mean(axis=(2, 4))


def build_montage(
    features: np.ndarray,
    cmap: str = "viridis",
    norm: str = "channel",
    order: Sequence[int] | np.ndarray | None = None,
    cols: int | None = None,
    scale: int = 1,
    gap: int = 1,
    background: tuple[int, int, int] = (40, 40, 40),
) -> Montage:
    """features float [C, H, W] (one source's maps after AdaIN) -> a coloured grid of all channels."""
    f = np.asarray(features, dtype=np.float32)
    if f.ndim != 3:
        raise ValueError(f"features must be [C, H, W], got shape {list(f.shape)}")
    c, h, w = f.shape
    order = np.arange(c) if order is None else np.asarray(order, dtype=np.int64)
    cols = cols or montage_columns(len(order))
    rows = max(1, math.ceil(len(order) / cols))
    tile = max(h, w) * scale
    pitch = tile + gap
    img = np.empty((rows * pitch - gap, cols * pitch - gap, 3), dtype=np.uint8)
    img[:] = background
    ranges = value_ranges(f, norm, is_symmetric(cmap))
    m = Montage(img, order, cols, rows, tile, gap)
    for i, ch in enumerate(order):
        rgb = colorize(f[ch], ranges[ch, 0], ranges[ch, 1], cmap)
        if scale > 1:
            rgb = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
        top, left = m.tile_origin(i)
        img[top : top + rgb.shape[0], left : left + rgb.shape[1]] = rgb
    return m


def channel_image(
    features: np.ndarray, channel: int, cmap: str = "viridis", norm: str = "channel", scale: int = 1
) -> np.ndarray:
    """One channel coloured exactly as in the montage (same range), for the enlarged view."""
    f = np.asarray(features, dtype=np.float32)
    lo, hi = value_ranges(f, norm, is_symmetric(cmap))[channel]
    rgb = colorize(f[channel], lo, hi, cmap)
    return rgb.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else rgb
