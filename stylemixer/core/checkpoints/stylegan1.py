"""Open NVIDIA's official StyleGAN (v1) TensorFlow pickles, e.g. karras2019stylegan-ffhq-1024x1024.pkl.

The file is the pickled tuple (G, D, Gs); only Gs, the moving-average generator, is converted. It is read with
the restricted unpickler in tf_pickle (no TensorFlow, no dnnlib, nothing from the file is executed), checked
against the exact variable set the official G_style builds, and copied into the engine's Generator:

  mapping/Dense{i}/weight [in, out]              -> mapping_net.fcs.{i}.weight [out, in]   (lr multiplier 0.01)
  dlatent_avg [w_dim]                            -> mapping_net.w_avg
  synthesis/4x4/Const/const [1, C, 4, 4]         -> synthesis.const
  synthesis/<layer>/weight [kh, kw, in, out]     -> synthesis.layers.{l}.conv.weight [out, in, kh, kw]
  synthesis/<layer>/Noise/weight [C]             -> synthesis.layers.{l}.noise_strength
  synthesis/noise{l} [1, 1, H, W]                -> synthesis.layers.{l}.noise_const
  synthesis/<layer>/bias [C]                     -> synthesis.layers.{l}.bias
  synthesis/<layer>/StyleMod/weight [w_dim, 2C]  -> synthesis.layers.{l}.adain.affine.weight [2C, w_dim]
  synthesis/<layer>/StyleMod/bias [2C]           -> ...adain.affine.bias (scale half stays an offset from 1,
                                                    as in TF: the engine's AdaIN adds the 1 at run time)
  synthesis/ToRGB_lod0/{weight, bias}            -> synthesis.torgb (the lower-resolution ToRGBs are unused
                                                    once lod = 0)

where <layer> for w index l is 4x4/Const (l = 0), 4x4/Conv (l = 1), {r}x{r}/Conv0_up (l = 2k-4) and
{r}x{r}/Conv1 (l = 2k-3) for r = 2^k. Stored values stay raw; the engine applies the equalized-lr scales.

Cars: the official cars model draws 512x384 content centred in a 512x512 frame. A 512 px file whose name (or a
string in its static_kwargs) contains the word "car"/"cars" or "512x384" gets GeneratorConfig.crop =
(64, 448, 0, 512), rows 64..448 as in NVIDIA's figure script. `stylemixer convert --crop` overrides the rule.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import ModelFileError
from ..families.stylegan1.network import Generator, GeneratorConfig
from ..families.stylegan1.topology import topology
from . import tf_pickle
from .tf_pickle import NETWORK_CLASS, TFNetwork

if TYPE_CHECKING:
    from . import LoadedModel

FORMAT = "stylegan1-tf"
CARS_CROP = (64, 448, 0, 512)
SUPPORTED_EXAMPLE = "karras2019stylegan-ffhq-1024x1024.pkl"

# static_kwargs that change the arithmetic: the only values the engine implements (G_style's defaults).
_REQUIRED_KWARGS = {
    "use_wscale": True,
    "normalize_latents": True,
    "use_styles": True,
    "const_input_layer": True,
    "use_noise": True,
    "use_pixel_norm": False,
    "use_instance_norm": True,
    "nonlinearity": "lrelu",
    "mapping_nonlinearity": "lrelu",
    "label_size": 0,
    "dtype": "float32",
}


def try_load(
    path: str | os.PathLike[str], kind: str, device: str = "cpu", progress: Callable[[float], None] | None = None
) -> LoadedModel | None:
    """A LoadedModel for a StyleGAN v1 TF pickle; None for any other file; ModelFileError if it is one
    (or a related TF-era NVIDIA pickle) that cannot be used."""
    if kind != "pickle":
        return None
    path = os.fspath(path)
    name = os.path.basename(path)
    with tf_pickle.open_pickle(path) as (f, size, head):
        if head.first is None and head.ran_out and head.length < tf_pickle.HEAD_BYTES:
            raise ModelFileError(
                f"{name} is a Python pickle that ends after {head.length} bytes; the file is truncated"
            )
        if head.first != NETWORK_CLASS:
            return None
        if head.version is not None and head.version >= 4:
            raise ModelFileError(_newer_message(name, head.version))
        if not tf_pickle.sp.ends_complete(f):
            raise ModelFileError(f"{name} is truncated (it ends before the pickle does); download it again")
        top = tf_pickle.load_file(f, size, name, progress)
        # The arrays are read from the open file as they are converted; G's and D's are never read.
        Gs = pick_generator(top, name)
        del top
        try:
            G, info = convert(Gs, name, progress)
        except tf_pickle.sp.Truncated:
            raise ModelFileError(f"{name} is truncated (the data ends early); download it again") from None
        except tf_pickle.sp.PickleRejected as e:
            raise ModelFileError(f"{name} is damaged: {e}") from None
        del Gs
    if progress is not None:
        progress(1.0)
    from . import LoadedModel

    return LoadedModel(G.to(device), os.path.abspath(path), name, FORMAT, info)


def _newer_message(name: str, version: int) -> str:
    kind = "StyleGAN2-ADA" if version >= 5 else "StyleGAN2"
    return (
        f"{name} is a {kind} TensorFlow pickle (network version {version}); StyleGAN2 is not supported yet. "
        f"StyleMixer reads StyleGAN (v1) TensorFlow pickles such as {SUPPORTED_EXAMPLE}"
    )


def pick_generator(top: object, name: str) -> TFNetwork:
    """Gs from the (G, D, Gs) tuple; also accepts a file holding just a generator network."""
    nets = tf_pickle.networks(top)
    for n in nets:
        v = getattr(n, "version", None)
        if isinstance(v, int) and v >= 4:
            raise ModelFileError(_newer_message(name, v))
    return tf_pickle.pick_built_by(nets, "G_style", "StyleGAN", name)


# ----------------------------------------------------------------------------------------------------------
# Reading the variables


def _check_network(net: object, role: str, func: str, name: str) -> dict[str, Any]:
    if not isinstance(net, TFNetwork):
        raise ModelFileError(f"{name}: the generator has no '{role}' sub-network")
    v = getattr(net, "version", None)
    if v not in (2, 3):
        raise ModelFileError(
            f"{name}: network '{getattr(net, 'name', role)}' has version {v!r}; StyleGAN v1 files have version 2 or 3"
        )
    if getattr(net, "build_func_name", None) != func:
        raise ModelFileError(
            f"{name}: the {role} network is built by {getattr(net, 'build_func_name', None)!r}, expected {func}"
        )
    kw = getattr(net, "static_kwargs", None) or {}
    if not isinstance(kw, dict):
        raise ModelFileError(f"{name}: network '{role}' has malformed static_kwargs")
    return tf_pickle.plain(kw)


def _variables(net: TFNetwork, name: str) -> dict:
    try:
        return net.own_variables(lazy=True)  # arrays are read one by one as they are copied
    except tf_pickle.sp.Truncated:
        raise ModelFileError(f"{name} is truncated (the data ends early); download it again") from None
    except tf_pickle.sp.PickleRejected as e:
        raise ModelFileError(f"{name} is damaged: {e}") from None


def _kwargs_config(kwargs: dict, name: str) -> dict[str, Any]:
    """Refuse options the engine does not implement; return the config's fused_up_min_res and mapping_lrmul."""
    for key, want in _REQUIRED_KWARGS.items():
        if key in kwargs and kwargs[key] != want:
            raise ModelFileError(
                f"{name} was trained with {key}={kwargs[key]!r}; StyleMixer implements the "
                f"official StyleGAN architecture ({key}={want!r})"
            )
    blur = kwargs.get("blur_filter", [1, 2, 1])
    if blur is None or list(np.asarray(blur).ravel()) != [1, 2, 1]:
        raise ModelFileError(f"{name} uses blur_filter={blur!r}; StyleMixer implements [1, 2, 1]")
    fused = kwargs.get("fused_scale", "auto")
    # 'auto' fuses when the output is >= 128 px (TF: input size * 2 >= 128); True/False force one path.
    fused_min = {"auto": 128, True: 8, False: 1 << 30}.get(fused if isinstance(fused, (str, bool)) else None)
    if fused_min is None:
        raise ModelFileError(f"{name} has fused_scale={fused!r}; expected 'auto', True or False")
    lrmul = kwargs.get("mapping_lrmul", 0.01)
    if not isinstance(lrmul, (int, float)) or isinstance(lrmul, bool) or not 0 < float(lrmul) < 1e3:
        raise ModelFileError(f"{name} has mapping_lrmul={lrmul!r}")
    return {"fused_up_min_res": fused_min, "mapping_lrmul": float(lrmul)}


