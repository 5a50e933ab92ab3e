"""The session without a window: coalescing, undo, selection, stale results, and "the final picture is the final
state", with executors that answer at once, later, or in an order a test chooses."""

import random
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stylemixer.core.errors import RecipeError
from stylemixer.core.latents import MAX_SEED
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderResult
from stylemixer.core.session import UNDO_LIMIT, FrameRate, InlineExecutor, Session, frame_time_text, from_cache


def model_info(G, source="tiny"):
    """What the window learns about a loaded model (gui.worker.ModelInfo), without Qt."""
    try:
        layers = tuple(G.layer_table())
    except AttributeError:
        from stylemixer.core.layers import layer_table

        layers = tuple(layer_table(G.cfg))
    return SimpleNamespace(source=source, name=source, num_ws=len(layers), layers=layers, cfg=G.cfg)


class HeldExecutor:
    """Keeps every request until the test answers it: the worker thread, with the test deciding the timing."""

    def __init__(self, renderer=None):
        self.renderer = renderer
        self.session = None
        self.held = []
        self.submitted = []

    def bind(self, session):
        self.session = session

    def submit(self, request):
        self.submitted.append(request)
        self.held.append(request)

    def answer(self, i=0):
        req = self.held.pop(i)
        if self.renderer is not None:
            return self.session.finished(self.renderer.render(req))
        return self.session.finished(fake_result(req))


def fake_result(req):
    img = np.zeros((4, 4, 3), np.uint8)
    return RenderResult(request=req, mix=img, a=img, b=img)


def make_session(G, executor=None, **kw):
    s = Session(executor, **kw)
    if executor is not None:
        executor.session = s
    events = {name: [] for name in ("recipe", "history", "selection", "result", "failed", "rendering", "sent")}
    s.recipe_changed.connect(events["recipe"].append)
    s.history_changed.connect(lambda u, r: events["history"].append((u, r)))
    s.selection_changed.connect(events["selection"].append)
    s.result_ready.connect(events["result"].append)
    s.render_failed.connect(lambda i, m: events["failed"].append((i, m)))
    s.rendering_changed.connect(events["rendering"].append)
    s.request_sent.connect(events["sent"].append)
    s.set_model(model_info(G))
    return s, events


@pytest.fixture
def renderer(tiny_G):
    return Renderer(tiny_G, "cpu", threads=None)


def test_a_burst_of_edits_is_one_render_in_flight_and_one_trailing_render(tiny_G):
    ex = HeldExecutor()
    s, ev = make_session(tiny_G, ex)
    assert len(ex.submitted) == 1 and s.rendering  # the model's first picture, sent at once
    ex.answer()
    assert s.is_idle() and not s.rendering
    s.begin_gesture()
    for v in np.linspace(0, 1, 200):  # a drag while nothing is in flight: the first move ...
        s.set_weight(2, float(v))
    s.end_gesture()
    assert len(ex.submitted) == 2  # ... is sent at once, the other 199 wait
    assert ex.held[0].recipe.weights[2] == pytest.approx(1 / 199)  # (the first value, 0, changed nothing)
    assert not s.is_idle()
    ex.answer()  # the first comes back: the newest state goes out
    assert len(ex.submitted) == 3 and ex.held[0].recipe == s.recipe and s.recipe.weights[2] == 1.0
    ex.answer()
    assert s.is_idle() and s.last_result.request.recipe == s.recipe
    assert [r.request.id for r in ev["result"]] == [1, 2, 3]
    assert ev["rendering"] == [True, False, True, False]  # no flicker between a result and its trailing flush
    assert s.can_undo() and not s.can_redo()
    s.undo()  # the whole drag was one step
    assert s.recipe.weights[2] == 0.0 and not s.can_undo()


