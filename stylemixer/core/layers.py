"""The layer table: what each w index drives (resolution, channels, layer name, coarse/middle/fine group)."""
from __future__ import annotations

from dataclasses import dataclass

GROUPS = ("coarse", "middle", "fine")


@dataclass(frozen=True)
class LayerInfo:
    index: int        # w index
    resolution: int   # feature-map height/width at this AdaIN
    channels: int     # feature maps modulated by this w
    name: str         # original StyleGAN name, e.g. "16x16/Conv0_up"
    group: str        # "coarse" (4-8 px), "middle" (16-32 px) or "fine" (64 px and up), as in the paper

    @property
    def label(self) -> str:
        return f"{self.index}: {self.resolution}px {self.name.split('/')[1]} ({self.channels} ch, {self.group})"


def group_of(resolution: int) -> str:
    if resolution <= 8:
        return "coarse"
    if resolution <= 32:
        return "middle"
    return "fine"


def layer_table(cfg) -> list[LayerInfo]:
    """One LayerInfo per w index of a GeneratorConfig."""
    out = []
    for b, ch in enumerate(cfg.channels):
        res = 4 * 2 ** b
        names = ("Const", "Conv") if b == 0 else ("Conv0_up", "Conv1")
        for j, n in enumerate(names):
            out.append(LayerInfo(2 * b + j, res, ch, f"{res}x{res}/{n}", group_of(res)))
    return out


def indices_of_group(cfg, group: str) -> list[int]:
    if group not in GROUPS:
        raise ValueError(f"unknown layer group {group!r}; expected one of {GROUPS}")
    return [l.index for l in layer_table(cfg) if l.group == group]
