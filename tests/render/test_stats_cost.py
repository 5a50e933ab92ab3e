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
