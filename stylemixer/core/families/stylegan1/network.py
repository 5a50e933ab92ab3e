"""The StyleGAN (v1) generator: a mapping MLP, then AdaIN synthesis from a learned constant.

Faithful to the original TensorFlow network so that official checkpoints load into it and give the same
numbers: equalized learning rate (weights stored raw, scaled at run time), leaky ReLU 0.2 with no output gain,
the layer epilogue noise -> bias -> lrelu -> AdaIN, blur after every upsampling convolution, and a fused
(transposed) up-convolution at 128 px and above.

Synthesis is a flat list of `num_ws` layers, one per w index. Each layer is split into `pre` (everything that
does not depend on w: conv, noise, bias, activation) and `adain` (instance norm + style). The state entering w
index k is the output of `layers[k].pre`: it depends only on rows < k, which is what lets the renderer resume
from the first layer whose w changed (see families/api.py).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...errors import ConfigError, describe
from ...limits import MAX_CHANNELS, MAX_LATENT, MAX_MAPPING_LAYERS, check_common_config, int_in, is_real
from ..api import NOISE_MODES, Quantity, StatsSpec
from ..common import MappedGenerator, PyramidConfig, SynthesisBase, channel_mean_var, check_noise_mode, truncate
from . import topology as topo

if TYPE_CHECKING:
    from ...stats import Capture
    from ..api import LayerInfo, StyleGenerator


@dataclass(frozen=True)
class GeneratorConfig(PyramidConfig):
    z_dim: int = 512  # input latent size
    w_dim: int = 512  # intermediate latent size
    mapping_layers: int = 8  # depth of the mapping MLP
    mapping_fmaps: int = 512  # hidden width of the mapping MLP
    mapping_lrmul: float = 0.01  # learning-rate multiplier of the mapping network
    resolution: int = 1024  # output height and width, a power of two >= 4
    img_channels: int = 3  # 3 for RGB
    channels: tuple = (512, 512, 512, 512, 256, 128, 64, 32, 16)  # feature maps at 4, 8, 16, ... px
    fused_up_min_res: int = 128  # blocks at this resolution and above upsample with a transposed conv
    truncation_psi: float = 1.0  # the model's suggested default truncation (official v1: 0.7)
    truncation_cutoff: int | None = None  # ... and cutoff (official v1: 8)
    crop: tuple | None = None  # (top, bottom, left, right) content box, e.g. the cars model's 512x384

    def __post_init__(self) -> None:
        # Absolute bounds (core/limits.py) before anything is built: a file cannot ask for a generator that
        # needs gigabytes, nor carry defaults (psi, cutoff, crop) that break rendering later. ConfigError.
        check_common_config(self)
        int_in("mapping_layers", self.mapping_layers, 1, MAX_MAPPING_LAYERS)
        int_in("mapping_fmaps", self.mapping_fmaps, 1, MAX_LATENT)
        int_in("fused_up_min_res", self.fused_up_min_res, 1, 1 << 30)
        if not is_real(self.mapping_lrmul) or not 0 < self.mapping_lrmul <= 1000:
            raise ConfigError(f"mapping_lrmul must be a number in (0, 1000], got {describe(self.mapping_lrmul)}")
        if not isinstance(self.channels, (tuple, list)) or len(self.channels) != self.num_blocks:
            raise ConfigError(
                f"channels needs {self.num_blocks} entries (4 px to {self.resolution} px), "
                f"got {describe(self.channels)}"
            )
        for i, c in enumerate(self.channels):
            int_in(f"channels[{i}]", c, 1, MAX_CHANNELS)
        for name in (
            "z_dim",
            "w_dim",
            "mapping_layers",
            "mapping_fmaps",
            "resolution",
            "img_channels",
            "fused_up_min_res",
        ):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "mapping_lrmul", float(self.mapping_lrmul))
        object.__setattr__(self, "truncation_psi", float(self.truncation_psi))
        if self.truncation_cutoff is not None:
            object.__setattr__(self, "truncation_cutoff", int(self.truncation_cutoff))
        if self.crop is not None:
            object.__setattr__(self, "crop", tuple(int(c) for c in self.crop))


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


_DERIVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module -> {name: (key, tensor)}


def derived(module: nn.Module, name: str, make: Callable[[], torch.Tensor], *params: torch.Tensor) -> torch.Tensor:
    """make(), a tensor computed from params alone (a scaled weight), kept for the module while rendering.

    Scaling every weight by its equalized-learning-rate factor on every call read and wrote ~120 MB per 1024 px
    frame, 26-56 ms of it (docs/performance.md#weights-scaled-once). Rendering (no autograd) reuses the result
    until a parameter changes in place (its version counter), moves (its storage) or inference mode changes;
    training computes it afresh so that gradients flow to the raw weights. Kept beside the module, not in it:
    never in its state dict, not duplicated by a copy of it (the renderer's half-precision copy)."""
    if torch.is_grad_enabled():
        return make()
    key = (tuple((p._version, p.data_ptr(), p.dtype, p.device) for p in params), torch.is_inference_mode_enabled())
    kept = _DERIVED.setdefault(module, {})
    hit = kept.get(name)
    if hit is None or hit[0] != key:
        hit = kept[name] = (key, make())
    return hit[1]


def kept_tensors(module: nn.Module) -> dict:
    """{name: tensor} that `derived` keeps for this module (tests, memory accounting)."""
    return {name: t for name, (_, t) in _DERIVED.get(module, {}).items()}


class EqualLinear(nn.Module):
    """Dense layer with equalized learning rate: y = x @ (W * gain/sqrt(fan_in) * lrmul).T + b * lrmul."""

    def __init__(
        self, in_features: int, out_features: int, gain: float = 1.0, lrmul: float = 1.0, bias_init: float = 0.0
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lrmul)  # [out, in]
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lrmul))
        self.w_scale = gain / math.sqrt(in_features) * lrmul
        self.b_scale = lrmul

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, in] -> [N, out]
        w, b = self.weight, self.bias
        return F.linear(
            x, derived(self, "w", lambda: w * self.w_scale, w), derived(self, "b", lambda: b * self.b_scale, b)
        )

    def extra_repr(self) -> str:
        return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}, w_scale={self.w_scale:.4g}"


