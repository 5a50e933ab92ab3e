"""The activation cache's default budget: small models get room for several drag positions, and a 1024 px
StyleGAN2 (509 MB of states per image) still gets room for A, B and the mix together, so the render after the
first picture never evicts one of them and recomputes it from the constant."""

import torch

from stylemixer.core.families.stylegan2.network import Generator, StyleGAN2Config
from stylemixer.core.limits import physical_memory
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import CHAINS, DEFAULT_CACHE_MB, MIN_CHAINS, Renderer, auto_cache_mb

from ..conftest import make_stylegan2


def test_a_small_model_gets_room_for_eight_images():
    G = make_stylegan2()
    assert auto_cache_mb(G) == max(64.0, CHAINS * G.state_nbytes() / 2**20)


def test_a_1024_px_stylegan2_gets_room_for_a_b_and_the_mix():
    with torch.device("meta"):  # the shapes of config F at 1024 px, no memory
        G = Generator(StyleGAN2Config())
    chain = G.state_nbytes() / 2**20
    assert 500 < chain < 520  # 509 MB: two fit in the 1 GB a smaller model is capped at, three do not
    mb = auto_cache_mb(G)
    ram = physical_memory()
    if ram is not None and ram / 4 / 2**20 < MIN_CHAINS * chain:
        assert DEFAULT_CACHE_MB <= mb <= ram / 4 / 2**20  # a small machine: a quarter of its RAM
    else:
        assert mb >= MIN_CHAINS * chain


def test_the_three_images_of_a_render_stay_cached_when_the_budget_is_the_minimum():
    G = make_stylegan2()
    chain = G.state_nbytes() / 2**20
    r = Renderer(G, cache_mb=MIN_CHAINS * chain + 1)
    rec = Recipe.for_model(G.num_ws, seed_a=1, seed_b=2).with_weights([0.5] * G.num_ws)
    r.render(rec)
    res = r.render(rec.with_weight(G.num_ws - 1, 0.9))  # only the mix changes, at its last w index
    assert res.info["start"] == {"mix": G.num_ws - 1, "a": G.num_ws, "b": G.num_ws}
