"""Pieces every StyleGAN family shares, with torch (api.py stays importable without it)."""

from __future__ import annotations

import torch


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
    """ws [N, num_ws, w_dim]: rows < cutoff (all when None) become w_avg + psi * (w - w_avg), as NVIDIA's mapping."""
    if psi == 1:
        return ws
    cutoff = ws.shape[1] if cutoff is None else int(cutoff)
    out = ws.clone()
    out[:, :cutoff] = torch.lerp(w_avg.to(ws.dtype), ws[:, :cutoff], float(psi))
    return out
