import csv
import io
import os

import numpy as np
import pytest
from PIL import Image

from stylemixer.core import stats_export as se
from stylemixer.core import stats_views as sv
from stylemixer.core.export import ExportError, recipe_from_png
from stylemixer.core.families.stylegan1.network import STATS_SPEC
from stylemixer.core.mixing import Recipe
from stylemixer.core.stats import LayerStats  # noqa: F401

QUANTITIES = STATS_SPEC.keys


def test_csv_of_one_layer_holds_every_value(tmp_path, stats_result, stats_renderer):
    table = stats_renderer.G.layer_table()
    path = tmp_path / "layer2.csv"
    se.save_stats(path, stats_result.stats, stats_result.request.recipe, layers=[2], table=table)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    c = stats_result.stats["mix"][2].y_s.shape[1]
    assert len(rows) == 3 * c
    assert {r["layer"] for r in rows} == {"2"} and {r["resolution"] for r in rows} == {str(table[2].resolution)}
    for r in rows:
        s = stats_result.stats[r["source"]][2]
        for q in QUANTITIES:
            assert np.float32(r[q]) == getattr(s, q)[0, int(r["channel"])]  # exact float32 round trip


def test_csv_of_all_layers(stats_result):
    text = se.stats_csv(stats_result.stats)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["layer", "resolution", "source", "channel", *QUANTITIES]
    want = sum(3 * s.y_s.shape[1] for s in stats_result.stats["mix"].values())
    assert len(rows) - 1 == want
    assert sorted({int(r[0]) for r in rows[1:]}) == sorted(stats_result.stats["mix"])


def test_npz_holds_the_recipe_and_the_statistics(tmp_path, stats_result, stats_renderer):
    recipe = stats_result.request.recipe
    path = tmp_path / "all.npz"
    se.save_stats(path, stats_result.stats, recipe, table=stats_renderer.G.layer_table())
    with np.load(path, allow_pickle=False) as z:  # readable by plain NumPy, no pickle
        assert Recipe.from_json(str(z["recipe"])) == recipe
        assert z["layers"].tolist() == sorted(stats_result.stats["mix"])
        assert z["resolutions"].tolist() == [l.resolution for l in stats_renderer.G.layer_table()]
        np.testing.assert_array_equal(z["b.3.y_s"], stats_result.stats["b"][3].y_s[0])
    back_recipe, back = se.load_stats_npz(path)
    assert back_recipe == recipe
    for src in sv.SOURCES:
        for k, s in stats_result.stats[src].items():
            for q in QUANTITIES:
                np.testing.assert_array_equal(getattr(back[src][k], q), getattr(s, q))


def test_npz_of_one_layer(tmp_path, stats_result):
    path = tmp_path / "one.npz"
    se.save_stats(path, stats_result.stats, stats_result.request.recipe, layers=[4])
    with np.load(path) as z:
        assert z["layers"].tolist() == [4] and "mix.3.y_s" not in z.files and z["resolutions"].tolist() == [-1]


def test_bad_paths_and_layers_raise_and_leave_nothing(tmp_path, stats_result):
    recipe = stats_result.request.recipe
    with pytest.raises(ExportError, match="could not write"):
        se.save_stats(tmp_path / "missing" / "x.csv", stats_result.stats, recipe)
    with pytest.raises(ExportError, match=".csv or .npz"):
        se.save_stats(tmp_path / "x.xlsx", stats_result.stats, recipe)
    with pytest.raises(ExportError, match="layer 99"):
        se.save_stats(tmp_path / "x.npz", stats_result.stats, recipe, layers=[99])
    assert os.listdir(tmp_path) == []
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ExportError):
        se.load_stats_npz(tmp_path / "bad.npz")


def test_montage_png_is_the_montage_and_carries_the_recipe(tmp_path, stats_result):
    m = sv.build_montage(stats_result.features, "viridis", "shared", scale=2)
    path = tmp_path / "montage.png"
    se.save_montage_png(path, m.image, stats_result.request.recipe, 5, "mix", "viridis", "shared")
    with Image.open(path) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), m.image)
        assert "layer=5 source=mix" in im.text["stylemixer.montage"]
    assert recipe_from_png(path) == stats_result.request.recipe
