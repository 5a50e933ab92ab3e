"""Training batches: an in-memory pool of uint8 images, filled from the procedural faces or from a folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylemixer.data import faces

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


def procedural_pool(n: int, seed: int, cache_dir: Path | None = None) -> np.ndarray:
    """The first n procedural faces of data-set `seed`, uint8 [n, R, R, 3]; cached as .npy because drawing
    them takes ~3 ms each and a resumed run should not pay that again."""
    if cache_dir is not None:
        path = Path(cache_dir) / f"faces_s{seed}_n{n}_r{faces.RES}.npy"
        if path.exists():
            return np.load(path)
    pool = faces.make_pool(n, seed)
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, pool)
        os.replace(tmp, path)
    return pool


def load_image(path, resolution: int) -> np.ndarray:
    """Any image file -> uint8 [R, R, 3]: scaled so the short side is R, then centre-cropped to a square."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = resolution / min(w, h)
        nw, nh = max(resolution, round(w * s)), max(resolution, round(h * s))
        im = im.resize((nw, nh), Image.LANCZOS)
        left, top = (nw - resolution) // 2, (nh - resolution) // 2
        return np.asarray(im.crop((left, top, left + resolution, top + resolution)))


def folder_pool(folder, resolution: int) -> np.ndarray:
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_EXTS))}) found under {folder}")
    return np.stack([load_image(p, resolution) for p in files])


class ImagePool:
    """Random batches from a uint8 pool [N, R, R, 3], with random horizontal flips (the faces are
    left-right symmetric in distribution, so this doubles the data for free)."""

    def __init__(self, images: np.ndarray, seed: int = 0, flip: bool = True):
        self.images = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()  # [N,3,R,R]
        self.flip = flip
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self):
        return self.images.shape[0]

    def batch(self, n: int, device="cpu") -> torch.Tensor:
        """-> float [n, 3, R, R] in [-1, 1]."""
        idx = torch.randint(0, len(self), (n,), generator=self.gen)
        x = self.images[idx].float() * (2 / 255) - 1
        if self.flip:
            flip = torch.rand(n, generator=self.gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return x.to(device)

    def state_dict(self):
        return {"gen": self.gen.get_state()}

    def load_state_dict(self, d):
        self.gen.set_state(d["gen"])
