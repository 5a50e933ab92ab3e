"""Statistics ride on the instance norm: capturing them adds no operation over a full activation."""

import pytest
from torch.profiler import ProfilerActivity, profile

from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest

from ..conftest import TINY


def full_size_ops(renderer, req):
    """Names of the ops that touched an activation-sized tensor (at least 8x8 per channel) in one render."""
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as p:
        renderer.render(req)
    out = []
    for e in p.events():
        shapes = [s for s in (e.input_shapes or []) if isinstance(s, (list, tuple)) and len(s) == 4]
        if any(s[2] * s[3] >= 64 and s[1] > 1 for s in shapes):
            out.append(e.name)
    return sorted(out)


@pytest.mark.slow
def test_capturing_statistics_adds_no_pass_over_the_activations(tiny_G):
    r = Renderer(tiny_G, cache=False, threads=None)
    rec = Recipe.for_model(TINY.num_ws, seed_a=3, seed_b=4).with_weight(2, 0.5)
    plain = full_size_ops(r, RenderRequest(rec))
    with_stats = full_size_ops(r, RenderRequest(rec, stats=True))
    assert plain and with_stats == plain
    # The old way (std_mean before and after every AdaIN) would have added two reductions per layer and image.
    assert "aten::std_mean" not in with_stats


@pytest.mark.parametrize("family", ["stylegan1", "stylegan2", "stylegan3"])
def test_statistics_asked_after_the_picture_take_no_pass_over_the_network(family, tiny_G, monkeypatch):
    # The window asks for statistics only after the first picture is shown. They come from the cached states
    # around each layer, no convolution run again (StyleGAN2's and 3's last step, a ToRGB, runs: its output is in
    # no state; so does StyleGAN3's Fourier input, which has no input state). The mix is A: it takes A's.
    from ..conftest import FAMILY_MAKERS

    G = tiny_G if family == "stylegan1" else FAMILY_MAKERS[family]()
    r = Renderer(G, threads=None)
    rec = Recipe.for_model(G.num_ws, seed_a=3, seed_b=4)
    r.render(RenderRequest(rec))
    synth = r._synth
    steps = []
    real = synth.advance
    monkeypatch.setattr(synth, "advance", lambda k, *a, **kw: steps.append(k) or real(k, *a, **kw))
    res = r.render(RenderRequest(rec, stats=True))
    assert res.info["start"] == {"a": G.num_ws, "b": G.num_ws, "mix": G.num_ws}
    last = G.num_ws - 1
    assert sorted(steps) == {"stylegan1": [], "stylegan2": [last] * 2, "stylegan3": [0, 0, last, last]}[family]
    for k in range(G.num_ws):
        for key, v in res.stats["a"][k].values.items():
            assert (v == res.stats["mix"][k][key]).all()
