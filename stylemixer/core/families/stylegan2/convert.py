"""StyleGAN2 weights from NVIDIA's PyTorch pickles, rosinality's .pt files and the official TF pickles, as engine
Generators.

Every source is first turned into NVIDIA's PyTorch state-dict names (the engine uses the same names, with the
mapping network under `mapping_net.` because `mapping` is a method), then checked against the exact set of names
and shapes `topology(cfg)` implies and copied. The readers (checkpoints/nvidia_pickle.py, rosinality.py,
stylegan2_tf.py) only parse files; everything about StyleGAN2 is here.

Name maps:
- NVIDIA (stylegan2-ada-pytorch `training.networks`, stylegan3 `training.networks_stylegan2`): identical names.
  Sizes come from the tensor shapes; options from the layers' recorded attributes, else the init kwargs, else the
  defaults of the module the file names (the stylegan3 copy defaults to conv_clamp 256, the ADA one to None).
- rosinality (`model.py`, per its convert_weight.py and NVIDIA's legacy.py): style.{i+1} -> mapping.fc{i};
  input.input[0] -> b4.const; conv1 -> b4.conv1; convs.{2m-2}, convs.{2m-1} -> conv0, conv1 of the block at
  2^(m+2) px (`.conv.weight[0]` -> weight, `.conv.modulation` -> affine, `.noise.weight[0]` -> noise_strength,
  `.activate.bias` -> bias); to_rgb1 -> b4.torgb, to_rgbs.{i} -> b{2^(i+3)}.torgb (`.bias` [1,3,1,1] -> [3]);
  noises.noise_{j} -> the j-th conv layer's noise_const; latent_avg -> w_avg. Both converters flip TF's Conv0_up
  kernels the same way and both PyTorch models run them unflipped through a stride-2 transposed convolution, so
  rosinality's and NVIDIA's weights are the same numbers (checked against both projects' own code, see tests).
- TF (NVlabs/stylegan2 and stylegan2-ada, network versions 4 and 5; NVIDIA's legacy.py): conv weights
  [kh, kw, in, out] -> [out, in, kh, kw], Conv0_up also flipped in both spatial axes; mod_weight transposed;
  mod_bias + 1; Dense weights transposed; Const [1, C, 4, 4] -> [C, 4, 4]; noise{i} [1, 1, r, r] -> [r, r].

A file without a w average (rosinality train.py checkpoints, NVIDIA files built with w_avg_beta=None) gets one
estimated as the mean of the mapping over a fixed set of latents: W_AVG_SAMPLES z from
np.random.RandomState(W_AVG_SEED).randn(W_AVG_SAMPLES, z_dim) (class i % c_dim for conditional models), so
truncation works and the same file always gives the same w_avg.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import torch

from ...errors import ModelFileError
from .network import Generator, StyleGAN2Config, topology
from .ops import resample_filter

if TYPE_CHECKING:
    from ...checkpoints.records import NetworkRecord

W_AVG_SAMPLES = 10_000
W_AVG_SEED = 0
NVIDIA_MODULES = ("training.networks", "training.networks_stylegan2")
_DEFAULT_CONV_CLAMP = {"training.networks": None, "training.networks_stylegan2": 256}

_TOP_KWARGS = {"z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs", "synthesis_kwargs"}
_MAPPING_KWARGS = {"num_layers", "embed_features", "layer_features", "activation", "lr_multiplier", "w_avg_beta"}
_SYNTHESIS_KWARGS = {
    "channel_base",
    "channel_max",
    "num_fp16_res",
    "conv_clamp",
    "architecture",
    "resample_filter",
    "fp16_channels_last",
    "fused_modconv_default",
    "use_noise",
    "activation",
    "kernel_size",
}


def engine_key(nvidia_key: str) -> str:
    """NVIDIA state-dict name -> the engine's (the mapping network lives at `mapping_net`)."""
    return "mapping_net." + nvidia_key[len("mapping.") :] if nvidia_key.startswith("mapping.") else nvidia_key


