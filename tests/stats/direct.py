"""An independent reference for the statistics: forward hooks on each AdaIN module during a plain synthesis
pass (no Capture), with the instance-norm statistics and the styles computed in NumPy from the hooked tensors
and the affine layer's raw weights. Nothing here goes through stylemixer.core.stats."""

import numpy as np
import torch

from stylemixer.core.latents import ws_from_seed
from stylemixer.core.mixing import mix_ws

SOURCES = ("mix", "a", "b")


def _moments(t: torch.Tensor):
    x = t.detach().double().numpy()  # [N, C, H, W]
    mean = x.mean(axis=(2, 3))
    std = np.sqrt(((x - mean[:, :, None, None]) ** 2).mean(axis=(2, 3)))  # population std, as instance norm
    return mean, std


def direct_stats(G, recipe):
    """{source: {w index: {quantity: float64 [C]}}} and {source: {w index: float64 [C, H, W] after AdaIN}}."""
    ws_a = ws_from_seed(G, recipe.seed_a, recipe.psi, recipe.cutoff)
    ws_b = ws_from_seed(G, recipe.seed_b, recipe.psi, recipe.cutoff)
    ws = torch.cat([mix_ws(ws_a, ws_b, recipe.weights), ws_a, ws_b])  # [3, num_ws, w_dim]
    found, maps, hooks = {}, {}, []
    for layer in G.synthesis.layers:

        def hook(module, inputs, output, k=layer.index):
            x, w = inputs
            aff = module.affine
            wt = aff.weight.detach().double().numpy() * aff.w_scale  # [2C, w_dim]
            s = w.detach().double().numpy() @ wt.T + aff.bias.detach().double().numpy() * aff.b_scale
            c = module.channels
            mean_in, std_in = _moments(x)
            mean_out, std_out = _moments(output)
            found[k] = dict(
                mean_in=mean_in, std_in=std_in, y_s=s[:, :c] + 1, y_b=s[:, c:], mean_out=mean_out, std_out=std_out
            )
            maps[k] = output.detach().double().numpy()

        hooks.append(layer.adain.register_forward_hook(hook))
    try:
        with torch.no_grad():
            G.synthesis(ws, noise_mode=recipe.noise_mode, noise_seed=recipe.noise_seed)
    finally:
        for h in hooks:
            h.remove()
    stats = {src: {k: {q: v[i] for q, v in d.items()} for k, d in found.items()} for i, src in enumerate(SOURCES)}
    feats = {src: {k: m[i] for k, m in maps.items()} for i, src in enumerate(SOURCES)}
    return stats, feats
