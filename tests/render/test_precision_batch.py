"""Half precision and batching: close to the exact path, judged by the threshold the CUDA calibration uses."""

import numpy as np
import pytest
import torch

from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest, visually_identical

from ..conftest import TINY

L = TINY.num_ws


def rec():
    return Recipe.for_model(L, seed_a=21, seed_b=22).with_weights([0.5] * L)


def test_threshold_accepts_rounding_and_rejects_a_damaged_region():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    b = a.astype(np.int16)
    b[::7, ::5] += 1  # last-level rounding on a few pixels
    b = np.clip(b, 0, 255).astype(np.uint8)
    assert visually_identical(a, b)
    c = a.copy()
    c[10:20, 10:20] = 255 - c[10:20, 10:20]  # a wrecked patch (what an fp16 overflow looks like)
    assert not visually_identical(a, c)
    assert not visually_identical(a, a[:32])


def test_half_precision_path_runs_and_the_calibration_rejects_it_when_it_shows(tiny_G):
    # The code path CUDA takes (a half copy of synthesis, half noise and ws), run on the CPU. This random tiny
    # model amplifies rounding (its AdaIN layers blow up small channels), so fp16 visibly differs here: the
    # calibration must see that and keep fp32.
    half = Renderer(tiny_G, precision="fp16")
    assert half.precision == "fp16" and half._synth is not tiny_G.synthesis
    h, f = half.render(RenderRequest(rec(), stats=True)), Renderer(tiny_G).render(RenderRequest(rec(), stats=True))
    assert h.mix.shape == f.mix.shape and np.abs(h.mix.astype(int) - f.mix).mean() < 20  # same picture, roughly
    assert tiny_G.synthesis.layers[0].adain.affine.weight.dtype == torch.float32  # the model untouched
    cal = Renderer(tiny_G, precision="fp32").calibrate_half()
    assert cal["identical"] is False and cal["chosen"] == "fp32"


def test_cpu_default_is_exact_fp32_and_unbatched(tiny_G):
    r = Renderer(tiny_G)
    assert r.precision == "fp32" and not r.batch


def test_batched_chains_match_the_unbatched_ones_closely(tiny_G):
    batched, single = Renderer(tiny_G, batch=True), Renderer(tiny_G, batch=False)
    r = rec()  # no row shared with A or B: one batch of three
    req = RenderRequest(r, stats=True, feature_layer=4, feature_source="b")
    got, want = batched.render(req), single.render(req)
    assert got.info["start"] == {"a": 0, "b": 0, "mix": 0}
    for src in ("mix", "a", "b"):
        assert np.abs(getattr(got, src).astype(int) - getattr(want, src)).max() <= 1
        np.testing.assert_allclose(got.stats[src][5].std_in, want.stats[src][5].std_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.features, want.features, rtol=1e-4, atol=1e-4)
    # ... and the cached activations it stored serve a later single-chain resume.
    assert batched.render(r.with_weight(6, 0.9)).info["start"]["mix"] == 6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_auto_precision_calibrates_and_stays_visually_identical(tiny_G):
    import copy

    r = Renderer(copy.deepcopy(tiny_G), "cuda")
    assert r.calibration["chosen"] == r.precision
    cpu = Renderer(tiny_G, "cpu").render(rec())
    assert visually_identical(r.render(rec()).mix, cpu.mix)
