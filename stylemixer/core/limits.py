"""Absolute bounds on what a model file or a recipe may ask for, checked before anything is allocated.

The largest legitimate generator is a 1024 px StyleGAN (512 channels, 512-wide latents, an 8-layer mapping
network, 18 w indices). The bounds are generous multiples of that and still absolute, so a 50 KB file cannot
describe a generator that needs gigabytes: a config outside them is refused by its validation, and what is
inside them is then checked tensor by tensor against the file's own size (checkpoints/bounds.py).
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

from .errors import ConfigError, describe

MAX_RESOLUTION = 4096  # output side in pixels (the largest published StyleGAN is 1024)
MAX_CHANNELS = 4096  # feature maps of any synthesis layer (official: at most 512; StyleGAN3-R: 1024)
MAX_LATENT = 4096  # z_dim, w_dim, c_dim and the mapping network's width
MAX_MAPPING_LAYERS = 64  # official: 8 (StyleGAN3: 2)
MAX_IMG_CHANNELS = 4  # grey, RGB, RGBA
MAX_NUM_WS = 256  # w indices of any generator (a 4096 px StyleGAN v1 has 22)
MAX_PSI = 100.0  # truncation psi; the GUI offers -2..2, NVIDIA's tools -1..2
MAX_CUTOFF = MAX_NUM_WS  # a cutoff at or above num_ws truncates every w index (NVIDIA's semantics)


def is_int(v: object) -> bool:
    """An integer (Python or NumPy), not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_real(v: Any) -> bool:
    """A finite real number (Python or NumPy), not a bool."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def int_in(name: str, v: Any, lo: int, hi: int) -> None:
    """Raise ConfigError unless v is an integer (not a bool) in [lo, hi]."""
    if not is_int(v):
        raise ConfigError(f"{name} must be an integer, got {describe(v)}")
    if not lo <= v <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {describe(v)}")


def check_common_config(cfg: Any) -> None:
    """The fields every family's config has (resolution, img_channels, z_dim, w_dim, c_dim, truncation_psi,
    truncation_cutoff, crop). Raises ConfigError naming the field; fields a family lacks are skipped."""
    res = cfg.resolution
    int_in("resolution", res, 4, MAX_RESOLUTION)
    if res & (res - 1):
        raise ConfigError(f"resolution must be a power of two, got {res}")
    int_in("img_channels", getattr(cfg, "img_channels", 3), 1, MAX_IMG_CHANNELS)
    for field in ("z_dim", "w_dim"):
        if hasattr(cfg, field):
            int_in(field, getattr(cfg, field), 1, MAX_LATENT)
    if hasattr(cfg, "c_dim"):
        int_in("c_dim", cfg.c_dim, 0, MAX_LATENT)
    psi = getattr(cfg, "truncation_psi", 1.0)
    if not is_real(psi) or abs(psi) > MAX_PSI:
        raise ConfigError(f"truncation_psi must be a finite number within +-{MAX_PSI:g}, got {describe(psi)}")
    cutoff = getattr(cfg, "truncation_cutoff", None)
    if cutoff is not None:
        int_in("truncation_cutoff", cutoff, 0, MAX_CUTOFF)
    check_crop(getattr(cfg, "crop", None), res)


def check_crop(crop: object, res: int) -> None:
    """None, or (top, bottom, left, right) integers with a non-empty box inside the res x res image."""
    if crop is None:
        return
    if not isinstance(crop, (tuple, list)) or len(crop) != 4 or not all(is_int(v) for v in crop):
        raise ConfigError(f"crop must be four integers (top, bottom, left, right), got {describe(crop)}")
    top, bottom, left, right = crop
    if not (0 <= top < bottom <= res and 0 <= left < right <= res):
        raise ConfigError(f"crop {list(crop)} is not a non-empty box inside the {res}x{res} image")


def physical_memory() -> int | None:
    """Bytes of RAM this machine has, or None where the platform does not say (sizes a default, never a bound)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None
