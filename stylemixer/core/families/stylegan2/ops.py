"""The arithmetic of StyleGAN2's layers, as NVIDIA's stylegan2-ada-pytorch defines it, written for the CPU.

- Modulation and demodulation (`modulate`): the style s scales each input channel of the 3x3 weights, then each
  output channel is rescaled to unit norm.
- The up-convolution (`upconv2d`): a stride-2 transposed convolution with the unflipped weight (2H+1 pixels),
  then the 4x4 FIR [1,3,3,1] x [1,3,3,1] / 64 with gain 4 and one pixel of zero padding per side (2H pixels).
  This is NVIDIA's conv2d_resample(up=2, padding=1, flip_weight=False): their "convolution" semantics for the up
  layer means the stored kernel is applied as a true convolution on the zero-inserted input, which is what a
  transposed convolution with the kernel as stored does.
- The skip image's upsampling (`upsample2d`): zero insertion, padding (2, 1) and the same FIR with gain 4,
  computed as one depthwise stride-2 transposed convolution with the 4x4 filter (identical maths).

Everything here takes and returns [N, C, H, W] tensors in either memory format; nothing changes a tensor it did
not create.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)
DEMOD_EPS = 1e-8
RESAMPLE_TAPS = (1.0, 3.0, 3.0, 1.0)


def resample_filter(gain: float = 1.0) -> torch.Tensor:
    """[4, 4]: the outer product of [1, 3, 3, 1] with itself, normalised to sum 1, times `gain` (NVIDIA's
    upfirdn2d.setup_filter([1,3,3,1]) then the up**2 gain of upsampling)."""
    k = torch.tensor(RESAMPLE_TAPS, dtype=torch.float32)
    f = k[:, None] * k[None, :]
    return f / f.sum() * gain


def modulate(
    weight: torch.Tensor, s: torch.Tensor, demodulate: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The StyleGAN2 formula, readable. weight [O, I, k, k], s [N, I] -> (W'' [N, O, I, k, k], d [N, O] or None).

        W'[n,o,i]  = W[o,i] * s[n,i]                                 modulation: the style scales input channels
        d[n,o]     = 1 / sqrt(sum over i, kh, kw of W'[n,o,i]^2 + 1e-8)  demodulation: unit-norm output channels
        W''[n,o,i] = W'[n,o,i] * d[n,o]

    The layers compute d with `demodulation` (no [N, O, I, k, k] temporary) and apply s and d either to one
    weight (batch 1) or to the activations around a shared weight (larger batches); both equal conv(x, W'').
    """
    w = weight[None] * s[:, None, :, None, None]
    if not demodulate:
        return w, None
    d = (w.square().sum(dim=(2, 3, 4)) + DEMOD_EPS).rsqrt()
    return w * d[:, :, None, None, None], d


def demodulation(weight_sq: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """d [N, O] from Q [O, I] = sum over kh, kw of W^2 (a constant of the layer) and s [N, I]:
    sum_{i,kh,kw} (W[o,i] s[n,i])^2 = sum_i s[n,i]^2 Q[o,i], one small matmul."""
    return (s.square() @ weight_sq.t() + DEMOD_EPS).rsqrt()


def upconv2d(
    x: torch.Tensor, weight_t: torch.Tensor, fir: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """x [N, I, H, W], weight_t [I, O, 3, 3] (the [O, I, 3, 3] weight transposed, contiguous), fir [O, 1, 4, 4]
    (per channel, gain included) -> [N, O, 2H, 2W].

    conv_transpose2d scatters each input pixel through the kernel as stored (a true convolution of the
    zero-inserted input), giving 2H+1 pixels; the depthwise FIR with padding 1 low-passes them to 2H. The FIR's
    per-channel kernel can carry a per-channel scale (the demodulation) and the bias at no extra cost.
    """
    y = F.conv_transpose2d(x, weight_t, stride=2)  # [N, O, 2H+1, 2W+1]
    # The filter is symmetric, so correlation (conv2d) equals the convolution upfirdn2d performs.
    return F.conv2d(y, fir, bias=bias, padding=1, groups=fir.shape[0])  # [N, O, 2H, 2W]


def upsample2d(img: torch.Tensor, fir_up: torch.Tensor) -> torch.Tensor:
    """img [N, C, H, W], fir_up [C, 1, 4, 4] (gain 4 included) -> [N, C, 2H, 2W].

    upfirdn2d(up=2, padding=(2, 1)) is: insert a zero after each pixel, pad 2 before and 1 after, convolve with
    the filter. A stride-2 transposed conv scatters pixel i to outputs 2i..2i+3 with the filter as stored, which
    is the same sum; cropping one pixel per side (padding=1) aligns the two.
    """
    return F.conv_transpose2d(img, fir_up, stride=2, padding=1, groups=img.shape[1])


def epilogue_(y: torch.Tensor, noise: torch.Tensor | None, clamp: float | None) -> torch.Tensor:
    """In place on a fresh conv output that already holds gain * (conv + bias): add gain * noise, leaky ReLU 0.2,
    clamp to +-clamp. NVIDIA's bias_act computes clamp(lrelu(conv + noise + bias) * sqrt(2)); lrelu is positively
    homogeneous (lrelu(g v) = g lrelu(v) for g > 0), so the sqrt(2) gain is folded into the linear terms that
    produce y and the epilogue is three passes over y instead of five.

    Out of place when autograd records y (training-style use), with identical values.
    """
    if torch.is_grad_enabled() and y.requires_grad:
        if noise is not None:
            y = y + noise
        y = F.leaky_relu(y, 0.2)
        return y.clamp(-clamp, clamp) if clamp is not None else y
    if noise is not None:
        y.add_(noise)
    F.leaky_relu_(y, 0.2)
    if clamp is not None:
        y.clamp_(-clamp, clamp)
    return y


__all__ = [
    "DEMOD_EPS",
    "SQRT2",
    "demodulation",
    "epilogue_",
    "modulate",
    "resample_filter",
    "upconv2d",
    "upsample2d",
]
