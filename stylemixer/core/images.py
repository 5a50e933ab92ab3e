"""Image conversions shared by the renderer, the CLI and export."""
from __future__ import annotations

import numpy as np
import torch


def to_uint8(img: torch.Tensor, crop=None) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, C], NVIDIA's rounding (x * 127.5 + 128, clamped, truncated).

    crop = (top, bottom, left, right) keeps a model's content box (the cars model's 512x384 inside 512x512).
    """
    x = (img.detach().float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    if crop is not None:
        t, b, l, r = crop
        x = x[:, :, t:b, l:r]
    x = x.permute(0, 2, 3, 1).cpu().numpy()
    return np.ascontiguousarray(x)


def to_pil(arr: np.ndarray):
    """uint8 [H, W, C] with C in (1, 3) -> PIL image."""
    from PIL import Image
    if arr.shape[2] == 1:
        return Image.fromarray(arr[:, :, 0], "L")
    return Image.fromarray(arr[:, :, :3], "RGB")


def enlarge(arr: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so a 64 px image stays crisp."""
    return arr.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else arr


def hstack(images, gap: int = 4, fill: int = 255) -> np.ndarray:
    """Images side by side (A | mix | B), separated by a gap."""
    h = max(a.shape[0] for a in images)
    c = images[0].shape[2]
    parts = []
    for i, a in enumerate(images):
        if i:
            parts.append(np.full((h, gap, c), fill, np.uint8))
        pad = np.full((h, a.shape[1], c), fill, np.uint8)
        pad[:a.shape[0]] = a
        parts.append(pad)
    return np.concatenate(parts, axis=1)