class MappingNetwork(nn.Module):
    """z [N, z_dim] -> w [N, w_dim]: pixel norm, then `mapping_layers` equalized dense layers with lrelu."""

    w_avg: torch.Tensor  # buffer

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        dims = [cfg.z_dim] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [cfg.w_dim]
        self.fcs = nn.ModuleList(
            EqualLinear(dims[i], dims[i + 1], gain=math.sqrt(2), lrmul=cfg.mapping_lrmul)
            for i in range(cfg.mapping_layers)
        )
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))  # [w_dim], the truncation centre

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:  # c: unused (unconditional)
        x = z.float() * torch.rsqrt(z.float().square().mean(dim=1, keepdim=True) + 1e-8)  # pixel norm
        for fc in self.fcs:
            x = lrelu(fc(x))
        return x  # [N, w_dim]


class Blur(nn.Module):
    """Depthwise [1,2,1] x [1,2,1] / 16 low-pass, zero padding 1 (applied after every upsampling conv)."""

    kernel: torch.Tensor  # buffer

    def __init__(self) -> None:
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (k[:, None] * k[None, :] / 16)[None, None], persistent=False)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:  # [N, C, H, W] -> same
        c = x.shape[1]
        return F.conv2d(x, self.kernel.to(x.dtype).expand(c, 1, 3, 3), bias, padding=1, groups=c)


class Conv3x3(nn.Module):
    """3x3 equalized conv, optionally upsampling x2 first (nearest, or fused as a transposed conv)."""

    def __init__(self, in_ch: int, out_ch: int, up: bool = False, fused: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 3, 3))  # [out, in, kh, kw]
        self.w_scale = math.sqrt(2) / math.sqrt(in_ch * 9)
        self.up, self.fused = up, fused
        self.blur = Blur() if up else None

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor | None = None
    ) -> torch.Tensor:  # [N, in, H, W] -> [N, out, H*up, W*up]; bias [out] added by the last convolution
        k = derived(self, "kernel", self.kernel, self.weight)
        if not self.up:
            return F.conv2d(x, k, bias, padding=1)
        if self.fused:
            x = F.conv_transpose2d(x, k, stride=2, padding=1)
        else:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.conv2d(x, k, padding=1)
        assert self.blur is not None  # made when up
        return self.blur(x, bias)

    def kernel(self) -> torch.Tensor:
        """The run-time kernel: the stored weight times its scale, [out, in, 3, 3]; for the fused up-convolution the
        transposed convolution's [in, out, 4, 4]: the four 2x2-shifted copies of the zero-padded 3x3 kernel summed
        (not the same as nearest-then-conv with the stored kernel)."""
        w = self.weight * self.w_scale
        if not self.fused:
            return w
        p = F.pad(w, (1, 1, 1, 1))  # [out, in, 5, 5]
        k = p[:, :, 1:, 1:] + p[:, :, :-1, 1:] + p[:, :, 1:, :-1] + p[:, :, :-1, :-1]  # [out, in, 4, 4]
        return k.transpose(0, 1)

    def extra_repr(self) -> str:
        return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}, up={self.up}, fused={self.fused}"


