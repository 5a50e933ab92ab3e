"""The statistics widgets, read back: what they plot, draw and emit equals an independent computation."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from stylemixer.core import stats_views as sv
from stylemixer.core.families.stylegan1.network import STATS_SPEC
from stylemixer.core.stats import LayerStats  # noqa: F401

QUANTITIES = STATS_SPEC.keys

from .direct import direct_stats  # noqa: E402


@pytest.fixture(scope="module")
def reference(stats_renderer, stats_recipe):
    return direct_stats(stats_renderer.G, stats_recipe)


@pytest.fixture
def views(qtbot, stats_renderer):
    from stylemixer.gui.stats import StatsViews

    v = StatsViews()
    for w in (v.stats_page, v.features):
        qtbot.addWidget(w)
        w.resize(560, 720)
    v.set_layer_table(stats_renderer.G.layer_table(), stats_renderer.G.stats_spec)
    return v


def _show(views, result):
    views.show_result(result)
    views.flush()  # past the refresh throttle


def _direct_order(ref, k):
    diff = np.abs(ref["a"][k]["y_s"] - ref["b"][k]["y_s"]) + np.abs(ref["a"][k]["y_b"] - ref["b"][k]["y_b"])
    return np.argsort(-diff, kind="stable")


@pytest.mark.parametrize("layer", [1, 6])  # a coarse (4 px) and a fine (32 px) layer
@pytest.mark.parametrize("order", ["index", "difference"])
def test_panel_plots_the_directly_computed_statistics(views, stats_result, reference, layer, order):
    ref, _ = reference
    _show(views, stats_result)
    views.select_layer(layer)
    views.panel.set_order(order)
    want_order = np.arange(len(ref["mix"][layer]["y_s"])) if order == "index" else _direct_order(ref, layer)
    assert views.panel.order.tolist() == want_order.tolist()
    for q in QUANTITIES:
        for src in sv.SOURCES:
            x, y = views.panel.plotted(q, src)
            assert x.tolist() == list(range(len(want_order)))
            np.testing.assert_allclose(
                y, ref[src][layer][q][want_order], rtol=1e-4, atol=1e-4, err_msg=f"{q} {src} layer {layer}"
            )
    assert f"w {layer}" in views.panel.title.text()


def test_toggling_a_source_hides_its_curves(views, stats_result):
    _show(views, stats_result)
    views.panel.checks["b"].setChecked(False)
    assert not any(views.panel.curves[(q, "b")].isVisible() for q in QUANTITIES)
    assert all(views.panel.curves[(q, "a")].isVisible() for q in QUANTITIES)
    views.panel.checks["b"].setChecked(True)
    assert all(views.panel.curves[(q, "b")].isVisible() for q in QUANTITIES)


def test_summary_shows_means_and_distances(views, stats_result, reference):
    ref, _ = reference
    _show(views, stats_result)
    views.select_layer(3)  # weight 0.5: between A and B
    text = views.panel.summary.text()
    mean_ys_mix = float(np.mean(ref["mix"][3]["y_s"]))
    assert f"{mean_ys_mix:.3f}" in text
    d_a = np.mean(np.abs(ref["mix"][3]["y_s"] - ref["a"][3]["y_s"]) + np.abs(ref["mix"][3]["y_b"] - ref["a"][3]["y_b"]))
    assert f"{d_a:.3f}" in text and d_a > 0


def test_hover_shows_exact_values_and_click_opens_the_channel(qtbot, views, stats_result, reference):
    ref, _ = reference
    views.stats_page.show()
    _show(views, stats_result)
    views.select_layer(4)
    views.panel.set_order("difference")
    qtbot.wait(10)
    plot = views.panel.plots["y_b"]
    pos = 2
    channel = int(_direct_order(ref, 4)[pos])
    y = float(ref["mix"][4]["y_b"][channel])
    scene = plot.vb.mapViewToScene(QPointF(pos, y))
    assert views.panel.channel_at_scene(scene) == channel
    views.panel._on_mouse_moved(scene)
    assert f"channel {channel}" in views.panel.readout.text()
    assert f"{ref['b'][4]['y_s'][channel]:.4f}" in views.panel.readout.text()
    with qtbot.waitSignal(views.panel.channel_clicked) as sig:
        qtbot.mouseClick(
            views.panel.plots_view.viewport(), Qt.MouseButton.LeftButton, pos=views.panel.plots_view.mapFromScene(scene)
        )
    assert sig.args == [channel]
    assert views.features.channel == channel


def test_across_layers_bars_are_the_direct_style_differences(views, stats_result, reference):
    ref, _ = reference
    _show(views, stats_result)
    x, h = views.chart.heights()
    want = [
        np.mean(np.abs(ref["a"][k]["y_s"] - ref["b"][k]["y_s"]) + np.abs(ref["a"][k]["y_b"] - ref["b"][k]["y_b"]))
        for k in sorted(ref["a"])
    ]
    assert x.tolist() == sorted(ref["a"])
    np.testing.assert_allclose(h, want, rtol=1e-4)
    with_clicks = []
    views.chart.layer_clicked.connect(with_clicks.append)
    views.chart._on_click(_FakeClick(views.chart.plot.vb.mapViewToScene(QPointF(5, h[5] / 2))))
    assert with_clicks == [5] and views.layer == 5


class _FakeClick:
    def __init__(self, pos):
        self._pos = pos

    def button(self):
        return Qt.MouseButton.LeftButton

    def scenePos(self):
        return self._pos


def test_feature_view_shows_the_montage_of_the_layer_and_enlarges_a_click(qtbot, views, stats_result, reference):
    from stylemixer.gui.imaging import from_qimage

    _, maps = reference
    fv = views.features
    fv.show()
    views.select_layer(5)
    fv.set_colormap("gray")
    _show(views, stats_result)  # requested features: layer 5, mix
    assert fv.features is not None
    shown = from_qimage(fv.canvas.image)
    c, h, w = maps["mix"][5].shape
    assert shown.shape == fv.montage.image.shape
    # each tile shows its channel's map: grey level ordering follows the directly computed activations
    for i in (0, c // 2, c - 1):
        top, left = fv.montage.tile_origin(i)
        ch = int(fv.montage.order[i])
        tile = shown[top : top + h, left : left + w, 0].astype(float)
        f = maps["mix"][5][ch]
        want = np.clip(((f - f.min()) / (f.max() - f.min()) * 255 + 0.5).astype(int), 0, 255)
        assert np.abs(tile - want).max() <= 1
    # click in the middle of tile 3 on the canvas
    i = 3
    top, left = fv.montage.tile_origin(i)
    t = fv.canvas.target()
    sx = t.width() / fv.canvas.image.width()
    px = QPointF(t.x() + (left + w / 2) * sx, t.y() + (top + h / 2) * sx).toPoint()
    qtbot.mouseClick(fv.canvas, Qt.MouseButton.LeftButton, pos=px)
    ch = int(fv.montage.order[i])
    assert fv.channel == ch and views.panel.selected_channel == ch
    zoom = from_qimage(fv.zoom.image)
    assert np.array_equal(zoom, sv.channel_image(stats_result.features, ch, "gray", "channel"))
    assert f"channel {ch}" in fv.channel_text.text()


def test_features_of_another_layer_or_source_are_not_shown(views, stats_result):
    fv = views.features
    views.select_layer(2)  # the result carries layer 5's maps
    _show(views, stats_result)
    assert fv.features is None and fv.canvas.image is None
    views.select_layer(5)
    fv.set_source("b")
    _show(views, stats_result)  # maps of the mix, not B
    assert fv.features is None


def test_capture_follows_what_is_visible(qtbot, views):
    asked = []
    views.capture = lambda **kw: asked.append(kw)
    views.select_layer(3)
    assert asked[-1] == dict(stats=False, feature_layer=None, feature_source="mix")  # nothing shown
    views.stats_page.show()
    qtbot.waitUntil(lambda: asked[-1]["stats"])
    assert asked[-1]["feature_layer"] is None  # feature view hidden: no maps cross threads
    views.features.show()
    qtbot.waitUntil(lambda: asked[-1]["feature_layer"] == 3)
    views.features.set_source("a")
    assert asked[-1] == dict(stats=True, feature_layer=3, feature_source="a")
    views.features.hide()
    assert asked[-1]["feature_layer"] is None


def test_exports_from_the_widgets(tmp_path, views, stats_result):
    from stylemixer.core.export import recipe_from_png
    from stylemixer.core.stats_export import load_stats_npz

    views.select_layer(5)
    _show(views, stats_result)
    views.panel.export(tmp_path / "l5.npz", all_layers=False)
    recipe, back = load_stats_npz(tmp_path / "l5.npz")
    assert recipe == stats_result.request.recipe and sorted(back["mix"]) == [5]
    views.panel.export(tmp_path / "all.csv", all_layers=True)
    assert len((tmp_path / "all.csv").read_text().splitlines()) > 1
    views.features.save_montage(tmp_path / "m.png")
    assert recipe_from_png(tmp_path / "m.png") == stats_result.request.recipe


def test_a_burst_of_results_is_drawn_at_most_once_per_interval_and_ends_on_the_newest(
    qtbot, views, stats_renderer, stats_recipe
):
    from stylemixer.core.render import RenderRequest

    drawn = []
    views.panel.set_result = lambda r, f=views.panel.set_result: (drawn.append(r.request.id), f(r))[1]
    results = [
        stats_renderer.render(RenderRequest(stats_recipe.with_weight(0, i / 20), stats=True, id=i))
        for i in range(1, 21)
    ]
    for r in results:
        views.show_result(r)
    assert drawn == [1]  # the first at once, the rest wait for the interval
    # (a redraw spans a few event-loop turns: its plots are set one per turn)
    qtbot.waitUntil(lambda: drawn[-1] == 20 and not views.drawing, timeout=5000)
    assert len(drawn) == 2  # the stale ones in between are never drawn
    y_s = views.panel.plotted("y_s", "mix")[1]
    assert np.array_equal(np.sort(y_s), np.sort(results[-1].stats["mix"][views.panel.layer].y_s[0]))


def test_export_buttons_use_the_dialog_path_and_report_errors(tmp_path, views, stats_result, monkeypatch):
    from stylemixer.gui.stats import panel

    views.select_layer(5)
    _show(views, stats_result)
    errors = []
    views.panel.on_error = views.features.on_error = errors.append
    answer = {}
    monkeypatch.setattr(panel.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: answer["v"]))
    answer["v"] = (str(tmp_path / "typed-without-extension"), "NumPy archive with recipe (*.npz)")
    views.panel.export_all_button.click()
    assert (tmp_path / "typed-without-extension.npz").exists() and errors == []
    answer["v"] = (str(tmp_path / "no" / "such" / "dir.csv"), "CSV (*.csv)")
    views.panel.export_layer_button.click()
    assert len(errors) == 1 and "could not write" in errors[0]
    answer["v"] = ("", "")  # cancelled: nothing happens
    views.panel.export_layer_button.click()
    answer["v"] = (str(tmp_path / "montage.png"), "PNG image (*.png)")
    views.features.save_button.click()
    assert (tmp_path / "montage.png").exists() and len(errors) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["montage.png", "typed-without-extension.npz"]


def test_new_results_update_the_same_plot_items(views, stats_renderer, stats_recipe):
    from stylemixer.core.render import RenderRequest

    views.select_layer(6)
    _show(views, stats_renderer.render(RenderRequest(stats_recipe, stats=True, id=1)))
    curves = dict(views.panel.curves)
    items = {q: list(p.items) for q, p in views.panel.plots.items()}
    bars = views.chart.bars
    before = views.panel.plotted("y_s", "mix")[1].copy()
    _show(views, stats_renderer.render(RenderRequest(stats_recipe.with_weight(6, 0.0), stats=True, id=2)))
    assert not np.allclose(views.panel.plotted("y_s", "mix")[1], before)  # new numbers ...
    assert views.panel.curves == curves and views.chart.bars is bars  # ... in the same items
    assert {q: list(p.items) for q, p in views.panel.plots.items()} == items
