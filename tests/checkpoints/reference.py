"""An independent StyleGAN (v1) forward pass written directly against the TF-layout variables, in NumPy float64.

Shares no code with stylemixer: it works in NHWC, keeps weights in the TF layouts ([in, out] dense,
[kh, kw, in, out] conv) and follows the fact sheet's section A5 step by step. The fused up-convolution is
computed the way TF defines it: the 4x4 kernel built from the padded 3x3 kernel, then the transposed
convolution written out as an explicit scatter of every input pixel into a stride-2 output grid.
"""

from __future__ import annotations

import math

import numpy as np


def lrelu(x):
    return np.where(x >= 0, x, 0.2 * x)


def _mm(x, m):
    """[..., Cin] @ [Cin, Cout] as one 2-D product (much faster in NumPy than a stack of small ones)."""
    return (np.ascontiguousarray(x).reshape(-1, x.shape[-1]) @ m).reshape(*x.shape[:-1], m.shape[1])


def conv3x3_same(x, w):
    """x [N, H, W, Cin], w [3, 3, Cin, Cout] (scaled): TF conv2d, cross-correlation, zero padding 1."""
    n, h, wd, _ = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros((n, h, wd, w.shape[3]))
    for ky in range(3):
        for kx in range(3):
            out += _mm(xp[:, ky : ky + h, kx : kx + wd, :], w[ky, kx])
    return out


def upscale_nearest(x):
    return x.repeat(2, axis=1).repeat(2, axis=2)


def fused_kernel(w):
    """[3, 3, Cin, Cout] -> the transposed-conv filter [4, 4, Cout, Cin] (TF's upscale2d_conv2d, fused)."""
    w = np.transpose(w, (0, 1, 3, 2))
    w = np.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
    return w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]


def conv_transpose_stride2_same(x, f):
    """TF conv2d_transpose(x, f [4, 4, Cout, Cin], stride 2, 'SAME'): the adjoint of a stride-2 cross-correlation
    whose 'SAME' padding is 1 before each axis, so input pixel (y, x) adds f[ky, kx] to output (2y+ky-1, 2x+kx-1).
    Written as a scatter of the whole input grid per kernel tap."""
    n, h, wd, _ = x.shape
    acc = np.zeros((n, 2 * h + 2, 2 * wd + 2, f.shape[2]))  # output index + 1, so the -1 shift stays in range
    for ky in range(4):
        for kx in range(4):
            acc[:, ky : ky + 2 * h : 2, kx : kx + 2 * wd : 2, :] += _mm(x, f[ky, kx].T)
    return acc[:, 1 : 2 * h + 1, 1 : 2 * wd + 1, :]


def conv_transpose_stride2_same_loops(x, f):
    """The same scatter one input pixel at a time (slow; used to check the version above on small inputs)."""
    n, h, wd, _ = x.shape
    out = np.zeros((n, 2 * h, 2 * wd, f.shape[2]))
    for y in range(h):
        for xx in range(wd):
            for ky in range(4):
                for kx in range(4):
                    oy, ox = 2 * y + ky - 1, 2 * xx + kx - 1
                    if 0 <= oy < 2 * h and 0 <= ox < 2 * wd:
                        out[:, oy, ox, :] += x[:, y, xx, :] @ f[ky, kx].T
    return out


def blur(x):
    k = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0])
    k /= k.sum()
    _n, h, wd, _c = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros_like(x)
    for ky in range(3):
        for kx in range(3):
            out += xp[:, ky : ky + h, kx : kx + wd, :] * k[ky, kx]
    return out


def epilogue(x, v, scope, noise, dlatent):
    """noise -> bias -> lrelu -> instance norm -> style modulation, for one layer."""
    x = x + noise.transpose(0, 2, 3, 1) * v[f"{scope}/Noise/weight"].astype(np.float64)
    x = x + v[f"{scope}/bias"]
    x = lrelu(x)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    x = x / np.sqrt(np.square(x).mean(axis=(1, 2), keepdims=True) + 1e-8)
    sw = v[f"{scope}/StyleMod/weight"].astype(np.float64)
    style = dlatent @ (sw / math.sqrt(sw.shape[0])) + v[f"{scope}/StyleMod/bias"]  # [N, 2C]
    c = x.shape[3]
    style = style.reshape(-1, 2, c)
    return x * (style[:, 0] + 1)[:, None, None, :] + style[:, 1][:, None, None, :]


def mapping(variables, z, lrmul=0.01):
    m = variables["mapping"]
    x = z.astype(np.float64)
    x = x / np.sqrt(np.square(x).mean(axis=1, keepdims=True) + 1e-8)
    i = 0
    while f"Dense{i}/weight" in m:
        w = m[f"Dense{i}/weight"].astype(np.float64)
        x = lrelu(x @ (w * math.sqrt(2) / math.sqrt(w.shape[0]) * lrmul) + m[f"Dense{i}/bias"] * lrmul)
        i += 1
    return x


def dlatents(variables, z, num_layers, psi=0.7, cutoff=8, lrmul=0.01):
    w = mapping(variables, z, lrmul)
    dl = np.repeat(w[:, None, :], num_layers, axis=1)
    if psi is not None and psi != 1 and cutoff:
        avg = variables["Gs"]["dlatent_avg"].astype(np.float64)
        for l in range(min(cutoff, num_layers)):
            dl[:, l] = avg + psi * (dl[:, l] - avg)
    return dl


def synthesis(variables, dl, fused_from=128):
    """dlatents [N, num_layers, w_dim] -> images [N, C, R, R] (NCHW), stored noise (noise{l}) for every layer."""
    v = {k: np.asarray(a, dtype=np.float64) for k, a in variables["synthesis"].items()}
    n = dl.shape[0]
    const = v["4x4/Const/const"].transpose(0, 2, 3, 1)
    x = np.repeat(const, n, axis=0)
    x = epilogue(x, v, "4x4/Const", v["noise0"], dl[:, 0])
    w = v["4x4/Conv/weight"]
    x = conv3x3_same(x, w * math.sqrt(2) / math.sqrt(9 * w.shape[2]))
    x = epilogue(x, v, "4x4/Conv", v["noise1"], dl[:, 1])
    r = 8
    while f"{r}x{r}/Conv1/weight" in v:
        k = int(math.log2(r))
        w = v[f"{r}x{r}/Conv0_up/weight"]
        w = w * math.sqrt(2) / math.sqrt(9 * w.shape[2])
        if r >= fused_from:
            x = conv_transpose_stride2_same(x, fused_kernel(w))
        else:
            x = conv3x3_same(upscale_nearest(x), w)
        x = blur(x)
        x = epilogue(x, v, f"{r}x{r}/Conv0_up", v[f"noise{2 * k - 4}"], dl[:, 2 * k - 4])
        w = v[f"{r}x{r}/Conv1/weight"]
        x = conv3x3_same(x, w * math.sqrt(2) / math.sqrt(9 * w.shape[2]))
        x = epilogue(x, v, f"{r}x{r}/Conv1", v[f"noise{2 * k - 3}"], dl[:, 2 * k - 3])
        r *= 2
    w = v["ToRGB_lod0/weight"][0, 0]  # [C, 3]
    img = x @ (w / math.sqrt(w.shape[0])) + v["ToRGB_lod0/bias"]
    return img.transpose(0, 3, 1, 2)


def generate(variables, z, psi=0.7, cutoff=8, fused_from=128):
    num_layers = sum(1 for k in variables["synthesis"] if k.startswith("noise"))
    return synthesis(variables, dlatents(variables, z, num_layers, psi, cutoff), fused_from)
