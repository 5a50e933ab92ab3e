"""Seeds -> z -> w. z is drawn on the CPU in float64 by NumPy and cast to float32, so a seed gives the same z on
every device and the same z as NVIDIA's scripts (`np.random.RandomState(seed).randn(1, z_dim)`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from .families.api import StyleGenerator

MAX_SEED = 2**32 - 1  # RandomState accepts 0 .. 2**32-1


def z_from_seed(seed: int, z_dim: int) -> np.ndarray:
    """[1, z_dim] float32."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    return np.random.RandomState(int(seed)).randn(1, z_dim).astype(np.float32)


def zs_from_seeds(seeds: Iterable[int], z_dim: int) -> torch.Tensor:
    """[len(seeds), z_dim] float32 on the CPU: row i is z_from_seed(seeds[i])."""
    return torch.from_numpy(np.concatenate([z_from_seed(s, z_dim) for s in seeds]))


def c_from_class(class_index: int | None, c_dim: int) -> np.ndarray | None:
    """The label input of a conditional model: one-hot [1, c_dim] float32 (NVIDIA's generate.py --class), None
    for an unconditional model. A conditional model given no class gets class 0."""
    if c_dim == 0:
        if class_index is not None:
            raise ValueError(f"class {class_index} given, but the model is unconditional")
        return None
    k = 0 if class_index is None else class_index
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= int(k) < c_dim:
        raise ValueError(f"class must be an integer from 0 to {c_dim - 1}, got {class_index!r}")
    c = np.zeros((1, c_dim), dtype=np.float32)
    c[0, int(k)] = 1
    return c


@torch.inference_mode()
def ws_from_seed(
    G: StyleGenerator,
    seed: int,
    psi: float = 1.0,
    cutoff: int | None = None,
    device: torch.device | str | None = None,
    class_index: int | None = None,
) -> torch.Tensor:
    """[1, num_ws, w_dim] on G's device. class_index: the class of a conditional model (c_dim > 0)."""
    device = device or next(G.parameters()).device
    z = torch.from_numpy(z_from_seed(seed, G.z_dim)).to(device)
    c = c_from_class(class_index, getattr(G, "c_dim", 0))
    if c is None:
        return G.mapping(z, truncation_psi=psi, truncation_cutoff=cutoff)
    return G.mapping(z, torch.from_numpy(c).to(device), truncation_psi=psi, truncation_cutoff=cutoff)
