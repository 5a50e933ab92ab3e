"""Random StyleGAN2 generators in NVIDIA's exact layout: init kwargs, state dict, and the module tree with each
module's plain attributes, as stylegan2-ada-pytorch `training.networks.Generator` (flavor "ada") or stylegan3's
`training.networks_stylegan2.Generator` (flavor "sg3") would hold them. Nothing here imports NVIDIA's code.

    init_kwargs, state = nvidia_sg2_state({"img_resolution": 32, "synthesis_kwargs": {"conv_clamp": 256}}, seed=0)
    tree = nvidia_sg2_modules(init_kwargs, state, flavor="ada")   # for pickle writers
    rec = nvidia_sg2_record(tree)                                  # the NetworkRecord a reader should produce

cfg_kwargs are NVIDIA's Generator kwargs (z_dim, c_dim, w_dim, img_resolution, img_channels, mapping_kwargs,
synthesis_kwargs); what they leave out gets small test-friendly sizes. The values have the scales trained networks
have (raw mapping weights ~ N(0, 1/lr^2), affine biases near 1, non-zero noise strengths and biases) and are
scaled so that images stay mostly in [-1, 1].
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

SMALL = {
    "z_dim": 32,
    "w_dim": 32,
    "c_dim": 0,
    "img_resolution": 32,
    "img_channels": 3,
    "mapping_kwargs": {"num_layers": 2},
    "synthesis_kwargs": {"channel_base": 256, "channel_max": 32, "num_fp16_res": 0, "conv_clamp": None},
}
MODULES = {"ada": "training.networks", "sg3": "training.networks_stylegan2"}


def full_kwargs(cfg_kwargs: dict | None = None, flavor: str = "ada") -> dict:
    """NVIDIA Generator init kwargs: SMALL updated by cfg_kwargs (nested dicts merged). Flavor "sg3" flattens
    synthesis_kwargs into the top level, as stylegan3's copy of the class takes them."""
    kw = copy.deepcopy(SMALL)
    for k, v in (cfg_kwargs or {}).items():
        if k in ("mapping_kwargs", "synthesis_kwargs"):
            kw[k].update(v)
        else:
            kw[k] = v
    if flavor == "sg3":
        kw.update(kw.pop("synthesis_kwargs"))
    return kw


def _synthesis_kwargs(kw: dict) -> dict:
    return (
        dict(kw["synthesis_kwargs"])
        if "synthesis_kwargs" in kw
        else {
            k: v
            for k, v in kw.items()
            if k not in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs")
        }
    )


def setup_filter(taps=(1, 3, 3, 1)) -> torch.Tensor:
    f = torch.tensor(taps, dtype=torch.float32)
    f = f[:, None] * f[None, :]
    return f / f.sum()


