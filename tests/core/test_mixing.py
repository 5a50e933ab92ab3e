import json

import numpy as np
import pytest
import torch

from stylemixer.core.errors import RecipeError
from stylemixer.core.families.stylegan1.topology import layer_table
from stylemixer.core.grid import Grid
from stylemixer.core.mixing import Recipe, parse_mix_spec
from stylemixer.core.render import Renderer, RenderRequest
from stylemixer.core.sweep import Sweep

from ..conftest import TINY


@pytest.fixture(scope="module")
def renderer(tiny_G):
    return Renderer(tiny_G, "cpu")


def base(**kw):
    return Recipe.for_model(TINY.num_ws, seed_a=3, seed_b=11, **kw)


def test_all_a_is_a_and_all_b_is_b(renderer):
    r0 = renderer.render(base())
    assert np.array_equal(r0.mix, r0.a)
    assert not np.array_equal(r0.a, r0.b)
    r1 = renderer.render(base().with_weights([1.0] * TINY.num_ws))
    assert np.array_equal(r1.mix, r1.b)
    # the pure images do not depend on the weights
    assert np.array_equal(r0.a, r1.a) and np.array_equal(r0.b, r1.b)


@pytest.mark.parametrize("k", range(TINY.num_ws))
def test_one_index_changes_only_that_layers_styles(renderer, k):
    a = renderer.render(RenderRequest(base(), stats=True)).stats["mix"]
    m = renderer.render(RenderRequest(base().with_weight(k, 1.0), stats=True)).stats
    b = m["b"]
    for idx in range(TINY.num_ws):
        s_mix = m["mix"][idx]
        if idx == k:
            assert np.allclose(s_mix.y_s, b[idx].y_s) and np.allclose(s_mix.y_b, b[idx].y_b)
            assert not np.allclose(s_mix.y_s, a[idx].y_s)
        else:
            assert np.array_equal(s_mix.y_s, a[idx].y_s) and np.array_equal(s_mix.y_b, a[idx].y_b)


def test_fractional_weight_interpolates_w(renderer):
    ws_a, ws_b, ws = renderer.ws(base().with_weight(2, 0.25))
    assert torch.allclose(ws[0, 2], 0.75 * ws_a[0, 2] + 0.25 * ws_b[0, 2], atol=1e-6)
    assert torch.equal(ws[0, 3], ws_a[0, 3])


def test_same_recipe_same_bytes(renderer):
    rec = base(noise_mode="random", noise_seed=9).with_weight(4, 0.5)
    assert renderer.render(rec).mix.tobytes() == renderer.render(rec).mix.tobytes()


def test_swapped_keeps_the_picture(renderer):
    rec = base().with_weights([0, 0, 1, 1, 0, 1, 0, 0])
    assert np.array_equal(renderer.render(rec).mix, renderer.render(rec.swapped()).mix)


def test_json_round_trip():
    rec = base(psi=0.7, cutoff=4, noise_mode="random", noise_seed=12).with_weight(1, 0.3)
    assert Recipe.from_json(rec.to_json()) == rec
    assert json.loads(rec.to_json())["format"] == "stylemixer.recipe"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"bogus": 1}, "bogus"),
        ({"weights": [0, 2, 0, 0, 0, 0, 0, 0]}, "weights[1]"),
        ({"weights": [0, -0.1, 0, 0, 0, 0, 0, 0]}, "weights[1]"),
        ({"weights": [0, "a", 0, 0, 0, 0, 0, 0]}, "weights[1]"),
        ({"weights": "0,1"}, "weights"),
        ({"weights": []}, "weights"),
        ({"seed_a": -1}, "seed_a"),
        ({"seed_b": 1.5}, "seed_b"),
        ({"seed_a": "7"}, "seed_a"),
        ({"seed_a": True}, "seed_a"),
        ({"psi": "x"}, "psi"),
        ({"psi": float("nan")}, "psi"),
        ({"cutoff": -2}, "cutoff"),
        ({"noise_mode": "loud"}, "noise_mode"),
        ({"noise_seed": -3}, "noise_seed"),
        ({"model": 5}, "model"),
        ({"version": 99}, "version"),
        ({"format": "other"}, "format"),
    ],
)
def test_invalid_recipes_name_the_field(change, field):
    d = base().to_dict()
    d.update(change)
    with pytest.raises(RecipeError) as e:
        Recipe.from_dict(d)
    assert str(e.value).startswith(field)


