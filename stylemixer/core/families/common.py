"""Pieces every StyleGAN family shares, with torch (api.py stays importable without it).

- configs: `ConfigDict` (to_dict / from_dict of a frozen config dataclass), `PyramidConfig` (num_ws of v1 and
  StyleGAN2);
- mapping: `truncate`, `broadcast_ws`, NVIDIA's `FullyConnected` layer and `MappingNetwork` (StyleGAN2 and
  StyleGAN3, as in NVIDIA's code);
- the generator: `GeneratorBase` (the sizes and forward() of every family), `MappedGenerator` (mapping() of v1
  and StyleGAN2);
- synthesis: `SynthesisBase` (context checks and forward() around the family's start / advance / finish),
  `channel_mean_var` (v1's AdaIN and every family's statistics; its thread count: `band_threads`),
  `channel_moments` for the statistics.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError, describe
from .api import NOISE_MODES

if TYPE_CHECKING:
    from ..stats import Capture

SQRT2 = math.sqrt(2.0)
C = TypeVar("C", bound="ConfigDict")


# ------------------------------------------------------------------------------------------------ configs


def _plain(v: Any) -> Any:
    """Tuples (also inside lists and dicts) as lists, what JSON writes back."""
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


class ConfigDict:
    """to_dict / from_dict for a family's frozen config dataclass; its __post_init__ checks and normalises."""

    config_name: ClassVar[str] = "generator"  # for messages: "the StyleGAN2 config must be ..."

    def to_dict(self) -> dict:
        """The fields as JSON-ready values (tuples as lists, nested dataclasses as dicts)."""
        return _plain(dataclasses.asdict(self))  # type: ignore[call-overload]  # a dataclass by contract

    @classmethod
    def config_fields(cls, d: object) -> dict:
        """A copy of d, refused (ConfigError) unless a dict of `cls`'s field names."""
        if not isinstance(d, dict):
            raise ConfigError(f"the {cls.config_name} config must be a JSON object, got {describe(d)}")
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        if unknown:
            raise ConfigError(f"unknown {cls.config_name} config keys: {describe(sorted(unknown))}")
        return dict(d)

    @classmethod
    def from_dict(cls: type[C], d: dict) -> C:
        return cls(**cls.config_fields(d))  # __post_init__ checks types and bounds


class PyramidConfig(ConfigDict):
    """A config whose synthesis runs blocks of doubling resolution, 4 px to `resolution`, two w indices per block
    (StyleGAN v1 and StyleGAN2)."""

    resolution: int

    @property
    def num_blocks(self) -> int:
        return int(math.log2(self.resolution)) - 1

    @property
    def num_ws(self) -> int:
        return 2 * self.num_blocks


# ------------------------------------------------------------------------------------------------ mapping


def truncate(ws: Tensor, w_avg: Tensor, psi: float = 1.0, cutoff: int | None = None) -> Tensor:
    """ws [N, num_ws, w_dim]: rows < cutoff (all when None) become w_avg + psi * (w - w_avg), as NVIDIA's mapping."""
    if psi == 1:
        return ws
    cutoff = ws.shape[1] if cutoff is None else int(cutoff)
    out = ws.clone()
    out[:, :cutoff] = torch.lerp(w_avg.to(ws.dtype), ws[:, :cutoff], float(psi))
    return out


BAND_BYTES = 2 * 2**20  # a cache-sized band of a feature map: statistics without full-size temporaries

# The banded loop below runs a few small ops per band. Each op is one parallel region, and with two threads the
# two halves of a band were read by different cores from op to op: on a 2-core VM the loop ran 2-4x slower on two
# threads than on one, while everything else in a render ran faster on two (docs/performance.md#band-threads).
# A renderer that measured this says how many threads the loop gets with `band_threads`; a caller that did not
# ask gets torch's count.
_BANDS = threading.local()


@contextmanager
def band_threads(n: int | None) -> Iterator[None]:
    """Within (in this thread): `channel_mean_var`'s banded loop runs on n torch threads. None: torch's count."""
    before = getattr(_BANDS, "n", None)
    _BANDS.n = n
    try:
        yield
    finally:
        _BANDS.n = before


