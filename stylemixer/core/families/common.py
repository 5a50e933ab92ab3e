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


BAND_BYTES = 4 * 2**20  # a cache-sized band of a feature map, for statistics without full-size temporaries


def channel_moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-instance, per-channel mean and population std over H x W of x [N, C, H, W]: ([N, C], [N, C]), in fp32.

    The reference: mean = x.mean((2, 3)); std = (x - mean).square().mean((2, 3)).sqrt(). Means rather than
    var_mean, which took 8x as long on channels_last tensors. Large maps are centred and squared a band of rows
    at a time in one small buffer: two fresh full-size temporaries (128 MB each for 32 channels at 1024 px) cost
    far more than their arithmetic, in page faults, while a render with statistics ran (docs/performance.md).
    """
    x = x.float()
    N, C, H, W = x.shape
    mean = x.mean(dim=(2, 3))  # [N, C]
    rows = max(1, BAND_BYTES // (4 * N * C * W))
    if rows >= H:
        return mean, (x - mean[:, :, None, None]).square().mean(dim=(2, 3)).sqrt()
    fmt = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    band = torch.empty((N, C, rows, W), dtype=x.dtype, device=x.device, memory_format=fmt)
    total = torch.zeros((N, C), dtype=x.dtype, device=x.device)
    for h in range(0, H, rows):
        part = x[:, :, h : h + rows]
        sq = band[:, :, : part.shape[2]]
        torch.sub(part, mean[:, :, None, None], out=sq).square_()
        total += sq.sum(dim=(2, 3))
    return mean, (total / (H * W)).sqrt()