def adain_reference(x: torch.Tensor, y_s: torch.Tensor, y_b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """AdaIN as the paper writes it: each (instance, channel) plane to mean 0 and std 1, then scaled and shifted.

    x [N, C, H, W]; y_s, y_b [N, C]. The readable formula; `AdaIN.modulate` is the fast path and must agree.
    """
    mean = x.mean(dim=(2, 3), keepdim=True)  # [N, C, 1, 1]
    var = (x - mean).square().mean(dim=(2, 3), keepdim=True)  # biased, as the original
    x_norm = (x - mean) / torch.sqrt(var + eps)  # instance norm
    return y_s[:, :, None, None] * x_norm + y_b[:, :, None, None]


class AdaIN(nn.Module):
    """Adaptive instance norm: y_s * (x - mean(x)) / std(x) + y_b, per instance and channel over H x W.

    (y_s, y_b) come from w through a learned affine layer (StyleMod); the scale is stored as an offset from 1.
    std uses the biased variance with eps 1e-8, as the original.
    """

    EPS = 1e-8

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.channels = channels
        self.affine = EqualLinear(w_dim, 2 * channels, gain=1.0)

    def styles(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # [N, w_dim] -> y_s [N, C], y_b [N, C]
        s = self.affine(w)
        return s[:, : self.channels] + 1, s[:, self.channels :]

    @staticmethod
    def modulate(
        x: torch.Tensor, y_s: torch.Tensor, y_b: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`adain_reference` folded into one scale per channel -> (x_out, mean, var [N, C, 1, 1] of the input).

        Inference reads x twice: once for the moments (`channel_mean_var`), once for the output, scaled and
        shifted in one pass, x * scale + (y_b - mean * scale). At 1024 px these passes are bound by memory
        bandwidth and barely speed up with a second thread, so each pass saved counts (docs/performance.md).
        Training keeps the out-of-place formula for autograd; the values agree up to rounding.
        """
        if torch.is_grad_enabled():  # training: out of place, for autograd
            mean = x.mean(dim=(2, 3), keepdim=True)
            xc = x - mean
            var = xc.square().mean(dim=(2, 3), keepdim=True)  # a mean of squares: var_mean is slow on NHWC tensors
            scale = torch.rsqrt(var + AdaIN.EPS) * y_s[:, :, None, None]
            return xc * scale + y_b[:, :, None, None], mean, var
        mean, var = channel_mean_var(x)
        scale = torch.rsqrt(var + AdaIN.EPS) * y_s[:, :, None, None]  # [N, C, 1, 1]
        shift = y_b[:, :, None, None] - mean * scale
        out = torch.empty_like(x)  # x is a cached state: never written
        return torch.addcmul(shift, x, scale, out=out), mean, var

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        y_s, y_b = self.styles(w)
        return self.modulate(x, y_s, y_b)[0]


STATS_SPEC = StatsSpec(
    title="AdaIN statistics",
    features_title="Feature maps after AdaIN",
    quantities=(
        Quantity(
            "mean_in",
            "mean in",
            "mean in",
            "out",
            "Mean of each channel entering the instance norm (after conv, noise, bias, lrelu).",
        ),
        Quantity("std_in", "std in", "std in", "out", "Std of each channel entering the instance norm."),
        Quantity("y_s", "y_s (scale)", "y_s", "out", "The style's scale: the std AdaIN gives each channel."),
        Quantity("y_b", "y_b (bias)", "y_b", "out", "The style's bias: the mean AdaIN gives each channel."),
        Quantity("mean_out", "mean out", "mean out", "out", "Mean after AdaIN (equals y_b)."),
        Quantity("std_out", "std out", "std out", "out", "Std after AdaIN (|y_s|, up to the epsilon)."),
    ),
    distance_keys=("y_s", "y_b"),
    distance_label="|Δy_s| + |Δy_b|",
    distance_help="Mean over the layer's channels of |y_s(A) − y_s(B)| + |y_b(A) − y_b(B)|.",
    features_help="Each channel of the layer after AdaIN: what the next layer receives.",
)


def adain_stats(mean: torch.Tensor, var: torch.Tensor, y_s: torch.Tensor, y_b: torch.Tensor) -> dict:
    """The recorded quantities from the moments the instance norm computed anyway ([N, C, 1, 1] and [N, C]).

    After AdaIN, x_out = y_s * n + y_b with n of mean 0 and variance var / (var + eps) exactly, so the output
    moments follow in closed form and capturing costs no pass over the activation.
    """
    mean, var = mean.flatten(1), var.flatten(1)
    return {
        "mean_in": mean,
        "std_in": var.sqrt(),
        "y_s": y_s,
        "y_b": y_b,
        "mean_out": y_b,
        "std_out": y_s.abs() * torch.sqrt(var / (var + AdaIN.EPS)),
    }


class SynthesisLayer(nn.Module):
    """One w index: [const | (up)conv] -> noise -> bias -> lrelu  (= `pre`), then AdaIN(w)."""

    noise_const: torch.Tensor  # buffer

    def __init__(
        self, index: int, in_ch: int, out_ch: int, res: int, w_dim: int, kind: str, fused: bool = False
    ) -> None:
        super().__init__()
        self.index, self.res, self.kind = index, res, kind  # kind: "const", "conv", "up"
        self.conv = None if kind == "const" else Conv3x3(in_ch, out_ch, up=(kind == "up"), fused=fused)
        self.noise_strength = nn.Parameter(torch.zeros(out_ch))  # [C]
        self.register_buffer("noise_const", torch.randn(1, 1, res, res))  # [1, 1, H, W]
        self.bias = nn.Parameter(torch.zeros(out_ch))  # [C]
        self.adain = AdaIN(out_ch, w_dim)

    def pre(
        self, x: torch.Tensor, noise: torch.Tensor | None
    ) -> torch.Tensor:  # x: [N, in, H/2|H, W/2|W] or const; noise: [N|1, 1, H, W] or None
        # The epilogue runs in place on the conv's fresh output (a copy for the const): full-size temporaries
        # dominate the CPU time of the high-resolution layers. Autograd supports these in-place ops. Rendering,
        # the bias rides on the convolution (one memory-bound pass less at 1024 px): the same sum in another order.
        fold = self.conv is not None and not torch.is_grad_enabled()
        if self.conv is None:
            x = x.clone()
        else:
            x = self.conv(x, self.bias.to(x.dtype) if fold else None)
        if noise is not None:
            x = x.addcmul_(noise, self.noise_strength[None, :, None, None])  # x + noise * strength
        if not fold:
            x = x.add_(self.bias[None, :, None, None])
        return F.leaky_relu_(x, 0.2)

    def make_noise(self, n: int, mode: str, generator: torch.Generator | None = None) -> torch.Tensor | None:
        if mode == "const":
            return self.noise_const
        if mode == "random":
            return torch.randn(n, 1, self.res, self.res, generator=generator).to(self.noise_const.device)
        return None


class SynthesisNetwork(SynthesisBase):
    """ws [N, num_ws, w_dim] -> images [N, img_channels, R, R] in (nominally) [-1, 1]."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch = cfg.channels
        self.const = nn.Parameter(torch.ones(1, ch[0], 4, 4))  # [1, C4, 4, 4]
        layers = [
            SynthesisLayer(s.index, s.in_ch, s.out_ch, s.res, cfg.w_dim, s.kind, fused=s.fused)
            for s in topo.topology(cfg)
        ]
        self.layers: list[SynthesisLayer] = nn.ModuleList(layers)  # type: ignore[assignment]  # untyped in torch
        self.torgb = nn.Conv2d(ch[-1], cfg.img_channels, 1)  # raw weight, scaled at run time (gain 1)
        nn.init.normal_(self.torgb.weight)
        assert self.torgb.bias is not None
        nn.init.zeros_(self.torgb.bias)
        self.rgb_scale = 1 / math.sqrt(ch[-1])

    @property
    def num_ws(self) -> int:
        return len(self.layers)

    def to_rgb(self, x: torch.Tensor) -> torch.Tensor:  # [N, C, R, R] -> [N, img_channels, R, R]
        w = self.torgb.weight
        return F.conv2d(x, derived(self, "rgb", lambda: w * self.rgb_scale, w), self.torgb.bias)

    def noises(self, n: int, noise_mode: str, noise_seed: int = 0) -> list[torch.Tensor | None]:
        """Per-layer noise, drawn on the CPU from (noise_seed, layer) so it is identical on every device."""
        check_noise_mode(noise_mode)
        out: list[torch.Tensor | None] = []
        for layer in self.layers:
            g = torch.Generator().manual_seed(int(noise_seed) * 1000 + layer.index) if noise_mode == "random" else None
            out.append(layer.make_noise(n, noise_mode, g))
        return out

    # ------------------------------------------------------------------ the resumable protocol (families/api.py)
    def make_context(
        self, n: int, noise_mode: str, noise_seed: int, options: dict, device: torch.device, dtype: torch.dtype | None
    ) -> list[torch.Tensor | None]:
        """The per-layer noise of one image (v1 has no other w-independent input), on `device` in `dtype`."""
        dtype = self.const.dtype if dtype is None else dtype
        return [t if t is None else t.to(device, dtype) for t in self.noises(n, noise_mode, noise_seed)]

    def start(self, ctx: list[torch.Tensor | None], n: int = 1) -> tuple:
        """The state entering w index 0: the constant through layer 0's noise, bias and lrelu."""
        return (self.layers[0].pre(self.const.expand(n, -1, -1, -1), ctx[0]),)

    def advance(
        self, k: int, state: tuple, w: torch.Tensor, ctx: list[torch.Tensor | None], capture: Capture | None = None
    ) -> tuple:
        """AdaIN k with w [N, w_dim], then the w-independent part of layer k + 1."""
        x = self.adain_step(k, state[0], w, capture)
        if k + 1 < len(self.layers):
            x = self.layers[k + 1].pre(x, ctx[k + 1])
        return (x,)

    def record(
        self,
        k: int,
        state: tuple,
        w: torch.Tensor,
        ctx: list[torch.Tensor | None],
        capture: Capture,
        after: tuple | None = None,
    ) -> bool:
        """AdaIN k alone: the state entering k holds layer k's convolution, and the next one is not needed."""
        self.adain_step(k, state[0], w, capture)
        return True

    def finish(self, state: tuple, ctx: list[torch.Tensor | None] | None = None) -> torch.Tensor:
        return self.to_rgb(state[0])

    def example_state(self, k: int, n: int = 1, generator: torch.Generator | None = None) -> tuple:
        """Random values in the shape of the state entering w index k (for timing; speed ignores the values)."""
        layer = self.layers[k]
        return (torch.randn(n, layer.adain.channels, layer.res, layer.res, generator=generator),)

    def preview_points(self) -> dict:
        return {}  # only the last layer is turned into RGB: no lower-resolution image on the way

    def preview(self, k: int, state: tuple, w: torch.Tensor, ctx: list[torch.Tensor | None]) -> torch.Tensor:
        raise NotImplementedError("StyleGAN v1 has no progressive preview")

    def set_memory_format(self, memory_format: torch.memory_format) -> None:
        self.to(memory_format=memory_format)  # type: ignore[call-overload,unused-ignore]  # not in torch < 2.14 stubs
        self.const.data = self.const.data.contiguous(memory_format=memory_format)

    def adain_step(self, index: int, x: torch.Tensor, w: torch.Tensor, capture: Capture | None = None) -> torch.Tensor:
        """AdaIN of layer `index` on its `pre` output x [N, C, H, W] with w [N, w_dim], recording into capture."""
        layer = self.layers[index]
        if capture is not None and capture.active:
            # The same ops as layer.adain(x, w), keeping the moments the instance norm computes anyway, so
            # statistics cost no extra pass over the activation and never change the image.
            y_s, y_b = layer.adain.styles(w)
            x_out, mean, var = AdaIN.modulate(x, y_s, y_b)
            capture.record(
                index,
                adain_stats(mean, var, y_s, y_b) if capture.wants_stats(index) else None,
                features=x_out if capture.wants_features(index) else None,
            )
            return x_out
        return layer.adain(x, w)


class Generator(MappedGenerator):
    """The StyleGAN generator with the field's API: mapping(z, c) -> ws, synthesis(ws) -> images, num_ws."""

    family = "stylegan1"
    family_label = "StyleGAN"
    stats_spec = STATS_SPEC
    synthesis_controls = ()  # no per-image inputs besides the latents and the noise

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__(cfg)
        self.mapping_net = MappingNetwork(cfg)
        self.synthesis = SynthesisNetwork(cfg)

    @staticmethod
    def state_shapes(cfg: GeneratorConfig) -> dict:
        """{state_dict key: (shape, dtype)} of Generator(cfg) without building it: what a model file must
        declare before anything is allocated (checkpoints/bounds.py). Tested against the built module."""
        f32 = torch.float32
        dims = [cfg.z_dim] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [cfg.w_dim]
        s: dict[str, tuple[tuple[int, ...], torch.dtype]] = {"mapping_net.w_avg": ((cfg.w_dim,), f32)}
        for i in range(cfg.mapping_layers):
            s[f"mapping_net.fcs.{i}.weight"] = ((dims[i + 1], dims[i]), f32)
            s[f"mapping_net.fcs.{i}.bias"] = ((dims[i + 1],), f32)
        ch = cfg.channels
        s["synthesis.const"] = ((1, ch[0], 4, 4), f32)
        for k in range(cfg.num_ws):
            b = k // 2
            out, res, key = ch[b], 4 * 2**b, f"synthesis.layers.{k}"
            s[f"{key}.noise_strength"] = ((out,), f32)
            s[f"{key}.bias"] = ((out,), f32)
            s[f"{key}.noise_const"] = ((1, 1, res, res), f32)
            if k > 0:
                s[f"{key}.conv.weight"] = ((out, ch[b - 1] if k % 2 == 0 else out, 3, 3), f32)
            s[f"{key}.adain.affine.weight"] = ((2 * out, cfg.w_dim), f32)
            s[f"{key}.adain.affine.bias"] = ((2 * out,), f32)
        s["synthesis.torgb.weight"] = ((cfg.img_channels, ch[-1], 1, 1), f32)
        s["synthesis.torgb.bias"] = ((cfg.img_channels,), f32)
        return s

    def layer_table(self) -> list[LayerInfo]:
        return topo.layer_table(self.cfg)

    def flops(self) -> dict:
        return topo.flops(self.cfg)

    def step_flops(self) -> dict:
        """advance(k) runs AdaIN k and the convolution of layer k + 1; start() runs layer 0's."""
        L, cfg = self.num_ws, self.cfg
        rgb = 2 * cfg.channels[-1] * cfg.img_channels * cfg.resolution**2  # counted by flops() at the last index
        conv = {k: float(v) for k, v in self.flops().items()}
        conv[L - 1] -= rgb
        steps = {k: conv.get(k + 1, 0.0) for k in range(L)}
        steps[L - 1] += rgb  # finish() runs it after the last step
        steps[-1] = conv[0]
        return steps

    def state_nbytes(self, bytes_per_value: int = 4) -> int:
        """One image's cached states: the input of every AdaIN, [1, C, R, R] each."""
        return sum(s.out_ch * s.res**2 for s in topo.topology(self.cfg)) * bytes_per_value


def default_channels(resolution: int, fmap_base: int = 8192, fmap_max: int = 512) -> tuple[int, ...]:
    """The official v1 widths: nf(stage) = min(fmap_base / 2^stage, fmap_max), the block at 2^k uses nf(k-1)."""
    n = int(math.log2(resolution)) - 1
    return tuple(min(int(fmap_base / 2 ** (k - 1)), fmap_max) for k in range(2, n + 2))


def count_parameters(G: nn.Module | StyleGenerator) -> int:
    return int(sum(p.numel() for p in G.parameters()))


def init_for_training(G: Generator, seed: int = 0) -> Generator:
    """Fresh random weights, reproducible from a seed (the module defaults use the global RNG)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in G.named_parameters():
            zero = name.endswith("noise_strength") or name.endswith(".bias")
            if zero:
                p.zero_()
            elif name.endswith("const"):
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=g) / (G.cfg.mapping_lrmul if "mapping" in name else 1.0))
        for layer in G.synthesis.layers:
            layer.noise_const.copy_(torch.randn(layer.noise_const.shape, generator=g))
    return G


__all__ = [
    "NOISE_MODES",
    "STATS_SPEC",
    "AdaIN",
    "Blur",
    "Conv3x3",
    "EqualLinear",
    "Generator",
    "GeneratorConfig",
    "MappingNetwork",
    "SynthesisLayer",
    "SynthesisNetwork",
    "adain_reference",
    "count_parameters",
    "default_channels",
    "init_for_training",
    "truncate",
]
