"""Random StyleGAN3 generators as NVIDIA's code would hold them, for tests: parameter and buffer names, the
constructor's kwargs and the plain attributes of every submodule, as `NetworkRecord`s (what a pickle reader
hands to the family converter).

Written from NVIDIA's `networks_stylegan3.py` constructors (SynthesisNetwork's geometric cutoff progression,
SynthesisLayer's sizes, factors, taps and padding, and its filter design: scipy's Kaiser-windowed `firwin`
and the Kaiser-windowed jinc), in NumPy only, sharing no code with stylemixer. Weights are random but every
term matters: the input's affine weight is non-zero (so w 0 moves the input), biases and magnitude_ema are
not at their initial values, and the stored transform can be set.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from stylemixer.core.checkpoints.records import NetworkRecord

# NVIDIA's defaults (Generator / SynthesisNetwork / SynthesisLayer / MappingNetwork).
DEFAULTS = dict(
    z_dim=512,
    c_dim=0,
    w_dim=512,
    img_resolution=1024,
    img_channels=3,
    channel_base=32768,
    channel_max=512,
    num_layers=14,
    num_critical=2,
    first_cutoff=2,
    first_stopband=2**2.1,
    last_stopband_rel=2**0.3,
    margin_size=10,
    output_scale=0.25,
    num_fp16_res=4,
    conv_kernel=3,
    filter_size=6,
    lrelu_upsampling=2,
    use_radial_filters=False,
    conv_clamp=256,
    magnitude_ema_beta=0.999,
    mapping_layers=2,
    lr_multiplier=0.01,
    w_avg_beta=0.998,
)

T_1024 = dict()  # --cfg=stylegan3-t
R_1024 = dict(conv_kernel=1, channel_base=65536, channel_max=1024, use_radial_filters=True)  # stylegan3-r


def j1(x):
    """Bessel J1 by composite Simpson on (1/pi) int_0^pi cos(t - x sin t) dt."""
    x = np.asarray(x, dtype=np.float64)
    n = 2000
    t = np.linspace(0, np.pi, n + 1)
    w = np.ones(n + 1)
    w[1:-1:2], w[2:-1:2] = 4, 2
    vals = np.cos(t[None, :] - x.reshape(-1, 1) * np.sin(t)[None, :])
    return ((vals @ w) * (np.pi / n) / 3 / np.pi).reshape(x.shape)


def kaiser_beta(a):
    return 0.1102 * (a - 8.7) if a > 50 else (0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) if a > 21 else 0.0)


def firwin_kaiser(numtaps, cutoff, width, fs):
    """scipy.signal.firwin(numtaps, cutoff, width=width, fs=fs): a low-pass sinc under a Kaiser window whose
    beta comes from Kaiser's attenuation formula, scaled to unit gain at DC."""
    nyq = fs / 2
    atten = 2.285 * (numtaps - 1) * np.pi * (width / nyq) + 7.95
    win = np.kaiser(numtaps, kaiser_beta(atten))
    m = np.arange(numtaps) - (numtaps - 1) / 2
    h = (cutoff / nyq) * np.sinc((cutoff / nyq) * m) * win
    return h / h.sum()


def jinc_kaiser(numtaps, cutoff, width, fs):
    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(x, x))
    f = j1(2 * cutoff * (np.pi * r)) / (np.pi * r)
    atten = 2.285 * (numtaps - 1) * np.pi * (width / (fs / 2)) + 7.95
    w = np.kaiser(numtaps, kaiser_beta(atten))
    f = f * np.outer(w, w)
    return f / f.sum()


def design(numtaps, cutoff, width, fs, radial=False):
    if numtaps == 1:
        return None
    f = jinc_kaiser(numtaps, cutoff, width, fs) if radial else firwin_kaiser(numtaps, cutoff, width, fs)
    return torch.as_tensor(f, dtype=torch.float32)