def layout(kw: dict):
    """(mapping dims, blocks) for init kwargs: blocks = [(res, in_channels (0 at 4 px), out_channels, is_last)]."""
    syn, mk = _synthesis_kwargs(kw), kw.get("mapping_kwargs", {})
    R = kw["img_resolution"]
    base, cmax = syn.get("channel_base", 32768), syn.get("channel_max", 512)
    res = [2**i for i in range(2, int(math.log2(R)) + 1)]
    ch = {r: min(base // r, cmax) for r in res}
    blocks = [(r, ch[r // 2] if r > 4 else 0, ch[r], r == R) for r in res]
    w_dim, c_dim = kw["w_dim"], kw.get("c_dim", 0)
    embed = (mk.get("embed_features") or w_dim) if c_dim else 0
    layer_f = mk.get("layer_features") or w_dim
    n = mk.get("num_layers", 8)
    dims = [kw["z_dim"] + embed] + [layer_f] * (n - 1) + [w_dim]
    return dims, embed, blocks


def nvidia_sg2_state(cfg_kwargs: dict | None, seed: int, flavor: str = "ada"):
    """-> (init_kwargs, state_dict): NVIDIA's parameter and buffer names in state_dict order, float32 CPU tensors."""
    kw = full_kwargs(cfg_kwargs, flavor)
    syn, mk = _synthesis_kwargs(kw), kw.get("mapping_kwargs", {})
    arch = syn.get("architecture", "skip")
    use_noise = syn.get("use_noise", True)
    k = syn.get("kernel_size", 3)
    lr = mk.get("lr_multiplier", 0.01)
    img_ch, w_dim, c_dim = kw["img_channels"], kw["w_dim"], kw.get("c_dim", 0)
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0, mean=0.0):
        return torch.randn(shape, generator=g) * scale + mean

    dims, embed, blocks = layout(kw)
    st = OrderedDict()
    # Generator registers synthesis before mapping, so state_dict lists synthesis first.
    for r, cin, cout, is_last in blocks:
        p = f"synthesis.b{r}"
        if cin == 0:
            st[f"{p}.const"] = randn(cout, r, r)
        st[f"{p}.resample_filter"] = setup_filter()
        convs = ([("conv0", cin, 2)] if cin else []) + [("conv1", cout, 1)]
        for name, ci, _up in convs:
            q = f"{p}.{name}"
            st[f"{q}.weight"] = randn(cout, ci, k, k)
            if use_noise:
                st[f"{q}.noise_strength"] = randn(scale=0.3)
            st[f"{q}.bias"] = randn(cout, scale=0.2)
            st[f"{q}.resample_filter"] = setup_filter()
            if use_noise:
                st[f"{q}.noise_const"] = randn(r, r)
            st[f"{q}.affine.weight"] = randn(ci, w_dim)
            st[f"{q}.affine.bias"] = randn(ci, scale=0.2, mean=1.0)
        if is_last or arch == "skip":
            q = f"{p}.torgb"
            # Scaled so the skip image stays mostly in [-1, 1], as a trained generator's does.
            st[f"{q}.weight"] = randn(img_ch, cout, 1, 1, scale=0.15)
            st[f"{q}.bias"] = randn(img_ch, scale=0.05)
            st[f"{q}.affine.weight"] = randn(cout, w_dim)
            st[f"{q}.affine.bias"] = randn(cout, scale=0.2, mean=1.0)
        if cin and arch == "resnet":
            st[f"{p}.skip.weight"] = randn(cout, cin, 1, 1)
            st[f"{p}.skip.resample_filter"] = setup_filter()
    if mk.get("w_avg_beta", 0.995) is not None:
        st["mapping.w_avg"] = randn(w_dim, scale=0.3)  # a buffer of MappingNetwork itself: before its children
    if c_dim:
        st["mapping.embed.weight"] = randn(embed, c_dim)
        st["mapping.embed.bias"] = randn(embed, scale=0.1)
    for i in range(len(dims) - 1):
        st[f"mapping.fc{i}.weight"] = randn(dims[i + 1], dims[i], scale=1 / lr)
        st[f"mapping.fc{i}.bias"] = randn(dims[i + 1], scale=0.1 / lr)
    return kw, st


# ------------------------------------------------------------------------------------------------ module tree


@dataclass
class ModuleSpec:
    """One NVIDIA module as its pickled __dict__ would describe it (for persistence-style pickle writers)."""

    class_name: str
    attrs: dict  # plain attributes (numpy scalars where NVIDIA has them)
    params: OrderedDict = field(default_factory=OrderedDict)  # local name -> tensor
    buffers: OrderedDict = field(default_factory=OrderedDict)
    children: OrderedDict = field(default_factory=OrderedDict)  # local name -> ModuleSpec
    init_kwargs: dict = field(default_factory=dict)


_BUFFERS = ("resample_filter", "noise_const", "w_avg")


def nvidia_sg2_modules(init_kwargs: dict, state: dict, flavor: str = "ada") -> ModuleSpec:
    """The module tree of the Generator: class names, attributes, constructor kwargs, tensors by local name."""
    kw = init_kwargs
    syn, mk = _synthesis_kwargs(kw), kw.get("mapping_kwargs", {})
    sg3 = flavor == "sg3"
    arch = syn.get("architecture", "skip")
    conv_clamp = syn.get("conv_clamp", 256 if sg3 else None)
    lr = mk.get("lr_multiplier", 0.01)
    use_noise = syn.get("use_noise", True)
    dims, embed, blocks = layout(kw)
    w_dim, c_dim, img_ch = kw["w_dim"], kw.get("c_dim", 0), kw["img_channels"]
    num_ws = sum((1 if cin == 0 else 2) for _, cin, _, _ in blocks) + 1

    def tensors(prefix, names):
        params, buffers = OrderedDict(), OrderedDict()
        for n in names:
            t = state.get(f"{prefix}.{n}")
            if t is None:
                continue
            (buffers if n in _BUFFERS else params)[n] = t
        return params, buffers

    def fc(prefix, fin, fout, activation, lr_mul, bias_init):
        p, b = tensors(prefix, ["weight", "bias"])
        attrs = {"activation": activation, "weight_gain": np.float64(lr_mul / np.sqrt(fin)), "bias_gain": lr_mul}
        if sg3:
            attrs.update(in_features=fin, out_features=fout)
        return ModuleSpec(
            "FullyConnectedLayer",
            attrs,
            p,
            b,
            init_kwargs={"activation": activation, "lr_multiplier": lr_mul, "bias_init": bias_init}
            if activation != "linear" or bias_init
            else {},
        )

    mapping = ModuleSpec(
        "MappingNetwork",
        {
            "z_dim": kw["z_dim"],
            "c_dim": c_dim,
            "w_dim": w_dim,
            "num_ws": num_ws,
            "num_layers": len(dims) - 1,
            "w_avg_beta": mk.get("w_avg_beta", 0.998 if sg3 else 0.995),
        },
        init_kwargs={"z_dim": kw["z_dim"], "c_dim": c_dim, "w_dim": w_dim, "num_ws": num_ws, **mk},
    )
    if c_dim:
        mapping.children["embed"] = fc("mapping.embed", c_dim, embed, "linear", 1, 0)
    for i in range(len(dims) - 1):
        mapping.children[f"fc{i}"] = fc(f"mapping.fc{i}", dims[i], dims[i + 1], "lrelu", lr, 0)
    mapping.buffers.update(tensors("mapping", ["w_avg"])[1])

    synthesis = ModuleSpec(
        "SynthesisNetwork",
        {
            "w_dim": w_dim,
            "img_resolution": kw["img_resolution"],
            "img_resolution_log2": int(np.log2(kw["img_resolution"])),
            "img_channels": img_ch,
            "block_resolutions": [b[0] for b in blocks],
            "num_ws": num_ws,
        },
        init_kwargs={"w_dim": w_dim, "img_resolution": kw["img_resolution"], "img_channels": img_ch, **syn},
    )
    if sg3:
        synthesis.attrs["num_fp16_res"] = syn.get("num_fp16_res", 4)
    for r, cin, cout, is_last in blocks:
        p = f"synthesis.b{r}"
        bp, bb = tensors(p, ["const", "resample_filter"])
        block = ModuleSpec(
            "SynthesisBlock",
            {
                "in_channels": cin,
                "w_dim": w_dim,
                "resolution": r,
                "img_channels": img_ch,
                "is_last": is_last,
                "architecture": arch,
                "use_fp16": False,
                "channels_last": False,
                "num_conv": 1 if cin == 0 else 2,
                "num_torgb": 1 if (is_last or arch == "skip") else 0,
            },
            bp,
            bb,
            init_kwargs={
                "in_channels": cin,
                "out_channels": cout,
                "w_dim": w_dim,
                "resolution": r,
                "img_channels": img_ch,
                "is_last": is_last,
                "architecture": arch,
                "conv_clamp": conv_clamp,
                "use_fp16": False,
            },
        )
        if sg3:
            block.attrs["fused_modconv_default"] = syn.get("fused_modconv_default", True)
        for name, ci, up in ([("conv0", cin, 2)] if cin else []) + [("conv1", cout, 1)]:
            lp, lb = tensors(f"{p}.{name}", ["weight", "noise_strength", "bias", "resample_filter", "noise_const"])
            attrs = {
                "resolution": r,
                "up": up,
                "use_noise": use_noise,
                "activation": "lrelu",
                "conv_clamp": conv_clamp,
                "padding": 1,
                "act_gain": 1.4142135623730951,
            }
            if sg3:
                attrs.update(in_channels=ci, out_channels=cout, w_dim=w_dim)
            layer = ModuleSpec(
                "SynthesisLayer",
                attrs,
                lp,
                lb,
                init_kwargs={
                    "in_channels": ci,
                    "out_channels": cout,
                    "w_dim": w_dim,
                    "resolution": r,
                    "up": up,
                    "conv_clamp": conv_clamp,
                },
            )
            layer.children["affine"] = fc(f"{p}.{name}.affine", w_dim, ci, "linear", 1, 1)
            block.children[name] = layer
        if is_last or arch == "skip":
            tp, tb = tensors(f"{p}.torgb", ["weight", "bias"])
            attrs = {"conv_clamp": conv_clamp, "weight_gain": np.float64(1 / np.sqrt(cout))}
            if sg3:
                attrs.update(in_channels=cout, out_channels=img_ch, w_dim=w_dim)
            torgb = ModuleSpec(
                "ToRGBLayer",
                attrs,
                tp,
                tb,
                init_kwargs={"in_channels": cout, "out_channels": img_ch, "w_dim": w_dim, "conv_clamp": conv_clamp},
            )
            torgb.children["affine"] = fc(f"{p}.torgb.affine", w_dim, cout, "linear", 1, 1)
            block.children["torgb"] = torgb
        if cin and arch == "resnet":
            sp, sb = tensors(f"{p}.skip", ["weight", "resample_filter"])
            block.children["skip"] = ModuleSpec(
                "Conv2dLayer",
                {
                    "activation": "linear",
                    "up": 2,
                    "down": 1,
                    "conv_clamp": None,
                    "padding": 0,
                    "weight_gain": np.float64(1 / np.sqrt(cin)),
                    "act_gain": 1.0,
                },
                sp,
                sb,
            )
        synthesis.children[f"b{r}"] = block

    top = ModuleSpec(
        "Generator",
        {
            "z_dim": kw["z_dim"],
            "c_dim": c_dim,
            "w_dim": w_dim,
            "img_resolution": kw["img_resolution"],
            "img_channels": img_ch,
            "num_ws": num_ws,
        },
        init_kwargs=copy.deepcopy(kw),
    )
    top.children["synthesis"] = synthesis
    top.children["mapping"] = mapping
    return top


def flatten(tree: ModuleSpec, prefix: str = ""):
    """(state {full name: tensor}, attrs {module path: attrs}) in state_dict order."""
    state, attrs = OrderedDict(), {prefix.rstrip("."): dict(tree.attrs)}
    for n, t in list(tree.params.items()) + list(tree.buffers.items()):
        state[prefix + n] = t
    for n, child in tree.children.items():
        s, a = flatten(child, f"{prefix}{n}.")
        state.update(s)
        attrs.update(a)
    return state, attrs


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    return v


def nvidia_sg2_record(tree: ModuleSpec, flavor: str = "ada"):
    """The NetworkRecord a reader of a pickle holding this Generator as G_ema should hand to the converter."""
    from stylemixer.core.checkpoints.records import NetworkRecord

    state, attrs = flatten(tree)
    return NetworkRecord(
        module=MODULES[flavor],
        class_name=tree.class_name,
        init_kwargs=_plain(tree.init_kwargs),
        state=dict(state),
        attrs={k: _plain(v) for k, v in attrs.items()},
        source_format="nvidia-pickle",
    )


def record_for(cfg_kwargs: dict | None, seed: int = 0, flavor: str = "ada"):
    """Shortcut: (init_kwargs, state, NetworkRecord) for a random generator."""
    kw, st = nvidia_sg2_state(cfg_kwargs, seed, flavor)
    return kw, st, nvidia_sg2_record(nvidia_sg2_modules(kw, st, flavor), flavor)


__all__ = [
    "MODULES",
    "SMALL",
    "ModuleSpec",
    "flatten",
    "full_kwargs",
    "layout",
    "nvidia_sg2_modules",
    "nvidia_sg2_record",
    "nvidia_sg2_state",
    "record_for",
    "setup_filter",
]
