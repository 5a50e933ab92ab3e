"""An independent StyleGAN3 forward pass, written from the paper and NVIDIA's reference CPU path, in float64.

Shares no code with stylemixer: it reads a NetworkRecord (NVIDIA's state-dict names and layer attributes)
directly and computes every step the plain way: the Fourier features on an affine_grid-style sampling grid,
modulated convolution as one grouped convolution with per-image weights (NVIDIA's formula: styles
pre-normalised by their mean square, weights per output channel, demodulation, input gain), and the filtered
leaky ReLU as its definition: bias, upsample by inserting zeros, pad or crop, FIR convolution at the full
upsampled rate (a 1-D filter along x then y, StyleGAN3-R's radial filters as one 2-D convolution), leaky ReLU
with gain, clamp, FIR convolution again, and keeping every `down`-th sample.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

D = torch.float32


def _t(rec, name):
    return rec.state[name].to(D)


def fully_connected(rec, path, x):
    a = rec.attrs[path]
    w = _t(rec, f"{path}.weight") * a["weight_gain"]
    b = _t(rec, f"{path}.bias") * a["bias_gain"]
    y = x @ w.T + b
    if a["activation"] == "lrelu":
        y = torch.where(y >= 0, y, 0.2 * y) * math.sqrt(2)
    return y


def mapping(rec, z, c=None, psi=1.0, cutoff=None):
    """z [N, z_dim] (float) -> ws [N, num_ws, w_dim] float64."""
    a = rec.attrs["mapping"]
    x = torch.as_tensor(z, dtype=D)
    x = x / torch.sqrt((x * x).mean(dim=1, keepdim=True) + 1e-8)
    if a["c_dim"]:
        y = fully_connected(rec, "mapping.embed", torch.as_tensor(c, dtype=D))
        x = torch.cat([x, y / torch.sqrt((y * y).mean(dim=1, keepdim=True) + 1e-8)], dim=1)
    for i in range(a["num_layers"]):
        x = fully_connected(rec, f"mapping.fc{i}", x)
    ws = x[:, None, :].repeat(1, a["num_ws"], 1)
    if psi != 1:
        cut = a["num_ws"] if cutoff is None else cutoff
        avg = _t(rec, "mapping.w_avg")
        ws[:, :cut] = avg + psi * (ws[:, :cut] - avg)
    return ws


def make_transform(translate, angle):
    """gen_images.py's matrix for a translation (image widths) and a rotation (degrees)."""
    s, c = math.sin(angle / 360 * 2 * math.pi), math.cos(angle / 360 * 2 * math.pi)
    return np.array([[c, s, translate[0]], [-s, c, translate[1]], [0, 0, 1.0]])


def fourier_input(rec, w, transform):
    a = rec.attrs["synthesis.input"]
    n, c = w.shape[0], a["channels"]
    t = fully_connected(rec, "synthesis.input.affine", w)  # (r_c, r_s, t_x, t_y)
    t = t / torch.sqrt(t[:, 0] ** 2 + t[:, 1] ** 2)[:, None]
    out = []
    for i in range(n):
        rot = torch.tensor([[t[i, 0], -t[i, 1], 0], [t[i, 1], t[i, 0], 0], [0, 0, 1]], dtype=D)
        tra = torch.tensor([[1, 0, -t[i, 2]], [0, 1, -t[i, 3]], [0, 0, 1]], dtype=D)
        m = rot @ tra @ transform
        freqs = _t(rec, "synthesis.input.freqs") @ m[:2, :2]  # [C, 2]
        phases = _t(rec, "synthesis.input.phases") + _t(rec, "synthesis.input.freqs") @ m[:2, 2]
        amp = 1 - (freqs.norm(dim=1) - a["bandwidth"]) / (a["sampling_rate"] / 2 - a["bandwidth"])
        amp = amp.clamp(0, 1)
        size_w, size_h = a["size"]
        # affine_grid(align_corners=False) with a diagonal theta of 0.5 * size / sampling_rate
        gx = ((2 * torch.arange(size_w, dtype=D) + 1) / size_w - 1) * (0.5 * size_w / a["sampling_rate"])
        gy = ((2 * torch.arange(size_h, dtype=D) + 1) / size_h - 1) * (0.5 * size_h / a["sampling_rate"])
        arg = gx[None, :, None] * freqs[None, None, :, 0] + gy[:, None, None] * freqs[None, None, :, 1]
        feat = torch.sin(2 * math.pi * (arg + phases)) * amp  # [H, W, C]
        feat = feat @ (_t(rec, "synthesis.input.weight") / math.sqrt(c)).T
        out.append(feat.permute(2, 0, 1))
    return torch.stack(out)


