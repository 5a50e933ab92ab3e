"""The StyleGAN2 generator (config E/F, the 'skip' architecture), numerically NVIDIA's.

Follows stylegan2-ada-pytorch `training/networks.py` (and stylegan3's identical `networks_stylegan2.py`), which is
also rosinality's `model.py`:
- mapping: normalise z to unit second moment, optionally concatenate a normalised label embedding, then
  `mapping_layers` equalized dense layers with leaky ReLU x sqrt(2) and a learning-rate multiplier;
- synthesis from a learned 4x4 constant: per block (4, 8, ..., R px) an up-convolution conv0 (not at 4 px) and a
  conv1, each a modulated 3x3 convolution with demodulation, noise added after the convolution, bias, leaky ReLU
  x sqrt(2), clamp to +-conv_clamp; and a ToRGB (1x1 modulated, not demodulated) whose output is added to the
  upsampled image of the previous block (img = upsample(img) + ToRGB(x)).
Always float32 on the CPU whatever the file's num_fp16_res (NVIDIA's CPU images in fp16 differ by ~1e-3).

w indices (NVIDIA's): w 0 drives b4.conv1; w 2b-1 drives b{r/2}.torgb and b{r}.conv0, w 2b drives b{r}.conv1 for
the block at r = 4 * 2^b; the last w drives the last block's ToRGB alone. num_ws = 2 log2(R) - 2.

Resumable synthesis: the state entering w index k is (x, img), the features after the last conv driven by a w < k
and the image so far (None before the first ToRGB). `advance(k)` runs exactly what w k drives; `forward` is
start + advance for every k + finish, so a renderer that caches states gets the same bits as a fresh render.

`topology(cfg)` is the one description of the layer order: the modules, the w-index mapping, the layer table,
the FLOP count and the converters' names all come from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from ..api import NOISE_MODES, LayerInfo, Quantity, StatsSpec
from ..common import (
    FullyConnected,
    MappedGenerator,
    MappingNetwork,
    PyramidConfig,
    SynthesisBase,
    channel_moments,
    truncate,
)
from .ops import SQRT2, demodulation, epilogue_, resample_filter, upconv2d, upsample2d

if TYPE_CHECKING:
    from ...stats import Capture

FAMILY = "stylegan2"
FAMILY_LABEL = "StyleGAN2"


def channels_for(resolution: int, channel_base: int = 32768, channel_max: int = 512) -> tuple:
    """NVIDIA's widths: min(channel_base // res, channel_max) for res = 4, 8, ..., resolution.
    Config F at 1024 px: channel_base 32768 (rosinality channel_multiplier 2), channel_max 512."""
    n = int(math.log2(resolution)) - 1
    return tuple(min(int(channel_base) // (4 * 2**b), int(channel_max)) for b in range(n))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class StyleGAN2Config(PyramidConfig):
    resolution: int = 1024  # output height and width, a power of two >= 4
    img_channels: int = 3
    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 0  # label size; > 0 for class-conditional models
    mapping_layers: int = 8
    mapping_fmaps: int = 512  # hidden width of the mapping MLP (NVIDIA layer_features)
    embed_features: int = 512  # label embedding width (NVIDIA embed_features; used when c_dim > 0)
    mapping_lrmul: float = 0.01
    channels: tuple = channels_for(1024)  # feature maps of the blocks at 4, 8, ..., resolution px
    conv_clamp: float | None = None  # clamp conv layer outputs to +-conv_clamp (ADA-trained files: 256)
    use_noise: bool = True
    truncation_psi: float = 1.0  # the model's suggested default truncation
    truncation_cutoff: int | None = None
    crop: tuple | None = None  # (top, bottom, left, right) content box

    config_name = "StyleGAN2"

    def __post_init__(self) -> None:
        r = self.resolution
        if not _is_int(r) or r < 4 or r > 1 << 14 or r & (r - 1):
            raise ValueError(f"resolution must be a power of two between 4 and 16384, got {r!r}")
        for name, lo in (
            ("img_channels", 1),
            ("z_dim", 1),
            ("w_dim", 1),
            ("c_dim", 0),
            ("mapping_layers", 1),
            ("mapping_fmaps", 1),
            ("embed_features", 1),
        ):
            v = getattr(self, name)
            if not _is_int(v) or not lo <= v <= 1 << 16:
                raise ValueError(f"{name} must be an integer between {lo} and 65536, got {v!r}")
        if self.img_channels > 4:
            raise ValueError(f"img_channels must be 1 to 4, got {self.img_channels}")
        if not _is_num(self.mapping_lrmul) or not 0 < self.mapping_lrmul <= 1000:
            raise ValueError(f"mapping_lrmul must be a number in (0, 1000], got {self.mapping_lrmul!r}")
        if not isinstance(self.channels, (tuple, list)) or not all(
            _is_int(c) and 1 <= c <= 1 << 16 for c in self.channels
        ):
            raise ValueError(f"channels must be a list of positive integers, got {self.channels!r}")
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if len(self.channels) != self.num_blocks:
            raise ValueError(f"channels needs {self.num_blocks} entries (4 px to {r} px), got {len(self.channels)}")
        if self.conv_clamp is not None and (not _is_num(self.conv_clamp) or self.conv_clamp <= 0):
            raise ValueError(f"conv_clamp must be a positive number or None, got {self.conv_clamp!r}")
        if not isinstance(self.use_noise, bool):
            raise ValueError(f"use_noise must be true or false, got {self.use_noise!r}")
        if not _is_num(self.truncation_psi):
            raise ValueError(f"truncation_psi must be a number, got {self.truncation_psi!r}")
        c = self.truncation_cutoff
        if c is not None and (not _is_int(c) or not 0 <= c <= self.num_ws):
            raise ValueError(f"truncation_cutoff must be None or an integer in 0..{self.num_ws}, got {c!r}")
        if self.crop is not None:
            box = self.crop
            if (
                not isinstance(box, (tuple, list))
                or len(box) != 4
                or not all(_is_int(v) for v in box)
                or not (0 <= box[0] < box[1] <= r and 0 <= box[2] < box[3] <= r)
            ):
                raise ValueError(f"crop must be (top, bottom, left, right) inside the {r} px frame, got {box!r}")
            object.__setattr__(self, "crop", tuple(box))


# ------------------------------------------------------------------------------------------------ topology


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the synthesis network."""

    name: str  # module path under `synthesis` (NVIDIA's), e.g. "b8.conv0", "b4.torgb"
    kind: str  # "conv" (3x3), "up" (3x3 up-convolution) or "torgb" (1x1, not demodulated)
    block: int  # the block's resolution
    in_channels: int
    out_channels: int
    resolution: int  # output height and width
    noise_index: int = -1  # conv layers in order: TF's synthesis/noise{i}, rosinality's noises.noise_{i}


