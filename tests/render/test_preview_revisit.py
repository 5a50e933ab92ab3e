"""The progressive preview when a drag comes back to a slider position it visited: the preview is shown from the
cached state at once, not recomputed as a full image; a change past the preview's last layer still gets the full
image."""

import numpy as np
import pytest

from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest

from ..conftest import make_stylegan2


def _drag(r, recipe, index, values, px):
    return [r.render(RenderRequest(recipe.with_weight(index, v), preview=px)) for v in values]


def test_a_revisited_position_shows_its_preview_from_the_cache():
    G = make_stylegan2()
    r = Renderer(G)
    rec = Recipe.for_model(G.num_ws, seed_a=1, seed_b=2)
    r.render(rec)
    stop, px = r.preview_stop(8)
    out, back, again = _drag(r, rec, 0, [0.3, 0.4, 0.3], px)
    assert out.info["preview"] == px and out.info["whole"] == [] and out.info["start"]["mix"] == 0
    assert again.info["whole"] == [] and again.info["start"]["mix"] == stop  # from the cached state entering it
    assert again.info["work"] == 0.0
    np.testing.assert_array_equal(again.mix, out.mix)  # the same preview as the first visit
    assert not np.array_equal(back.mix, out.mix)


def test_a_change_past_the_preview_shows_the_next_preview_point():
    G = make_stylegan2()  # 32 px: previews after w 1 (4 px), 3 (8 px), 5 (16 px)
    r = Renderer(G)
    rec = Recipe.for_model(G.num_ws, seed_a=1, seed_b=2)
    r.render(rec)
    stop, px = r.preview_stop(8)
    assert (stop, px) == (3, 8)
    k = stop + 1  # its rows up to the 8 px point are those of the picture shown: the 16 px point shows the change
    for v in (0.3, 0.4):
        res = r.render(RenderRequest(rec.with_weight(k, v), preview=px))
        assert res.info["whole"] == [] and res.info["preview"] == 16 and res.info["start"]["mix"] == k
        fresh = Renderer(G).render(RenderRequest(rec.with_weight(k, v), preview=16))
        np.testing.assert_array_equal(res.mix, fresh.mix)  # the 16 px preview of that mix


def test_a_change_past_every_preview_point_renders_the_whole_image():
    G = make_stylegan2()
    r = Renderer(G)
    rec = Recipe.for_model(G.num_ws, seed_a=1, seed_b=2)
    r.render(rec)
    px = r.preview_stop(8)[1]
    k = G.num_ws - 2  # after the last preview point (w 5)
    for i, v in enumerate((0.3, 0.4, 0.3)):
        res = r.render(RenderRequest(rec.with_weight(k, v), preview=px))
        if i < 2:
            assert res.info["whole"] == ["mix"]
        else:  # visited: its whole image is cached
            assert res.info["whole"] == [] and res.info["start"]["mix"] == G.num_ws
        full = Renderer(G, cache=False).render(rec.with_weight(k, v))
        np.testing.assert_array_equal(res.mix, full.mix)


def test_the_preview_is_enlarged_in_uint8_to_the_frame_size_and_crop():
    import torch

    from stylemixer.core.images import to_uint8
    from stylemixer.core.render import enlarge_preview

    small = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    got = enlarge_preview(small, 64, 64)
    assert got.shape == (64, 64, 3) and got.dtype == np.uint8 and got.flags.c_contiguous
    ref = to_uint8(torch.nn.functional.interpolate(small, size=(64, 64), mode="bilinear", align_corners=False))[0]
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 2  # rounded before enlarging instead of after
    cropped = enlarge_preview(small, 64, 64, crop=(8, 56, 0, 64))
    np.testing.assert_array_equal(cropped, got[8:56])
    gray = enlarge_preview(small[:, :1], 32, 32)
    assert gray.shape == (32, 32, 1)


def test_the_preview_policy_reads_a_whole_image_time_not_a_late_resume():
    from stylemixer.core.session import InlineExecutor, Session
    from stylemixer.gui.worker import ModelInfo, preview_costs

    G = make_stylegan2()
    r = Renderer(G)
    s = Session(InlineExecutor(r))
    s.set_model(
        ModelInfo("sg2", "sg2", "test", G.cfg, tuple(G.layer_table()), "cpu", 0.0, preview_costs=preview_costs(r))
    )
    first = s.last_result  # A, B and the mix from scratch: three images
    assert first.info["work"] > 0
    assert s.full_ms == first.info["frame_ms"]
    computed = sum(1 for k in first.info["start"].values() if k == 0)  # A and B (the mix is all A: cached)
    assert computed == 2 and abs(s.full_ms - first.ms / computed) < 1e-6  # one image's time, not two
    before = s.full_ms
    s.set_weight(G.num_ws - 1, 0.5)  # resumes at the last w index: a sliver of an image
    assert s.last_result.info["start"]["mix"] == G.num_ws - 1 and "frame_ms" not in s.last_result.info
    assert s.full_ms == before


