"""The progressive preview: while a drag is open on a slow model the session asks for the skip image at a lower
resolution; when the input rests the full frame follows, equal to a fresh render of the recipe."""

import numpy as np

from stylemixer.core.render import Renderer
from stylemixer.core.session import InlineExecutor, Session
from stylemixer.gui.worker import ModelInfo, preview_costs

from ..conftest import make_stylegan2


def _session(G):
    r = Renderer(G)
    s = Session(InlineExecutor(r))
    info = ModelInfo(
        "stylegan2-test",
        "sg2",
        "test",
        G.cfg,
        tuple(G.layer_table()),
        "cpu",
        0.0,
        G.stats_spec,
        G.family_label,
        (),
        preview_costs(r),
    )
    s.set_model(info)
    return s


def test_a_drag_shows_the_partial_image_and_the_rest_shows_the_full_frame():
    G = make_stylegan2()
    s = _session(G)
    assert [res for res, _ in s.model.preview_costs] == [4, 8, 16]  # 32 px: skip images below full size
    s.request_render()
    s.preview_min_ms, s.preview_target_ms = 0.0, 1e9  # any model counts as slow here
    s.begin_gesture()
    s.set_weight(0, 0.7)
    shown = s.last_result
    assert shown.info["preview"] == 16 and shown.stats is None
    full = Renderer(G, cache=False).render(s.recipe)
    assert shown.mix.shape == full.mix.shape and not np.array_equal(shown.mix, full.mix)
    s.set_weight(0, 0.8)  # still dragging: still a preview
    assert s.last_result.info["preview"] == 16
    s.end_gesture()  # the input rests
    assert s.last_result.info.get("preview") is None
    assert np.array_equal(s.last_result.mix, Renderer(G, cache=False).render(s.recipe).mix)


def test_the_preview_size_follows_the_frame_time():
    s = _session(make_stylegan2())
    s.begin_gesture()
    s.full_ms = None
    assert s.preview_resolution() is None  # no full frame timed yet
    s.full_ms = 30.0
    assert s.preview_resolution() is None  # fast enough to show whole
    costs = dict(s.model.preview_costs)
    s.full_ms = 1000.0
    want = max([r for r, share in costs.items() if share * 1000.0 <= 50.0] or [min(costs)])
    assert s.preview_resolution() == want
    s.end_gesture()
    assert s.preview_resolution() is None