def topology(cfg: StyleGAN2Config) -> tuple:
    """Per w index, the layers it drives in execution order: a tuple of tuples of LayerSpec."""
    ch, rgb = cfg.channels, cfg.img_channels
    steps: list[tuple[LayerSpec, ...]] = []
    steps.append((LayerSpec("b4.conv1", "conv", 4, ch[0], ch[0], 4, 0),))
    for b in range(1, cfg.num_blocks):
        r, prev = 4 * 2**b, 4 * 2 ** (b - 1)
        # A block's ToRGB reads its conv1 output, so it runs before the next block's conv0 overwrites x.
        steps.append(
            (
                LayerSpec(f"b{prev}.torgb", "torgb", prev, ch[b - 1], rgb, prev),
                LayerSpec(f"b{r}.conv0", "up", r, ch[b - 1], ch[b], r, 2 * b - 1),
            )
        )
        steps.append((LayerSpec(f"b{r}.conv1", "conv", r, ch[b], ch[b], r, 2 * b),))
    R = cfg.resolution
    steps.append((LayerSpec(f"b{R}.torgb", "torgb", R, ch[-1], rgb, R),))
    assert len(steps) == cfg.num_ws
    return tuple(steps)


def group_of(resolution: int) -> str:
    """coarse: 4-8 px, middle: 16-32 px, fine: 64 px and up (the paper's split, by the driven conv's output)."""
    return "coarse" if resolution <= 8 else "middle" if resolution <= 32 else "fine"