def synthesis_layers(k: dict) -> tuple[dict, list[dict]]:
    """(input attrs, [layer attrs]) exactly as SynthesisNetwork.__init__ computes them."""
    res, nl = k["img_resolution"], k["num_layers"]
    last_cutoff = res / 2
    last_stopband = last_cutoff * k["last_stopband_rel"]
    exponents = np.minimum(np.arange(nl + 1) / (nl - k["num_critical"]), 1)
    cutoffs = k["first_cutoff"] * (last_cutoff / k["first_cutoff"]) ** exponents
    stopbands = k["first_stopband"] * (last_stopband / k["first_stopband"]) ** exponents
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, res))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + k["margin_size"] * 2
    sizes[-2:] = res
    channels = np.rint(np.minimum((k["channel_base"] / 2) / cutoffs, k["channel_max"]))
    channels[-1] = k["img_channels"]
    inp = dict(
        w_dim=k["w_dim"],
        channels=int(channels[0]),
        size=[int(sizes[0])] * 2,
        sampling_rate=float(rates[0]),
        bandwidth=float(cutoffs[0]),
    )
    layers = []
    for idx in range(nl + 1):
        prev = max(idx - 1, 0)
        is_torgb = idx == nl
        crit = idx >= nl - k["num_critical"]
        a = dict(
            w_dim=k["w_dim"],
            is_torgb=is_torgb,
            is_critically_sampled=crit,
            use_fp16=bool(rates[idx] * 2 ** k["num_fp16_res"] > res),
            in_channels=int(channels[prev]),
            out_channels=int(channels[idx]),
            in_size=[int(sizes[prev])] * 2,
            out_size=[int(sizes[idx])] * 2,
            in_sampling_rate=int(rates[prev]),
            out_sampling_rate=int(rates[idx]),
            in_cutoff=float(cutoffs[prev]),
            out_cutoff=float(cutoffs[idx]),
            in_half_width=float(half_widths[prev]),
            out_half_width=float(half_widths[idx]),
            conv_kernel=1 if is_torgb else k["conv_kernel"],
            conv_clamp=k["conv_clamp"],
            magnitude_ema_beta=k["magnitude_ema_beta"],
        )
        a["tmp_sampling_rate"] = max(a["in_sampling_rate"], a["out_sampling_rate"]) * (
            1 if is_torgb else k["lrelu_upsampling"]
        )
        a["up_factor"] = int(np.rint(a["tmp_sampling_rate"] / a["in_sampling_rate"]))
        a["up_taps"] = k["filter_size"] * a["up_factor"] if a["up_factor"] > 1 and not is_torgb else 1
        a["down_factor"] = int(np.rint(a["tmp_sampling_rate"] / a["out_sampling_rate"]))
        a["down_taps"] = k["filter_size"] * a["down_factor"] if a["down_factor"] > 1 and not is_torgb else 1
        a["down_radial"] = bool(k["use_radial_filters"] and not crit)
        ins, outs = np.array(a["in_size"]), np.array(a["out_size"])
        total = (outs - 1) * a["down_factor"] + 1
        total -= (ins + a["conv_kernel"] - 1) * a["up_factor"]
        total += a["up_taps"] + a["down_taps"] - 2
        lo = (total + a["up_factor"]) // 2
        hi = total - lo
        a["padding"] = [int(lo[0]), int(hi[0]), int(lo[1]), int(hi[1])]
        a["name"] = f"L{idx}_{a['out_size'][0]}_{a['out_channels']}"
        layers.append(a)
    return inp, layers