def expected_shapes(cfg: StyleGAN2Config) -> dict:
    """NVIDIA state-dict name -> shape, for every tensor the engine needs (resample_filter buffers excluded)."""
    out: dict[str, tuple[int, ...]] = {}
    embed = cfg.embed_features if cfg.c_dim > 0 else 0
    dims = [cfg.z_dim + embed] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [cfg.w_dim]
    if cfg.c_dim > 0:
        out["mapping.embed.weight"] = (embed, cfg.c_dim)
        out["mapping.embed.bias"] = (embed,)
    for i in range(cfg.mapping_layers):
        out[f"mapping.fc{i}.weight"] = (dims[i + 1], dims[i])
        out[f"mapping.fc{i}.bias"] = (dims[i + 1],)
    out["mapping.w_avg"] = (cfg.w_dim,)
    out["synthesis.b4.const"] = (cfg.channels[0], 4, 4)
    for step in topology(cfg):
        for s in step:
            p = f"synthesis.{s.name}"
            k = 1 if s.kind == "torgb" else 3
            out[f"{p}.weight"] = (s.out_channels, s.in_channels, k, k)
            out[f"{p}.bias"] = (s.out_channels,)
            out[f"{p}.affine.weight"] = (s.in_channels, cfg.w_dim)
            out[f"{p}.affine.bias"] = (s.in_channels,)
            if s.kind != "torgb" and cfg.use_noise:
                out[f"{p}.noise_const"] = (s.resolution, s.resolution)
                out[f"{p}.noise_strength"] = ()
    return out


# ------------------------------------------------------------------------------------------------ common


def _shape(state: dict, key: str) -> tuple[int, ...] | None:
    t = state.get(key)
    return tuple(t.shape) if isinstance(t, torch.Tensor) else None


def _fail(name: str, msg: str) -> NoReturn:
    raise ModelFileError(f"{name}: {msg}")


def check_architecture(state: dict, name: str, declared: object = None) -> None:
    """Refuse the generator variants the engine does not build ('orig', 'resnet'), naming the option. The
    declared architecture (kwargs, attributes) and the one the tensor names show must both be 'skip'."""
    blocks = sorted({int(m.group(1)) for k in state if (m := re.match(r"synthesis\.b(\d+)\.", k))})
    if any(k.endswith(".skip.weight") for k in state):
        detected = "resnet"
    elif any(
        f"synthesis.b{r}.conv1.weight" in state and f"synthesis.b{r}.torgb.weight" not in state for r in blocks[:-1]
    ):
        detected = "orig"
    else:
        detected = "skip"
    _require_skip(declared if declared not in (None, "skip") else detected, name)


def _require_skip(arch: object, name: str) -> None:
    if arch != "skip":
        _fail(
            name,
            f"the generator uses architecture={arch!r}; StyleMixer builds StyleGAN2's 'skip' generator "
            f"(config E/F, the architecture of every released model)",
        )


def infer_config(state: dict, name: str, **options: Any) -> StyleGAN2Config:
    """Sizes from NVIDIA-named tensor shapes; options (conv_clamp, mapping_lrmul, truncation_psi, ...) as given."""
    blocks: list[int] = []
    r = 4
    while f"synthesis.b{r}.conv1.weight" in state:
        blocks.append(r)
        r *= 2
    if not blocks:
        _fail(name, "the generator has no synthesis.b4.conv1.weight, so it is not a StyleGAN2 generator")
    channels: list[int] = []
    for r in blocks:
        s = _shape(state, f"synthesis.b{r}.conv1.weight")
        if s is None:
            _fail(name, f"synthesis.b{r}.conv1.weight is not a tensor")
        if len(s) != 4 or s[0] != s[1]:
            _fail(name, f"synthesis.b{r}.conv1.weight has shape {list(s)}, expected [C, C, 3, 3]")
        if s[2:] != (3, 3):
            _fail(
                name, f"the generator uses {s[2]}x{s[3]} convolutions (kernel_size); StyleMixer builds StyleGAN2's 3x3"
            )
        channels.append(s[0])
    rgb = _shape(state, f"synthesis.b{blocks[-1]}.torgb.weight")
    if rgb is None or len(rgb) != 4:
        _fail(name, f"the last block has no toRGB layer (synthesis.b{blocks[-1]}.torgb.weight)")
    if rgb[0] != 3:
        _fail(
            name,
            f"the generator makes {rgb[0]}-channel images (img_channels={rgb[0]}); StyleMixer shows RGB "
            f"models (img_channels=3)",
        )
    layers = 0
    while f"mapping.fc{layers}.weight" in state:
        layers += 1
    if layers == 0:
        _fail(name, "the mapping network has no fc0.weight")
    fc0, last = _shape(state, "mapping.fc0.weight"), _shape(state, f"mapping.fc{layers - 1}.weight")
    if fc0 is None or last is None or len(fc0) != 2 or len(last) != 2:
        _fail(name, "the mapping network's weights are not matrices")
    embed = _shape(state, "mapping.embed.weight")
    c_dim, embed_features = (embed[1], embed[0]) if embed is not None and len(embed) == 2 else (0, 512)
    z_dim = fc0[1] - (embed_features if c_dim else 0)
    use_noise = f"synthesis.b{blocks[0]}.conv1.noise_const" in state
    try:
        return StyleGAN2Config(
            resolution=blocks[-1],
            img_channels=rgb[0],
            z_dim=z_dim,
            w_dim=last[0],
            c_dim=c_dim,
            mapping_layers=layers,
            mapping_fmaps=fc0[0] if layers > 1 else last[0],
            embed_features=embed_features,
            channels=tuple(channels),
            use_noise=use_noise,
            **options,
        )
    except ValueError as e:
        raise ModelFileError(f"{name}: not a generator StyleMixer can build ({e})") from None


