"""NVIDIA's StyleGAN3 G_ema (as an inert NetworkRecord from a pickle) -> a StyleGAN3 Generator.

The record carries the state dict under NVIDIA's names (synthesis.input.freqs, synthesis.L3_52_512.weight,
synthesis.L3_52_512.up_filter, mapping.w_avg, ...) and each submodule's plain attributes (in_size, out_size,
sampling rates, cutoffs, padding, up/down factors, taps, use of radial filters, ...). The geometry comes from
those attributes and the filters from the buffers, exactly as the file's own code would run them; nothing is
recomputed from hyperparameters. The state dict names are the Generator's own, so the tensors load as they are.
Anything missing, inconsistent or absurd raises ModelFileError naming it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

from ...checkpoints.records import NetworkRecord
from ...errors import ModelFileError
from .network import Generator, LayerSpec, StyleGAN3Config

_LAYER = re.compile(r"^L(\d+)_(\d+)_(\d+)$", re.ASCII)


def is_stylegan3(rec: NetworkRecord) -> bool:
    """Whether a record looks like a StyleGAN3 generator (an input layer of Fourier features)."""
    return "synthesis.input.freqs" in rec.state or "networks_stylegan3" in (rec.module or "")


def _get(attrs: dict, path: str, key: str, kind: str | None = None) -> Any:
    a = attrs.get(path)
    if not isinstance(a, dict) or key not in a:
        raise ModelFileError(f"the StyleGAN3 generator lacks the attribute {_where(path)}{key}")
    v = a[key]
    if kind is not None and not _is(v, kind):
        raise ModelFileError(f"the StyleGAN3 attribute {_where(path)}{key} is {_show(v)}, expected {kind}")
    return v


def _where(path: str) -> str:
    return f"{path}." if path else ""


def _show(v: object) -> str:
    s = repr(v)
    s = s if len(s) <= 40 else s[:37] + "..."
    return s.encode("ascii", "backslashreplace").decode("ascii")


def _is(v: Any, kind: str) -> bool:  # kind: 'int', 'number', 'bool' or 'size'
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    if kind == "bool":
        return isinstance(v, bool) or v in (0, 1)
    if kind == "size":
        return _is(v, "int") or (isinstance(v, (list, tuple)) and len(v) == 2 and all(_is(s, "int") for s in v))
    return True


def _square(v: Any, what: str) -> int:
    if isinstance(v, (list, tuple)):
        if v[0] != v[1]:
            raise ModelFileError(f"{what} is {_show(list(v))}: only square StyleGAN3 layers are supported")
        v = v[0]
    return int(v)


def _layer_names(rec: NetworkRecord) -> list:
    names = rec.attrs.get("synthesis", {}).get("layer_names")
    if names is None:  # derive them from the parameter names
        found = {}
        for key in rec.state:
            m = re.match(r"^synthesis\.(L(\d+)_\d+_\d+)\.weight$", key, re.ASCII)
            if m:
                found[int(m.group(2))] = m.group(1)
        names = [found[i] for i in sorted(found)]
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
        raise ModelFileError("the StyleGAN3 generator's layer names are missing or not a list of names")
    for i, n in enumerate(names):
        m = _LAYER.match(n)
        if not m or int(m.group(1)) != i:
            raise ModelFileError(f"the StyleGAN3 layer {i} is named {_show(n)}; expected 'L{i}_<size>_<channels>'")
    if len(names) > 64:
        raise ModelFileError(f"the StyleGAN3 generator has {len(names)} layers; at most 64 are supported")
    return list(names)


def _layer_spec(rec: NetworkRecord, name: str) -> LayerSpec:
    p = f"synthesis.{name}"
    a = rec.attrs.get(p)
    if not isinstance(a, dict):
        raise ModelFileError(f"the StyleGAN3 generator lacks the attributes of layer {name}")
    kw: dict[str, Any] = dict(name=name)
    for key in ("in_channels", "out_channels", "conv_kernel", "up_factor", "down_factor", "up_taps", "down_taps"):
        kw[key] = _get(rec.attrs, p, key, "int")
    for key in ("in_size", "out_size"):
        kw[key] = _square(_get(rec.attrs, p, key, "size"), f"{p}.{key}")
    for key in ("in_sampling_rate", "out_sampling_rate", "in_cutoff", "out_cutoff", "in_half_width", "out_half_width"):
        kw[key] = float(_get(rec.attrs, p, key, "number"))
    for key in ("down_radial", "is_torgb", "is_critically_sampled"):
        kw[key] = bool(_get(rec.attrs, p, key, "bool"))
    pad = _get(rec.attrs, p, "padding")
    if not isinstance(pad, (list, tuple)) or len(pad) != 4 or not all(_is(v, "int") for v in pad):
        raise ModelFileError(f"the StyleGAN3 attribute {p}.padding is {_show(pad)}, expected 4 integers")
    kw["padding"] = tuple(int(v) for v in pad)
    clamp = a.get("conv_clamp", None)
    if clamp is not None and not _is(clamp, "number"):
        raise ModelFileError(f"the StyleGAN3 attribute {p}.conv_clamp is {_show(clamp)}, expected a number or None")
    kw["conv_clamp"] = clamp
    try:
        return LayerSpec(**kw)
    except ValueError as e:
        raise ModelFileError(f"the StyleGAN3 layer {name} is inconsistent: {e}") from None


def _mapping_lrmul(rec: NetworkRecord) -> float:
    a = rec.attrs.get("mapping.fc0", {})
    v = a.get("bias_gain")
    if v is None:
        v = (rec.init_kwargs.get("mapping_kwargs") or {}).get("lr_multiplier", 0.01)
    if not _is(v, "number") or v <= 0:
        raise ModelFileError(f"the StyleGAN3 mapping's learning-rate multiplier is {_show(v)}")
    return float(v)


def config_from_record(rec: NetworkRecord) -> StyleGAN3Config:
    top = rec.attrs.get("", {})
    if not isinstance(top, dict):
        raise ModelFileError("the StyleGAN3 generator's attributes are not a dictionary")
    ints = {k: _get(rec.attrs, "", k, "int") for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")}
    names = _layer_names(rec)
    layers = tuple(_layer_spec(rec, n) for n in names)
    inp = "synthesis.input"
    n_mapping = rec.attrs.get("mapping", {}).get("num_layers")
    if n_mapping is None:
        n_mapping = sum(1 for k in rec.state if re.match(r"^mapping\.fc\d+\.weight$", k))
    if not _is(n_mapping, "int") or not 1 <= n_mapping <= 64:
        raise ModelFileError(f"the StyleGAN3 mapping network has {_show(n_mapping)} layers")
    radial = any(l.down_radial for l in layers)
    syn = rec.attrs.get("synthesis", {})
    output_scale = syn.get("output_scale", 0.25)
    if not _is(output_scale, "number"):
        raise ModelFileError(f"the StyleGAN3 attribute synthesis.output_scale is {_show(output_scale)}")
    num_ws = syn.get("num_ws", len(layers) + 1)
    if num_ws != len(layers) + 1:
        raise ModelFileError(f"the StyleGAN3 synthesis network says num_ws = {_show(num_ws)} for {len(layers)} layers")
    try:
        return StyleGAN3Config(
            z_dim=ints["z_dim"],
            w_dim=ints["w_dim"],
            c_dim=ints["c_dim"],
            resolution=ints["img_resolution"],
            img_channels=ints["img_channels"],
            mapping_layers=int(n_mapping),
            mapping_lrmul=_mapping_lrmul(rec),
            input_channels=_get(rec.attrs, inp, "channels", "int"),
            input_size=_square(_get(rec.attrs, inp, "size", "size"), f"{inp}.size"),
            input_sampling_rate=float(_get(rec.attrs, inp, "sampling_rate", "number")),
            input_bandwidth=float(_get(rec.attrs, inp, "bandwidth", "number")),
            layers=layers,
            output_scale=float(output_scale),
            variant="R" if radial else "T",
        )
    except ValueError as e:
        raise ModelFileError(f"the StyleGAN3 generator's configuration is inconsistent: {e}") from None


def _check_proportions(rec: NetworkRecord, cfg: StyleGAN3Config) -> None:
    """Refuse layer sizes out of all proportion to the weights, before anything is allocated: one image's
    activations may take at most 64 times the weights' bytes plus 512 MB (a real 1024 px StyleGAN3-T needs 1.2 GB
    of activations for 100 MB of weights; a small file claiming huge feature maps would otherwise allocate
    gigabytes)."""
    weight_bytes = sum(v.numel() * 4 for v in rec.state.values() if isinstance(v, torch.Tensor))
    sizes = [cfg.input_size] + [l.out_size for l in cfg.layers]
    act_bytes = sum(c * s * s * 4 for c, s in zip(cfg.channels, sizes))
    if act_bytes > 64 * weight_bytes + (512 << 20):
        raise ModelFileError(
            f"the StyleGAN3 generator's feature maps ({act_bytes / 2**20:.0f} MB per image) are out "
            f"of proportion to its weights ({weight_bytes / 2**20:.1f} MB)"
        )


def from_nvidia(rec: NetworkRecord) -> Generator:
    """NVIDIA's StyleGAN3 G_ema -> Generator (CPU, eval mode, no gradients)."""
    if rec.class_name != "Generator" or not is_stylegan3(rec):
        raise ModelFileError(f"the network is a {_show(rec.module)}.{_show(rec.class_name)}, not a StyleGAN3 generator")
    cfg = config_from_record(rec)
    _check_proportions(rec, cfg)
    G = Generator(cfg)
    want = G.state_dict()
    missing = [k for k in want if k not in rec.state]
    extra = [k for k in rec.state if k not in want]
    if missing:
        raise ModelFileError(f"the StyleGAN3 generator lacks {len(missing)} tensors, e.g. {_show(missing[0])}")
    if extra:
        raise ModelFileError(
            f"the StyleGAN3 generator has {len(extra)} unexpected tensors, e.g. {_show(extra[0])} "
            "(is it a different architecture?)"
        )
    state = {}
    for k, t in want.items():
        v = rec.state[k]
        if not isinstance(v, torch.Tensor):
            raise ModelFileError(f"the StyleGAN3 tensor {_show(k)} is not a tensor")
        if tuple(v.shape) != tuple(t.shape):
            raise ModelFileError(f"the StyleGAN3 tensor {k} has shape {list(v.shape)}, the layer needs {list(t.shape)}")
        if not v.is_floating_point():
            raise ModelFileError(
                f"the StyleGAN3 tensor {k} is {str(v.dtype).replace('torch.', '')}, not floating point"
            )
        v = v.detach().to("cpu", torch.float32)
        if not torch.isfinite(v).all():
            raise ModelFileError(f"the StyleGAN3 tensor {k} contains NaN or infinite values")
        state[k] = v
    if not (state["synthesis.input.transform"][2] == torch.tensor([0.0, 0.0, 1.0])).all():
        raise ModelFileError("the StyleGAN3 input transform is not an affine 3x3 matrix (last row must be 0 0 1)")
    for spec in cfg.layers:
        if float(state[f"synthesis.{spec.name}.magnitude_ema"]) <= 0:
            raise ModelFileError(f"the StyleGAN3 layer {spec.name} has a magnitude_ema <= 0")
    G.load_state_dict(state, strict=True)
    return G.eval().requires_grad_(False)


__all__ = ["config_from_record", "from_nvidia", "is_stylegan3"]
