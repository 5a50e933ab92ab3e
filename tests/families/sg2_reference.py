"""An independent StyleGAN2 (config E/F, 'skip') in float64, written from NVIDIA's maths, for checking the engine.

Shares no code with stylemixer. It reads NVIDIA-named state dicts (tests/checkpoints/sg2_weights.py) and follows
stylegan2-ada-pytorch's definitions the slow, literal way:
- upfirdn2d: insert up-1 zeros after each pixel, zero-pad (x0, x1, y0, y1), convolve with the 2-D filter (a true
  convolution: the filter is flipped), times gain;
- the up layer is conv2d_resample's generic path: upfirdn2d(x, f, up=2, padding=(3, 2, 3, 2), gain=4), then a
  valid 3x3 convolution with the weight flipped (flip_weight=False means convolution, not correlation) -- NVIDIA
  runs the same operator as a transposed convolution followed by the filter; the engine does that too, so this
  order is the independent one;
- convolutions are plain valid cross-correlations in float64, per sample, with the modulated and demodulated
  weight of that sample.
"""

from __future__ import annotations

import math

import numpy as np
import torch

F64 = torch.float64


def fir_filter() -> torch.Tensor:
    k = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=F64)
    f = torch.outer(k, k)
    return f / f.sum()


def upfirdn2d(x, f, up=1, pad=(0, 0, 0, 0), gain=1.0):
    """x [C, H, W]; pad = (x0, x1, y0, y1) >= 0."""
    c, h, w = x.shape
    u = torch.zeros(c, h * up, w * up, dtype=x.dtype)
    u[:, ::up, ::up] = x
    x0, x1, y0, y1 = pad
    p = torch.zeros(c, h * up + y0 + y1, w * up + x0 + x1, dtype=x.dtype)
    p[:, y0 : y0 + h * up, x0 : x0 + w * up] = u
    k = (f * gain).flip(0, 1)  # convolution = correlation with the flipped filter
    kh, kw = k.shape
    oh, ow = p.shape[1] - kh + 1, p.shape[2] - kw + 1
    out = torch.zeros(c, oh, ow, dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += k[i, j] * p[:, i : i + oh, j : j + ow]
    return out


def correlate_valid(x, w):
    """x [I, H, W], w [O, I, kh, kw] -> [O, H-kh+1, W-kw+1]: out[o] = sum over i and taps of w[o, i] * shifted x[i]
    (a plain float64 cross-correlation without padding)."""
    return torch.nn.functional.conv2d(x[None], w)[0]


def lrelu(x):
    return torch.where(x >= 0, x, 0.2 * x)


class Reference:
    """Reference(init_kwargs, state): mapping(z, c, psi, cutoff) -> ws; synthesis(ws, noise_mode) -> img."""

    def __init__(self, init_kwargs: dict, state: dict, conv_clamp="auto"):
        self.kw = init_kwargs
        self.p = {k: v.detach().to(F64) for k, v in state.items()}
        syn = init_kwargs.get("synthesis_kwargs", init_kwargs)
        self.conv_clamp = syn.get("conv_clamp") if conv_clamp == "auto" else conv_clamp
        self.res = init_kwargs["img_resolution"]
        self.lr = init_kwargs.get("mapping_kwargs", {}).get("lr_multiplier", 0.01)
        self.num_ws = 2 * int(math.log2(self.res)) - 2

    # ---------------------------------------------------------------------------------------------- mapping
    def fc(self, name, x, lr, act):
        w, b = self.p[f"{name}.weight"], self.p[f"{name}.bias"]
        y = x @ (w * (lr / math.sqrt(w.shape[1]))).T + b * lr
        return lrelu(y) * math.sqrt(2) if act else y

    @staticmethod
    def norm(x):
        return x / torch.sqrt((x * x).mean(dim=1, keepdim=True) + 1e-8)

    def mapping(self, z, c=None, psi=1.0, cutoff=None):
        x = self.norm(torch.as_tensor(z, dtype=F64))
        if "mapping.embed.weight" in self.p:
            y = self.norm(self.fc("mapping.embed", torch.as_tensor(c, dtype=F64), 1.0, False))
            x = torch.cat([x, y], dim=1)
        i = 0
        while f"mapping.fc{i}.weight" in self.p:
            x = self.fc(f"mapping.fc{i}", x, self.lr, True)
            i += 1
        ws = x[:, None, :].repeat(1, self.num_ws, 1)
        if psi != 1:
            avg = self.p["mapping.w_avg"]
            cut = self.num_ws if cutoff is None else cutoff
            ws[:, :cut] = avg + psi * (ws[:, :cut] - avg)
        return ws

    # ---------------------------------------------------------------------------------------------- synthesis
    def styles(self, name, w):
        aw, ab = self.p[f"{name}.affine.weight"], self.p[f"{name}.affine.bias"]
        return w @ (aw / math.sqrt(aw.shape[1])).T + ab

    def modconv(self, name, x, w, up, noise_mode):
        """One sample: x [I, H, W], w [w_dim]."""
        W = self.p[f"{name}.weight"]
        s = self.styles(name, w)
        Wm = W * s[None, :, None, None]
        d = 1 / torch.sqrt((Wm * Wm).sum(dim=(1, 2, 3)) + 1e-8)
        Wm = Wm * d[:, None, None, None]
        if up:
            xu = upfirdn2d(x, fir_filter(), up=2, pad=(3, 2, 3, 2), gain=4.0)
            y = correlate_valid(xu, Wm.flip(2, 3))
        else:
            xp = torch.nn.functional.pad(x, (1, 1, 1, 1))
            y = correlate_valid(xp, Wm)
        if noise_mode == "const" and f"{name}.noise_const" in self.p:
            y = y + self.p[f"{name}.noise_const"][None] * self.p[f"{name}.noise_strength"]
        y = lrelu(y + self.p[f"{name}.bias"][:, None, None]) * math.sqrt(2)
        if self.conv_clamp is not None:
            y = y.clamp(-self.conv_clamp, self.conv_clamp)
        return y

    def torgb(self, name, x, w):
        W = self.p[f"{name}.weight"][:, :, 0, 0]
        s = self.styles(name, w) / math.sqrt(W.shape[1])
        y = torch.einsum("ci,ihw->chw", W * s[None, :], x) + self.p[f"{name}.bias"][:, None, None]
        if self.conv_clamp is not None:
            y = y.clamp(-self.conv_clamp, self.conv_clamp)
        return y

    def synthesis(self, ws, noise_mode="const"):
        ws = torch.as_tensor(ws, dtype=F64)
        return torch.stack([self._one(ws[n], noise_mode) for n in range(ws.shape[0])])

    def _one(self, ws, noise_mode):
        x = self.p["synthesis.b4.const"]
        img, k, r = None, 0, 4
        while r <= self.res:
            b = f"synthesis.b{r}"
            if r == 4:
                x = self.modconv(f"{b}.conv1", x, ws[0], False, noise_mode)
                y = self.torgb(f"{b}.torgb", x, ws[1])
                img, k = y, 1
            else:
                x = self.modconv(f"{b}.conv0", x, ws[k], True, noise_mode)
                x = self.modconv(f"{b}.conv1", x, ws[k + 1], False, noise_mode)
                y = self.torgb(f"{b}.torgb", x, ws[k + 2])
                img = upfirdn2d(img, fir_filter(), up=2, pad=(2, 1, 2, 1), gain=4.0) + y
                k += 2
            r *= 2
        return img


def z_for(seed: int, z_dim: int, n: int = 1) -> np.ndarray:
    return np.random.RandomState(seed).randn(n, z_dim)