def check_filters(state: dict, name: str, option: str = "resample_filter") -> None:
    """Every stored resample filter must be NVIDIA's [1,3,3,1] one (the engine builds that filter itself)."""
    want = resample_filter()
    for k, t in state.items():
        if k.endswith("resample_filter") and (
            tuple(t.shape) != (4, 4) or not torch.allclose(t.float(), want, atol=1e-6)
        ):
            _fail(
                name,
                f"{k} is not the [1, 3, 3, 1] filter ({option}); StyleMixer builds StyleGAN2's default resampling",
            )


def build(cfg: StyleGAN2Config, state: dict, name: str, ignore: Collection[str] = ()) -> Generator:
    """An engine Generator from NVIDIA-named tensors: exactly the expected names and shapes, finite values.
    A missing mapping.w_avg is estimated (see the module docstring); names matching `ignore` are skipped."""
    want = expected_shapes(cfg)
    have = {k: v for k, v in state.items() if not any(re.fullmatch(p, k) for p in ignore)}
    missing = sorted(set(want) - set(have) - {"mapping.w_avg"})
    extra = sorted(set(have) - set(want))
    if missing:
        _fail(name, f"the generator lacks {len(missing)} tensor(s), e.g. {missing[0]}")
    if extra:
        _fail(name, f"the generator has {len(extra)} unexpected tensor(s), e.g. {extra[0]}")
    for k, shape in want.items():
        t = have.get(k)
        if t is None:
            continue
        if not isinstance(t, torch.Tensor) or not t.dtype.is_floating_point:
            _fail(name, f"{k} is not a floating-point tensor")
        if tuple(t.shape) != shape:
            _fail(name, f"{k} has shape {list(t.shape)}, expected {list(shape)}")
        if not torch.isfinite(t).all():
            _fail(name, f"{k} contains NaN or infinite values")
    G = Generator(cfg)
    own = G.state_dict()
    with torch.no_grad():
        for k in want:
            if k in have:
                own[engine_key(k)].copy_(have[k].to(torch.float32))
        if "mapping.w_avg" not in have:
            G.mapping_net.w_avg.copy_(estimate_w_avg(G))
    return G.eval().requires_grad_(False)


@torch.inference_mode()
def estimate_w_avg(G: Generator) -> torch.Tensor:
    """Mean of the mapping over W_AVG_SAMPLES fixed latents (module docstring), [w_dim] float32."""
    z = np.random.RandomState(W_AVG_SEED).randn(W_AVG_SAMPLES, G.z_dim).astype(np.float32)
    total = torch.zeros(G.w_dim, dtype=torch.float64)
    for lo in range(0, W_AVG_SAMPLES, 1000):
        zz = torch.from_numpy(z[lo : lo + 1000])
        c = None
        if G.c_dim > 0:
            c = torch.nn.functional.one_hot(torch.arange(lo, lo + len(zz)) % G.c_dim, G.c_dim).float()
        total += G.mapping_net(zz, c).double().sum(dim=0)
    return (total / W_AVG_SAMPLES).float()