def test_results_older_than_the_one_shown_or_from_a_previous_model_are_dropped(tiny_G):
    ex = HeldExecutor()
    s, _ev = make_session(tiny_G, ex)
    first = ex.held[0]
    s.set_weight(1, 0.5)  # marked dirty while the first renders
    assert s.finished(fake_result(first))
    newer = ex.held[1]
    assert not s.finished(fake_result(replace(first)))  # the same id again
    old_model_req = newer
    s.set_model(model_info(tiny_G, "other"))  # a new model: whatever was in flight is void
    assert not s.finished(fake_result(old_model_req)) and s.results_dropped == 2
    assert ex.held[-1].recipe.model == "other"
    assert s.finished(fake_result(ex.held[-1]))


def test_a_failure_is_reported_and_the_newest_state_still_goes_out(tiny_G):
    ex = HeldExecutor()
    s, ev = make_session(tiny_G, ex)
    s.set_seed("a", 5)  # waits behind the first request
    req = ex.held.pop(0)
    s.failed(req.id, "out of memory")
    assert ev["failed"] == [(req.id, "out of memory")]
    assert ex.held[-1].recipe.seed_a == 5 and s.rendering


def test_undo_redo_history(tiny_G):
    s, _ev = make_session(tiny_G, HeldExecutor())
    start = s.recipe
    s.set_seed("b", 7)
    s.preset("coarse")
    coarse = s.recipe
    assert coarse.weights == tuple(1.0 if l.group == "coarse" else 0.0 for l in s.model.layers)
    s.undo()
    assert s.recipe.seed_b == 7 and s.recipe.weights == start.weights and s.can_redo()
    s.redo()
    assert s.recipe == coarse
    s.undo()
    s.set_truncation(psi=0.5)  # a new edit after undo clears redo
    assert not s.can_redo()
    s.undo()
    s.undo()
    assert s.recipe == start and not s.can_undo()
    s.preset("swap")
    assert (s.recipe.seed_a, s.recipe.seed_b) == (start.seed_b, start.seed_a)
    s.set_model(model_info(tiny_G, "again"))  # a new model starts a new history
    assert not s.can_undo() and not s.can_redo() and s.recipe.seed_a == start.seed_b
    for i in range(UNDO_LIMIT + 20):
        s.set_seed("a", i + 10)
    n = 0
    while s.can_undo():
        s.undo()
        n += 1
    assert n == UNDO_LIMIT


def test_touching_a_layer_selects_it(tiny_G):
    s, ev = make_session(tiny_G, HeldExecutor())
    assert s.selected == 0 and ev["selection"] == [0]
    s.set_weight(5, 0.3)
    assert s.selected == 5
    s.set_weight(5, 0.4)
    s.preset("all_b")  # a preset touches every row: the selection stays
    assert s.selected == 5 and ev["selection"] == [0, 5]
    with pytest.raises(ValueError):
        s.select(s.num_ws)
    s.set_model(model_info(tiny_G, "same-shape"))  # kept where the new model has the layer
    assert s.selected == 5 and ev["selection"][-1] == 5


def test_a_recipe_that_does_not_fit_changes_nothing(tiny_G):
    s, _ev = make_session(tiny_G, HeldExecutor())
    before = s.recipe
    with pytest.raises(RecipeError):
        s.set_model(model_info(tiny_G, "x"), Recipe.for_model(s.num_ws + 1))
    with pytest.raises(RecipeError):
        s.apply(Recipe.for_model(s.num_ws + 1))
    assert s.recipe == before and s.model.source == "tiny"


def test_capture_settings_ask_for_a_render_and_are_checked(tiny_G):
    ex = HeldExecutor()
    s, _ev = make_session(tiny_G, ex)
    ex.answer()
    s.set_capture(stats=True, feature_layer=3, feature_source="b")
    req = ex.held[-1]
    assert req.stats and req.feature_layer == 3 and req.feature_source == "b"
    s.set_capture(stats=True)  # unchanged: nothing sent
    assert len(ex.submitted) == 2
    with pytest.raises(ValueError):
        s.set_capture(feature_layer=s.num_ws)
    with pytest.raises(ValueError):
        s.set_capture(feature_source="c")