def test_weight_count_must_match_model(renderer):
    rec = Recipe.for_model(TINY.num_ws + 2)
    with pytest.raises(RecipeError, match="weights"):
        renderer.render(rec)


def test_not_json():
    with pytest.raises(RecipeError, match="JSON"):
        Recipe.from_json("{not json")


def test_mix_spec():
    assert parse_mix_spec("coarse=B", layer_table(TINY)) == (1, 1, 1, 1, 0, 0, 0, 0)
    assert parse_mix_spec("coarse=A,middle=B,fine=B", layer_table(TINY)) == (0, 0, 0, 0, 1, 1, 1, 1)
    assert parse_mix_spec("0-2=0.5,7=B", layer_table(TINY)) == (0.5, 0.5, 0.5, 0, 0, 0, 0, 1)
    for bad in ("coarse", "0-20=B", "huge=B", "fine=3", "fine=x"):
        with pytest.raises(RecipeError, match="mix"):
            parse_mix_spec(bad, layer_table(TINY))


def test_options_round_trip_and_are_omitted_when_empty():
    r = Recipe.for_model(4)
    assert "options" not in r.to_dict()  # recipes of models without controls unchanged
    r2 = r.with_option("rotate", 12.5).with_option("translate_x", -0.25)
    assert r2.options == (("rotate", 12.5), ("translate_x", -0.25))
    assert Recipe.from_json(r2.to_json()) == r2
    assert r2.synthesis_options() == {"rotate": 12.5, "translate_x": -0.25}


@pytest.mark.parametrize("bad", [{"rotate": "x"}, {"rotate": float("nan")}, {"": 1.0}, [1, 2]])
def test_bad_options_name_the_field(bad):
    d = Recipe.for_model(4).to_dict()
    d["options"] = bad
    with pytest.raises(RecipeError, match="options"):
        Recipe.from_dict(d)


def test_options_must_be_controls_the_model_offers(tiny_G):
    from stylemixer.core.families import Control

    rec = Recipe.for_model(tiny_G.num_ws).with_option("rotate", 10.0)
    with pytest.raises(RecipeError, match="no input control 'rotate'"):
        Renderer(tiny_G).render(rec)
    rotate = Control("rotate", "rotate", -180.0, 180.0, unit="°")
    assert rec.check_controls([rotate]) is rec
    with pytest.raises(RecipeError, match="outside"):
        rec.with_option("rotate", 500.0).check_controls([rotate])


@pytest.mark.parametrize(
    "load, what, fmt",
    [
        (Recipe.from_dict, "recipe", "stylemixer.recipe"),
        (Grid.from_dict, "grid", "stylemixer.grid"),
        (Sweep.from_dict, "sweep", "stylemixer.sweep"),
    ],
)
def test_recipe_grid_and_sweep_files_are_checked_alike(load, what, fmt):
    with pytest.raises(RecipeError, match=f"^{what}: expected a JSON object$"):
        load([])
    with pytest.raises(RecipeError, match=f"^format: expected '{fmt}', got 'other'$"):
        load({"format": "other"})
    with pytest.raises(RecipeError, match=f"^version: this StyleMixer reads {what} version 1, got 2$"):
        load({"format": fmt, "version": 2})
    with pytest.raises(RecipeError, match=f"^zzz: unknown {what} field$"):
        load({"format": fmt, "zzz": 1})


def test_only_a_recipe_may_leave_out_its_format():
    assert Recipe.from_dict({k: v for k, v in base().to_dict().items() if k != "format"}) == base()
    with pytest.raises(RecipeError, match="^format: expected 'stylemixer.grid', got None$"):
        Grid.from_dict({"rows": [1], "cols": [2], "recipe": base().to_dict()})


@pytest.mark.parametrize(
    "load, what", [(Recipe.from_json, "recipe"), (Grid.from_json, "grid"), (Sweep.from_json, "sweep")]
)
def test_text_that_is_not_json_gets_one_message_for_every_document(load, what):
    for text in ("{", "[" * 100_000, '{"format": ' + "9" * 5000 + "}", b"\xff"):
        with pytest.raises(RecipeError, match=f"^{what}: not valid JSON"):
            load(text)