def _truncation(kwargs: dict, name: str) -> dict[str, Any]:
    """The config's truncation_psi and truncation_cutoff: G_style's defaults unless the kwargs set them."""
    psi = kwargs.get("truncation_psi", 0.7)
    cutoff = kwargs.get("truncation_cutoff", 8)
    if psi is None or cutoff is None or cutoff == 0:  # G_style applies no truncation then
        return {"truncation_psi": 1.0, "truncation_cutoff": None}
    try:
        return {"truncation_psi": float(psi), "truncation_cutoff": int(cutoff)}
    except (TypeError, ValueError):
        raise ModelFileError(f"{name} has truncation_psi={psi!r}, truncation_cutoff={cutoff!r}") from None


def _shape(vars_: dict, key: str, name: str, where: str) -> tuple[int, ...]:
    if key not in vars_:
        raise ModelFileError(
            f"{name}: the {where} network lacks the variable '{key}', so it is not an official StyleGAN (v1) generator"
        )
    return tuple(vars_[key].shape)


def infer_layout(top_v: dict, map_v: dict, syn_v: dict, name: str) -> dict[str, Any]:
    """The config's sizes from the variable shapes: z_dim, w_dim, mapping_layers, mapping_fmaps, resolution,
    img_channels, channels."""
    if "LabelConcat/weight" in map_v:
        raise ModelFileError(f"{name} is a conditional (labelled) generator; StyleMixer reads unconditional ones")
    layers = 0
    while f"Dense{layers}/weight" in map_v:
        layers += 1
    if layers == 0:
        raise ModelFileError(f"{name}: the mapping network has no Dense0/weight variable")
    d0 = _shape(map_v, "Dense0/weight", name, "mapping")
    dl = _shape(map_v, f"Dense{layers - 1}/weight", name, "mapping")
    if len(d0) != 2 or len(dl) != 2:
        raise ModelFileError(f"{name}: mapping weights are not matrices")
    z_dim, w_dim = d0[0], dl[1]
    fmaps = d0[1] if layers > 1 else w_dim
    const = _shape(syn_v, "4x4/Const/const", name, "synthesis")
    if len(const) != 4 or const[0] != 1 or const[2:] != (4, 4):
        raise ModelFileError(f"{name}: 4x4/Const/const has shape {list(const)}, expected [1, C, 4, 4]")
    channels, r = [const[1]], 8
    while f"{r}x{r}/Conv1/weight" in syn_v:
        s = _shape(syn_v, f"{r}x{r}/Conv1/weight", name, "synthesis")
        if len(s) != 4:
            raise ModelFileError(f"{name}: {r}x{r}/Conv1/weight has shape {list(s)}")
        channels.append(s[3])
        r *= 2
    rgb = _shape(syn_v, "ToRGB_lod0/weight", name, "synthesis")
    if len(rgb) != 4:
        raise ModelFileError(f"{name}: ToRGB_lod0/weight has shape {list(rgb)}")
    dims = (z_dim, w_dim, fmaps, rgb[3], *channels)
    if min(dims) < 1 or max(dims) > 1 << 16:
        raise ModelFileError(f"{name}: implausible layer sizes {list(dims)}")
    return {
        "z_dim": z_dim,
        "w_dim": w_dim,
        "mapping_layers": layers,
        "mapping_fmaps": fmaps,
        "resolution": 4 * 2 ** (len(channels) - 1),
        "img_channels": rgb[3],
        "channels": tuple(channels),
    }


