"""Seeds -> z -> w. z is drawn on the CPU in float64 by NumPy and cast to float32, so a seed gives the same z on
every device and the same z as NVIDIA's scripts (`np.random.RandomState(seed).randn(1, z_dim)`)."""
from __future__ import annotations

import numpy as np
import torch

MAX_SEED = 2**32 - 1  # RandomState accepts 0 .. 2**32-1


def z_from_seed(seed: int, z_dim: int) -> np.ndarray:
    """[1, z_dim] float32."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    return np.random.RandomState(int(seed)).randn(1, z_dim).astype(np.float32)


@torch.inference_mode()
def ws_from_seed(G, seed: int, psi: float = 1.0, cutoff: int | None = None, device=None) -> torch.Tensor:
    """[1, num_ws, w_dim] on G's device."""
    device = device or next(G.parameters()).device
    z = torch.from_numpy(z_from_seed(seed, G.z_dim)).to(device)
    return G.mapping(z, truncation_psi=psi, truncation_cutoff=cutoff)