# ------------------------------------------------------------------------------------------------ NVIDIA


def _plain_number(v: object) -> float | None:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _nvidia_options(rec: NetworkRecord, state: dict, name: str) -> tuple[float | None, float]:
    """(conv_clamp, mapping_lrmul) from the layers' attributes, then the init kwargs, then the module's defaults;
    refuses options the engine does not implement (architecture first: it explains the most)."""
    kw = dict(rec.init_kwargs or {})
    unknown = sorted(set(kw) - _TOP_KWARGS - (_SYNTHESIS_KWARGS if rec.module == NVIDIA_MODULES[1] else set()))
    if unknown:
        _fail(
            name,
            f"the generator was built with option {unknown[0]!r}, which StyleMixer does not know "
            f"(it may change the network)",
        )
    mapping_kw = dict(kw.get("mapping_kwargs") or {})
    syn_kw = dict(kw.get("synthesis_kwargs") or {})
    if rec.module == NVIDIA_MODULES[1]:  # stylegan3's copy takes the synthesis options flat
        syn_kw.update({k: v for k, v in kw.items() if k in _SYNTHESIS_KWARGS})
    for opts, known, what in ((mapping_kw, _MAPPING_KWARGS, "mapping"), (syn_kw, _SYNTHESIS_KWARGS, "synthesis")):
        bad = sorted(set(opts) - known)
        if bad:
            _fail(
                name,
                f"the generator's {what} was built with option {bad[0]!r}, which StyleMixer does not know "
                f"(it may change the network)",
            )
    res = kw.get("img_resolution")
    if res is not None and not (isinstance(res, int) and not isinstance(res, bool)):
        _fail(name, f"the generator has img_resolution={res!r}; StyleMixer builds square StyleGAN2 generators")
    if kw.get("img_channels", 3) != 3:
        _fail(
            name,
            f"the generator makes images with img_channels={kw.get('img_channels')!r}; StyleMixer shows RGB "
            f"models (img_channels=3)",
        )
    attrs = rec.attrs or {}
    arch = syn_kw.get("architecture")
    block_arch = {a.get("architecture") for p, a in attrs.items() if re.fullmatch(r"synthesis\.b\d+", p)} - {None}
    if block_arch - {"skip"}:
        arch = sorted(block_arch - {"skip"})[0]
    check_architecture(state, name, arch)
    for where, opts in (("mapping", mapping_kw), ("synthesis", syn_kw)):
        act = opts.get("activation", "lrelu")
        if act != "lrelu":
            _fail(name, f"the {where} network uses activation={act!r}; StyleMixer builds StyleGAN2's 'lrelu'")
    for path, a in attrs.items():
        if re.fullmatch(r"synthesis\.b\d+\.conv[01]", path) and a.get("activation", "lrelu") != "lrelu":
            _fail(name, f"{path} uses activation={a['activation']!r}; StyleMixer builds StyleGAN2's 'lrelu'")
    if "resample_filter" in syn_kw:
        f = syn_kw["resample_filter"]
        if not isinstance(f, (list, tuple)) or [float(v) for v in f] != [1.0, 3.0, 3.0, 1.0]:
            _fail(name, f"the generator uses resample_filter={f!r}; StyleMixer builds StyleGAN2's [1, 3, 3, 1]")
    if syn_kw.get("kernel_size", 3) != 3:
        _fail(name, f"the generator uses kernel_size={syn_kw['kernel_size']!r}; StyleMixer builds 3x3 convolutions")

    clamps = {
        a["conv_clamp"]
        for p, a in attrs.items()
        if p.startswith("synthesis.b") and p.count(".") == 2 and "conv_clamp" in a
    }
    if len(clamps) > 1:
        _fail(
            name,
            f"the generator's layers use different conv_clamp values {sorted(clamps, key=str)}; StyleMixer "
            f"builds one clamp for all layers",
        )
    if clamps:
        conv_clamp = clamps.pop()
    elif "conv_clamp" in syn_kw:
        conv_clamp = syn_kw["conv_clamp"]
    else:
        conv_clamp = _DEFAULT_CONV_CLAMP[rec.module]
    if conv_clamp is not None and (_plain_number(conv_clamp) is None or not 0 < conv_clamp < math.inf):
        _fail(name, f"the generator has conv_clamp={conv_clamp!r}")

    fc0 = attrs.get("mapping.fc0", {})
    lrmul = _plain_number(fc0.get("bias_gain"))
    if lrmul is None:
        lrmul = mapping_kw.get("lr_multiplier", 0.01)
    if _plain_number(lrmul) is None or not 0 < lrmul <= 1000:
        _fail(name, f"the mapping network has lr_multiplier={lrmul!r}")
    return (None if conv_clamp is None else float(conv_clamp)), float(lrmul)