def expected_shapes(cfg: GeneratorConfig) -> tuple[dict, dict, dict]:
    """The exact variable sets (name -> TF shape) of Gs, G_mapping and G_synthesis for this configuration."""
    top: dict[str, tuple[int, ...]] = {"dlatent_avg": (cfg.w_dim,)}
    dims = [cfg.z_dim] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [cfg.w_dim]
    mapping: dict[str, tuple[int, ...]] = {}
    for i in range(cfg.mapping_layers):
        mapping[f"Dense{i}/weight"] = (dims[i], dims[i + 1])
        mapping[f"Dense{i}/bias"] = (dims[i + 1],)
    ch = cfg.channels
    syn: dict[str, tuple[int, ...]] = {}
    for spec in topology(cfg):
        syn[f"noise{spec.index}"] = (1, 1, spec.res, spec.res)
    syn["4x4/Const/const"] = (1, ch[0], 4, 4)
    for l, (prefix, cin, cout) in enumerate(layer_prefixes(cfg)):
        if l > 0:
            syn[f"{prefix}/weight"] = (3, 3, cin, cout)
        syn[f"{prefix}/Noise/weight"] = (cout,)
        syn[f"{prefix}/bias"] = (cout,)
        syn[f"{prefix}/StyleMod/weight"] = (cfg.w_dim, 2 * cout)
        syn[f"{prefix}/StyleMod/bias"] = (2 * cout,)
    for b in range(cfg.num_blocks):
        lod = cfg.num_blocks - 1 - b
        syn[f"ToRGB_lod{lod}/weight"] = (1, 1, ch[b], cfg.img_channels)
        syn[f"ToRGB_lod{lod}/bias"] = (cfg.img_channels,)
    return top, mapping, syn


