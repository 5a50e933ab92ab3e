"""Writes rosinality/stylegan2-pytorch checkpoints with torch.save, in both of its layouts and both container formats:

- convert_weight.py's {'g_ema': state, 'latent_avg': [512]} (official weights converted from TF),
- train.py's {'g': state, 'd': state, 'g_ema': state, 'g_optim': Adam state, 'd_optim': Adam state,
  'args': argparse.Namespace, 'ada_aug_p': float} (no latent_avg),

as zip (torch >= 1.6's default) or legacy (`_use_new_zipfile_serialization=False`, how 2019-2020 files were saved).
The generator's names follow rosinality's model.py (fact sheet C2): the state is translated from NVIDIA's names
with the mapping in the converter's docstring run backwards, the blur kernels stored with the gain 4 rosinality
bakes in, and noise buffers noises.noise_{i} [1, 1, r, r].
"""

from __future__ import annotations

import argparse
import math
from collections import OrderedDict

import torch


def make_kernel_x4() -> torch.Tensor:
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = k[None, :] * k[:, None]
    return k / k.sum() * 4


def rosinality_state(nv: dict, with_noises: bool = True) -> OrderedDict:
    """NVIDIA-named SG2 generator state -> rosinality g_ema state (model.py's names, shapes and order)."""
    out = OrderedDict()
    n = 0
    while f"mapping.fc{n}.weight" in nv:
        out[f"style.{n + 1}.weight"] = nv[f"mapping.fc{n}.weight"].clone()
        out[f"style.{n + 1}.bias"] = nv[f"mapping.fc{n}.bias"].clone()
        n += 1
    out["input.input"] = nv["synthesis.b4.const"][None].clone()

    def styled(dst, src, up):
        out[f"{dst}.conv.weight"] = nv[f"{src}.weight"][None].clone()
        out[f"{dst}.conv.modulation.weight"] = nv[f"{src}.affine.weight"].clone()
        out[f"{dst}.conv.modulation.bias"] = nv[f"{src}.affine.bias"].clone()
        if up:
            out[f"{dst}.conv.blur.kernel"] = make_kernel_x4()
        out[f"{dst}.noise.weight"] = nv[f"{src}.noise_strength"].reshape(1).clone()
        out[f"{dst}.activate.bias"] = nv[f"{src}.bias"].clone()

    def torgb(dst, src, up):
        if up:
            out[f"{dst}.upsample.kernel"] = make_kernel_x4()
        out[f"{dst}.conv.weight"] = nv[f"{src}.weight"][None].clone()
        out[f"{dst}.conv.modulation.weight"] = nv[f"{src}.affine.weight"].clone()
        out[f"{dst}.conv.modulation.bias"] = nv[f"{src}.affine.bias"].clone()
        out[f"{dst}.bias"] = nv[f"{src}.bias"].reshape(1, -1, 1, 1).clone()

    styled("conv1", "synthesis.b4.conv1", False)
    torgb("to_rgb1", "synthesis.b4.torgb", False)
    res = 8
    blocks = []
    while f"synthesis.b{res}.conv1.weight" in nv:
        blocks.append(res)
        res *= 2
    for i, r in enumerate(blocks):
        styled(f"convs.{2 * i}", f"synthesis.b{r}.conv0", True)
        styled(f"convs.{2 * i + 1}", f"synthesis.b{r}.conv1", False)
    for i, r in enumerate(blocks):
        torgb(f"to_rgbs.{i}", f"synthesis.b{r}.torgb", True)
    if with_noises:
        out["noises.noise_0"] = nv["synthesis.b4.conv1.noise_const"][None, None].clone()
        for i, r in enumerate(blocks):
            out[f"noises.noise_{2 * i + 1}"] = nv[f"synthesis.b{r}.conv0.noise_const"][None, None].clone()
            out[f"noises.noise_{2 * i + 2}"] = nv[f"synthesis.b{r}.conv1.noise_const"][None, None].clone()
    return out


def discriminator_state(size: int, seed: int = 0, channels: int = 16) -> OrderedDict:
    """A small state dict with rosinality Discriminator names (values irrelevant; only parsed past)."""
    g = torch.Generator().manual_seed(seed)
    d = OrderedDict()
    d["convs.0.0.weight"] = torch.randn(channels, 3, 1, 1, generator=g)
    d["convs.0.1.bias"] = torch.zeros(channels)
    for i in range(1, int(math.log2(size)) - 1):
        d[f"convs.{i}.conv1.0.weight"] = torch.randn(channels, channels, 3, 3, generator=g)
        d[f"convs.{i}.conv1.1.bias"] = torch.zeros(channels)
        d[f"convs.{i}.conv2.0.kernel"] = make_kernel_x4() / 4
        d[f"convs.{i}.conv2.1.weight"] = torch.randn(channels, channels, 3, 3, generator=g)
        d[f"convs.{i}.skip.1.weight"] = torch.randn(channels, channels, 1, 1, generator=g)
    d["final_linear.1.weight"] = torch.randn(1, channels, generator=g)
    return d


def adam_state(state: dict) -> dict:
    """A real torch.optim.Adam state_dict over tensors shaped like `state` (after one step)."""
    params = [torch.nn.Parameter(t.detach().float().clone()) for t in state.values() if t.dtype.is_floating_point]
    opt = torch.optim.Adam(params, lr=0.002, betas=(0.0, 0.99))
    for p in params:
        p.grad = torch.ones_like(p) * 1e-3
    opt.step()
    return opt.state_dict()


def train_args(size: int, **over) -> argparse.Namespace:
    """train.py's arguments, as its argparse parser leaves them."""
    a = dict(
        path="/data/lmdb",
        arch="stylegan2",
        iter=800000,
        batch=16,
        n_sample=64,
        size=size,
        r1=10.0,
        path_regularize=2,
        path_batch_shrink=2,
        d_reg_every=16,
        g_reg_every=4,
        mixing=0.9,
        ckpt=None,
        lr=0.002,
        channel_multiplier=2,
        wandb=False,
        local_rank=0,
        augment=False,
        augment_p=0,
        ada_target=0.6,
        ada_length=500000,
        ada_every=256,
        distributed=False,
        latent=512,
        n_mlp=8,
        start_iter=0,
    )
    a.update(over)
    return argparse.Namespace(**a)


def converted_checkpoint(nv: dict, with_noises=True) -> dict:
    return {"g_ema": rosinality_state(nv, with_noises), "latent_avg": nv["mapping.w_avg"].clone()}


def train_checkpoint(nv: dict, size: int, args=None, with_noises=True) -> dict:
    g_ema = rosinality_state(nv, with_noises)
    if args is None:
        n_mlp = sum(1 for k in g_ema if k.startswith("style.") and k.endswith(".weight"))
        args = train_args(size, latent=g_ema["style.1.weight"].shape[0], n_mlp=n_mlp)
    g = OrderedDict((k, v + 0.01) for k, v in g_ema.items())  # the non-averaged generator differs
    d = discriminator_state(size)
    return {
        "g": g,
        "d": d,
        "g_ema": g_ema,
        "g_optim": adam_state(g),
        "d_optim": adam_state(d),
        "args": args,
        "ada_aug_p": 0.0,
    }


def save(obj, path, zip_format=True):
    torch.save(obj, path, _use_new_zipfile_serialization=zip_format)
    return path