def from_nvidia(rec: NetworkRecord, name: str = "the model", info: dict | None = None) -> Generator:
    """A NetworkRecord of NVIDIA's StyleGAN2 `Generator` (G_ema) -> engine Generator (fp32, eval, CPU)."""
    if rec.class_name != "Generator" or rec.module not in NVIDIA_MODULES:
        _fail(
            name,
            f"the network is {rec.module}.{rec.class_name}, not a StyleGAN2 generator "
            f"({' or '.join(m + '.Generator' for m in NVIDIA_MODULES)})",
        )
    state = dict(rec.state)
    conv_clamp, lrmul = _nvidia_options(rec, state, name)
    check_filters(state, name)
    cfg = infer_config(state, name, conv_clamp=conv_clamp, mapping_lrmul=lrmul)
    kw = rec.init_kwargs or {}
    for key, actual in (
        ("z_dim", cfg.z_dim),
        ("w_dim", cfg.w_dim),
        ("c_dim", cfg.c_dim),
        ("img_resolution", cfg.resolution),
    ):
        if key in kw and kw[key] != actual:
            _fail(name, f"the generator's {key}={kw[key]!r} does not match its weights ({actual})")
    G = build(cfg, state, name, ignore=(r".*\.resample_filter",))
    if info is not None:
        info.update(
            source_module=rec.module,
            w_avg="file" if "mapping.w_avg" in state else "estimated",
            conv_clamp=cfg.conv_clamp,
        )
    return G


# ------------------------------------------------------------------------------------------------ rosinality