def fir2d(x, f, gain):
    """FIR convolution of every channel, keeping the outputs whose footprint lies inside x ('valid'), as
    NVIDIA's reference upfirdn2d does: a 1-D filter [T] along x then y, a 2-D filter [T, T] at once."""
    if f is None:
        return x * gain
    c = x.shape[1]
    f = torch.flip(f.to(D), dims=tuple(range(f.ndim)))  # convolution, not correlation
    if f.ndim == 1:
        g = math.sqrt(gain)
        x = F.conv2d(x, (f * g).reshape(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        return F.conv2d(x, (f * g).reshape(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, (f * gain)[None, None].repeat(c, 1, 1, 1), groups=c)


def filtered_lrelu(x, fu, fd, b, up, down, padding, gain, slope, clamp):
    n, c, h, w = x.shape
    x = x + b[None, :, None, None]
    z = torch.zeros(n, c, h * up, w * up, dtype=D)
    z[:, :, ::up, ::up] = x
    px0, px1, py0, py1 = padding
    z = F.pad(z, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    z = z[:, :, max(-py0, 0) : z.shape[2] - max(-py1, 0), max(-px0, 0) : z.shape[3] - max(-px1, 0)]
    z = fir2d(z, fu, up * up)
    z = torch.where(z >= 0, z, slope * z) * gain
    if clamp is not None:
        z = z.clamp(-clamp, clamp)
    z = fir2d(z, fd, 1.0)
    return z[:, :, ::down, ::down]


def synthesis_layer(rec, name, x, w):
    p = f"synthesis.{name}"
    a = rec.attrs[p]
    styles = fully_connected(rec, f"{p}.affine", w)
    weight = _t(rec, f"{p}.weight")
    if a["is_torgb"]:
        styles = styles / math.sqrt(a["in_channels"] * a["conv_kernel"] ** 2)
    demod = not a["is_torgb"]
    if demod:
        weight = weight / torch.sqrt((weight**2).mean(dim=(1, 2, 3), keepdim=True))
        styles = styles / torch.sqrt((styles**2).mean())  # over the whole batch, as NVIDIA
    wm = weight[None] * styles[:, None, :, None, None]
    if demod:
        wm = wm / torch.sqrt((wm**2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    wm = wm / torch.sqrt(_t(rec, f"{p}.magnitude_ema"))
    n = x.shape[0]
    k = a["conv_kernel"]
    y = F.conv2d(x.reshape(1, -1, *x.shape[2:]), wm.reshape(-1, *wm.shape[2:]), padding=k - 1, groups=n)
    y = y.reshape(n, -1, *y.shape[2:])
    fu = rec.state.get(f"{p}.up_filter")
    fd = rec.state.get(f"{p}.down_filter")
    return filtered_lrelu(
        y,
        fu,
        fd,
        _t(rec, f"{p}.bias"),
        a["up_factor"],
        a["down_factor"],
        a["padding"],
        1.0 if a["is_torgb"] else math.sqrt(2),
        1.0 if a["is_torgb"] else 0.2,
        a["conv_clamp"],
    )


def synthesis(rec, ws, translate=(0.0, 0.0), rotate=0.0):
    """ws [N, num_ws, w_dim] -> image [N, C, R, R] float64. The user's transform composes with the stored one
    as stored @ inverse(make_transform(translate, rotate))."""
    ws = torch.as_tensor(ws, dtype=D)
    transform = _t(rec, "synthesis.input.transform")
    if translate != (0.0, 0.0) or rotate != 0.0:
        transform = transform @ torch.as_tensor(np.linalg.inv(make_transform(translate, rotate)), dtype=D)
    x = fourier_input(rec, ws[:, 0], transform)
    names = rec.attrs["synthesis"]["layer_names"]
    for i, name in enumerate(names):
        x = synthesis_layer(rec, name, x, ws[:, i + 1])
    return x * rec.attrs["synthesis"]["output_scale"]
