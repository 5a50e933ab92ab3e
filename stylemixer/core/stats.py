"""Per-channel statistics, captured during synthesis and reduced on the device.

Which quantities a layer records is the family's choice (its `StatsSpec`): AdaIN's input moments and styles for
StyleGAN v1, the modulation styles, demodulation factors and free moments for StyleGAN2/3. Statistics are over
H x W of one instance and one channel (population std). Only small [N, C] arrays leave the device, in one
transfer per render. Passing no capture to synthesis computes none of this.
"""

from __future__ import annotations

from collections.abc import Iterable, KeysView

import numpy as np
import torch

SOURCES = ("mix", "a", "b")  # the three images a render makes: the mix and its sources A and B
SOURCE_LABELS = {"mix": "mix", "a": "A", "b": "B"}  # how they are named to the user


class LayerStats:
    """One layer's statistics: quantity -> float32 [N, C_q]. Readable as `s["y_s"]` or `s.y_s`."""

    __slots__ = ("values",)
    values: dict[str, np.ndarray]

    def __init__(self, values: dict) -> None:
        object.__setattr__(self, "values", dict(values))

    def __getattr__(self, key: str) -> np.ndarray:
        try:
            return self.values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("LayerStats is immutable")

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def keys(self) -> KeysView[str]:
        return self.values.keys()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, LayerStats)
            and self.values.keys() == other.values.keys()
            and all(np.array_equal(v, other.values[k]) for k, v in self.values.items())
        )

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{list(v.shape)}" for k, v in self.values.items())
        return f"LayerStats({shapes})"

    @property
    def nbytes(self) -> int:
        return sum(int(v.nbytes) for v in self.values.values())

    def take(self, i: int) -> "LayerStats":
        """The statistics of image i, each [1, C]."""
        return LayerStats({k: v[i : i + 1] for k, v in self.values.items()})


class Capture:
    """Pass to synthesis. `stats` selects statistics, `feature_layer` a w index whose feature maps to keep.

    A family's layer calls `record(index, values, features)` with quantities it computed from moments it needed
    anyway, so capturing adds no pass over the activations; `result()` moves everything to the CPU at once.
    """

    def __init__(
        self, stats: bool = True, feature_layer: int | None = None, layers: Iterable[int] | None = None
    ) -> None:
        self.want_stats = stats
        self.layers = None if layers is None else set(layers)
        self.feature_layer = feature_layer
        self._values: dict = {}  # w index -> {quantity: [N, C] on device}
        self.features: torch.Tensor | None = None  # [N, C, H, W] on device: the feature maps of `feature_layer`

    @property
    def active(self) -> bool:
        """Whether synthesis needs to call `record` at all."""
        return self.want_stats or self.feature_layer is not None

    def wants_stats(self, index: int) -> bool:
        return self.want_stats and (self.layers is None or index in self.layers)

    def wants_features(self, index: int) -> bool:
        return index == self.feature_layer

    def record(self, index: int, values: dict | None = None, features: torch.Tensor | None = None) -> None:
        """values: {quantity: [N, C_q]} (kept if statistics of `index` are wanted); features [N, C, H, W]."""
        if values is not None and self.wants_stats(index):
            self._values[index] = values
        if features is not None and self.wants_features(index):
            self.features = features.detach()

    def result(self) -> dict:
        """{w index: LayerStats}, moved to the CPU in one transfer."""
        if not self._values:
            return {}
        parts, layout = [], []
        for k in sorted(self._values):
            for q, t in self._values[k].items():
                t = t.detach().float()
                parts.append(t.reshape(-1))
                layout.append((k, q, tuple(t.shape)))
        flat = torch.cat(parts).cpu().numpy()
        out: dict = {}
        pos = 0
        for k, q, shape in layout:
            size = int(np.prod(shape))
            out.setdefault(k, {})[q] = np.ascontiguousarray(flat[pos : pos + size].reshape(shape))
            pos += size
        return {k: LayerStats(v) for k, v in out.items()}
