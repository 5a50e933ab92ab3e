"""Procedural 64x64 cartoon faces: the built-in training set.

Every factor of variation and its sampling lives in `sample_factors` (one readable place), grouped by the
scale at which StyleGAN is expected to pick it up:

  coarse  (4-8 px layers):   head shape, size, position and tilt; hair silhouette; shoulders
  middle  (16-32 px layers): eye size and spacing, eyes open/closed, mouth shape, eyebrows, glasses
  fine    (64 px layers):    skin, hair, clothes and background colours; a fine background pattern

Colours are sampled independently of every shape factor, so the generator has no reason to entangle them; that
is what lets style mixing separate "who/where" (coarse) from "what colour" (fine).

Image `i` of a dataset with seed `s` is drawn from `np.random.default_rng([s, i])`, so any image can be
re-rendered alone and the set is identical on every machine. Drawing uses Pillow at `SS`x supersampling and a
box downsample, which gives anti-aliased edges.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

RES = 64  # output resolution
SS = 4  # supersampling factor (drawing happens at RES * SS)
HAIR_STYLES = ("bald", "short", "bob", "long", "spiky", "bun", "mohawk")
MOUTHS = ("smile", "frown", "open", "flat", "grin")
BROWS = ("none", "flat", "raised", "angry")
GLASSES = ("none", "round", "square")
PATTERNS = ("plain", "stripes", "dots", "checks", "diagonal")


@dataclass
class FaceFactors:
    # coarse: silhouette and pose
    head_w: float  # head half-width, in output pixels
    head_h: float  # head half-height
    cx: float  # head centre x
    cy: float  # head centre y
    tilt: float  # degrees, positive = counter-clockwise
    hair_style: str
    hair_volume: float  # how far the hair extends beyond the head (fraction of head size)
    shoulder_w: float  # shoulder half-width
    # middle: facial features
    eye_r: float  # eye radius (pixels)
    eye_dx: float  # half the distance between the eyes, as a fraction of head_w
    eye_y: float  # eye height relative to the head centre, fraction of head_h (negative = up)
    eyes_open: bool
    mouth: str
    mouth_w: float  # mouth half-width, fraction of head_w
    brows: str
    glasses: str
    # fine: colours (RGB 0-255) and surface pattern
    skin: tuple
    hair: tuple
    clothes: tuple
    background: tuple
    pattern: str
    pattern_color: tuple
    pattern_period: float  # pixels


def _hsv(h, s, v):
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1))
    return (int(r * 255), int(g * 255), int(b * 255))


def sample_factors(rng: np.random.Generator) -> FaceFactors:
    """The whole distribution of the data set. Change factors here, and only here."""
    u = rng.uniform
    # --- coarse: big, clearly visible silhouette and pose changes
    head_w = u(11.0, 17.0)
    head_h = head_w * u(1.0, 1.35)  # round to long faces
    cx = 32 + u(-7, 7)
    cy = 30 + u(-5, 5)
    tilt = u(-25, 25)
    hair_style = HAIR_STYLES[rng.integers(len(HAIR_STYLES))]
    hair_volume = u(0.1, 0.45)
    shoulder_w = u(16, 30)
    # --- middle: facial features
    eye_r = u(1.6, 3.6)
    eye_dx = u(0.28, 0.5)
    eye_y = u(-0.3, 0.0)
    eyes_open = bool(rng.random() < 0.75)
    mouth = MOUTHS[rng.integers(len(MOUTHS))]
    mouth_w = u(0.2, 0.5)
    brows = BROWS[rng.integers(len(BROWS))]
    glasses = GLASSES[rng.integers(len(GLASSES))] if rng.random() < 0.45 else "none"
    # --- fine: colours, each drawn independently of shape and of each other
    if rng.random() < 0.8:  # natural skin tones: warm hue, varied lightness
        skin = _hsv(u(0.02, 0.11), u(0.2, 0.65), u(0.35, 1.0))
    else:  # fantasy skin (green, blue, purple) keeps the colour factor wide
        skin = _hsv(u(0.0, 1.0), u(0.3, 0.6), u(0.6, 1.0))
    hair = _hsv(u(0, 1), u(0.3, 1.0), u(0.15, 1.0))
    clothes = _hsv(u(0, 1), u(0.4, 1.0), u(0.3, 1.0))
    background = _hsv(u(0, 1), u(0.1, 0.8), u(0.3, 1.0))
    pattern = PATTERNS[rng.integers(len(PATTERNS))]
    # the pattern is a light or dark variant of the background, so it reads as texture, not as a shape
    bh, bs, bv = colorsys.rgb_to_hsv(*(c / 255 for c in background))
    pattern_color = _hsv(bh + u(-0.08, 0.08), bs, bv + (-0.25 if bv > 0.6 else 0.25))
    pattern_period = u(3.0, 6.0)
    return FaceFactors(
        head_w,
        head_h,
        cx,
        cy,
        tilt,
        hair_style,
        hair_volume,
        shoulder_w,
        eye_r,
        eye_dx,
        eye_y,
        eyes_open,
        mouth,
        mouth_w,
        brows,
        glasses,
        skin,
        hair,
        clothes,
        background,
        pattern,
        pattern_color,
        pattern_period,
    )


# ----------------------------------------------------------------------------------------------- drawing


def _background(f: FaceFactors, size: int) -> Image.Image:
    """Background colour with the fine pattern, drawn with numpy at the supersampled size."""
    s = size / RES
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / s  # output-pixel coordinates [size, size]
    p = f.pattern_period
    if f.pattern == "stripes":
        mask = (yy % p) < p / 2
    elif f.pattern == "dots":
        mask = ((xx % p) - p / 2) ** 2 + ((yy % p) - p / 2) ** 2 < (p * 0.3) ** 2
    elif f.pattern == "checks":
        mask = ((xx // (p / 2)) + (yy // (p / 2))) % 2 == 0
    elif f.pattern == "diagonal":
        mask = ((xx + yy) % p) < p / 2
    else:
        mask = np.zeros_like(xx, dtype=bool)
    img = np.where(mask[..., None], np.array(f.pattern_color, np.uint8), np.array(f.background, np.uint8))
    return Image.fromarray(img.astype(np.uint8), "RGB")


def _ell(d: ImageDraw.ImageDraw, cx, cy, rx, ry, s, **kw):
    d.ellipse([(cx - rx) * s, (cy - ry) * s, (cx + rx) * s, (cy + ry) * s], **kw)


def _hair_back(d, f: FaceFactors, hx, hy, s):
    """Hair drawn behind the head (it only shows outside the face outline)."""
    w, h, v = f.head_w, f.head_h, 1 + f.hair_volume
    c = f.hair
    if f.hair_style == "short":
        _ell(d, hx, hy - h * 0.15, w * v, h * (0.85 + f.hair_volume * 0.6), s, fill=c)
    elif f.hair_style == "bob":
        _ell(d, hx, hy - h * 0.1, w * v * 1.1, h * v, s, fill=c)
        d.rectangle([(hx - w * v * 1.1) * s, hy * s, (hx + w * v * 1.1) * s, (hy + h * 0.6) * s], fill=c)
    elif f.hair_style == "long":
        _ell(d, hx, hy - h * 0.1, w * v * 1.1, h * v, s, fill=c)
        d.rectangle([(hx - w * v * 1.1) * s, hy * s, (hx + w * v * 1.1) * s, (hy + h * 2.2) * s], fill=c)
    elif f.hair_style == "spiky":
        n = 7
        pts = []
        for i in range(n * 2 + 1):
            a = math.pi * (1 + i / (n * 2))  # upper half circle, left to right
            r = (h * v * 1.25) if i % 2 else h * 0.9
            pts.append(((hx + math.cos(a) * r * w / h) * s, (hy + math.sin(a) * r) * s))
        d.polygon(pts, fill=c)
    elif f.hair_style == "bun":
        _ell(d, hx, hy - h * 0.15, w * 1.05, h * 0.9, s, fill=c)
        _ell(d, hx, hy - h * (1.0 + f.hair_volume * 0.5), w * 0.5, w * 0.5, s, fill=c)
    elif f.hair_style == "mohawk":
        d.rectangle(
            [(hx - w * 0.22) * s, (hy - h * (1.1 + f.hair_volume)) * s, (hx + w * 0.22) * s, (hy - h * 0.3) * s], fill=c
        )


def _hair_front(d, f: FaceFactors, hx, hy, s):
    """A fringe over the forehead, so hair colour also shows inside the face for most styles."""
    w, h = f.head_w, f.head_h
    if f.hair_style in ("short", "bob", "long", "spiky"):
        d.chord([(hx - w) * s, (hy - h) * s, (hx + w) * s, (hy + h * 0.1) * s], 180, 360, fill=f.hair)


def _eyes(d, f: FaceFactors, hx, hy, s):
    w, h = f.head_w, f.head_h
    ey = hy + f.eye_y * h
    dark = (20, 20, 30)
    for side in (-1, 1):
        ex = hx + side * f.eye_dx * w
        if f.eyes_open:
            _ell(d, ex, ey, f.eye_r, f.eye_r, s, fill=(250, 250, 250))
            _ell(d, ex, ey, f.eye_r * 0.55, f.eye_r * 0.55, s, fill=dark)
        else:  # closed: a short arc
            d.arc(
                [(ex - f.eye_r) * s, (ey - f.eye_r * 0.6) * s, (ex + f.eye_r) * s, (ey + f.eye_r * 0.6) * s],
                0,
                180,
                fill=dark,
                width=max(1, int(0.8 * s)),
            )
        by = ey - f.eye_r - 2.0
        lw = max(1, int(1.0 * s))
        if f.brows == "flat":
            d.line([((ex - f.eye_r * 1.2) * s, by * s), ((ex + f.eye_r * 1.2) * s, by * s)], fill=dark, width=lw)
        elif f.brows == "raised":
            d.arc(
                [(ex - f.eye_r * 1.3) * s, (by - 1.0) * s, (ex + f.eye_r * 1.3) * s, (by + 2.5) * s],
                180,
                360,
                fill=dark,
                width=lw,
            )
        elif f.brows == "angry":  # inner ends low
            inner, outer = ex - side * f.eye_r * 1.2, ex + side * f.eye_r * 1.2
            d.line([(inner * s, (by + 1.2) * s), (outer * s, (by - 1.0) * s)], fill=dark, width=lw)
        if f.glasses != "none":
            r = f.eye_r + 1.6
            box = [(ex - r) * s, (ey - r) * s, (ex + r) * s, (ey + r) * s]
            if f.glasses == "round":
                d.ellipse(box, outline=dark, width=lw)
            else:
                d.rectangle(box, outline=dark, width=lw)
    if f.glasses != "none":
        r = f.eye_r + 1.6
        d.line(
            [((hx - f.eye_dx * w + r) * s, ey * s), ((hx + f.eye_dx * w - r) * s, ey * s)],
            fill=dark,
            width=max(1, int(0.8 * s)),
        )


def _mouth(d, f: FaceFactors, hx, hy, s):
    w, h = f.head_w, f.head_h
    mw, my = f.mouth_w * w, hy + 0.5 * h
    col, lw = (120, 20, 30), max(1, int(1.0 * s))
    if f.mouth == "smile":
        d.arc([(hx - mw) * s, (my - mw * 0.7) * s, (hx + mw) * s, (my + mw * 0.5) * s], 10, 170, fill=col, width=lw)
    elif f.mouth == "frown":
        d.arc([(hx - mw) * s, (my - 0.5) * s, (hx + mw) * s, (my + mw) * s], 200, 340, fill=col, width=lw)
    elif f.mouth == "open":
        _ell(d, hx, my, mw * 0.6, mw * 0.5, s, fill=col)
    elif f.mouth == "grin":
        d.chord([(hx - mw) * s, (my - mw * 0.6) * s, (hx + mw) * s, (my + mw * 0.6) * s], 0, 180, fill=col)
        d.line(
            [((hx - mw * 0.8) * s, (my + 0.4) * s), ((hx + mw * 0.8) * s, (my + 0.4) * s)],
            fill=(245, 245, 245),
            width=max(1, int(0.6 * s)),
        )
    else:
        d.line([((hx - mw) * s, my * s), ((hx + mw) * s, my * s)], fill=col, width=lw)


def render(f: FaceFactors) -> np.ndarray:
    """Draw one face. Returns uint8 [RES, RES, 3]."""
    s = SS
    size = RES * s
    img = _background(f, size)
    d = ImageDraw.Draw(img)
    # shoulders / clothes: not tilted, follow the head's x position
    _ell(d, f.cx, RES + 6, f.shoulder_w, 18, s, fill=f.clothes)
    # head, hair and features on a transparent layer drawn upright around the layer centre, then tilted
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ld = ImageDraw.Draw(layer)
    hx = hy = RES / 2
    _hair_back(ld, f, hx, hy, s)
    _ell(ld, hx, hy + f.head_h * 0.85, f.head_w * 0.35, f.head_h * 0.5, s, fill=f.skin)  # neck
    _ell(ld, hx, hy, f.head_w, f.head_h, s, fill=f.skin)
    _hair_front(ld, f, hx, hy, s)
    _eyes(ld, f, hx, hy, s)
    _mouth(ld, f, hx, hy, s)
    layer = layer.rotate(
        f.tilt, resample=Image.BILINEAR, center=(hx * s, hy * s), translate=((f.cx - hx) * s, (f.cy - hy) * s)
    )
    img.paste(layer, (0, 0), layer)
    return np.asarray(img.reduce(s))  # box filter: the anti-aliasing step


def face(seed: int, index: int) -> np.ndarray:
    """Image `index` of the data set with `seed`: uint8 [RES, RES, 3], fully deterministic."""
    return render(sample_factors(np.random.default_rng([seed, index])))


def make_pool(n: int, seed: int = 0, start: int = 0) -> np.ndarray:
    """Images start..start+n-1 as one uint8 array [n, RES, RES, 3]."""
    out = np.empty((n, RES, RES, 3), np.uint8)
    for i in range(n):
        out[i] = face(seed, start + i)
    return out


def grid(images: np.ndarray, cols: int) -> Image.Image:
    """uint8 [N, H, W, 3] -> one PIL image, `cols` per row, 1 px gaps."""
    n, h, w, _ = images.shape
    rows = math.ceil(n / cols)
    canvas = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = images[i]
    return Image.fromarray(canvas)