def channel_mean_var(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[N, C, H, W] -> (mean, biased variance) over H x W, [N, C, 1, 1] each; the reference is two passes, the
    mean, then the mean of squared deviations (`adain_reference`). Means, not var_mean, which took 8x as long on
    channels_last tensors.

    A large map is read once, a band of rows at a time through one small buffer: the sums of (x - K) and of its
    squares, K the first band's mean (close to the plane's mean, so the difference of the two sums keeps its
    precision). At 1024 px two full passes and fresh full-size temporaries cost more than the arithmetic, in
    memory traffic and page faults (docs/performance.md).
    """
    N, C, H, W = x.shape
    rows = max(1, BAND_BYTES // (x.element_size() * N * C * W))
    if rows >= H:
        mean = x.mean(dim=(2, 3), keepdim=True)
        return mean, (x - mean).square().mean(dim=(2, 3), keepdim=True)
    fmt = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    band = torch.empty((N, C, rows, W), dtype=x.dtype, device=x.device, memory_format=fmt)
    k = x[:, :, :rows].mean(dim=(2, 3), keepdim=True)  # [N, C, 1, 1]
    s1 = torch.zeros((N, C), dtype=torch.float32, device=x.device)
    s2 = torch.zeros((N, C), dtype=torch.float32, device=x.device)
    n, before = getattr(_BANDS, "n", None), torch.get_num_threads()
    if n is not None and n != before:
        torch.set_num_threads(n)
    try:
        for h in range(0, H, rows):
            part = x[:, :, h : h + rows]
            d = torch.sub(part, k, out=band[:, :, : part.shape[2]])
            s1 += d.sum(dim=(2, 3), dtype=torch.float32)
            s2 += d.square_().sum(dim=(2, 3), dtype=torch.float32)
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
    m1, m2 = s1 / (H * W), s2 / (H * W)
    mean = k + m1.to(x.dtype)[:, :, None, None]
    var = (m2 - m1.square()).clamp_(min=0).to(x.dtype)[:, :, None, None]
    return mean, var


def channel_moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-instance, per-channel mean and population std over H x W of x [N, C, H, W]: ([N, C], [N, C]) in fp32,
    what the statistics panels show (`channel_mean_var`)."""
    mean, var = channel_mean_var(x.float())
    return mean[:, :, 0, 0], var[:, :, 0, 0].sqrt()


def broadcast_ws(w: Tensor, num_ws: int, w_avg: Tensor, psi: float = 1.0, cutoff: int | None = None) -> Tensor:
    """w [N, w_dim] -> ws [N, num_ws, w_dim]: the same w at every index, then truncated toward w_avg."""
    return truncate(w[:, None, :].repeat(1, num_ws, 1), w_avg, psi, cutoff)