def layer_prefixes(cfg: GeneratorConfig) -> list[tuple[str, int, int]]:
    """(TF variable scope, in channels, out channels) for w index 0..num_ws-1, from the one v1 topology."""
    return [(spec.tf_scope, spec.in_ch, spec.out_ch) for spec in topology(cfg)]


def _compare(have: dict, want: dict, where: str, name: str) -> None:
    optional = {"lod"}  # a non-trainable scalar; checked separately when present
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want) - optional)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks {len(missing)} (e.g. '{missing[0]}')")
        if extra:
            parts.append(f"has {len(extra)} unexpected (e.g. '{extra[0]}')")
        raise ModelFileError(
            f"{name}: the {where} network's variables do not match an official StyleGAN (v1) "
            f"generator: it {' and '.join(parts)}"
        )
    for k, shape in want.items():
        if tuple(have[k].shape) != shape:
            raise ModelFileError(
                f"{name}: variable {where}/{k} has shape {list(have[k].shape)}, expected {list(shape)}"
            )
        if have[k].dtype.kind != "f":
            raise ModelFileError(f"{name}: variable {where}/{k} has data type {have[k].dtype}, expected float")
    lod = have.get("lod")
    lod = None if lod is None else tf_pickle.as_array(lod, "lod")
    if lod is not None and (lod.size != 1 or float(lod.reshape(-1)[0]) != 0.0):
        raise ModelFileError(
            f"{name} is a mid-training snapshot (lod = {lod.reshape(-1)[:1]}); StyleMixer reads "
            f"fully grown networks (lod = 0)"
        )


def _cars_crop(resolution: int, name: str, kwargs: dict) -> tuple[int, int, int, int] | None:
    if resolution != 512:
        return None
    texts = [name] + [v for v in kwargs.values() if isinstance(v, str) and len(v) < 1000]
    for t in texts:
        t = t.lower()
        if "512x384" in t or {"car", "cars"} & set(re.split(r"[^a-z0-9]+", t)):
            return CARS_CROP
    return None


# ----------------------------------------------------------------------------------------------------------
# Conversion