def test_the_policy_learns_how_much_slower_than_their_flop_share_previews_run():
    from stylemixer.core.render import RenderResult
    from stylemixer.core.session import InlineExecutor, Session
    from stylemixer.gui.worker import ModelInfo, preview_costs

    G = make_stylegan2()
    r = Renderer(G)
    s = Session(InlineExecutor(r))
    s.set_model(
        ModelInfo("sg2", "sg2", "test", G.cfg, tuple(G.layer_table()), "cpu", 0.0, preview_costs=preview_costs(r))
    )
    costs = dict(s.model.preview_costs)
    s.begin_gesture()
    s.preview_min_ms = 0.0
    s.full_ms = 50.0 / costs[16]  # the 16 px preview is estimated at exactly the 50 ms target
    assert s.preview_resolution() == 16
    img = np.zeros((32, 32, 3), np.uint8)
    slow = RenderResult(RenderRequest(s.recipe, preview=16), img, img, img, ms=100.0, info={"preview": 16, "work": 1.0})
    s._learn_preview_pace(slow)  # it took twice its estimate
    assert s.preview_slowdown[16] == pytest.approx(2.0)
    assert s.preview_resolution() == 8  # the next smaller one now fits the target
    cached = RenderResult(RenderRequest(s.recipe, preview=8), img, img, img, ms=1.0, info={"preview": 8, "work": 0.0})
    s._learn_preview_pace(cached)  # shown from cached states: says nothing about the pace
    assert 8 not in s.preview_slowdown
    s.set_model(s.model)
    assert s.preview_slowdown == {}  # a new model starts afresh


def test_a_preview_point_s_picture_is_the_image_its_step_puts_in_the_state():
    # preview(k, ...) runs only the ToRGB of w index k, not the next block's up-convolution that k also drives
    import torch

    G = make_stylegan2()
    synth = G.synthesis
    ws = G.mapping(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(5)))
    with torch.inference_mode():
        ctx = synth.context(1, "const")
        state = synth.start(ctx)
        points = synth.preview_points()
        assert points == {1: 4, 3: 8, 5: 16}
        for k in range(G.num_ws):
            nxt = synth.advance(k, state, ws[:, k], ctx)
            if k in points:
                pic = synth.preview(k, state, ws[:, k], ctx)
                assert pic.shape[-1] == points[k]
                torch.testing.assert_close(pic, nxt[1], rtol=0, atol=0)
            state = nxt


def test_dragging_a_w_index_that_finishes_a_picture_shows_it_from_the_cached_state():
    G = make_stylegan2()  # 32 px: w 5 drives the 16 px ToRGB and the 32 px up-convolution
    r = Renderer(G)
    rec = Recipe.for_model(G.num_ws, seed_a=1, seed_b=2)
    r.render(rec)
    px = r.preview_stop(8)[1]
    for v in (0.3, 0.6):
        res = r.render(RenderRequest(rec.with_weight(5, v), preview=px))
        assert res.info["preview"] == 16 and res.info["start"]["mix"] == 5 and res.info["whole"] == []
        assert res.info["work"] == 0.0  # the ToRGB alone: nothing of the 32 px block runs
        fresh = Renderer(G).render(RenderRequest(rec.with_weight(5, v), preview=16))
        np.testing.assert_array_equal(res.mix, fresh.mix)


def test_each_family_s_steps_add_up_to_its_frame():
    from ..conftest import make_generator, make_stylegan3

    for G in (make_generator(), make_stylegan2(), make_stylegan3()):
        steps, flops = G.step_flops(), G.flops()
        assert set(steps) == set(range(-1, G.num_ws))
        assert sum(steps.values()) == pytest.approx(sum(flops.values()))
        r = Renderer(G)
        assert r._resume_flops(0) == pytest.approx(sum(flops.values()))
        # a resume at the last w index runs that index's step only
        assert r._resume_flops(G.num_ws - 1) == pytest.approx(steps[G.num_ws - 1])
