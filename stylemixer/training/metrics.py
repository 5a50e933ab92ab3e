"""Simple, explainable image measures for checking a trained generator: variety, flatness/noise, and whether
style mixing separates structure (coarse/middle layers) from colour (fine layers).

All images here are float arrays [N, H, W, 3] in 0..255 (uint8 input is accepted).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from stylemixer.core.families import indices_of_group
from stylemixer.core.images import to_uint8
from stylemixer.core.latents import zs_from_seeds


@torch.no_grad()
def seed_ws(G, seeds, psi: float = 1.0) -> torch.Tensor:
    """Seeds -> ws [N, num_ws, w_dim] with the app's seed convention."""
    return G.mapping(zs_from_seeds([int(s) for s in seeds], G.z_dim), truncation_psi=psi)


@torch.no_grad()
def pictures(G, ws: torch.Tensor) -> np.ndarray:
    """ws [N, num_ws, w_dim] -> uint8 [N, H, W, 3]: the pictures the app shows (const noise, its rounding)."""
    return to_uint8(G.synthesis(ws, noise_mode="const"))


@torch.no_grad()
def synth(G, ws: torch.Tensor) -> np.ndarray:
    """ws [N, num_ws, w_dim] -> float images [N, H, W, 3] in 0..255 (const noise, as the app renders).

    Unrounded on purpose: the measures below compare images to fixed bars and to each other within 1e-3 of a
    level, which rounding to uint8 would turn into whole-level jumps at rounding boundaries."""
    img = G.synthesis(ws, noise_mode="const")
    return ((img.clamp(-1, 1) + 1) * 127.5).permute(0, 2, 3, 1).numpy().astype(np.float64)


def pairwise_l1(imgs) -> np.ndarray:
    """[N, H, W, 3] -> [N, N] mean absolute difference per pixel and channel (0..255)."""
    x = np.asarray(imgs, np.float64).reshape(len(imgs), -1)
    return np.stack([np.abs(x - x[i]).mean(1) for i in range(len(x))])


def pixel_std(imgs) -> np.ndarray:
    """[N] std over pixels, averaged over channels: ~0 for a flat image."""
    x = np.asarray(imgs, np.float64)
    return x.reshape(len(x), -1, 3).std(1).mean(1)


def high_freq_ratio(imgs) -> np.ndarray:
    """[N] mean |image - 3x3 box blur| over the image std: the share of pixel-to-pixel noise in the contrast.
    Cartoon images (flat areas, a few edges) score low; white noise scores ~0.9."""
    x = torch.as_tensor(np.asarray(imgs, np.float32)).permute(0, 3, 1, 2)  # [N, 3, H, W]
    blur = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    hf = (x - blur).abs().mean(dim=(1, 2, 3)).numpy()
    return hf / np.maximum(pixel_std(imgs), 1e-6)


def structure_map(imgs, pool: int = 4, sigma_px: float = 1.0) -> np.ndarray:
    """[N, H, W, 3] -> [N, (H/pool)*(W/pool)] unit-norm edge maps of the low-passed image.

    The image is first averaged over pool x pool blocks (64 -> 16 px): that removes the fine background
    pattern and pixel noise, whose edges would otherwise dominate the map and which belong to "texture", not
    to structure. Then the RGB gradient magnitude (an edge shows wherever any channel changes, so a silhouette
    is found whatever its colours), scaled to unit norm (contrast does not matter, only where the edges are),
    and blurred a little so a one-cell shift is not a total mismatch."""
    x = torch.as_tensor(np.asarray(imgs, np.float32)).permute(0, 3, 1, 2) / 255  # [N, 3, H, W]
    x = F.avg_pool2d(x, pool)  # [N, 3, H/p, W/p]
    gx = x[:, :, :, 1:] - x[:, :, :, :-1]
    gy = x[:, :, 1:, :] - x[:, :, :-1, :]
    mag = (F.pad(gx, (0, 1, 0, 0)).square() + F.pad(gy, (0, 0, 0, 1)).square()).sum(1, keepdim=True).sqrt()
    r = int(np.ceil(2 * sigma_px))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma_px**2))
    k = k / k.sum()
    mag = F.conv2d(F.pad(mag, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    mag = F.conv2d(F.pad(mag, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    m = mag.flatten(1).numpy().astype(np.float64)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def structure_distance(a, b) -> np.ndarray:
    """[N] 1 - cosine similarity of edge maps (0 = same edges)."""
    return 1 - (structure_map(a) * structure_map(b)).sum(1)


def colour_hist(imgs, bins: int = 16) -> np.ndarray:
    """[N, H, W, 3] -> [N, 3, bins] per-channel histograms, each summing to 1 (position-free colour content)."""
    x = np.asarray(imgs, np.float64)
    idx = np.clip((x / 256 * bins).astype(int), 0, bins - 1)
    out = np.zeros((len(x), 3, bins))
    for c in range(3):
        for n in range(len(x)):
            out[n, c] = np.bincount(idx[n, :, :, c].ravel(), minlength=bins) / idx[n, :, :, c].size
    return out


def colour_distance(a, b) -> np.ndarray:
    """[N] earth mover's distance between per-channel histograms, averaged over channels (in bins). EMD rather
    than L1 so that 'slightly darker red' counts as closer than 'green'."""
    ca, cb = np.cumsum(colour_hist(a), -1), np.cumsum(colour_hist(b), -1)
    return np.abs(ca - cb).sum(-1).mean(-1)


@torch.no_grad()
def localisation(G, pairs, group: str, psi: float = 1.0) -> dict:
    """For each seed pair (A, B): the image with `group`'s w rows from A and all other rows from B.

    group: "coarse", "middle", "fine", or several joined by "+" (e.g. "coarse+middle").
    Returns the fraction of pairs where it is closer to A in structure, closer to B in colour, and both, plus
    the per-pair distances.
    """
    rows = sorted(i for g in group.split("+") for i in indices_of_group(G, g))
    wa = seed_ws(G, [a for a, _ in pairs], psi)
    wb = seed_ws(G, [b for _, b in pairs], psi)
    wm = wb.clone()
    wm[:, rows] = wa[:, rows]
    ia, ib, im = synth(G, wa), synth(G, wb), synth(G, wm)
    sa, sb = structure_distance(im, ia), structure_distance(im, ib)
    ca, cb = colour_distance(im, ia), colour_distance(im, ib)
    s_ok, c_ok = sa < sb, cb < ca
    return {
        "group": group,
        "rows": rows,
        "pairs": len(pairs),
        "structure_from_A": float(s_ok.mean()),
        "colour_from_B": float(c_ok.mean()),
        "both": float((s_ok & c_ok).mean()),
        "struct_dA": sa,
        "struct_dB": sb,
        "colour_dA": ca,
        "colour_dB": cb,
    }