def convert(
    Gs: TFNetwork,
    name: str,
    progress: Callable[[float], None] | None = None,
    crop: str | tuple[int, int, int, int] | None = "auto",
) -> tuple[Generator, dict]:
    """A TFNetwork (G_style) -> (engine Generator in eval mode on the CPU, info dict).

    crop: 'auto' (the cars rule), None, or a (top, bottom, left, right) box.
    """
    mapping, synthesis = Gs.component("mapping"), Gs.component("synthesis")
    kw_top = _check_network(Gs, "Gs", "G_style", name)
    kw_map = _check_network(mapping, "mapping", "G_mapping", name)
    kw_syn = _check_network(synthesis, "synthesis", "G_synthesis", name)
    assert mapping is not None and synthesis is not None  # _check_network refused a missing one
    kwargs = {**kw_syn, **kw_map, **kw_top}
    settings = _kwargs_config(kwargs, name)
    truncation = _truncation(kw_top, name)

    top_v, map_v, syn_v = _variables(Gs, name), _variables(mapping, name), _variables(synthesis, name)
    for net in (Gs, mapping, synthesis):  # the dicts above now own the arrays; free each one once copied
        net.variables = None
    layout = infer_layout(top_v, map_v, syn_v, name)
    resolution = layout["resolution"]
    for key, actual in (("resolution", resolution), ("num_channels", layout["img_channels"])):
        declared = kwargs.get(key)
        if declared is not None and declared != actual:
            raise ModelFileError(f"{name}: static_kwargs say {key}={declared!r} but the variables are for {actual}")
    box = _cars_crop(resolution, name, kwargs) if crop == "auto" else crop
    if isinstance(box, str):
        raise ValueError(f"crop must be 'auto', None or a box, got {box!r}")
    cfg = GeneratorConfig(**layout, **settings, **truncation, crop=box)
    want_top, want_map, want_syn = expected_shapes(cfg)
    _compare(top_v, want_top, "Gs", name)
    _compare(map_v, want_map, "mapping", name)
    _compare(syn_v, want_syn, "synthesis", name)
    syn_v.pop("lod", None), top_v.pop("lod", None)

    G = Generator(cfg)
    plan = copy_plan(cfg)
    state = G.state_dict()
    missing = set(state) - set(plan)
    assert not missing, f"conversion plan misses {sorted(missing)[:3]}"  # an engine/loader mismatch, not the file
    sources = {"Gs": top_v, "mapping": map_v, "synthesis": syn_v}
    total = sum(sources[src][var].nbytes for src, var, _ in plan.values()) or 1
    done = 0
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not writable.*")  # we only read from the file's arrays
        for key, (src, var, permute) in plan.items():
            arr = tf_pickle.as_array(sources[src].pop(var), var)
            done += arr.nbytes
            if arr.dtype != np.float32:
                arr = arr.astype(np.float32)
            # A float64 sum of float32 values cannot overflow, so it is finite exactly when every value is.
            if not math.isfinite(float(arr.sum(dtype=np.float64))):
                raise ModelFileError(f"{name}: variable {src}/{var} contains NaN or infinite values")
            t = torch.from_numpy(arr)
            if permute is not None:
                t = t.permute(*permute)
            state[key].copy_(t)
            del arr, t
            if progress is not None:
                progress(0.8 + 0.2 * done / total)
    leftover = [k for k in syn_v if not k.startswith("ToRGB_lod")]
    assert not leftover and not map_v and not top_v, "conversion left variables unused"
    syn_v.clear()
    src = str(getattr(synthesis, "build_module_src", "") or "")
    info = {
        "tf_network_version": Gs.version,
        "network_name": getattr(Gs, "name", None),
        "fused_up_min_res": cfg.fused_up_min_res,
        "cars_crop": box is not None,
        "source_looks_official": all(m in src for m in ("def G_style(", "def G_synthesis(", "def G_mapping(")),
    }
    return G.eval().requires_grad_(False), info


def copy_plan(cfg: GeneratorConfig) -> dict[str, tuple[str, str, tuple[int, ...] | None]]:
    """Engine state-dict key -> (network, TF variable, permutation or None)."""
    plan: dict[str, tuple[str, str, tuple[int, ...] | None]] = {
        "mapping_net.w_avg": ("Gs", "dlatent_avg", None),
        "synthesis.const": ("synthesis", "4x4/Const/const", None),
        "synthesis.torgb.weight": ("synthesis", "ToRGB_lod0/weight", (3, 2, 0, 1)),
        "synthesis.torgb.bias": ("synthesis", "ToRGB_lod0/bias", None),
    }
    for i in range(cfg.mapping_layers):
        plan[f"mapping_net.fcs.{i}.weight"] = ("mapping", f"Dense{i}/weight", (1, 0))
        plan[f"mapping_net.fcs.{i}.bias"] = ("mapping", f"Dense{i}/bias", None)
    for l, (prefix, _, _) in enumerate(layer_prefixes(cfg)):
        k = f"synthesis.layers.{l}"
        if l > 0:
            plan[f"{k}.conv.weight"] = ("synthesis", f"{prefix}/weight", (3, 2, 0, 1))  # [kh,kw,in,out]->[out,in,kh,kw]
        plan[f"{k}.noise_strength"] = ("synthesis", f"{prefix}/Noise/weight", None)
        plan[f"{k}.noise_const"] = ("synthesis", f"noise{l}", None)
        plan[f"{k}.bias"] = ("synthesis", f"{prefix}/bias", None)
        plan[f"{k}.adain.affine.weight"] = ("synthesis", f"{prefix}/StyleMod/weight", (1, 0))  # [w, 2C] -> [2C, w]
        plan[f"{k}.adain.affine.bias"] = ("synthesis", f"{prefix}/StyleMod/bias", None)
    return plan


__all__ = ["CARS_CROP", "FORMAT", "convert", "copy_plan", "expected_shapes", "pick_generator", "try_load"]
