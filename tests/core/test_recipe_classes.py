"""Classes of A and B for conditional generators: the recipe fields, seed -> w with a class, the CLI flags."""

import json

import numpy as np
import pytest
import torch

from stylemixer.cli import main
from stylemixer.core.errors import RecipeError
from stylemixer.core.latents import c_from_class, ws_from_seed, z_from_seed
from stylemixer.core.mixing import Recipe

from ..checkpoints.sg2_weights import record_for
from ..checkpoints.tf_writer import SG2Spec
from ..conftest import TINY


def test_classes_default_to_none_and_old_recipes_are_unchanged():
    r = Recipe.for_model(8, seed_a=3)
    assert r.class_a is None and r.class_b is None
    d = r.to_dict()
    assert "class_a" not in d and "class_b" not in d  # an unconditional recipe is written exactly as before
    old = {
        "format": "stylemixer.recipe",
        "version": 1,
        "model": "builtin",
        "seed_a": 3,
        "seed_b": 1,
        "weights": [0.0] * 8,
        "psi": 1.0,
        "cutoff": None,
        "noise_mode": "const",
        "noise_seed": 0,
    }
    assert Recipe.from_dict(old) == r and d == old


def test_classes_round_trip_and_swap():
    r = Recipe.for_model(8, seed_a=3, seed_b=4, class_a=2, class_b=7).with_weight(1, 1.0)
    again = Recipe.from_json(r.to_json())
    assert again == r and json.loads(r.to_json())["class_a"] == 2
    assert Recipe.from_dict({**r.to_dict(), "class_b": None}).class_b is None
    s = r.swapped()
    assert (s.seed_a, s.class_a, s.seed_b, s.class_b) == (4, 7, 3, 2)


@pytest.mark.parametrize("value", [-1, 1.0, True, "2", [1], 10**7])
def test_invalid_classes_name_the_field(value):
    with pytest.raises(RecipeError, match="class_b"):
        Recipe.for_model(8, class_b=value)


def test_check_model_checks_classes_against_c_dim():
    r = Recipe.for_model(8, class_a=3)
    assert r.check_model(8) is r  # c_dim unknown: not checked
    assert r.check_model(8, c_dim=4) is r
    with pytest.raises(RecipeError, match="class_a: 3 is not a class of this model"):
        r.check_model(8, c_dim=3)
    with pytest.raises(RecipeError, match="class_a: the model is unconditional"):
        r.check_model(8, c_dim=0)
    Recipe.for_model(8).check_model(8, c_dim=0)


def test_one_hot_labels():
    assert c_from_class(None, 0) is None
    assert np.array_equal(c_from_class(2, 4), [[0, 0, 1, 0]])
    assert np.array_equal(c_from_class(None, 3), [[1, 0, 0]])  # a conditional model without a class: class 0
    for bad, c_dim in ((1, 0), (4, 4), (-1, 4), (True, 4)):
        with pytest.raises(ValueError):
            c_from_class(bad, c_dim)


def test_ws_from_seed_with_a_class():
    from stylemixer.core.families.stylegan2.convert import from_nvidia

    _kw, _st, rec = record_for({"c_dim": 5}, seed=3)
    G = from_nvidia(rec)
    z = torch.from_numpy(z_from_seed(7, G.z_dim))
    want = G.mapping(z, torch.nn.functional.one_hot(torch.tensor([3]), 5).float(), truncation_psi=0.6)
    got = ws_from_seed(G, 7, psi=0.6, class_index=3)
    assert torch.equal(got, want)
    assert not torch.equal(got, ws_from_seed(G, 7, psi=0.6, class_index=4))
    assert torch.equal(ws_from_seed(G, 7), ws_from_seed(G, 7, class_index=0))
    with pytest.raises(ValueError, match="from 0 to 4"):
        ws_from_seed(G, 7, class_index=5)


def test_ws_from_seed_unconditional_models_are_unchanged(tiny_G):
    z = torch.from_numpy(z_from_seed(5, TINY.z_dim))
    assert torch.equal(ws_from_seed(tiny_G, 5, psi=0.5), tiny_G.mapping(z, truncation_psi=0.5))
    with pytest.raises(ValueError, match="unconditional"):
        ws_from_seed(tiny_G, 5, class_index=1)


def test_cli_refuses_a_class_for_an_unconditional_model(tiny_model_path, tmp_path, capsys):
    rc = main(["render", "--model", str(tiny_model_path), "--class-a", "1", "-o", str(tmp_path / "x.png")])
    assert rc == 2
    assert "class_a: the model is unconditional" in capsys.readouterr().err


def test_cli_renders_classes_of_a_conditional_model(tmp_path):
    kw, st, _ = record_for({"c_dim": 4}, seed=2)
    model = SG2Spec(kw, st, version=5).write(tmp_path / "cond.pkl")
    outs = []
    for cls in ("1", "2"):
        out = tmp_path / f"c{cls}.png"
        assert (
            main(
                [
                    "render",
                    "--model",
                    str(model),
                    "--seed-a",
                    "3",
                    "--class-a",
                    cls,
                    "--class-b",
                    "0",
                    "--mix",
                    "fine=B",
                    "-o",
                    str(out),
                ]
            )
            == 0
        )
        outs.append(out)
    from PIL import Image

    from stylemixer.core.export import recipe_from_png

    assert recipe_from_png(outs[0]).class_a == 1 and recipe_from_png(outs[0]).class_b == 0
    assert not np.array_equal(np.asarray(Image.open(outs[0])), np.asarray(Image.open(outs[1])))
