"""The renderer on the shipped built-in model: half precision would pass the CUDA calibration's bar, and the
interactive frames resume where they should (timing itself is the benchmark's job, not a test's)."""

import numpy as np
import pytest

from stylemixer.core.checkpoints import load_any
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest, visually_identical
from stylemixer.core.resources import builtin_model_path

pytestmark = pytest.mark.builtin


@pytest.fixture(scope="module")
def G():
    if not builtin_model_path().exists():
        pytest.fail("the built-in model is missing from resources/")
    return load_any("builtin").G


@pytest.mark.slow
def test_half_precision_is_visually_identical_on_the_trained_model(G):
    # Trained weights are well conditioned (unlike the random tiny model, where fp16 visibly differs): this is
    # what lets a CUDA renderer choose fp16 for the built-in model.
    rec = Recipe.for_model(G.num_ws, seed_a=3, seed_b=14).with_weights([0.5] * G.num_ws)
    half = Renderer(G, precision="fp16", threads=None).render(rec)
    full = Renderer(G, threads=None).render(rec)
    for src in ("mix", "a", "b"):
        d = np.abs(getattr(half, src).astype(int) - getattr(full, src))
        assert visually_identical(getattr(half, src), getattr(full, src)), (src, d.mean(), d.max())


def test_dragging_a_fine_slider_with_statistics_recomputes_only_the_fine_layers(G):
    r = Renderer(G, threads=None)
    rec = Recipe.for_model(G.num_ws, seed_a=1, seed_b=2)
    r.render(RenderRequest(rec, stats=True))
    fine = G.num_ws - 2
    for v in (0.1, 0.2, 0.3):
        res = r.render(RenderRequest(rec.with_weight(fine, v), stats=True))
        assert res.info["start"] == {"a": G.num_ws, "b": G.num_ws, "mix": fine}
        assert sorted(res.stats["mix"]) == list(range(G.num_ws))