# ------------------------------------------------------------------------------------------------ modules


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally upsampling x2), noise, bias, leaky ReLU x sqrt(2), clamp."""

    noise_const: torch.Tensor  # buffers
    fir: torch.Tensor

    def __init__(self, spec: LayerSpec, w_dim: int, use_noise: bool = True, conv_clamp: float | None = None) -> None:
        super().__init__()
        i, o, r = spec.in_channels, spec.out_channels, spec.resolution
        self.in_channels, self.out_channels, self.resolution = i, o, r
        self.up = spec.kind == "up"
        self.use_noise, self.conv_clamp = use_noise, conv_clamp
        self.affine = FullyConnected(w_dim, i, bias_init=1)  # s = A(w), one per input channel
        self.weight = nn.Parameter(torch.randn(o, i, 3, 3))  # [O, I, 3, 3], no equalized-lr gain (demod)
        self.bias = nn.Parameter(torch.zeros(o))  # [O]
        if use_noise:
            self.register_buffer("noise_const", torch.randn(r, r))  # [H, W]
            self.noise_strength = nn.Parameter(torch.zeros([]))  # scalar
        if self.up:
            self.register_buffer("fir", resample_filter(4.0)[None, None].repeat(o, 1, 1, 1), persistent=False)
        h_in = r // 2 if self.up else r
        # Batch 1: modulating the weight is one pass over O*I*9 values; scaling the activations instead is a pass
        # over the input and one over the output. Take the smaller (the weight from 64 px on at 512 channels).
        self.fold = 9 * o * i <= i * h_in * h_in + o * r * r
        self._const: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._const_tag: tuple | None = None

    def constants(self, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(Q [O, I] = sum over the 3x3 taps of W^2 for the demodulation, W as [I, O, 3, 3] for the transposed conv
        of the up layer, else None): derived from W, recomputed only when W changes."""
        w = self.weight
        # The version counter catches in-place updates (load_state_dict); weights made under inference_mode have
        # none, and only their storage identifies them.
        tag = (w.data_ptr(), None if w.is_inference() else w._version, w.device, dtype)
        if self._const_tag != tag:
            with torch.inference_mode(False), torch.no_grad():
                wd = w.detach()
                q = wd.float().square().sum(dim=(2, 3))  # float32 always
                wt = wd.to(dtype).transpose(0, 1).contiguous() if self.up else None
            self._const, self._const_tag = (q, wt), tag
        assert self._const is not None
        return self._const

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x [N, I, H, W], w [N, w_dim], noise [N|1, 1, H', W'] already times noise_strength * sqrt(2) (or None)
        -> (y [N, O, H', W'], s [N, I], d [N, O]), H' = 2H for the up layer."""
        dt, n = x.dtype, x.shape[0]
        q, weight_t = self.constants(dt)
        # Styles and demodulation in float32 whatever the activations' precision (sum_i s^2 Q overflows float16).
        s = self.affine(w.float())  # [N, I] styles
        d = demodulation(q, s)  # [N, O] demodulation (ops.modulate has the formula)
        g = (d * SQRT2).to(dt)  # demodulation and the lrelu gain, one scale per output
        b = (self.bias.float() * SQRT2).to(dt)
        sx = s.to(dt)
        if n == 1 and self.fold:
            # One convolution with W'' * sqrt(2) = W * s[i] * d[o] * sqrt(2); the bias rides along.
            if self.up:
                assert weight_t is not None  # made for the up layer
                wm = weight_t * (sx[0][:, None] * g[0][None, :])[:, :, None, None]  # [I, O, 3, 3]
                y = upconv2d(x, wm, self.fir.to(dt), b)
            else:
                wm = self.weight.to(dt) * (g[0][:, None] * sx[0][None, :])[:, :, None, None]  # [O, I, 3, 3]
                y = F.conv2d(x, wm, b, padding=1)
        elif n == 1 and self.up:
            # conv(x * s, W) * d = conv(x, W''): the demodulation and the bias ride on the depthwise FIR.
            assert weight_t is not None
            y = upconv2d(x * sx[:, :, None, None], weight_t, self.fir.to(dt) * g[0][:, None, None, None], b)
        else:
            # The styles on the activations, W shared by the batch: one ordinary batched convolution (on a GPU
            # much faster than NVIDIA's grouped convolution with one group per image).
            xs = x * sx[:, :, None, None]
            if self.up:
                assert weight_t is not None
                y = upconv2d(xs, weight_t, self.fir.to(dt))
            else:
                y = F.conv2d(xs, self.weight.to(dt), padding=1)
            if torch.is_grad_enabled() and y.requires_grad:
                y = y * g[:, :, None, None] + b[None, :, None, None]
            else:
                y.mul_(g[:, :, None, None]).add_(b[None, :, None, None])
        return epilogue_(y, noise, self.conv_clamp), s, d

    def extra_repr(self) -> str:
        return (
            f"in={self.in_channels}, out={self.out_channels}, res={self.resolution}, up={self.up}, "
            f"conv_clamp={self.conv_clamp}, fold={self.fold}"
        )