class FullyConnected(nn.Module):
    """NVIDIA's FullyConnectedLayer (StyleGAN2 and StyleGAN3): y = act(x @ (W * lrmul / sqrt(in)).T + b * lrmul);
    'lrelu' is leaky ReLU 0.2 times sqrt(2). The weights are stored raw (equalized learning rate)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float | Sequence[float] = 0.0,  # one value, or one per output
    ) -> None:
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)  # [out, in]
        bias = torch.as_tensor(bias_init, dtype=torch.float32).expand(out_features)
        self.bias = nn.Parameter(bias / lr_multiplier)  # [out]
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:  # [N, in] -> [N, out]
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias.to(x.dtype)
        if self.bias_gain != 1:
            b = b * self.bias_gain
        if self.activation == "linear":
            return torch.addmm(b.unsqueeze(0), x, w.t())
        # NVIDIA's order for an activation: the product, then bias_act (+ b, lrelu, gain).
        return F.leaky_relu(x.matmul(w.t()) + b, 0.2) * SQRT2

    def extra_repr(self) -> str:
        return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}, activation={self.activation}"


def normalize_2nd_moment(x: Tensor, eps: float = 1e-8) -> Tensor:
    """[N, C] scaled to unit mean square per row."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """NVIDIA's mapping network (StyleGAN2 and StyleGAN3): z [N, z_dim] (and labels c [N, c_dim]) -> w [N, w_dim],
    or with `num_ws` ws [N, num_ws, w_dim], truncated toward w_avg (StyleGAN3 calls it as G.mapping).

    z is normalised to unit second moment; a conditional model concatenates a normalised embedding of c; then
    `num_layers` FullyConnected layers with 'lrelu'. fc{i} are NVIDIA's module names.
    """

    w_avg: Tensor  # buffer

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_layers: int,
        layer_features: int,  # hidden width
        embed_features: int,  # label embedding width (used when c_dim > 0)
        lr_multiplier: float = 0.01,
        num_ws: int | None = None,  # None: return one w per image
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_layers, self.num_ws = z_dim, c_dim, w_dim, num_layers, num_ws
        embed = embed_features if c_dim > 0 else 0
        features = [z_dim + embed] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnected(c_dim, embed)
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnected(features[i], features[i + 1], "lrelu", lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(w_dim))  # [w_dim], the truncation centre

    def forward(
        self, z: Tensor, c: Tensor | None = None, truncation_psi: float = 1.0, truncation_cutoff: int | None = None
    ) -> Tensor:
        x = normalize_2nd_moment(z.float())  # [N, z_dim]
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"this generator is conditional: c must be [N, {self.c_dim}] (one-hot class)")
            x = torch.cat([x, normalize_2nd_moment(self.embed(c.float()))], dim=1)  # [N, z_dim + embed]
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        if self.num_ws is None:
            return x  # [N, w_dim]
        return broadcast_ws(x, self.num_ws, self.w_avg, truncation_psi, truncation_cutoff)


# ------------------------------------------------------------------------------------------------ generator


class GeneratorBase(nn.Module):
    """What the StyleGenerator seam (api.py) asks that every family computes alike: the sizes, read from `cfg`,
    and forward(z, c) = synthesis(mapping(z, c)). A family adds its `synthesis` module and `mapping` (a method, or
    NVIDIA's module under that name)."""

    mapping: Callable[..., Tensor]  # a method, or NVIDIA's module of that name (StyleGAN3)
    flops: Callable[[], dict[int, float]]  # each family's count of one image's work per w index

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.cfg = cfg

    @property
    def z_dim(self) -> int:
        return int(self.cfg.z_dim)

    @property
    def c_dim(self) -> int:
        return int(getattr(self.cfg, "c_dim", 0))  # StyleGAN v1 models are unconditional

    @property
    def w_dim(self) -> int:
        return int(self.cfg.w_dim)

    @property
    def num_ws(self) -> int:
        return int(self.cfg.num_ws)

    @property
    def img_resolution(self) -> int:
        return int(self.cfg.resolution)

    def step_flops(self) -> dict[int, float]:
        """The work of synthesis.advance(k) per k, and of start() under -1 (api.py). By default advance(k) runs
        exactly the layers w index k drives (`flops()`) and start() only repeats the constant; StyleGAN v1, whose
        cached state holds the next layer's convolution, overrides it."""
        return {-1: 0.0, **{k: float(v) for k, v in self.flops().items()}}

    def forward(self, z: Tensor, c: Tensor | None = None, **kw: Any) -> Tensor:
        """z [N, z_dim] (c [N, c_dim]) -> images [N, img_channels, R, R]. kw: truncation_psi and truncation_cutoff
        for the mapping, the rest (noise_mode, noise_seed, capture, options) for the synthesis."""
        truncation = {k: kw.pop(k) for k in ("truncation_psi", "truncation_cutoff") if k in kw}
        return self.get_submodule("synthesis")(self.mapping(z, c, **truncation), **kw)


class MappedGenerator(GeneratorBase):
    """A generator whose `mapping_net` makes one w per image (StyleGAN v1 and StyleGAN2)."""

    def mapping(
        self, z: Tensor, c: Tensor | None = None, truncation_psi: float = 1.0, truncation_cutoff: int | None = None
    ) -> Tensor:
        """z [N, z_dim], c [N, c_dim] one-hot (conditional models) -> ws [N, num_ws, w_dim]; truncation pulls the
        first `truncation_cutoff` rows toward w_avg."""
        net = self.get_submodule("mapping_net")
        return broadcast_ws(net(z, c), self.num_ws, net.get_buffer("w_avg"), truncation_psi, truncation_cutoff)


# ------------------------------------------------------------------------------------------------ synthesis


def check_noise_mode(noise_mode: str) -> None:
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")


class SynthesisBase(nn.Module):
    """What every family's synthesis network does alike around its own start / advance / finish (api.py):
    context() checks the request and completes the device, forward() renders with exactly the operations the
    renderer resumes, so a cached render equals a fresh one bit for bit."""

    cfg: Any
    has_noise: ClassVar[bool] = True  # False: noise modes are accepted and ignored (StyleGAN3)
    start: Callable[..., tuple]  # the family's resumable steps (api.py)
    advance: Callable[..., tuple]
    finish: Callable[..., Tensor]

    def context(
        self,
        n: int,
        noise_mode: str = "const",
        noise_seed: int = 0,
        options: dict | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> Any:
        """The w-independent inputs of N images (noise, input transform), on `device` (default: the weights')."""
        check_noise_mode(noise_mode)
        device = next(self.parameters()).device if device is None else torch.device(device)
        return self.make_context(int(n), noise_mode, int(noise_seed), dict(options or {}), device, dtype)

    def make_context(
        self, n: int, noise_mode: str, noise_seed: int, options: dict, device: torch.device, dtype: torch.dtype | None
    ) -> Any:
        """The family's context; dtype None: the family's working precision."""
        raise NotImplementedError

    def forward(
        self,
        ws: Tensor,
        noise_mode: str = "random",
        noise_seed: int | None = None,
        capture: Capture | None = None,
        options: dict | None = None,
    ) -> Tensor:
        """ws [N, num_ws, w_dim] -> images [N, img_channels, R, R]: start, advance through every w index, finish.
        Random noise without a seed draws one."""
        if ws.ndim != 3 or ws.shape[1:] != (self.cfg.num_ws, self.cfg.w_dim):
            raise ValueError(f"ws must be [N, {self.cfg.num_ws}, {self.cfg.w_dim}], got {list(ws.shape)}")
        if noise_mode == "random" and noise_seed is None and self.has_noise:
            noise_seed = int(torch.randint(0, 2**31 - 1, ()))
        n = ws.shape[0]
        ctx = self.context(n, noise_mode, noise_seed or 0, options, device=ws.device)
        state = self.start(ctx, n)
        for k in range(self.cfg.num_ws):
            state = self.advance(k, state, ws[:, k], ctx, capture)
        return self.finish(state, ctx)


__all__ = [
    "SQRT2",
    "ConfigDict",
    "FullyConnected",
    "GeneratorBase",
    "MappedGenerator",
    "MappingNetwork",
    "PyramidConfig",
    "SynthesisBase",
    "band_threads",
    "broadcast_ws",
    "channel_mean_var",
    "channel_moments",
    "check_noise_mode",
    "normalize_2nd_moment",
    "truncate",
]