def rosinality_to_nvidia(state: dict, name: str = "the model") -> dict:
    """rosinality g_ema names -> NVIDIA names (module docstring). Raises ModelFileError on a layout it cannot map."""
    if any(".iwt." in k or k.startswith("iwt.") for k in state):
        _fail(name, "the generator is a SWAGAN (arch='swagan'); StyleMixer builds StyleGAN2's 'skip' generator")
    out, used = {}, set()

    def take(src: str, dst: str, fn: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        if src in state:
            t = state[src]
            if not isinstance(t, torch.Tensor):
                _fail(name, f"{src} is not a tensor")
            out[dst] = fn(t) if fn is not None else t
            used.add(src)

    n_mlp = 0
    while f"style.{n_mlp + 1}.weight" in state:
        n_mlp += 1
        take(f"style.{n_mlp}.weight", f"mapping.fc{n_mlp - 1}.weight")
        take(f"style.{n_mlp}.bias", f"mapping.fc{n_mlp - 1}.bias")
    n_rgbs = 0
    while f"to_rgbs.{n_rgbs}.conv.weight" in state:
        n_rgbs += 1

    def first(t: torch.Tensor, shape_len: int, what: str) -> torch.Tensor:
        if t.ndim != shape_len or t.shape[0] != 1:
            _fail(name, f"{what} has shape {list(t.shape)}; rosinality stores it with a leading 1")
        return t[0]

    take("input.input", "synthesis.b4.const", lambda t: first(t, 4, "input.input"))

    def styled(src: str, dst: str, noise_index: int | None) -> None:
        take(f"{src}.conv.weight", f"{dst}.weight", lambda t: first(t, 5, f"{src}.conv.weight"))
        take(f"{src}.conv.modulation.weight", f"{dst}.affine.weight")
        take(f"{src}.conv.modulation.bias", f"{dst}.affine.bias")
        take(f"{src}.noise.weight", f"{dst}.noise_strength", lambda t: t.reshape(()) if t.numel() == 1 else t)
        take(f"{src}.activate.bias", f"{dst}.bias")
        take(f"noises.noise_{noise_index}", f"{dst}.noise_const", lambda t: t[0, 0] if t.ndim == 4 else t)
        if f"{src}.conv.blur.kernel" in state:
            out[f"{dst}.resample_filter"] = state[f"{src}.conv.blur.kernel"] / 4  # stored with the gain up^2
            used.add(f"{src}.conv.blur.kernel")

    def torgb(src: str, dst: str) -> None:
        take(f"{src}.conv.weight", f"{dst}.weight", lambda t: first(t, 5, f"{src}.conv.weight"))
        take(f"{src}.conv.modulation.weight", f"{dst}.affine.weight")
        take(f"{src}.conv.modulation.bias", f"{dst}.affine.bias")
        take(f"{src}.bias", f"{dst}.bias", lambda t: t.reshape(-1))
        if f"{src}.upsample.kernel" in state:
            out[f"{dst}.resample_filter"] = state[f"{src}.upsample.kernel"] / 4
            used.add(f"{src}.upsample.kernel")

    styled("conv1", "synthesis.b4.conv1", 0)
    torgb("to_rgb1", "synthesis.b4.torgb")
    for i in range(n_rgbs):
        r = 2 ** (i + 3)
        styled(f"convs.{2 * i}", f"synthesis.b{r}.conv0", 2 * i + 1)
        styled(f"convs.{2 * i + 1}", f"synthesis.b{r}.conv1", 2 * i + 2)
        torgb(f"to_rgbs.{i}", f"synthesis.b{r}.torgb")
    left = sorted(set(state) - used)
    if left:
        _fail(name, f"the generator has {len(left)} tensor(s) StyleMixer cannot place, e.g. {left[0]}")
    return out


def from_rosinality(
    state: dict,
    latent_avg: torch.Tensor | None = None,
    args: dict | None = None,
    name: str = "the model",
    info: dict | None = None,
) -> Generator:
    """rosinality/stylegan2-pytorch g_ema state dict (+ latent_avg [w_dim] when the file has one, + the train.py
    args as a plain dict) -> engine Generator. Sizes come from the shapes; rosinality has no conv_clamp and a
    mapping learning-rate multiplier of 0.01 (its lr_mlp default, which its files do not record)."""
    args = dict(args or {})
    arch = args.get("arch", "stylegan2")
    if arch != "stylegan2":
        _fail(
            name,
            f"the generator was trained with arch={arch!r}; StyleMixer builds StyleGAN2's 'skip' "
            f"generator (arch='stylegan2')",
        )
    nv = rosinality_to_nvidia(state, name)
    check_filters(nv, name, option="blur_kernel")
    noises = any(k.endswith(".noise_const") for k in nv)
    if not noises:
        # Files from before rosinality stored noises.* (Jan 2020) have none: fixed maps from a fixed seed, drawn
        # in layer order (b4.conv1, b8.conv0, b8.conv1, ...).
        g = torch.Generator().manual_seed(0)
        layers = sorted(
            (int(m.group(1)), m.group(2))
            for k in nv
            if (m := re.fullmatch(r"synthesis\.b(\d+)\.(conv[01])\.noise_strength", k))
        )
        for r, conv in layers:
            nv[f"synthesis.b{r}.{conv}.noise_const"] = torch.randn(r, r, generator=g)
    cfg = infer_config(nv, name, conv_clamp=None, mapping_lrmul=0.01)
    for key, actual in (("size", cfg.resolution), ("latent", cfg.w_dim), ("n_mlp", cfg.mapping_layers)):
        if key in args and args[key] != actual:
            _fail(name, f"the file's args say {key}={args[key]!r} but its weights are for {actual}")
    if latent_avg is not None:
        if not isinstance(latent_avg, torch.Tensor) or latent_avg.numel() != cfg.w_dim:
            _fail(name, f"latent_avg has shape {list(getattr(latent_avg, 'shape', []))}, expected [{cfg.w_dim}]")
        nv["mapping.w_avg"] = latent_avg.reshape(cfg.w_dim)
    G = build(cfg, nv, name, ignore=(r".*\.resample_filter",))
    if info is not None:
        info.update(
            w_avg="file" if latent_avg is not None else "estimated",
            noise_const="file" if noises else "drawn (the file has none)",
        )
    return G


# ------------------------------------------------------------------------------------------------ TF


_TF_SYNTHESIS_FUNCS = ("G_synthesis_stylegan2", "G_synthesis")


def tf_to_nvidia(variables: dict, resolution: int, name: str = "the model") -> dict:
    """TF StyleGAN2 variables (legacy.py's flat names: 'mapping/Dense0/weight', 'synthesis/4x4/Conv/weight',
    'dlatent_avg', ...; numpy arrays) -> NVIDIA-named float32 tensors. ToRGB_lod* ('orig') and Skip ('resnet')
    variables are refused by the caller before this."""
    out, used = {}, set()

    def put(dst: str, src: str, fn: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if src not in variables:
            return
        a = np.asarray(variables[src])
        if a.dtype.kind != "f":
            _fail(name, f"variable {src} has data type {a.dtype}, expected float")
        a = fn(a) if fn is not None else a
        # A copy (np.ascontiguousarray would turn a 0-d array into 1-d, and the file's arrays are read-only).
        out[dst] = torch.from_numpy(np.array(a, dtype=np.float32, order="C", copy=True))
        used.add(src)

    def t(a: np.ndarray) -> np.ndarray:
        return a.T if a.ndim == 2 else a

    def conv(a: np.ndarray) -> np.ndarray:  # [kh, kw, in, out] -> [out, in, kh, kw]
        return a.transpose(3, 2, 0, 1) if a.ndim == 4 else a

    def flipped_conv(
        a: np.ndarray,
    ) -> np.ndarray:  # Conv0_up: TF applies it flipped relative to NVIDIA's transposed convolution
        return a[::-1, ::-1].transpose(3, 2, 0, 1) if a.ndim == 4 else a

    def plus1(a: np.ndarray) -> np.ndarray:
        return a + 1

    def noise(a: np.ndarray) -> np.ndarray:
        return a[0, 0] if a.ndim == 4 else a

    put("mapping.w_avg", "dlatent_avg")
    put("mapping.embed.weight", "mapping/LabelEmbed/weight", t)
    put("mapping.embed.bias", "mapping/LabelEmbed/bias")
    i = 0
    while f"mapping/Dense{i}/weight" in variables:
        put(f"mapping.fc{i}.weight", f"mapping/Dense{i}/weight", t)
        put(f"mapping.fc{i}.bias", f"mapping/Dense{i}/bias")
        i += 1
    put("synthesis.b4.const", "synthesis/4x4/Const/const", lambda a: a[0] if a.ndim == 4 else a)
    r, log2 = 4, 2
    while r <= resolution:
        layers = (
            [("conv1", "Conv", conv, 0)]
            if r == 4
            else [("conv0", "Conv0_up", flipped_conv, 2 * log2 - 5), ("conv1", "Conv1", conv, 2 * log2 - 4)]
        )
        for layer, scope, fn, nidx in layers:
            src, dst = f"synthesis/{r}x{r}/{scope}", f"synthesis.b{r}.{layer}"
            put(f"{dst}.weight", f"{src}/weight", fn)
            put(f"{dst}.bias", f"{src}/bias")
            put(f"{dst}.noise_strength", f"{src}/noise_strength", lambda a: a.reshape(()))
            put(f"{dst}.affine.weight", f"{src}/mod_weight", t)
            put(f"{dst}.affine.bias", f"{src}/mod_bias", plus1)
            put(f"{dst}.noise_const", f"synthesis/noise{nidx}", noise)
        src, dst = f"synthesis/{r}x{r}/ToRGB", f"synthesis.b{r}.torgb"
        put(f"{dst}.weight", f"{src}/weight", conv)
        put(f"{dst}.bias", f"{src}/bias")
        put(f"{dst}.affine.weight", f"{src}/mod_weight", t)
        put(f"{dst}.affine.bias", f"{src}/mod_bias", plus1)
        r, log2 = r * 2, log2 + 1
    left = sorted(k for k in set(variables) - used if k.rsplit("/", 1)[-1] != "lod")  # G_main's unused lod
    if left:
        _fail(name, f"the generator has {len(left)} variable(s) StyleMixer cannot place, e.g. '{left[0]}'")
    return out


def from_tf(
    variables: dict,
    static_kwargs: dict | None = None,
    name: str = "the model",
    synthesis_func: str | None = None,
    info: dict | None = None,
) -> Generator:
    """An official TF StyleGAN2 / StyleGAN2-ADA generator (Gs): its variables with component prefixes as NVIDIA's
    legacy.py collects them, and its static kwargs (Gs, mapping and synthesis merged) -> engine Generator."""
    kw = dict(static_kwargs or {})
    if synthesis_func is not None and synthesis_func not in _TF_SYNTHESIS_FUNCS:
        _fail(
            name,
            f"the synthesis network is built by {synthesis_func!r} (a StyleGAN2 config A-D or another "
            f"variant); StyleMixer builds config E/F ({' or '.join(_TF_SYNTHESIS_FUNCS)})",
        )
    if any(re.fullmatch(r"synthesis/ToRGB_lod\d+/.*", k) for k in variables):
        kw.setdefault("architecture", "orig")
    if any(re.fullmatch(r"synthesis/\d+x\d+/Skip/.*", k) for k in variables):
        kw.setdefault("architecture", "resnet")
    _require_skip(kw.get("architecture", "skip"), name)
    for key in ("nonlinearity", "mapping_nonlinearity"):
        if kw.get(key, "lrelu") != "lrelu":
            _fail(name, f"the generator uses {key}={kw[key]!r}; StyleMixer builds StyleGAN2's 'lrelu'")
    kernel = kw.get("resample_kernel", [1, 3, 3, 1])
    if kernel is None or [float(v) for v in np.asarray(kernel).ravel()] != [1.0, 3.0, 3.0, 1.0]:
        _fail(name, f"the generator uses resample_kernel={kernel!r}; StyleMixer builds StyleGAN2's [1, 3, 3, 1]")
    if kw.get("num_channels", 3) != 3:
        _fail(
            name,
            f"the generator makes images with num_channels={kw['num_channels']!r}; StyleMixer shows RGB "
            f"models (3 channels)",
        )
    res = kw.get("resolution")
    if res is None:
        r = 4
        while f"synthesis/{r * 2}x{r * 2}/Conv1/weight" in variables:
            r *= 2
        res = r
    if not isinstance(res, int) or isinstance(res, bool) or res < 4 or res & (res - 1):
        _fail(
            name, f"the generator has resolution={res!r}; StyleMixer builds square generators with a power-of-two size"
        )
    state = tf_to_nvidia(variables, res, name)
    conv_clamp = kw.get("conv_clamp")
    raw_lrmul = kw.get("mapping_lrmul", 0.01)
    lrmul = _plain_number(raw_lrmul)
    if lrmul is None or not 0 < lrmul <= 1000:
        _fail(name, f"the mapping network has mapping_lrmul={raw_lrmul!r}")
    psi, cutoff = _plain_number(kw.get("truncation_psi")), kw.get("truncation_cutoff")
    options: dict[str, Any] = {
        "conv_clamp": None if conv_clamp is None else float(conv_clamp),
        "mapping_lrmul": float(lrmul),
    }
    if psi is not None:
        options["truncation_psi"] = float(psi)
        if isinstance(cutoff, int) and not isinstance(cutoff, bool):
            options["truncation_cutoff"] = cutoff
    cfg = infer_config(state, name, **options)
    if cfg.resolution != res:
        _fail(name, f"static_kwargs say resolution={res} but the variables are for {cfg.resolution}")
    if kw.get("label_size", cfg.c_dim) != cfg.c_dim:
        _fail(name, f"static_kwargs say label_size={kw['label_size']!r} but the variables are for {cfg.c_dim}")
    G = build(cfg, state, name)
    if info is not None:
        info.update(w_avg="file" if "mapping.w_avg" in state else "estimated", conv_clamp=cfg.conv_clamp)
    return G


__all__ = [
    "NVIDIA_MODULES",
    "W_AVG_SAMPLES",
    "W_AVG_SEED",
    "build",
    "check_architecture",
    "engine_key",
    "estimate_w_avg",
    "expected_shapes",
    "from_nvidia",
    "from_rosinality",
    "from_tf",
    "infer_config",
    "rosinality_to_nvidia",
    "tf_to_nvidia",
]
