"""StyleGAN3 configurations and filters designed from scratch, as NVIDIA's constructors do.

Files carry their filters, so opening a model never needs this. It exists to build random-weight models of the
published shapes (benchmarks, tests): `design_config("T", 1024)` gives the layer geometry of
`SynthesisNetwork.__init__`, `lowpass_filter` the Kaiser-windowed sinc (scipy's `firwin`) and, for StyleGAN3-R,
the Kaiser-windowed jinc, written here with NumPy only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .network import Generator, LayerSpec, StyleGAN3Config


def design_config(
    variant: str = "T",
    resolution: int = 1024,
    z_dim: int = 512,
    w_dim: int = 512,
    c_dim: int = 0,
    img_channels: int = 3,
    channel_base: int | None = None,
    channel_max: int | None = None,
    num_layers: int = 14,
    num_critical: int = 2,
    first_cutoff: float = 2.0,
    first_stopband: float = 2**2.1,
    last_stopband_rel: float = 2**0.3,
    margin_size: int = 10,
    output_scale: float = 0.25,
    conv_kernel: int | None = None,
    filter_size: int = 6,
    lrelu_upsampling: int = 2,
    use_radial_filters: bool | None = None,
    conv_clamp: int = 256,
    mapping_layers: int = 2,
) -> StyleGAN3Config:
    """The config NVIDIA's train.py builds for --cfg=stylegan3-t / stylegan3-r (R: 1x1 convs, twice the
    channels, radial down filters)."""
    r = variant == "R"
    channel_base = channel_base or (65536 if r else 32768)
    channel_max = channel_max or (1024 if r else 512)
    conv_kernel = conv_kernel or (1 if r else 3)
    use_radial_filters = r if use_radial_filters is None else use_radial_filters
    # Cutoffs and minimum stopbands grow geometrically to the last critically sampled layers.
    last_cutoff = resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    e = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** e
    stopbands = first_stopband * (last_stopband / first_stopband) ** e
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + margin_size * 2
    sizes[-2:] = resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels
    layers = []
    for i in range(num_layers + 1):
        p = max(i - 1, 0)
        torgb = i == num_layers
        k = 1 if torgb else conv_kernel
        tmp_rate = max(rates[p], rates[i]) * (1 if torgb else lrelu_upsampling)
        up = int(np.rint(tmp_rate / rates[p]))
        down = int(np.rint(tmp_rate / rates[i]))
        up_taps = filter_size * up if up > 1 and not torgb else 1
        down_taps = filter_size * down if down > 1 and not torgb else 1
        critical = i >= num_layers - num_critical
        # Padding on the upsampled image, shifted to the symmetric interpretation (paper, Appendix C.3).
        total = (sizes[i] - 1) * down + 1 - (sizes[p] + k - 1) * up + up_taps + down_taps - 2
        lo = int((total + up) // 2)
        hi = int(total - lo)
        layers.append(
            LayerSpec(
                name=f"L{i}_{int(sizes[i])}_{int(channels[i])}",
                in_channels=int(channels[p]),
                out_channels=int(channels[i]),
                in_size=int(sizes[p]),
                out_size=int(sizes[i]),
                in_sampling_rate=int(rates[p]),
                out_sampling_rate=int(rates[i]),
                in_cutoff=float(cutoffs[p]),
                out_cutoff=float(cutoffs[i]),
                in_half_width=float(half_widths[p]),
                out_half_width=float(half_widths[i]),
                conv_kernel=k,
                up_factor=up,
                down_factor=down,
                up_taps=up_taps,
                down_taps=down_taps,
                down_radial=bool(use_radial_filters and not critical),
                padding=(lo, hi, lo, hi),
                is_torgb=torgb,
                is_critically_sampled=critical,
                conv_clamp=conv_clamp,
            )
        )
    return StyleGAN3Config(
        z_dim=z_dim,
        w_dim=w_dim,
        c_dim=c_dim,
        resolution=resolution,
        img_channels=img_channels,
        mapping_layers=mapping_layers,
        input_channels=int(channels[0]),
        input_size=int(sizes[0]),
        input_sampling_rate=float(rates[0]),
        input_bandwidth=float(cutoffs[0]),
        layers=tuple(layers),
        output_scale=output_scale,
        variant="R" if r else "T",
    )


def _kaiser_beta(atten: float) -> float:
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def _kaiser_window(numtaps: int, width: float, fs: float) -> np.ndarray:
    atten = 2.285 * (numtaps - 1) * math.pi * (width / (fs / 2)) + 7.95  # Kaiser's formula
    return np.kaiser(numtaps, _kaiser_beta(atten))


def bessel_j1(x: np.ndarray | float) -> np.ndarray:
    """J1(x) = (1/pi) * integral_0^pi cos(t - x sin t) dt; the trapezoid rule on this periodic integrand is
    accurate to rounding for the arguments filters need (|x| < 100)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.linspace(0, math.pi, 4097)
    v = np.cos(t - x.reshape(-1, 1) * np.sin(t))
    wts = np.full(t.shape, t[1] - t[0])
    wts[[0, -1]] /= 2
    return (v @ wts / math.pi).reshape(x.shape)