def test_random_seeds_cover_the_whole_range(tiny_G):
    class Top:
        @staticmethod
        def randrange(lo, hi):
            return hi - 1

    s, _ = make_session(tiny_G, HeldExecutor(), rng=Top())
    s.random_seeds("ab")
    assert s.recipe.seed_a == s.recipe.seed_b == MAX_SEED


def test_inline_executor_final_picture_is_the_core_render(tiny_G, renderer):
    s, _ev = make_session(tiny_G, InlineExecutor(renderer))
    s.set_seed("a", 3_000_000_000)
    s.set_weight(4, 0.25)
    assert s.is_idle() and s.last_result.request.recipe == s.recipe
    np.testing.assert_array_equal(s.last_result.mix, Renderer(tiny_G, "cpu", threads=None).render(s.recipe).mix)


EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("weight"), st.integers(0, 7), st.floats(0, 1)),
        st.tuples(st.just("seed"), st.sampled_from("ab"), st.integers(0, MAX_SEED)),
        st.tuples(st.just("psi"), st.floats(-1, 1.5)),
        st.tuples(st.just("undo")),
        st.tuples(st.just("redo")),
        st.tuples(st.just("answer"), st.integers(0, 3)),
    ),
    max_size=40,
)


@settings(max_examples=30, deadline=None)
@given(edits=EDITS)
def test_whatever_the_timing_the_final_picture_is_the_final_state(tiny_G, edits):
    """Random edits, with the executor answering at random moments and, when it holds several requests (a
    direct submit elsewhere), in any order: once everything is answered the result shown is the current recipe,
    results were shown in request order, and at most one request of the session was in flight at any time."""
    ex = HeldExecutor()
    s, ev = make_session(tiny_G, ex)
    for e in edits:
        if e[0] == "weight":
            s.set_weight(e[1], e[2])
        elif e[0] == "seed":
            s.set_seed(e[1], e[2])
        elif e[0] == "psi":
            s.set_truncation(psi=round(e[1], 3))
        elif e[0] == "undo":
            s.undo()
        elif e[0] == "redo":
            s.redo()
        elif ex.held:
            ex.answer(e[1] % len(ex.held))
        assert len(ex.held) <= 1
    while ex.held:
        ex.answer()
    assert s.is_idle()
    assert s.last_result.request.recipe == s.recipe
    ids = [r.request.id for r in ev["result"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_final_picture_pixels_match_after_out_of_order_answers(tiny_G, renderer):
    """Real renders: requests answered late and a stale one answered last never replace the newest picture."""
    ex = HeldExecutor(renderer)
    s, _ev = make_session(tiny_G, ex)
    rng = random.Random(0)
    for _i in range(30):
        s.set_weight(rng.randrange(s.num_ws), rng.random())
        if rng.random() < 0.3 and ex.held:
            ex.answer()
    stale = s.make_request()  # a request the session did not send, older than the next
    while ex.held:
        ex.answer()
    s.set_seed("b", 99)
    ex.answer()
    assert not s.finished(renderer.render(replace(stale, recipe=Recipe.for_model(s.num_ws))))
    np.testing.assert_array_equal(s.last_result.mix, Renderer(tiny_G, "cpu", threads=None).render(s.recipe).mix)


def test_status_text_says_cached_instead_of_zero_ms(tiny_G, renderer):
    recipe = Recipe.for_model(tiny_G.num_ws)
    first = renderer.render(recipe)
    again = renderer.render(recipe)  # everything from the cache
    assert not from_cache(first) and from_cache(again)
    assert frame_time_text(again) == "cached"
    assert frame_time_text(replace(first, ms=0.43)) == "0.4 ms"
    assert frame_time_text(replace(first, ms=12.4)) == "12 ms"
    assert frame_time_text(replace(first, ms=1530)) == "1.5 s"


def test_frame_rate_is_that_of_the_current_burst():
    t = [0.0]
    rate = FrameRate(clock=lambda: t[0])
    for i in range(10):
        t[0] = i * 0.02
        fps = rate.add()
    assert fps == pytest.approx(50)
    t[0] += 2.0  # a pause: a new burst, no rate yet
    assert rate.add() is None
