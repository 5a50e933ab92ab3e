"""Image conversions shared by the renderer, the CLI and export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from PIL import Image


def uint8_tensor(img: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, C, H, W] on the same device: NVIDIA's rounding, the one rule of the app
    (x * 127.5 + 128, clamped to [0, 255], truncated)."""
    return (img.detach().float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)


def to_uint8(img: torch.Tensor, crop: Sequence[int] | None = None) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, C], NVIDIA's rounding (x * 127.5 + 128, clamped, truncated).

    crop = (top, bottom, left, right) keeps a model's content box (the cars model's 512x384 inside 512x512).
    """
    x = uint8_tensor(img)
    if crop is not None:
        t, b, l, r = crop
        x = x[:, :, t:b, l:r]
    return np.ascontiguousarray(x.permute(0, 2, 3, 1).cpu().numpy())


def to_pil(arr: np.ndarray) -> Image.Image:
    """uint8 [H, W, C] with C in (1, 3) -> PIL image."""
    from PIL import Image

    if arr.shape[2] == 1:
        return Image.fromarray(arr[:, :, 0], "L")
    return Image.fromarray(arr[:, :, :3], "RGB")


def enlarge(arr: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so a 64 px image stays crisp."""
    return arr.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else arr


def hstack(images: Sequence[np.ndarray], gap: int = 4, fill: int = 255) -> np.ndarray:
    """Images side by side (A | mix | B), separated by a gap."""
    h = max(a.shape[0] for a in images)
    c = images[0].shape[2]
    parts = []
    for i, a in enumerate(images):
        if i:
            parts.append(np.full((h, gap, c), fill, np.uint8))
        pad = np.full((h, a.shape[1], c), fill, np.uint8)
        pad[: a.shape[0]] = a
        parts.append(pad)
    return np.concatenate(parts, axis=1)


def label_band(
    widths: Sequence[int], labels: Sequence[str], gap: int, fill: int = 255, channels: int = 3
) -> np.ndarray:
    """A white band with `labels[i]` centred under image i of an hstack of images `widths` wide: uint8
    [band height, total width, channels]. The text is Pillow's own font, sized to the images."""
    from PIL import Image, ImageDraw, ImageFont

    size = int(min(48, max(12, min(widths) / 14)))
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError, AttributeError):  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    total = sum(widths) + gap * (len(widths) - 1)
    band_h = int(size * 1.8)
    band = Image.new("L", (total, band_h), fill)
    draw = ImageDraw.Draw(band)
    x = 0
    for w, text in zip(widths, labels):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        draw.text((x + (w - (right - left)) / 2 - left, (band_h - (bottom - top)) / 2 - top), text, fill=0, font=font)
        x += w + gap
    arr = np.asarray(band, dtype=np.uint8)[:, :, None]
    return np.repeat(arr, channels, axis=2)


def labelled_hstack(images: Sequence[np.ndarray], labels: Sequence[str], gap: int = 4, fill: int = 255) -> np.ndarray:
    """hstack with a label under each image; the images' pixels are exactly those of the plain hstack."""
    strip = hstack(images, gap=gap, fill=fill)
    band = label_band([a.shape[1] for a in images], labels, gap, fill, strip.shape[2])
    return np.concatenate([strip, band], axis=0)
