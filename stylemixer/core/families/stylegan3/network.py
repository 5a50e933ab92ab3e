"""The StyleGAN3 generator (configs T and R), as NVIDIA's `training/networks_stylegan3.py` computes it.

Karras et al., "Alias-Free Generative Adversarial Networks" (2021). A mapping MLP turns z into w; synthesis starts
from Fourier features (sinusoids of fixed frequencies and phases, rotated and translated by w 0), then runs 14
layers (L0..L13) of modulated convolution followed by a *filtered* leaky ReLU (upsample, lrelu, downsample, so
the nonlinearity does not alias), and a final modulated 1x1 ToRGB layer. num_ws = 16: w 0 drives the input, w 1..14
the layers, w 15 the ToRGB. There is no noise input.

Each layer carries a margin of 10 pixels around the image at its own sampling rate; its size (in the layer name,
e.g. L3_52_512 = 52 px, 512 channels) includes the margin. StyleGAN3-T uses 3x3 convolutions and separable
Kaiser filters; StyleGAN3-R uses 1x1 convolutions, twice the channels, and radially symmetric (jinc) down
filters in the layers that are not critically sampled. Filters, paddings and sizes are read from the file:
they are buffers (`up_filter`, `down_filter`) and config fields here, so no filter design is needed at run time.

Synthesis is resumable: the state entering w index k is the feature map leaving w index k - 1, which depends only
on ws rows < k and the image's input transform (see `core/families/api.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import RecipeError
from ..api import GROUPS, NOISE_MODES, Control, LayerInfo, Quantity, StatsSpec
from ..common import ConfigDict, FullyConnected, GeneratorBase, MappingNetwork, SynthesisBase, channel_moments
from .ops import FilteredLReLU

if TYPE_CHECKING:
    from ...stats import Capture

MAX_RESOLUTION = 8192


@dataclass(frozen=True)
class LayerSpec:
    """One SynthesisLayer (L0..L13, and the ToRGB layer), with NVIDIA's attribute names."""

    name: str  # e.g. "L3_52_512": index, output size (with margins), output channels
    in_channels: int
    out_channels: int
    in_size: int  # input height = width, margins included
    out_size: int
    in_sampling_rate: float  # samples per image width (the image without margins)
    out_sampling_rate: float
    in_cutoff: float  # cutoff frequency of the signal entering / leaving, cycles per image width
    out_cutoff: float
    in_half_width: float  # transition band half-widths (only needed to redesign the filters)
    out_half_width: float
    conv_kernel: int  # 3 (T) or 1 (R, and every ToRGB)
    up_factor: int
    down_factor: int
    up_taps: int  # 1 = no filter
    down_taps: int
    down_radial: bool  # the down filter is 2-D [taps, taps] (StyleGAN3-R, not critically sampled)
    padding: tuple  # (x0, x1, y0, y1), on the upsampled image
    is_torgb: bool = False
    is_critically_sampled: bool = False
    conv_clamp: float | None = 256.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "padding", tuple(int(p) for p in self.padding))
        for f in (
            "in_channels",
            "out_channels",
            "in_size",
            "out_size",
            "conv_kernel",
            "up_factor",
            "down_factor",
            "up_taps",
            "down_taps",
        ):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{self.name}: {f} must be a positive integer, got {v!r}")
            object.__setattr__(self, f, int(v))
        for f in (
            "in_sampling_rate",
            "out_sampling_rate",
            "in_cutoff",
            "out_cutoff",
            "in_half_width",
            "out_half_width",
        ):
            v = getattr(self, f)
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float, np.floating, np.integer))
                or not math.isfinite(v)
                or v <= 0
            ):
                raise ValueError(f"{self.name}: {f} must be a positive number, got {v!r}")
            object.__setattr__(self, f, float(v))
        if len(self.padding) != 4:
            raise ValueError(f"{self.name}: padding needs 4 numbers (x0, x1, y0, y1), got {self.padding}")
        for f in ("down_radial", "is_torgb", "is_critically_sampled"):
            object.__setattr__(self, f, bool(getattr(self, f)))
        if self.conv_clamp is not None:
            if not math.isfinite(float(self.conv_clamp)) or float(self.conv_clamp) < 0:
                raise ValueError(f"{self.name}: conv_clamp must be None or >= 0, got {self.conv_clamp!r}")
            object.__setattr__(self, "conv_clamp", float(self.conv_clamp))
        if self.up_factor > 16 or self.down_factor > 16 or self.up_taps > 256 or self.down_taps > 256:
            raise ValueError(f"{self.name}: resampling factors or filter lengths out of range")
        if (self.up_factor > 1 and self.up_taps < self.up_factor) or (
            self.down_factor > 1 and self.down_taps < self.down_factor
        ):
            raise ValueError(f"{self.name}: a filter shorter than its resampling factor")
        if self.down_radial and self.down_taps == 1:
            raise ValueError(f"{self.name}: a radial down filter needs taps")
        if self.is_torgb and self.conv_kernel != 1:
            raise ValueError(f"{self.name}: the ToRGB layer's kernel is 1x1")
        conv_out = self.in_size + self.conv_kernel - 1
        plan = self.plan()
        if plan.out_size != (self.out_size, self.out_size):
            raise ValueError(
                f"{self.name}: {conv_out} px with padding {self.padding}, up {self.up_factor}, "
                f"down {self.down_factor} gives {plan.out_size[0]} px, not {self.out_size}"
            )

    @property
    def gain(self) -> float:
        return 1.0 if self.is_torgb else math.sqrt(2)

    @property
    def slope(self) -> float:
        return 1.0 if self.is_torgb else 0.2

    def plan(self) -> FilteredLReLU:
        """The filtered lrelu of this layer: its geometry (the filters are given at each call)."""
        n = self.in_size + self.conv_kernel - 1
        return FilteredLReLU(
            (n, n),
            self.up_taps,
            self.down_taps,
            self.up_factor,
            self.down_factor,
            self.padding,
            self.gain,
            self.slope,
            self.conv_clamp,
            radial=self.down_radial,
        )

    @property
    def margin(self) -> int:
        """Pixels beyond the image on each side of this layer's output."""
        return max(0, (self.out_size - round(self.out_sampling_rate)) // 2)


@dataclass(frozen=True)
class StyleGAN3Config(ConfigDict):
    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 0  # conditioning labels (0: unconditional)
    resolution: int = 1024  # output height and width
    img_channels: int = 3
    mapping_layers: int = 2
    mapping_lrmul: float = 0.01
    input_channels: int = 512  # Fourier features
    input_size: int = 36  # the input's height = width, margins included
    input_sampling_rate: float = 16.0
    input_bandwidth: float = 2.0  # the cutoff of the Fourier features (the first layer's input cutoff)
    layers: tuple = ()  # LayerSpec for L0 .. L13 and the ToRGB layer
    output_scale: float = 0.25
    variant: str = "T"  # "T" or "R": only for titles
    truncation_psi: float = 1.0  # the model's suggested default truncation
    truncation_cutoff: int | None = None
    crop: tuple | None = None  # (top, bottom, left, right) content box

    config_name = "StyleGAN3"

    def __post_init__(self) -> None:
        layers = tuple(l if isinstance(l, LayerSpec) else LayerSpec(**l) for l in self.layers)
        object.__setattr__(self, "layers", layers)
        for f in ("z_dim", "w_dim", "resolution", "img_channels", "mapping_layers", "input_channels", "input_size"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{f} must be a positive integer, got {v!r}")
        if isinstance(self.c_dim, bool) or not isinstance(self.c_dim, (int, np.integer)) or self.c_dim < 0:
            raise ValueError(f"c_dim must be an integer >= 0, got {self.c_dim!r}")
        if self.resolution > MAX_RESOLUTION:
            raise ValueError(f"resolution {self.resolution} is larger than {MAX_RESOLUTION}")
        if self.variant not in ("T", "R"):
            raise ValueError(f"variant must be 'T' or 'R', got {self.variant!r}")
        for f in ("input_sampling_rate", "input_bandwidth", "mapping_lrmul", "output_scale"):
            if not math.isfinite(float(getattr(self, f))) or float(getattr(self, f)) <= 0:
                raise ValueError(f"{f} must be a positive number, got {getattr(self, f)!r}")
        if self.input_bandwidth >= self.input_sampling_rate / 2:
            raise ValueError("the input bandwidth must be below half its sampling rate")
        if len(layers) < 2:
            raise ValueError("a StyleGAN3 synthesis network needs at least one layer and the ToRGB layer")
        prev_c, prev_size = self.input_channels, self.input_size
        for i, l in enumerate(layers):
            bare = l.name.replace("_", "")
            if not l.name.startswith(f"L{i}_") or not (bare.isascii() and bare.isalnum()):
                raise ValueError(f"layer {i} is named {l.name!r}; expected 'L{i}_<size>_<channels>'")
            if (l.in_channels, l.in_size) != (prev_c, prev_size):
                raise ValueError(
                    f"{l.name} takes {l.in_channels} channels at {l.in_size} px, but the layer before "
                    f"gives {prev_c} at {prev_size} px"
                )
            if l.is_torgb != (i == len(layers) - 1):
                raise ValueError(f"{l.name}: only the last layer is the ToRGB layer")
            if l.out_size > 4 * self.resolution + 64:
                raise ValueError(f"{l.name}: {l.out_size} px is out of proportion to a {self.resolution} px image")
            prev_c, prev_size = l.out_channels, l.out_size
        if (prev_c, prev_size) != (self.img_channels, self.resolution):
            raise ValueError(
                f"the ToRGB layer gives {prev_c} channels at {prev_size} px, "
                f"not {self.img_channels} at {self.resolution} px"
            )
        if self.truncation_cutoff is not None and not 0 <= int(self.truncation_cutoff) <= self.num_ws:
            raise ValueError(f"truncation_cutoff must be in [0, {self.num_ws}]")
        if self.crop is not None:
            object.__setattr__(self, "crop", tuple(int(c) for c in self.crop))

    @property
    def num_ws(self) -> int:
        return len(self.layers) + 1

    @property
    def channels(self) -> tuple:
        """Channels leaving each w index (the input's, then each layer's)."""
        return (self.input_channels,) + tuple(l.out_channels for l in self.layers)

    @classmethod
    def from_dict(cls, d: dict) -> StyleGAN3Config:
        d = cls.config_fields(d)
        layers = d.get("layers", ())
        if not isinstance(layers, (list, tuple)) or not all(isinstance(l, dict) for l in layers):
            raise ValueError("layers must be a list of objects")
        known = set(LayerSpec.__dataclass_fields__)
        for l in layers:
            if set(l) - known:
                raise ValueError(f"unknown layer keys: {sorted(set(l) - known)}")
            if known - set(l) - {"is_torgb", "is_critically_sampled", "conv_clamp"}:
                raise ValueError(f"layer {l.get('name', '?')!r} lacks {sorted(known - set(l))}")
        try:
            d["layers"] = tuple(LayerSpec(**l) for l in layers)
            if d.get("crop") is not None:
                d["crop"] = tuple(d["crop"])
            return cls(**d)
        except TypeError as e:
            raise ValueError(str(e)) from None


# ----------------------------------------------------------------------------------------------------------------
# Synthesis


def user_transform(options: dict | None) -> tuple[tuple, np.ndarray | None]:
    """(normalised options, the image transform they ask for as a 3x3 matrix, or None for the identity).

    options = {"translate": (tx, ty), "rotate": degrees}, as NVIDIA's gen_images.py / visualizer take them:
    translate in image widths (+x moves the content right, +y down), rotate in degrees with NVIDIA's sign. The
    recipe's flat controls (`CONTROLS`: translate_x, translate_y, rotate) are accepted too.
    """
    options = dict(options or {})
    if "translate_x" in options or "translate_y" in options:
        options["translate"] = (options.pop("translate_x", 0.0), options.pop("translate_y", 0.0))
    unknown = set(options) - {"translate", "rotate"}
    if unknown:
        raise RecipeError(f"unknown StyleGAN3 synthesis options: {sorted(unknown)} (known: translate, rotate)")
    try:
        tx, ty = (float(v) for v in options.get("translate", (0.0, 0.0)))
        angle = float(options.get("rotate", 0.0))
    except (TypeError, ValueError):
        raise RecipeError("the input transform needs translate = (x, y) and rotate = degrees, as numbers") from None
    if not all(math.isfinite(v) and abs(v) <= 1e6 for v in (tx, ty, angle)):
        raise RecipeError("the input transform's translate and rotate must be finite numbers")
    key = (("rotate", angle), ("translate", (tx, ty)))
    if tx == 0 and ty == 0 and angle == 0:
        return key, None
    a = math.radians(angle)
    m = np.array([[math.cos(a), math.sin(a), tx], [-math.sin(a), math.cos(a), ty], [0.0, 0.0, 1.0]])
    return key, m


@dataclass(frozen=True)
class SynthesisContext:
    """The w-independent inputs of one render: batch size and the input transform (StyleGAN3 has no noise)."""

    n: int
    options: tuple  # normalised options (hashable): part of every cache key
    transform: torch.Tensor = field(compare=False)  # [3, 3] the input's transform buffer composed with the user's
    dtype: torch.dtype = torch.float32

    @property
    def key(self) -> tuple:
        return self.options


class SynthesisInput(nn.Module):
    """w 0 -> Fourier features [N, C, size, size]: sin(2 pi (<freq, xy> + phase)) under a rotation and
    translation given by w 0 (and the user's transform), mixed by a learned C x C matrix."""

    transform: torch.Tensor  # buffers
    freqs: torch.Tensor
    phases: torch.Tensor

    def __init__(self, cfg: StyleGAN3Config) -> None:
        super().__init__()
        c = cfg.input_channels
        self.channels, self.size = c, cfg.input_size
        self.sampling_rate, self.bandwidth = cfg.input_sampling_rate, cfg.input_bandwidth
        self.weight = nn.Parameter(torch.randn(c, c))  # [C, C]
        self.affine = FullyConnected(cfg.w_dim, 4, bias_init=[1.0, 0.0, 0.0, 0.0])
        self.register_buffer("transform", torch.eye(3))  # [3, 3] inverse transform of the image
        self.register_buffer("freqs", torch.zeros(c, 2))  # [C, 2] (x, y) cycles per image
        self.register_buffer("phases", torch.zeros(c))  # [C] cycles
        self._grid: dict[tuple, torch.Tensor] = {}

    def grid(self, device: torch.device | str | None, dtype: torch.dtype | None) -> torch.Tensor:
        """[size, size, 2] sample positions (x, y) in image widths, the image centred at 0."""
        key = (device, dtype)
        if key not in self._grid:
            p = (torch.arange(self.size, dtype=torch.float64) + 0.5 - self.size / 2) / self.sampling_rate
            self._grid[key] = torch.stack(torch.meshgrid(p, p, indexing="xy"), dim=-1).to(device, dtype)
        return self._grid[key]

    def transform_params(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """w [N, w_dim] -> t [N, 4] = (cos, sin, tx, ty) of the rotation and translation, normalised."""
        t = self.affine(w)
        return t, t / t[:, :2].norm(dim=1, keepdim=True)

    def forward(
        self, w: torch.Tensor, transform: torch.Tensor, capture: Capture | None = None, index: int = 0
    ) -> torch.Tensor:
        t_raw, t = self.transform_params(w)
        n = w.shape[0]
        # The inverse of (rotate, then translate) of the image, then the given transform, as one matrix.
        m_r = torch.eye(3, device=w.device).repeat(n, 1, 1)
        m_r[:, 0, 0], m_r[:, 0, 1], m_r[:, 1, 0], m_r[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        m_t = torch.eye(3, device=w.device).repeat(n, 1, 1)
        m_t[:, 0, 2], m_t[:, 1, 2] = -t[:, 2], -t[:, 3]
        tr = m_r @ m_t @ transform[None]  # [N, 3, 3]
        phases = self.phases[None] + (self.freqs[None] @ tr[:, :2, 2:]).squeeze(2)  # [N, C]
        freqs = self.freqs[None] @ tr[:, :2, :2]  # [N, C, 2]
        # Frequencies the transform pushes beyond the band fade out instead of aliasing.
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(
            0, 1
        )  # [N, C]
        g = self.grid(w.device, torch.float32)  # [H, W, 2]
        x = torch.einsum("hwi,nci->nhwc", g, freqs) + phases[:, None, None, :]  # [N, H, W, C]
        x = torch.sin(x * (2 * math.pi)) * amplitudes[:, None, None, :]
        x = x @ (self.weight / math.sqrt(self.channels)).t()  # [N, H, W, C]
        x = x.permute(0, 3, 1, 2)  # [N, C, H, W], channels_last
        if capture is not None and capture.active:
            record(capture, index, None, x, self.margin, t_raw, t, amplitudes)
        return x

    @property
    def margin(self) -> int:
        return max(0, (self.size - round(self.sampling_rate)) // 2)


def crop_margin(x: torch.Tensor, m: int) -> torch.Tensor:
    return x[:, :, m : x.shape[2] - m, m : x.shape[3] - m] if m else x


def record(
    capture: Capture,
    index: int,
    x: torch.Tensor | None,
    y: torch.Tensor,
    margin: int,
    s: torch.Tensor,
    s_eff: torch.Tensor,
    demod: torch.Tensor,
) -> None:
    """What w index `index` records: its styles s, s_eff [N, I] and demodulation [N, O], the moments of its input
    x (None: the Fourier features, which have no input: zeros) and output y, and y cropped to the image."""
    values = None
    if capture.wants_stats(index):
        mean_in, std_in = (torch.zeros_like(s),) * 2 if x is None else channel_moments(x)
        mean_out, std_out = channel_moments(y)
        values = {
            "s": s,
            "s_eff": s_eff,
            "demod": demod,
            "mean_in": mean_in,
            "std_in": std_in,
            "mean_out": mean_out,
            "std_out": std_out,
        }
    capture.record(index, values, features=crop_margin(y, margin) if capture.wants_features(index) else None)


class SynthesisLayer(nn.Module):
    """x [N, Cin, in_size, in_size], w [N, w_dim] -> [N, Cout, out_size, out_size].

    styles = affine(w); modulated convolution (with demodulation, except in ToRGB), then the filtered lrelu.
    """

    magnitude_ema: torch.Tensor  # buffers
    up_filter: torch.Tensor | None
    down_filter: torch.Tensor | None

    def __init__(self, spec: LayerSpec, w_dim: int) -> None:
        super().__init__()
        self.spec = spec
        k = spec.conv_kernel
        self.affine = FullyConnected(w_dim, spec.in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(spec.out_channels, spec.in_channels, k, k))  # [O, I, k, k]
        self.bias = nn.Parameter(torch.zeros(spec.out_channels))  # [O]
        self.register_buffer("magnitude_ema", torch.ones([]))  # E[x^2] of the input
        up = torch.zeros(spec.up_taps) if spec.up_taps > 1 else None
        down = None
        if spec.down_taps > 1:
            down = torch.zeros((spec.down_taps,) * (2 if spec.down_radial else 1))
        self.register_buffer("up_filter", up)  # [taps] or None
        self.register_buffer("down_filter", down)  # [taps], [taps, taps] (radial) or None
        self.flrelu = spec.plan()

    def modulation(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(styles s [N, I], effective per-input-channel gain [N, I], demodulation [N, O], weight [N, O, I, k, k])."""
        spec = self.spec
        styles = self.affine(w)  # [N, I]
        if spec.is_torgb:
            styles = styles * (1 / math.sqrt(spec.in_channels * spec.conv_kernel**2))
        input_gain = self.magnitude_ema.rsqrt()
        weight: torch.Tensor = self.weight
        if spec.is_torgb:
            s_eff = styles * input_gain
            wt = weight[None] * s_eff[:, None, :, None, None]  # [N, O, I, k, k]
            return styles, s_eff, torch.ones(w.shape[0], spec.out_channels, device=w.device), wt
        # StyleGAN3 pre-normalises the weight (per output channel) and the styles (per image; NVIDIA's code
        # takes the mean over the whole batch, the same for one image: the factor cancels in the
        # demodulation up to its epsilon).
        weight = weight * weight.square().mean(dim=(1, 2, 3), keepdim=True).rsqrt()
        s = styles * styles.square().mean(dim=1, keepdim=True).rsqrt()
        wt = weight[None] * s[:, None, :, None, None]  # [N, O, I, k, k]
        dcoefs = (wt.square().sum(dim=(2, 3, 4)) + 1e-8).rsqrt()  # [N, O]
        wt = wt * (dcoefs * input_gain)[:, :, None, None, None]
        return styles, s * input_gain, dcoefs, wt

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        capture: Capture | None = None,
        index: int = 0,  # the w index, for the capture
        memory_format: torch.memory_format = torch.channels_last,
    ) -> torch.Tensor:
        spec = self.spec
        n = x.shape[0]
        styles, s_eff, dcoefs, wt = self.modulation(w)
        pad = spec.conv_kernel - 1
        wt = wt.to(x.dtype)
        if self.flrelu.use_strips(x):
            # One image on the CPU: the convolution runs strip by strip as the filtered lrelu asks for its
            # rows, so its full-size output (up to 350 MB per layer at 1024 px) is never allocated.
            y = self.flrelu.rows(
                self._conv_rows(x, wt[0]), spec.out_channels, x.device, x.dtype, self.up_filter, self.down_filter
            )
        else:
            if n == 1:
                y = F.conv2d(x, wt[0], padding=pad)  # [1, O, in + k - 1, in + k - 1]
            else:
                # The same product, one image per group.
                y = F.conv2d(x.reshape(1, -1, *x.shape[2:]), wt.reshape(-1, *wt.shape[2:]), padding=pad, groups=n)
                y = y.reshape(n, -1, *y.shape[2:])
            y = self.flrelu(y, self.up_filter, self.down_filter, self.bias)
        if y.dtype != x.dtype:
            y = y.to(x.dtype)
        y = y.contiguous(memory_format=memory_format)
        if capture is not None and capture.active:
            record(capture, index, x, y, spec.margin, styles, s_eff, dcoefs)
        return y

    def _conv_rows(self, x: torch.Tensor, weight: torch.Tensor) -> Callable[[int, int], torch.Tensor]:
        """rows(r0, r1): rows [r0, r1) of conv2d(x, weight, padding=k - 1) + bias, x [1, I, H, W]."""
        p = self.spec.conv_kernel - 1
        h = x.shape[2]
        bias = self.bias.to(x.dtype)[None, :, None, None]

        def rows(r0: int, r1: int) -> torch.Tensor:
            i0, i1 = r0 - p, r1  # output row r reads input rows r - p .. r
            if i0 >= 0 and i1 <= h:
                xs = x[:, :, i0:i1]
            else:  # at the top and bottom: the zero padding, explicitly
                xs = F.pad(x[:, :, max(i0, 0) : min(i1, h)], [0, 0, max(0, -i0), max(0, i1 - h)])
                xs = xs.contiguous(memory_format=torch.channels_last)
            return F.conv2d(xs, weight, padding=(0, p)).add_(bias)

        return rows

    def extra_repr(self) -> str:
        s = self.spec
        return (
            f"{s.in_channels}->{s.out_channels}, {s.in_size}->{s.out_size} px, k={s.conv_kernel}, "
            f"up={s.up_factor}, down={s.down_factor}, radial={s.down_radial}"
        )


class SynthesisNetwork(SynthesisBase):
    """ws [N, 16, w_dim] -> images [N, img_channels, R, R], nominally in [-1, 1]. A ResumableSynthesis."""

    has_noise = False

    # What `options` of the context can hold, so controls can be built without knowing the family.
    option_specs = (
        {
            "key": "translate",
            "label": "translate x, y",
            "size": 2,
            "min": -1.0,
            "max": 1.0,
            "default": (0.0, 0.0),
            "unit": "image widths",
        },
        {"key": "rotate", "label": "rotate", "size": 1, "min": -180.0, "max": 180.0, "default": 0.0, "unit": "degrees"},
    )

    def __init__(self, cfg: StyleGAN3Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.input = SynthesisInput(cfg)
        self.layer_names = [l.name for l in cfg.layers]
        for spec in cfg.layers:
            setattr(self, spec.name, SynthesisLayer(spec, cfg.w_dim))
        self.output_scale = cfg.output_scale
        self.memory_format = torch.channels_last

    @property
    def num_ws(self) -> int:
        return self.cfg.num_ws

    def layer(self, i: int) -> SynthesisLayer:
        return getattr(self, self.layer_names[i])

    # -- the resumable protocol -------------------------------------------------------------------------------

    def make_context(
        self, n: int, noise_mode: str, noise_seed: int, options: dict, device: torch.device, dtype: torch.dtype | None
    ) -> SynthesisContext:
        key, m = user_transform(options)
        transform = self.input.transform
        if m is not None:
            # The buffer holds the inverse of the image transform; the user's transform applies after it.
            transform = torch.from_numpy(transform.detach().double().cpu().numpy() @ np.linalg.inv(m)).float()
        return SynthesisContext(n, key, transform.to(device).float(), dtype or torch.float32)

    def start(self, ctx: SynthesisContext, n: int | None = None) -> tuple:
        return ()  # nothing enters w 0: the input's features depend on it

    def advance(
        self, k: int, state: tuple, w: torch.Tensor, ctx: SynthesisContext, capture: Capture | None = None
    ) -> tuple:
        """The state entering w index k + 1: the feature map [N, C, size, size] leaving w index k."""
        w = w.float()
        if k == 0:
            x = self.input(w, ctx.transform.to(w.device), capture, 0).to(ctx.dtype)
            return (x.contiguous(memory_format=self.memory_format),)
        (x,) = state
        return (self.layer(k - 1)(x, w, capture, k, self.memory_format),)

    def finish(self, state: tuple, ctx: SynthesisContext) -> torch.Tensor:
        (x,) = state
        return (x * self.output_scale).float()

    def example_state(self, k: int, n: int = 1, generator: torch.Generator | None = None) -> tuple:
        if k == 0:
            return ()
        c, size = self.cfg.channels[k - 1], (self.cfg.input_size if k == 1 else self.cfg.layers[k - 2].out_size)
        x = torch.randn(n, c, size, size, generator=generator)
        return (x.to(self.input.weight.device).contiguous(memory_format=self.memory_format),)

    def record(
        self, k: int, state: tuple, w: torch.Tensor, ctx: SynthesisContext, capture: Capture, after: tuple | None
    ) -> bool:
        """The statistics of w index k >= 1 from the cached states around it: the layer's input is the state
        entering k, its output the state after k, and its styles and demodulation need only w and the weights
        (the layer's own `modulation`; the modulated weight it also returns is small). The Fourier input (k = 0)
        and steps without a cached state after them run as usual."""
        if k == 0 or after is None:
            return False
        layer = self.layer(k - 1)
        styles, s_eff, dcoefs, _ = layer.modulation(w.float())
        record(capture, k, state[0], after[0], layer.spec.margin, styles, s_eff, dcoefs)
        return True

    def preview_points(self) -> dict:
        return {}  # every layer works at its own sampling rate; only the ToRGB makes a picture

    def preview(self, k: int, state: tuple, w: torch.Tensor, ctx: SynthesisContext) -> torch.Tensor:
        raise NotImplementedError("StyleGAN3 has no progressive preview")

    def set_memory_format(self, memory_format: torch.memory_format) -> None:
        self.memory_format = memory_format


# ----------------------------------------------------------------------------------------------------------------
# The generator


STATS_SPEC = StatsSpec(
    title="Modulation statistics (StyleGAN3)",
    features_title="Feature maps leaving the layer (image area)",
    quantities=(
        Quantity(
            "s",
            "s (style)",
            "s",
            "in",
            "The style: the affine layer's output from w, one per input channel (ToRGB: times 1/sqrt(C)). "
            "For w 0: the input's (cos, sin, tx, ty) before normalisation.",
        ),
        Quantity(
            "s_eff",
            "input gain",
            "gain",
            "in",
            "What each input channel is really multiplied by: the style after StyleGAN3's pre-normalisation "
            "(s / rms(s)) times the layer's input gain 1/sqrt(magnitude_ema). For w 0: the normalised "
            "rotation and translation.",
        ),
        Quantity(
            "demod",
            "demodulation",
            "demod",
            "out",
            "The demodulation factor of each output channel (1 for ToRGB, which does not demodulate). "
            "For w 0: each Fourier feature's amplitude (below 1 where the input transform pushes its "
            "frequency out of band).",
        ),
        Quantity(
            "mean_in",
            "mean in",
            "mean in",
            "in",
            "Per-channel mean over the whole feature map entering the layer, margins included (0 for w 0).",
        ),
        Quantity(
            "std_in",
            "std in",
            "std in",
            "in",
            "Per-channel std over the whole feature map entering the layer, margins included (0 for w 0).",
        ),
        Quantity(
            "mean_out",
            "mean out",
            "mean out",
            "out",
            "Per-channel mean over the whole feature map leaving the layer, margins included.",
        ),
        Quantity(
            "std_out",
            "std out",
            "std out",
            "out",
            "Per-channel std over the whole feature map leaving the layer, margins included.",
        ),
    ),
    distance_keys=("s",),
    distance_label="|Δs|",
    distance_help="Mean over the layer's input channels of |s(A) - s(B)|: how differently A and B style the layer.",
    features_help="StyleGAN3 layers compute a margin of 10 pixels (at their own sampling rate) around the image; "
    "the next layer reads the margins too, but the maps shown are cropped to the image area. "
    "The statistics are over the whole map.",
)


def group_of_cutoff(cutoff: float, first: float, last: float) -> str:
    """coarse / middle / fine by where a layer's cutoff frequency sits between the first (the input's
    bandwidth) and the final cutoff (half the output resolution), in thirds of the log-frequency range.

    StyleGAN3's cutoffs grow geometrically from the first to the final one, so every resolution splits the
    same way: w 0-4 (the input, L0-L3) coarse, w 5-8 (L4-L7) middle, w 9-15 fine.
    """
    if last <= first:
        return GROUPS[0]
    p = math.log(cutoff / first) / math.log(last / first)
    if p < 1 / 3 - 1e-6:
        return "coarse"
    if p < 2 / 3 - 1e-6:
        return "middle"
    return "fine"


# The input transform as the recipe's controls, like NVIDIA's visualizer: translate in image widths, rotate in
# degrees. Dragging them shows StyleGAN3's equivariance: texture moves with the content.
CONTROLS = (
    Control(
        "translate_x",
        "translate x",
        -1.0,
        1.0,
        0.0,
        0.01,
        "",
        "Move the input Fourier features sideways (in image widths); the content and its texture follow",
    ),
    Control(
        "translate_y",
        "translate y",
        -1.0,
        1.0,
        0.0,
        0.01,
        "",
        "Move the input Fourier features up or down (in image widths)",
    ),
    Control(
        "rotate",
        "rotate",
        -180.0,
        180.0,
        0.0,
        1.0,
        "°",
        "Rotate the input Fourier features (degrees, with the sign of NVIDIA's visualizer)",
    ),
)


class Generator(GeneratorBase):
    """StyleGAN3 with the field's API: mapping(z, c) -> ws [N, 16, w_dim], synthesis(ws) -> images."""

    family = "stylegan3"
    stats_spec = STATS_SPEC
    synthesis_controls = CONTROLS

    def __init__(self, cfg: StyleGAN3Config) -> None:
        super().__init__(cfg)
        # NVIDIA's StyleGAN3 mapping is w_dim wide throughout, the label embedding too.
        w = cfg.w_dim
        self.mapping = MappingNetwork(cfg.z_dim, cfg.c_dim, w, cfg.mapping_layers, w, w, cfg.mapping_lrmul, cfg.num_ws)
        self.synthesis = SynthesisNetwork(cfg)

    @property
    def family_label(self) -> str:
        return f"StyleGAN3-{self.cfg.variant}"

    def layer_table(self) -> list:
        cfg = self.cfg
        first, last = cfg.input_bandwidth, cfg.layers[-1].out_cutoff
        out = [
            LayerInfo(
                0,
                cfg.input_size,
                cfg.input_channels,
                "input",
                "Fourier features (rotate, translate)",
                group_of_cutoff(first, first, last),
                in_channels=4,
            )
        ]
        for i, l in enumerate(cfg.layers):
            if l.is_torgb:
                role = "toRGB"
            else:
                role = f"conv {l.conv_kernel}x{l.conv_kernel} + filtered lrelu (up {l.up_factor}, down {l.down_factor})"
            out.append(
                LayerInfo(
                    i + 1,
                    l.out_size,
                    l.out_channels,
                    l.name,
                    role,
                    group_of_cutoff(l.out_cutoff, first, last),
                    in_channels=l.in_channels,
                )
            )
        return out

    def flops(self) -> dict:
        """Floating-point operations of one image per w index, from the layer shapes (a multiply-add is 2).

        The input: 2 * 4 * w_dim (affine) + per sample and channel ~16 (phase, sine, amplitude) + 2 * C (mixing).
        A layer: the affine, the modulation (~4 per weight), the convolution at its full output size, and the
        filtered lrelu as the fast path computes it: each upsampling pass 2 * taps/up per output sample, the
        activation ~3 per upsampled sample, each downsampling pass 2 * taps per output sample (2 * taps^2 for
        a radial filter).
        """
        cfg = self.cfg
        out = {0: 2 * 4 * cfg.w_dim + cfg.input_size**2 * cfg.input_channels * (16 + 2 * cfg.input_channels)}
        for i, l in enumerate(cfg.layers):
            k = l.conv_kernel
            conv_n = l.in_size + k - 1
            f = 2 * cfg.w_dim * l.in_channels + 4 * l.out_channels * l.in_channels * k * k
            f += 2 * l.out_channels * l.in_channels * k * k * conv_n**2
            p = l.plan()
            ax, c = p.ax, l.out_channels
            cols = (ax.n_out - 1) * ax.down + ax.td
            rows = (p.ay.n_out - 1) * p.ay.down + p.ay.td
            if not p.identity:
                f += c * conv_n * cols * 2 * ax.tu / ax.up + c * rows * cols * (2 * ax.tu / ax.up + 3)
                if p.radial:
                    f += c * l.out_size**2 * 2 * ax.td**2
                else:
                    f += c * p.ay.n_out * cols * 2 * ax.td + c * l.out_size**2 * 2 * ax.td
            else:
                f += 3 * c * l.out_size**2
            out[i + 1] = int(f)
        return out

    def state_nbytes(self, bytes_per_value: int = 4) -> int:
        """Bytes of one image's states entering w 0 .. num_ws - 1 (nothing enters w 0)."""
        cfg = self.cfg
        sizes = [cfg.input_size] + [l.out_size for l in cfg.layers[:-1]]
        return sum(c * s * s for c, s in zip(cfg.channels[:-1], sizes)) * bytes_per_value


__all__ = [
    "NOISE_MODES",
    "STATS_SPEC",
    "Generator",
    "LayerSpec",
    "MappingNetwork",
    "StyleGAN3Config",
    "SynthesisContext",
    "SynthesisInput",
    "SynthesisLayer",
    "SynthesisNetwork",
    "group_of_cutoff",
    "user_transform",
]
