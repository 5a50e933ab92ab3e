"""The style-mixing grid: cells are single renders, the cache does the sharing, the PNG carries the grid."""

import numpy as np
import pytest
from PIL import Image

from stylemixer.core.grid import (
    Grid,
    GridError,
    check_fits,
    compose,
    figure3,
    grid_from_png,
    iter_grid,
    load_grid_file,
    parse_sources,
    render_grid,
    save_grid_png,
)
from stylemixer.core.mixing import Latent, LatentSource, Recipe, SeedSource
from stylemixer.core.render import Renderer

from ..conftest import TINY

L = TINY.num_ws


def grid(**kw):
    rec = Recipe.for_model(L, psi=0.8, cutoff=6).with_weights([1, 1, 1, 1, 0, 0, 0.5, 0])
    return Grid(rec, kw.pop("rows", (1, 2, 3)), kw.pop("cols", (4, 5, 6, 7)), **kw)


def test_cells_equal_single_renders_bit_for_bit(tiny_G):
    g = grid(rows=(1, 2.5, 3), cols=(4, LatentSource(Latent.from_array("l", np.ones((L, TINY.w_dim)))), 6))
    images = render_grid(Renderer(tiny_G), g)
    alone = Renderer(tiny_G, cache=False)
    for r in range(3):
        for c in range(3):
            res = alone.render(g.cell(r, c))
            assert np.array_equal(images.cells[(r, c)], res.mix), (r, c)
            assert np.array_equal(images.row_images[r], res.a) and np.array_equal(images.col_images[c], res.b)
    assert g.cell(1, 0).frac_a == 0.5 and g.cell(0, 1).latent_b is not None


def test_a_column_change_renders_only_that_column_and_a_weight_change_resumes_there(tiny_G):
    r = Renderer(tiny_G)
    g = grid()
    render_grid(r, g)
    again = render_grid(r, g.with_cols((4, 5, 99, 7)))
    for (row, col), start in again.starts.items():
        assert start == (L if col != 2 else 4), (row, col, start)  # column 2: its first rows (B's) are new
    k = 6
    moved = render_grid(r, g.with_recipe(g.recipe.with_weight(k, 0.75)))
    assert set(moved.starts.values()) == {k}
    info = r.cache.info()
    assert info["evictions"] == 0 and info["hits"] > 0


def test_png_round_trip(tiny_G, tmp_path):
    g = grid(rows=(1, 2.25), cols=(3, LatentSource(Latent.from_array("photo", np.full(TINY.w_dim, 0.1)))))
    images = render_grid(Renderer(tiny_G), g)
    path = tmp_path / "grid.png"
    save_grid_png(path, images, scale=2, gap=3)
    assert grid_from_png(path) == g and load_grid_file(path) == g
    pixels = np.asarray(Image.open(path))
    assert np.array_equal(pixels, compose(images, scale=2, gap=3))
    assert pixels.shape == (3 * 64 + 2 * 3, 3 * 64 + 2 * 3, 3)
    # the corner is blank, the header row holds the column images
    assert (pixels[:64, :64] == 255).all()
    assert np.array_equal(pixels[:64:2, 67:131:2], images.col_images[0])
    (tmp_path / "grid.json").write_text(g.to_json())
    assert load_grid_file(tmp_path / "grid.json") == g


def test_figure3_preset(tiny_G):
    layers = tiny_G.layer_table()
    g = figure3(Recipe.for_model(L, psi=0.5, noise_mode="random"), layers)
    assert [s.seed for s in g.rows] == [888, 829, 1898, 1733, 1614, 845]
    assert [s.seed for s in g.cols] == [639, 701, 687, 615, 2268]
    assert g.recipe.psi == 1 and g.recipe.noise_mode == "const"
    coarse = tuple(1.0 if l.group == "coarse" else 0.0 for l in layers)
    fine = tuple(1.0 if l.group == "fine" else 0.0 for l in layers)
    assert g.cell(0, 0).weights == coarse and g.cell(5, 4).weights == fine
    assert Grid.from_json(g.to_json()) == g


def test_parse_sources():
    assert parse_sources("1,2,5-7") == tuple(SeedSource(s) for s in (1, 2, 5, 6, 7))
    assert parse_sources("3.5") == (SeedSource(3, 0.5),)
    for bad in ("", "x", "7-3", "0-500", "-1"):
        with pytest.raises(GridError):
            parse_sources(bad)


def test_too_large_says_what_fits():
    g = grid(rows=tuple(range(40)), cols=tuple(range(40)))
    with pytest.raises(GridError) as e:
        check_fits(g, 1024, 1024, budget=2**30)
    msg = str(e.value)
    # 12 x 12: 168 images of 3 MB and a 13 x 13 canvas of them, 1011 MB
    assert "40 × 40" in msg and "9.9 GB" in msg and "at most 12 × 12 fits" in msg and "3 rows with 40" in msg, msg
    assert check_fits(grid(), 32, 32, budget=2**30) > 0


def test_iter_grid_is_progressive_and_stoppable(tiny_G):
    r = Renderer(tiny_G)
    it = iter_grid(r, grid())
    first = next(it)
    assert first[:2] == (0, 0)
    it.close()
    assert r.renders == 1


@pytest.mark.parametrize(
    "bad,field",
    [
        ({"rows": []}, "rows"),
        ({"cols": "1,2"}, "cols"),
        ({"rows": [-1]}, "rows[0]"),
        ({"bogus": 1}, "bogus"),
        ({"row_weights": [[0.5]]}, "row_weights"),
        ({"format": "x"}, "format"),
    ],
)
def test_bad_grid_json_names_the_field(bad, field):
    d = grid().to_dict()
    d.update(bad)
    with pytest.raises(GridError) as e:
        Grid.from_dict(d)
    assert str(e.value).startswith(field), str(e.value)
