"""Fractional seeds and latents as sources of A and B: what the renderer computes, caches and records."""

import json

import numpy as np
import pytest
import torch

from stylemixer.core.errors import RecipeError
from stylemixer.core.latents import ws_from_seed
from stylemixer.core.mixing import Latent, LatentSource, Recipe, SeedSource, seed_source
from stylemixer.core.render import Renderer

from ..conftest import TINY

L, D = TINY.num_ws, TINY.w_dim


def recipe(**kw):
    return Recipe.for_model(L, seed_a=3, seed_b=8, psi=0.7, cutoff=5, **kw).with_weights([0, 1, 0.5, 0, 1, 0, 0.25, 1])


def test_fractional_seed_interpolates_w_between_neighbours(tiny_G):
    r = Renderer(tiny_G)
    ws_a, _, _ = r.ws(recipe(frac_a=0.25))
    w3 = ws_from_seed(tiny_G, 3, 0.7, 5)
    w4 = ws_from_seed(tiny_G, 4, 0.7, 5)
    assert torch.equal(ws_a, torch.lerp(w3, w4, 0.25))
    assert not torch.equal(ws_a, w3) and not torch.equal(ws_a, w4)


def test_fraction_zero_is_the_integer_seed_and_shares_its_cache_entries(tiny_G):
    r = Renderer(tiny_G)
    a = r.render(recipe())
    b = r.render(recipe(frac_a=0.0))
    assert np.array_equal(a.mix, b.mix)
    assert b.info["start"] == {"mix": L, "a": L, "b": L}  # every image came from the cache
    assert seed_source(7).key == 7 and seed_source(7.0).key == 7
    assert seed_source(7.5) == SeedSource(7, 0.5)


def test_fractional_render_equals_uncached_and_changes_with_the_fraction(tiny_G):
    cached, uncached = Renderer(tiny_G), Renderer(tiny_G, cache=False)
    for f in (0.1, 0.5, 0.9, 0.5):
        rec = recipe(frac_a=f, frac_b=1 - f)
        got, want = cached.render(rec), uncached.render(rec)
        for src in ("mix", "a", "b"):
            assert np.array_equal(getattr(got, src), getattr(want, src))
    assert not np.array_equal(uncached.render(recipe(frac_a=0.1)).a, uncached.render(recipe(frac_a=0.9)).a)


def test_latent_source_renders_its_ws_untruncated(tiny_G):
    ws = ws_from_seed(tiny_G, 42)[0].numpy()  # [L, D], no truncation
    latent = Latent.from_array("forty-two", ws)
    r = Renderer(tiny_G)
    from_latent = r.render(recipe(latent_a=latent))
    from_seed = Renderer(tiny_G, cache=False).render(
        Recipe(**{**recipe().__dict__, "seed_a": 42, "psi": 1.0, "cutoff": None})
    )
    assert np.array_equal(from_latent.a, from_seed.a)  # psi 0.7 in the recipe did not touch the latent
    # A W latent ([w_dim]) is broadcast to every w index
    w_latent = Latent.from_array("w", ws[0])
    assert torch.equal(r.ws(recipe(latent_b=w_latent))[1][0], torch.from_numpy(np.repeat(ws[:1], L, 0)))


def test_latent_shape_mismatch_names_both_shapes(tiny_G):
    bad = Latent.from_array("photo", np.zeros((14, 512), np.float32))
    with pytest.raises(RecipeError) as e:
        Renderer(tiny_G).render(recipe(latent_b=bad))
    msg = str(e.value)
    assert "[14, 512]" in msg and f"[{L}, {D}]" in msg and "photo" in msg


def test_recipe_json_carries_sources_exactly_and_old_json_is_unchanged():
    ws = np.random.default_rng(0).standard_normal((L, D)).astype(np.float32)
    rec = recipe(frac_b=0.375, latent_a=Latent.from_array("me", ws))
    back = Recipe.from_json(rec.to_json())
    assert back == rec and np.array_equal(back.latent_a.array(), ws)
    assert back.source("a") == LatentSource(rec.latent_a) and back.source("b") == SeedSource(8, 0.375)
    plain = recipe()
    assert set(json.loads(plain.to_json())) == {
        "format",
        "version",
        "model",
        "seed_a",
        "seed_b",
        "weights",
        "psi",
        "cutoff",
        "noise_mode",
        "noise_seed",
    }
    assert rec.swapped().swapped() == rec and rec.swapped().latent_b == rec.latent_a


@pytest.mark.parametrize(
    "change,field",
    [
        ({"frac_a": 1.0}, "frac_a"),
        ({"frac_b": -0.1}, "frac_b"),
        ({"frac_a": "x"}, "frac_a"),
        ({"latent_a": {"name": "x"}}, "latent_a"),
        ({"latent_b": {"name": "x", "shape": [2, 4], "dtype": "float32", "data": "AAAA"}}, "latent_b"),
        ({"latent_b": {"name": "x", "shape": [1], "dtype": "float64", "data": "AAAAAA=="}}, "latent_b"),
        ({"latent_a": {"name": "x", "shape": [1], "dtype": "float32", "data": "AACAfw=="}}, "latent_a"),  # inf
    ],
)
def test_bad_sources_in_json_name_the_field(change, field):
    d = recipe().to_dict()
    d.update(change)
    with pytest.raises(RecipeError) as e:
        Recipe.from_dict(d)
    assert str(e.value).startswith(field), str(e.value)


def test_a_latent_sourced_png_re_renders_without_the_latent_file(tiny_G, tiny_model_path, tmp_path):
    from PIL import Image

    from stylemixer.cli import main
    from stylemixer.core.export import recipe_from_png

    ws = ws_from_seed(tiny_G, 5)[0].numpy() + 0.3
    np.savez(tmp_path / "projected_w.npz", w=ws[None])
    out = tmp_path / "mix.png"
    assert (
        main(
            [
                "render",
                "--model",
                str(tiny_model_path),
                "--latent-a",
                str(tmp_path / "projected_w.npz"),
                "--seed-b",
                "2",
                "--mix",
                "0-3=B",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    (tmp_path / "projected_w.npz").unlink()
    rec = recipe_from_png(out)
    assert rec.latent_a is not None and np.array_equal(rec.latent_a.array(), ws)
    assert rec.latent_a.name == tmp_path.name  # NVIDIA's fixed file name: the folder names the photo
    again = tmp_path / "again.png"
    assert main(["render", "--recipe", str(out), "-o", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(out)))
    assert np.array_equal(np.asarray(Image.open(out)), Renderer(tiny_G, cache=False).render(rec).mix)


def test_cli_fractional_seed(tiny_G, tiny_model_path, tmp_path):
    from stylemixer.cli import main
    from stylemixer.core.export import recipe_from_png

    out = tmp_path / "f.png"
    assert main(["render", "--model", str(tiny_model_path), "--seed-a", "3.25", "-o", str(out)]) == 0
    rec = recipe_from_png(out)
    assert (rec.seed_a, rec.frac_a) == (3, 0.25)
    assert main(["render", "--model", str(tiny_model_path), "--seed-a", "-1", "-o", str(out)]) == 2
