"""A cached render equals an uncached one bit for bit, and resumes where it should: for every generator family."""

import numpy as np
import pytest

from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest

from ..conftest import FAMILY_MAKERS


@pytest.fixture(
    scope="module",
    params=[f if f == "stylegan1" else pytest.param(f, marks=pytest.mark.slow) for f in sorted(FAMILY_MAKERS)],
)
def tiny_G(request):
    """A small random generator of each family (the name shadows the v1-only fixture on purpose). The fast tier
    runs the cache's cases on StyleGAN v1 (the cache is the renderer's, the same for every family); the other
    families' cases are in the slow tier, and each family's own resume tests are fast (tests/families)."""
    return FAMILY_MAKERS[request.param]()


PATTERN = (0, 0.25, 1, 0, 0.5, 1, 0, 0.75)


def base(noise_mode="const", G=None, **kw):
    # Mixed rows, truncation with a cutoff: every kind of ws row identity is exercised.
    kw.setdefault("psi", 0.7)
    kw.setdefault("cutoff", 5)
    n = G.num_ws
    return Recipe.for_model(n, seed_a=11, seed_b=12, noise_mode=noise_mode, noise_seed=3, **kw).with_weights(
        [PATTERN[i % len(PATTERN)] for i in range(n)]
    )


def assert_same(got, want, stats):
    L = len(got.request.recipe.weights)
    for src in ("mix", "a", "b"):
        assert np.array_equal(getattr(got, src), getattr(want, src)), src
    if not stats:
        assert got.stats is None
        return
    for src in ("mix", "a", "b"):
        assert sorted(got.stats[src]) == list(range(L)), "a stats render must cover every layer"
        for i in range(L):
            assert got.stats[src][i] == want.stats[src][i], (src, i)


@pytest.mark.parametrize("noise_mode", ["const", "random"])
@pytest.mark.parametrize("stats", [False, True])
def test_each_w_index_resumes_there_and_matches_uncached(tiny_G, noise_mode, stats):
    if tiny_G.family == "stylegan3" and (noise_mode == "random" or not stats):
        pytest.skip("StyleGAN3 has no noise, and its stats run covers the plain path (its renders are the slowest)")
    L = tiny_G.num_ws
    cached, uncached = Renderer(tiny_G), Renderer(tiny_G, cache=False)
    rec = base(noise_mode, tiny_G)
    cached.render(RenderRequest(rec, stats=stats))
    for k in range(L):
        rec = rec.with_weight(k, 0.4 + 0.01 * k)  # a new value for w index k only
        req = RenderRequest(rec, stats=stats)
        got = cached.render(req)
        assert got.info["start"] == {"a": L, "b": L, "mix": k}
        want = uncached.render(req)
        assert want.info["start"] == {"a": 0, "b": 0, "mix": 0}
        assert_same(got, want, stats)


def test_stats_requested_after_a_plain_render_come_from_cached_activations(tiny_G):
    cached, uncached = Renderer(tiny_G), Renderer(tiny_G, cache=False)
    rec = base("random", tiny_G)
    cached.render(rec)  # no statistics yet
    req = RenderRequest(rec.with_weight(6, 0.3), stats=True)
    got = cached.render(req)
    # Layers < 6 have no cached statistics but cached states: one step each, not a synthesis from scratch.
    assert got.info["start"]["mix"] == 6
    assert_same(got, uncached.render(req), True)


@pytest.mark.parametrize("source", ["mix", "a", "b"])
def test_feature_maps_of_a_cached_layer(tiny_G, source):
    cached, uncached = Renderer(tiny_G), Renderer(tiny_G, cache=False)
    rec = base(G=tiny_G)
    cached.render(rec)
    req = RenderRequest(rec.with_weight(7, 0.9), feature_layer=3, feature_source=source)
    got, want = cached.render(req), uncached.render(req)
    assert got.info["start"]["mix"] == 7
    info = tiny_G.layer_table()[3]
    assert got.features.shape == want.features.shape and got.features.shape[0] == info.channels
    assert np.array_equal(got.features, want.features)


def test_seed_change_keeps_the_other_image_and_the_shared_prefix(tiny_G):
    r = Renderer(tiny_G)
    L = tiny_G.num_ws
    rec = Recipe.for_model(L, seed_a=1, seed_b=2).with_weights([0, 0, 0] + [1] * (L - 3))
    r.render(rec)
    got = r.render(_with(rec, seed_b=3))
    # A untouched; B from scratch; the mix takes rows 0-2 from A, so it resumes at w index 3.
    assert got.info["start"] == {"a": L, "b": 0, "mix": 3}
    assert_same(got, Renderer(tiny_G, cache=False).render(_with(rec, seed_b=3)), False)


def _with(rec, **kw):
    from dataclasses import replace

    return replace(rec, **kw)


@pytest.mark.parametrize("change", [dict(noise_seed=4), dict(noise_mode="const"), dict(psi=0.5), dict(cutoff=2)])
def test_noise_and_truncation_changes_invalidate(tiny_G, change):
    r, u = Renderer(tiny_G), Renderer(tiny_G, cache=False)
    rec = base("random", tiny_G)
    r.render(rec)
    new = _with(rec, **change)
    got = r.render(RenderRequest(new, stats=True))
    assert_same(got, u.render(RenderRequest(new, stats=True)), True)
    if "cutoff" in change:  # rows 0-1 keep their truncation: A and B resume at w index 2
        assert got.info["start"]["a"] == 2
    else:
        assert got.info["start"]["a"] == 0


def test_cache_stays_within_its_budget_and_stays_exact(tiny_G):
    budget_mb = tiny_G.state_nbytes() / 2**20 / 3  # a fraction of one image's states
    r, u = Renderer(tiny_G, cache_mb=budget_mb), Renderer(tiny_G, cache=False)
    rec = base(G=tiny_G)
    for k in range(tiny_G.num_ws):
        rec = rec.with_weight(k, 0.5)
        req = RenderRequest(rec, stats=k % 2 == 0, feature_layer=k)
        got, want = r.render(req), u.render(req)
        assert_same(got, want, k % 2 == 0)
        assert np.array_equal(got.features, want.features)
        assert r.cache.bytes <= budget_mb * 2**20
    assert r.cache.evictions > 0


def test_results_do_not_alias_the_cache(tiny_G):
    r = Renderer(tiny_G)
    rec = base(G=tiny_G)
    first = r.render(rec)
    keep = first.a.copy()
    first.a[:] = 0  # the GUI may paint into what it gets
    assert np.array_equal(r.render(rec).a, keep)


def test_moving_to_a_device_drops_the_caches(tiny_G):
    r = Renderer(tiny_G)
    r.render(base(G=tiny_G))
    assert len(r.cache) > 0
    r.to("cpu")
    assert len(r.cache) == 0
    # A from the start again; the mix (weight 0 at index 0) then shares A's first state.
    assert r.render(base(G=tiny_G)).info["start"] == {"a": 0, "b": 0, "mix": 1}