def nvidia_sg3_record(cfg_kwargs: dict | None = None, seed: int = 0, transform=None) -> NetworkRecord:
    """A random G_ema of NVIDIA's StyleGAN3 as a NetworkRecord.

    cfg_kwargs: NVIDIA's constructor arguments (see DEFAULTS; e.g. R_1024 for the R config).
    transform: a 3x3 stored in synthesis.input.transform (default the identity, as in the released files).
    """
    k = dict(DEFAULTS)
    k.update(cfg_kwargs or {})
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g) * scale

    inp, layers = synthesis_layers(k)
    state, attrs = {}, {}
    lr, w_dim = k["lr_multiplier"], k["w_dim"]

    def fc(path, n_in, n_out, lr_mul=1.0, activation="linear", weight=None, bias=None):
        state[f"{path}.weight"] = randn(n_out, n_in) / lr_mul if weight is None else weight
        state[f"{path}.bias"] = (randn(n_out, scale=0.1) / lr_mul) if bias is None else bias
        attrs[path] = dict(
            training=False,
            in_features=n_in,
            out_features=n_out,
            activation=activation,
            weight_gain=lr_mul / math.sqrt(n_in),
            bias_gain=lr_mul,
        )

    # Mapping.
    if k["c_dim"] > 0:
        fc("mapping.embed", k["c_dim"], w_dim)
    dims = [k["z_dim"] + (w_dim if k["c_dim"] > 0 else 0)] + [w_dim] * k["mapping_layers"]
    for i in range(k["mapping_layers"]):
        fc(f"mapping.fc{i}", dims[i], dims[i + 1], lr, "lrelu")
    state["mapping.w_avg"] = randn(w_dim, scale=0.3)
    attrs["mapping"] = dict(
        training=False,
        z_dim=k["z_dim"],
        c_dim=k["c_dim"],
        w_dim=w_dim,
        num_ws=k["num_layers"] + 2,
        num_layers=k["mapping_layers"],
        w_avg_beta=k["w_avg_beta"],
    )

    # Input: NVIDIA draws frequencies in a disc of radius `bandwidth`, phases in [-0.5, 0.5).
    c0 = inp["channels"]
    freqs = randn(c0, 2)
    radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
    freqs = freqs / (radii * radii.square().exp().pow(0.25)) * inp["bandwidth"]
    state["synthesis.input.weight"] = randn(c0, c0)
    # affine init is weight 0, bias (1, 0, 0, 0); trained files move it, so the test weights do too.
    fc(
        "synthesis.input.affine",
        w_dim,
        4,
        weight=randn(4, w_dim, scale=0.3),
        bias=torch.tensor([1.0, 0.0, 0.0, 0.0]) + randn(4, scale=0.05),
    )
    state["synthesis.input.transform"] = (
        torch.eye(3) if transform is None else torch.as_tensor(transform, dtype=torch.float32)
    )
    state["synthesis.input.freqs"] = freqs
    state["synthesis.input.phases"] = torch.rand(c0, generator=g) - 0.5
    attrs["synthesis.input"] = dict(training=False, **inp)

    for a in layers:
        p = f"synthesis.{a['name']}"
        kk = a["conv_kernel"]
        fc(f"{p}.affine", w_dim, a["in_channels"], bias=1 + randn(a["in_channels"], scale=0.2))
        state[f"{p}.weight"] = randn(a["out_channels"], a["in_channels"], kk, kk)
        state[f"{p}.bias"] = randn(a["out_channels"], scale=0.1)
        state[f"{p}.magnitude_ema"] = torch.tensor(0.5 + torch.rand((), generator=g).item())
        up = design(a["up_taps"], a["in_cutoff"], a["in_half_width"] * 2, a["tmp_sampling_rate"])
        down = design(
            a["down_taps"], a["out_cutoff"], a["out_half_width"] * 2, a["tmp_sampling_rate"], a["down_radial"]
        )
        if up is not None:  # None buffers are not in a state dict
            state[f"{p}.up_filter"] = up
        if down is not None:
            state[f"{p}.down_filter"] = down
        attrs[p] = dict(training=False, **{key: v for key, v in a.items() if key != "name"})

    attrs["synthesis"] = dict(
        training=False,
        w_dim=w_dim,
        num_ws=k["num_layers"] + 2,
        img_resolution=k["img_resolution"],
        img_channels=k["img_channels"],
        num_layers=k["num_layers"],
        num_critical=k["num_critical"],
        margin_size=k["margin_size"],
        output_scale=k["output_scale"],
        num_fp16_res=k["num_fp16_res"],
        layer_names=[a["name"] for a in layers],
    )
    attrs[""] = dict(
        training=False,
        z_dim=k["z_dim"],
        c_dim=k["c_dim"],
        w_dim=w_dim,
        img_resolution=k["img_resolution"],
        img_channels=k["img_channels"],
        num_ws=k["num_layers"] + 2,
    )
    synthesis_kwargs = {
        key: k[key]
        for key in (
            "channel_base",
            "channel_max",
            "num_layers",
            "num_critical",
            "margin_size",
            "output_scale",
            "num_fp16_res",
            "conv_kernel",
            "filter_size",
            "use_radial_filters",
            "conv_clamp",
            "magnitude_ema_beta",
        )
    }
    init_kwargs = dict(
        z_dim=k["z_dim"],
        c_dim=k["c_dim"],
        w_dim=w_dim,
        img_resolution=k["img_resolution"],
        img_channels=k["img_channels"],
        mapping_kwargs=dict(num_layers=k["mapping_layers"], lr_multiplier=lr),
        **synthesis_kwargs,
    )
    return NetworkRecord(
        module="training.networks_stylegan3",
        class_name="Generator",
        init_kwargs=init_kwargs,
        state=state,
        attrs=attrs,
        source_format="nvidia-pickle",
    )


# Small configurations for fast tests (the published shapes with fewer channels).
def small(variant="T", resolution=64, **extra) -> dict:
    k = dict(img_resolution=resolution, z_dim=32, w_dim=32, channel_base=1024, channel_max=32)
    if variant == "R":
        k.update(conv_kernel=1, channel_base=2048, channel_max=32, use_radial_filters=True)
    k.update(extra)
    return k