def lowpass_filter(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False) -> np.ndarray | None:
    """The low-pass filter of SynthesisLayer.design_lowpass_filter: None for 1 tap; a separable Kaiser-windowed
    sinc [numtaps] (scipy.signal.firwin with a transition width); or a radially symmetric Kaiser-windowed jinc
    [numtaps, numtaps]. Both sum to 1."""
    if numtaps == 1:
        return None
    m = np.arange(numtaps) - (numtaps - 1) / 2
    if not radial:
        c = cutoff / (fs / 2)
        f = c * np.sinc(c * m) * _kaiser_window(numtaps, width, fs)
        return f / f.sum()
    x = m / fs
    r = np.hypot(*np.meshgrid(x, x))
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(r > 0, bessel_j1(2 * cutoff * math.pi * r) / (math.pi * np.where(r > 0, r, 1)), cutoff)
    w = _kaiser_window(numtaps, width, fs)
    f = f * np.outer(w, w)
    return f / f.sum()


def layer_filters(spec: LayerSpec) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(up_filter, down_filter) of one layer as float32 tensors (or None)."""
    tmp_rate = spec.in_sampling_rate * spec.up_factor
    up = lowpass_filter(spec.up_taps, spec.in_cutoff, spec.in_half_width * 2, tmp_rate)
    down = lowpass_filter(spec.down_taps, spec.out_cutoff, spec.out_half_width * 2, tmp_rate, spec.down_radial)
    up_t, down_t = (None if f is None else torch.as_tensor(f, dtype=torch.float32) for f in (up, down))
    return up_t, down_t


def random_generator(cfg: StyleGAN3Config, seed: int = 0) -> Generator:
    """A generator with NVIDIA's initialisation from a seed (random frequencies in the input's band, designed
    filters, unit magnitude_ema), in eval mode without gradients. Speed does not depend on the values."""
    G = Generator(cfg)
    g = torch.Generator().manual_seed(seed)
    sd = G.state_dict()
    with torch.no_grad():
        for name, t in sd.items():
            if name.endswith("affine.weight") and ".input." in f".{name}":
                t.zero_()
            elif name.endswith("affine.bias"):
                continue  # constructor values: 1 for layers, (1, 0, 0, 0) for the input
            elif name.endswith(".weight"):
                lr = cfg.mapping_lrmul if name.startswith("mapping.") else 1.0
                t.copy_(torch.randn(t.shape, generator=g) / lr)
            elif name.endswith(".bias"):
                t.zero_()
        freqs = torch.randn(cfg.input_channels, 2, generator=g)
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * cfg.input_bandwidth
        G.synthesis.input.freqs.copy_(freqs)
        G.synthesis.input.phases.copy_(torch.rand(cfg.input_channels, generator=g) - 0.5)
        for spec in cfg.layers:
            layer = getattr(G.synthesis, spec.name)
            for buf, f in zip((layer.up_filter, layer.down_filter), layer_filters(spec)):
                if f is not None:
                    buf.copy_(f)
    return G.eval().requires_grad_(False)


__all__ = ["bessel_j1", "design_config", "layer_filters", "lowpass_filter", "random_generator"]