class ToRGBLayer(nn.Module):
    """1x1 modulated convolution without demodulation, bias, clamp: [N, I, H, W] -> [N, C, H, W]."""

    def __init__(self, spec: LayerSpec, w_dim: int, conv_clamp: float | None = None) -> None:
        super().__init__()
        i, c = spec.in_channels, spec.out_channels
        self.in_channels, self.out_channels, self.conv_clamp = i, c, conv_clamp
        self.affine = FullyConnected(w_dim, i, bias_init=1)
        self.weight = nn.Parameter(torch.randn(c, i, 1, 1))  # [C, I, 1, 1]
        self.bias = nn.Parameter(torch.zeros(c))  # [C]
        self.weight_gain = 1 / math.sqrt(i)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (y [N, C, H, W] contiguous, s [N, I] the affine output before the 1/sqrt(I) gain)."""
        dt = x.dtype
        s = self.affine(w.float())  # [N, I]
        wm = (self.weight.float()[:, :, 0, 0][None] * (s * self.weight_gain)[:, None, :]).to(dt)  # [N, C, I]
        n, i, h, wd = x.shape
        # A batched matmul over the pixels: reads x in either memory format without a copy and writes the
        # small image contiguous (a 1x1 conv with 3 outputs is a poor fit for conv kernels).
        y = torch.baddbmm(self.bias.to(dt)[None, :, None], wm, x.reshape(n, i, h * wd)).view(n, -1, h, wd)
        if self.conv_clamp is not None:
            c = self.conv_clamp
            y = y.clamp(-c, c) if torch.is_grad_enabled() and y.requires_grad else y.clamp_(-c, c)
        return y, s

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, out={self.out_channels}, conv_clamp={self.conv_clamp}"


class SynthesisBlock(nn.Module):
    """The layers of one resolution (const at 4 px, conv0, conv1, torgb). A container with NVIDIA's names; the
    synthesis network runs the layers in w order."""

    def __init__(self, resolution: int, out_channels: int) -> None:
        super().__init__()
        self.resolution = resolution
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))  # [C, 4, 4]


@dataclass(frozen=True, eq=False)
class SynthesisContext:
    """The w-independent inputs of one synthesis: batch size and per-layer noise."""

    n: int
    noise_mode: str
    noise_seed: int
    noise: tuple  # per conv layer (noise_index order): [1, 1, H, W] * noise_strength * sqrt(2), or None
    device: torch.device
    dtype: torch.dtype

    @property
    def key(self) -> tuple:
        """Identifies the noise: equal keys give equal images for equal ws."""
        return (self.noise_mode, self.noise_seed) if self.noise_mode == "random" else (self.noise_mode,)


class SynthesisNetwork(SynthesisBase):
    """ws [N, num_ws, w_dim] -> images [N, img_channels, R, R] in (nominally) [-1, 1]; a ResumableSynthesis."""

    b4: SynthesisBlock  # the blocks b4 ... bR are set by name in __init__
    fir_up: torch.Tensor  # buffer

    def __init__(self, cfg: StyleGAN2Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.steps = topology(cfg)
        self.num_ws = cfg.num_ws
        for b, ch in enumerate(cfg.channels):
            setattr(self, f"b{4 * 2**b}", SynthesisBlock(4 * 2**b, ch))
        convs = {}
        for step in self.steps:
            for spec in step:
                block = getattr(self, f"b{spec.block}")
                kind = spec.name.split(".")[1]
                if spec.kind == "torgb":
                    block.add_module(kind, ToRGBLayer(spec, cfg.w_dim, cfg.conv_clamp))
                else:
                    block.add_module(kind, SynthesisLayer(spec, cfg.w_dim, cfg.use_noise, cfg.conv_clamp))
                    convs[spec.noise_index] = spec
        self.conv_specs = tuple(convs[i] for i in range(len(convs)))
        self.register_buffer(
            "fir_up", resample_filter(4.0)[None, None].repeat(cfg.img_channels, 1, 1, 1), persistent=False
        )  # [C, 1, 4, 4], the skip image's upsampling filter
        self.memory_format = torch.contiguous_format

    def layer(self, spec: LayerSpec) -> Any:
        """The SynthesisLayer or ToRGBLayer of a spec (added by name in __init__)."""
        return self.get_submodule(spec.name)

    @property
    def const(self) -> torch.Tensor:
        return self.b4.const

    def set_memory_format(self, memory_format: torch.memory_format) -> None:
        """The layout of the feature maps (channels_last is faster on the CPU from 128 px); weights stay as they are."""
        self.memory_format = memory_format

    # ---------------------------------------------------------------------------------- resumable synthesis
    def make_context(
        self, n: int, noise_mode: str, noise_seed: int, options: dict, device: torch.device, dtype: torch.dtype | None
    ) -> SynthesisContext:
        """Random noise is drawn on the CPU from (noise_seed, conv layer), so it is the same on every device and
        for every image of the batch (A, B and the mix share their noise, whatever the batching)."""
        if options:
            raise ValueError(f"StyleGAN2 synthesis takes no options, got {sorted(options)}")
        dtype = dtype or self.const.dtype
        noise: list[torch.Tensor | None] = []
        for spec in self.conv_specs:
            layer = self.layer(spec)
            if not layer.use_noise or noise_mode == "none":
                noise.append(None)
                continue
            strength = layer.noise_strength.detach().float().cpu() * SQRT2
            if noise_mode == "const":
                t = layer.noise_const.detach().float().cpu()[None, None] * strength  # [1, 1, H, W]
            else:
                g = torch.Generator().manual_seed(int(noise_seed) * 1000 + spec.noise_index)
                t = torch.randn(1, 1, spec.resolution, spec.resolution, generator=g) * strength  # [1, 1, H, W]
            noise.append(t.to(device, dtype))
        return SynthesisContext(n, noise_mode, noise_seed, tuple(noise), device, dtype)

    def start(self, ctx: SynthesisContext, n: int | None = None) -> tuple:
        """The state entering w index 0: (the constant repeated N times, no image); N is ctx.n unless given."""
        n = ctx.n if n is None else int(n)
        x = self.const.to(ctx.device, ctx.dtype)[None].repeat(n, 1, 1, 1)  # [N, C4, 4, 4]
        return (x.contiguous(memory_format=self.memory_format), None)

    def advance(
        self, k: int, state: tuple, w: torch.Tensor, ctx: SynthesisContext, capture: Capture | None = None
    ) -> tuple:
        """Run what w index k drives; state (x, img) entering k -> state entering k + 1. w: [N, w_dim]."""
        x, img = state
        capturing = capture is not None and capture.active
        record: tuple | None = None
        for spec in self.steps[k]:
            layer = self.layer(spec)
            if spec.kind == "torgb":
                y, s = layer(x, w)
                if capturing and len(self.steps[k]) == 1:
                    record = (spec, x, y, s, None)
                if img is None:
                    img = y
                elif torch.is_grad_enabled() and y.requires_grad:
                    img = upsample2d(img, self.fir_up.to(img.dtype)) + y
                else:
                    img = upsample2d(img, self.fir_up.to(img.dtype)).add_(y)
            else:
                x_in = x
                x, s, d = layer(x, w, ctx.noise[spec.noise_index])
                if capturing:
                    record = (spec, x_in, x, s, d)
        if capture is not None and record is not None:  # a record is made only while capturing
            self._record(k, capture, *record)
        if k == self.num_ws - 1:
            x = None
        return (x, img)

    def record(
        self, k: int, state: tuple, w: torch.Tensor, ctx: SynthesisContext, capture: Capture, after: tuple | None
    ) -> bool:
        """The statistics advance(k) records, from the cached states around k: the layer's input is the state
        entering k, its output the state after k, and the styles and demodulation need only w and the weights.
        The last step (a ToRGB alone, whose output is not in any state) runs as usual."""
        spec = self.steps[k][-1]
        if after is None or after[0] is None or spec.kind == "torgb":
            return False
        layer = self.layer(spec)
        q, _ = layer.constants(state[0].dtype)
        s = layer.affine(w.float())  # [N, I], as SynthesisLayer.forward computes them
        self._record(k, capture, spec, state[0], after[0], s, demodulation(q, s))
        return True

    @staticmethod
    def _record(
        k: int,
        capture: Capture,
        spec: LayerSpec,
        x_in: torch.Tensor,
        x_out: torch.Tensor,
        s: torch.Tensor,
        d: torch.Tensor | None,
    ) -> None:
        values = None
        if capture.wants_stats(k):
            mean_in, std_in = channel_moments(x_in)
            mean_out, std_out = channel_moments(x_out)
            if d is None:  # ToRGB: no demodulation, its output channels keep scale 1
                d = torch.ones(x_out.shape[:2], dtype=x_out.dtype, device=x_out.device)
            values = {
                "s": s,
                "demod": d,
                "mean_in": mean_in,
                "std_in": std_in,
                "mean_out": mean_out,
                "std_out": std_out,
            }
        capture.record(k, values, features=x_out if capture.wants_features(k) else None)

    def finish(self, state: tuple, ctx: SynthesisContext) -> torch.Tensor:
        return state[1]

    def preview_points(self) -> dict:
        """The skip architecture finishes a lower-resolution picture at every block: the ToRGB of the block at r px
        runs first in the w index that drives it, so that index's picture is the block's image at r px."""
        points = {}
        for k, step in enumerate(self.steps[:-1]):  # the last ToRGB makes the full frame, not a preview
            if step[0].kind == "torgb":
                points[k] = step[0].resolution
        return points

    def preview(self, k: int, state: tuple, w: torch.Tensor, ctx: SynthesisContext) -> torch.Tensor:
        """The picture w index k's ToRGB finishes, from the state entering k: the ToRGB and the upsampled image
        only, not the next block's up-convolution that k also drives (a 1x1 convolution instead of a 3x3 one at
        twice the size). The same values advance() puts in the image."""
        x, img = state
        spec = self.steps[k][0]
        assert spec.kind == "torgb", f"w index {k} finishes no picture"
        y, _ = self.layer(spec)(x, w)  # [N, C, r, r]
        return y if img is None else upsample2d(img, self.fir_up.to(img.dtype)) + y

    # ---------------------------------------------------------------------------------- sizes
    def state_shapes(self, k: int) -> tuple:
        """Shapes ([C, H, W] or None) of (x, img) in the state entering w index k (k = num_ws: after the last)."""
        if not 0 <= k <= self.num_ws:
            raise IndexError(f"w index {k} is outside 0..{self.num_ws}")
        x, img = (self.cfg.channels[0], 4, 4), None
        for step in self.steps[:k]:
            for spec in step:
                if spec.kind == "torgb":
                    img = (spec.out_channels, spec.resolution, spec.resolution)
                else:
                    x = (spec.out_channels, spec.resolution, spec.resolution)
        return (None if k == self.num_ws else x), img

    def example_state(self, k: int, n: int = 1, generator: torch.Generator | None = None) -> tuple:
        """Random tensors shaped like the state entering w index k (for sizing and timing)."""
        dev, dt = self.const.device, self.const.dtype
        out: list[torch.Tensor | None] = []
        for shape in self.state_shapes(k):
            if shape is None:
                out.append(None)
                continue
            t = torch.randn(n, *shape, generator=generator).to(dev, dt)
            # x is in the feature-map layout; the image is always contiguous (ToRGB writes it so).
            out.append(t.contiguous(memory_format=self.memory_format) if not out else t)
        return tuple(out)


# ------------------------------------------------------------------------------------------------ statistics

STATS_SPEC = StatsSpec(
    title="Modulation statistics",
    features_title="Feature maps after the layer",
    quantities=(
        Quantity(
            "s",
            "s (style)",
            "s",
            axis="in",
            help="The style A(w): one factor per input channel that multiplies the conv weights (what AdaIN's "
            "scale became). At a toRGB + conv0 index the conv0's; at the last index the toRGB's (before "
            "its constant 1/sqrt(C_in) gain).",
        ),
        Quantity(
            "demod",
            "demodulation",
            "d",
            axis="out",
            help="1/sqrt(sum of squared modulated weights) per output channel: rescales each output to unit "
            "expected norm instead of normalising the activations. 1 at the last index (toRGB is not "
            "demodulated).",
        ),
        Quantity(
            "mean_in",
            "mean in",
            "μ in",
            axis="in",
            help="Mean over H x W of each feature map entering the layer (AdaIN forced this to 0).",
        ),
        Quantity(
            "std_in",
            "std in",
            "σ in",
            axis="in",
            help="Standard deviation over H x W of each feature map entering the layer (AdaIN forced it to 1).",
        ),
        Quantity(
            "mean_out",
            "mean out",
            "μ out",
            axis="out",
            help="Mean of each feature map leaving the layer (after noise, bias, activation and clamp; at the "
            "last index the toRGB output before the skip image is added).",
        ),
        Quantity(
            "std_out", "std out", "σ out", axis="out", help="Standard deviation of each feature map leaving the layer."
        ),
    ),
    distance_keys=("s",),
    distance_label="|Δs|",
    distance_help="Mean over input channels of |s_A - s_B|: how differently A and B modulate this layer.",
    features_help="At a toRGB + conv0 index: the conv0 output; at the last index: the toRGB output.",
)


# ------------------------------------------------------------------------------------------------ generator


class Generator(MappedGenerator):
    """StyleGAN2 with the field's API: mapping(z, c) -> ws, synthesis(ws) -> images."""

    family = FAMILY
    family_label = FAMILY_LABEL
    synthesis_controls = ()  # no per-image inputs besides the latents and the noise
    stats_spec = STATS_SPEC

    def __init__(self, cfg: StyleGAN2Config) -> None:
        super().__init__(cfg)
        self.mapping_net = MappingNetwork(
            cfg.z_dim,
            cfg.c_dim,
            cfg.w_dim,
            cfg.mapping_layers,
            cfg.mapping_fmaps,
            cfg.embed_features,
            cfg.mapping_lrmul,
        )
        self.synthesis = SynthesisNetwork(cfg)

    def layer_table(self) -> list:
        """One LayerInfo per w index: the conv it drives (for a toRGB + conv0 index, the conv0)."""
        roles = {"conv": "conv1", "up": "conv0 (up)", "torgb": "toRGB"}
        out = []
        for k, step in enumerate(self.synthesis.steps):
            main = step[-1]
            role = " + ".join("conv (const input)" if s.name == "b4.conv1" else roles[s.kind] for s in step)
            out.append(
                LayerInfo(
                    index=k,
                    resolution=main.resolution,
                    channels=main.out_channels,
                    name="+".join(s.name for s in step),
                    role=role,
                    group=group_of(main.resolution),
                    in_channels=main.in_channels,
                )
            )
        return out

    def flops(self) -> dict:
        """Floating-point operations of one image's synthesis per w index, a multiply-add counting 2: the convs as
        executed (the up layer's transposed conv at the input size plus the 4x4 FIR), the affine map, the
        weight modulation and demodulation, 4 per output element for noise, bias, activation and clamp, and for
        a toRGB the 1x1 conv, the bias and the skip image's upsampling (16 taps per input pixel) and sum."""
        w_dim, out = self.cfg.w_dim, {}
        for k, step in enumerate(self.synthesis.steps):
            total = 0
            for s in step:
                i, o, r = s.in_channels, s.out_channels, s.resolution
                total += 2 * w_dim * i
                if s.kind == "torgb":
                    total += 2 * i * o * r * r + o * r * r
                    if s.block > 4:
                        total += 2 * 16 * o * (r // 2) ** 2 + o * r * r
                    continue
                total += 2 * 9 * o * i + 2 * o * i  # modulate, demodulate
                if s.kind == "up":
                    total += 2 * 9 * i * o * (r // 2) ** 2 + 2 * 16 * o * r * r
                else:
                    total += 2 * 9 * i * o * r * r
                total += 4 * o * r * r
            out[k] = total
        return out

    def state_nbytes(self, bytes_per_value: int = 4) -> int:
        """Bytes of one image's cached states: the state entering every w index."""
        total = 0
        for k in range(self.num_ws):
            for shape in self.synthesis.state_shapes(k):
                if shape is not None:
                    total += math.prod(shape)
        return total * bytes_per_value


__all__ = [
    "FAMILY",
    "FAMILY_LABEL",
    "NOISE_MODES",
    "STATS_SPEC",
    "FullyConnected",
    "Generator",
    "LayerSpec",
    "MappingNetwork",
    "StyleGAN2Config",
    "SynthesisContext",
    "SynthesisLayer",
    "SynthesisNetwork",
    "ToRGBLayer",
    "channels_for",
    "group_of",
    "topology",
    "truncate",
]
