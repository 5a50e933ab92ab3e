"""The captured statistics against a direct computation on tensors recorded with forward hooks."""

import numpy as np
import torch

from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest
from stylemixer.core.stats import Capture

from ..conftest import TINY


def test_stats_equal_direct_computation(tiny_G):
    rec = Recipe.for_model(TINY.num_ws, seed_a=1, seed_b=2).with_weights([0, 1, 0.5, 0, 1, 0, 0.2, 1])
    renderer = Renderer(tiny_G)
    ws_a, ws_b, ws_mix = renderer.ws(rec)
    ws = torch.cat([ws_mix, ws_a, ws_b])
    # Record what enters and leaves every AdaIN with hooks on the modules themselves.
    seen = {}
    hooks = [
        layer.adain.register_forward_hook(
            lambda mod, inp, out, i=layer.index: seen.__setitem__(i, (inp[0].clone(), inp[1].clone(), out.clone()))
        )
        for layer in tiny_G.synthesis.layers
    ]
    try:
        with torch.no_grad():
            tiny_G.synthesis(ws, noise_mode="const")
    finally:
        for h in hooks:
            h.remove()
    res = renderer.render(RenderRequest(rec, stats=True))
    for idx, (x, w, out) in seen.items():
        for row, src in enumerate(("mix", "a", "b")):
            s = res.stats[src][idx]
            xr = x[row].double()  # [C, H, W]
            mean_in = xr.mean(dim=(1, 2))
            std_in = ((xr - mean_in[:, None, None]) ** 2).mean(dim=(1, 2)).sqrt()
            aff = tiny_G.synthesis.layers[idx].adain.affine
            style = w[row].double() @ (aff.weight.double() * aff.w_scale).T + aff.bias.double()
            c = x.shape[1]
            o = out[row].double()
            np.testing.assert_allclose(s.mean_in[0], mean_in.numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(s.std_in[0], std_in.numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(s.y_s[0], style[:c].numpy() + 1, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(s.y_b[0], style[c:].numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(s.mean_out[0], o.mean(dim=(1, 2)).numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(s.std_out[0], o.std(dim=(1, 2), unbiased=False).numpy(), rtol=1e-4, atol=1e-5)


def test_stats_do_not_change_the_image(tiny_G):
    rec = Recipe.for_model(TINY.num_ws, seed_a=5, seed_b=6).with_weight(3, 1)
    r = Renderer(tiny_G)
    assert np.array_equal(r.render(rec).mix, r.render(RenderRequest(rec, stats=True, feature_layer=5)).mix)


def test_feature_maps_of_a_chosen_layer(tiny_G):
    rec = Recipe.for_model(TINY.num_ws, seed_a=5, seed_b=6).with_weight(3, 1)
    res = Renderer(tiny_G).render(RenderRequest(rec, feature_layer=5, feature_source="b"))
    assert res.stats is None
    assert res.features.shape == (TINY.channels[2], 16, 16)
    stats = Renderer(tiny_G).render(RenderRequest(rec, stats=True)).stats["b"][5]
    np.testing.assert_allclose(res.features.mean(axis=(1, 2)), stats.mean_out[0], atol=1e-5)


def test_no_capture_no_cost(tiny_G):
    c = Capture(stats=False)
    assert not c.active and c.result() == {}
