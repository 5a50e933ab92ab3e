"""Generator families behind one seam (api.py). A family is a package exporting FAMILY, Config and Generator;
the registry below finds it by the name a native model file records."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .api import GROUPS, NOISE_MODES, Control, LayerInfo, Quantity, StatsSpec

if TYPE_CHECKING:
    import types

    from .api import StyleGenerator

_PACKAGES = {
    "stylegan1": "stylegan1",
    "stylegan2": "stylegan2",
    "stylegan3": "stylegan3",
}
DEFAULT_FAMILY = "stylegan1"  # native files written before families existed


def names() -> tuple:
    return tuple(_PACKAGES)


def family(name: str) -> types.ModuleType:
    """The family package (with .FAMILY, .Config, .Generator); KeyError for an unknown name."""
    if name not in _PACKAGES:
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{_PACKAGES[name]}")


def indices_of_group(G_or_table: StyleGenerator | list[LayerInfo], group: str) -> list:
    """The w indices of a coarse / middle / fine group, from a generator or its layer table."""
    if group not in GROUPS:
        raise ValueError(f"unknown layer group {group!r}; expected one of {GROUPS}")
    table = G_or_table.layer_table() if hasattr(G_or_table, "layer_table") else G_or_table
    return [info.index for info in table if info.group == group]


__all__ = [
    "DEFAULT_FAMILY",
    "GROUPS",
    "NOISE_MODES",
    "Control",
    "LayerInfo",
    "Quantity",
    "StatsSpec",
    "family",
    "indices_of_group",
    "names",
]
