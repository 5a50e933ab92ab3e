"""Per-channel AdaIN statistics, captured during synthesis and reduced on the device.

For every AdaIN layer and image: mean and std of the feature map entering the instance norm, the style
(y_s, y_b), and mean and std after AdaIN. Statistics are over H x W of one instance and one channel, the
same population instance norm uses; std is the population (biased) std. Only small [N, C] arrays leave
the device. Passing no capture to synthesis computes none of this.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

QUANTITIES = ("mean_in", "std_in", "y_s", "y_b", "mean_out", "std_out")


@dataclass(frozen=True)
class LayerStats:
    """One AdaIN layer; every field is float32 [N, C]."""
    mean_in: np.ndarray
    std_in: np.ndarray
    y_s: np.ndarray
    y_b: np.ndarray
    mean_out: np.ndarray
    std_out: np.ndarray

    def take(self, i: int) -> "LayerStats":
        """The statistics of image i, each [1, C]."""
        return LayerStats(*(getattr(self, q)[i:i + 1] for q in QUANTITIES))

    def as_dict(self) -> dict:
        return {q: getattr(self, q) for q in QUANTITIES}


class Capture:
    """Pass to `G.synthesis(..., capture=c)`. `stats` selects statistics, `feature_layer` an activation to keep.

    Synthesis calls `record()` with the moments its instance norm already computed, so capturing adds no pass over
    the activations; everything is reduced on the device and `result()` moves it to the CPU in one transfer.
    After AdaIN, x_out = y_s * n + y_b with n of mean 0 and variance var / (var + eps) exactly, so the output
    moments follow in closed form: mean_out = y_b, std_out = |y_s| * sqrt(var / (var + eps)).
    """

    EPS = 1e-8  # AdaIN's epsilon (networks.AdaIN.normalize_moments)

    def __init__(self, stats: bool = True, feature_layer: int | None = None, layers=None):
        self.want_stats = stats
        self.layers = None if layers is None else set(layers)
        self.feature_layer = feature_layer
        self._moments = {}        # w index -> (mean, var, y_s, y_b), each [N, C] on device
        self.features = None      # [N, C, H, W] after AdaIN at feature_layer, on device

    @property
    def wants_styles(self) -> bool:
        return self.want_stats or self.feature_layer is not None

    def _wanted(self, index) -> bool:
        return self.want_stats and (self.layers is None or index in self.layers)

    def record(self, index: int, x_out, mean, var, y_s, y_b):
        """x_out [N, C, H, W] after AdaIN; mean, var [N, C, 1, 1] of its input; y_s, y_b [N, C]."""
        if self._wanted(index):
            self._moments[index] = (mean.flatten(1), var.flatten(1), y_s, y_b)
        if index == self.feature_layer:
            self.features = x_out.detach()

    def _pack_moments(self) -> dict:
        """All recorded layers at once: concatenated along channels, a handful of ops whatever the depth."""
        keys = sorted(self._moments)
        if not keys:
            return {}
        mean, var, y_s, y_b = (torch.cat([self._moments[k][j].float() for k in keys], dim=1) for j in range(4))
        std_out = y_s.abs() * torch.sqrt(var / (var + self.EPS))
        packed = torch.stack([mean, var.sqrt(), y_s, y_b, y_b, std_out], dim=-1)  # [N, sum C, 6]
        out, pos = {}, 0
        for k in keys:
            c = self._moments[k][0].shape[1]
            out[k] = packed[:, pos:pos + c]
            pos += c
        return out

    def result(self) -> dict[int, LayerStats]:
        """Move everything to the CPU in one transfer; keyed by w index."""
        packed = self._pack_moments()
        if not packed:
            return {}
        keys = sorted(packed)
        flat = torch.cat([packed[k].reshape(-1) for k in keys]).cpu().numpy()
        out, pos = {}, 0
        for k in keys:
            n, c, _ = packed[k].shape
            block = flat[pos:pos + n * c * 6].reshape(n, c, 6)
            pos += n * c * 6
            out[k] = LayerStats(*(np.ascontiguousarray(block[:, :, j]) for j in range(6)))
        return out


def style_distance(a: LayerStats, b: LayerStats) -> float:
    """Mean over channels of |y_s(A) - y_s(B)| + |y_b(A) - y_b(B)| (first image of each)."""
    return float(np.mean(np.abs(a.y_s[0] - b.y_s[0]) + np.abs(a.y_b[0] - b.y_b[0])))
