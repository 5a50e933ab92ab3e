"""A model's own defaults are checked when it loads; a cutoff beyond the model's w indices truncates all of them."""

import numpy as np
import pytest

from stylemixer.cli import main
from stylemixer.core.checkpoints import load_any
from stylemixer.core.errors import ModelFileError
from stylemixer.core.families.stylegan1.network import GeneratorConfig
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer

from ..checkpoints.tf_writer import Spec
from .corpus import with_config


@pytest.mark.parametrize(
    "changes,field",
    [
        (dict(truncation_psi=float("nan")), "truncation_psi"),
        (dict(truncation_cutoff=-3), "truncation_cutoff"),
        (dict(crop=[0, 0, 0, 0]), "crop"),
        (dict(crop=[1, 2, 3]), "crop"),
        (dict(crop=[0, 64, 0, 16]), "crop"),  # taller than the 32 px image
    ],
)
def test_invalid_defaults_are_refused_at_load(tmp_path, capsys, changes, field):
    path = tmp_path / "m.safetensors"
    path.write_bytes(with_config(**changes))
    with pytest.raises(ModelFileError, match=field):
        load_any(path)
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("stylemixer: error:") and field in err[0]


def test_the_config_refuses_them_for_library_callers_too():
    for bad in (
        dict(truncation_psi=float("inf")),
        dict(truncation_cutoff=-1),
        dict(crop=(5, 5, 0, 8)),
        dict(resolution=8, channels=(8, 8), crop=(0, 8, 0, 9)),
    ):
        with pytest.raises(ValueError):
            GeneratorConfig(**bad)


def test_a_16px_official_model_with_cutoff_8_truncates_all_its_layers(tmp_path, capsys):
    """NVIDIA's G_style truncates every layer whose index is below the cutoff; a 16 px model has 6."""
    path = tmp_path / "small.pkl"
    Spec(
        resolution=16, fmap_base=64, fmap_max=16, latent_size=16, dlatent_size=16, mapping_fmaps=16, mapping_layers=3
    ).write(path)
    G = load_any(path).G
    assert (G.num_ws, G.cfg.truncation_psi, G.cfg.truncation_cutoff) == (6, 0.7, 8)
    r = Renderer(G, "cpu", threads=1)
    official = r.render(Recipe.for_model(6, seed_a=1, seed_b=2, psi=0.7, cutoff=8))
    everything = r.render(Recipe.for_model(6, seed_a=1, seed_b=2, psi=0.7, cutoff=None))
    untruncated = r.render(Recipe.for_model(6, seed_a=1, seed_b=2))
    np.testing.assert_array_equal(official.mix, everything.mix)
    assert not np.array_equal(official.mix, untruncated.mix)
    # the command line renders it with the model's defaults instead of refusing
    out = tmp_path / "small.png"
    assert main(["render", "--model", str(path), "--seed-a", "1", "--seed-b", "2", "-o", str(out)]) == 0, (
        capsys.readouterr().err
    )
    from stylemixer.core.export import recipe_from_png

    assert recipe_from_png(out).cutoff == 8
