"""The statistics panels inside the real main window: wiring, what is requested, what is shown."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPoint, Qt

from stylemixer.core.families.stylegan1.network import STATS_SPEC
from stylemixer.core.stats import LayerStats  # noqa: F401

QUANTITIES = STATS_SPEC.keys

from .direct import direct_stats  # noqa: E402


def _settle(win, qtbot):
    assert win.wait_until_idle(30)
    qtbot.wait(5)
    win.stats_views.flush()


def test_window_requests_statistics_and_shows_them_for_the_clicked_layer(stats_window, qtbot, stats_renderer):
    win, views = stats_window, stats_window.stats_views
    _stats_dock, _feature_dock = views.docks
    assert views.is_shown(views.stats_page) and not views.is_shown(views.features)
    # statistics are requested while the panel shows; the hidden feature tab asks for no maps
    assert win.controller.capture_stats and win.controller.feature_layer is None
    win.mixer.rows[3].b_button.click()  # (a touched row is selected too; the click below selects row 6)
    row = win.mixer.rows[6]
    qtbot.mouseClick(row, Qt.MouseButton.LeftButton, pos=QPoint(3, row.height() // 2))
    _settle(win, qtbot)
    res = win.last_result
    assert res.stats is not None and res.features is None
    assert views.layer == 6 and views.panel.layer == 6
    ref, _ = direct_stats(stats_renderer.G, win.controller.recipe)
    for q in QUANTITIES:
        for src in ("mix", "a", "b"):
            np.testing.assert_allclose(views.panel.plotted(q, src)[1], ref[src][6][q], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        views.chart.heights()[1][3],
        np.mean(np.abs(ref["a"][3]["y_s"] - ref["b"][3]["y_s"]) + np.abs(ref["a"][3]["y_b"] - ref["b"][3]["y_b"])),
        rtol=1e-4,
    )


def test_feature_maps_are_requested_only_while_their_panel_shows(stats_window, qtbot):
    win, views = stats_window, stats_window.stats_views
    stats_dock, feature_dock = views.docks
    win.mixer.select(4)
    feature_dock.raise_()
    qtbot.waitUntil(lambda: views.is_shown(views.features))
    _settle(win, qtbot)
    assert win.controller.feature_layer == 4
    res = win.last_result
    layer = win.model.layers[4]
    assert res.features.shape == (layer.channels, layer.resolution, layer.resolution)
    assert views.features.montage is not None and views.features.features is res.features
    views.features.set_source("b")
    _settle(win, qtbot)
    assert win.last_result.request.feature_source == "b" and views.features.features is win.last_result.features
    stats_dock.raise_()
    qtbot.waitUntil(lambda: not views.is_shown(views.features))
    _settle(win, qtbot)
    assert win.controller.feature_layer is None and win.last_result.features is None


def test_clicking_a_channel_in_the_plots_opens_it_in_the_feature_view(stats_window, qtbot):
    win, views = stats_window, stats_window.stats_views
    win.mixer.select(2)
    _settle(win, qtbot)
    views.panel.channel_clicked.emit(5)
    qtbot.waitUntil(lambda: views.is_shown(views.features))
    _settle(win, qtbot)
    assert views.features.channel == 5 and views.features.zoom.image is not None
    assert "channel 5" in views.features.channel_text.text()


def test_clicking_a_bar_selects_the_layer_in_the_mixer(stats_window, qtbot):
    win, views = stats_window, stats_window.stats_views
    _settle(win, qtbot)
    selected = []
    win.layer_selected.connect(selected.append)
    views._chart_clicked(7)
    assert selected == [7] and win.mixer.selected == 7 and views.panel.layer == 7


def test_a_new_model_keeps_the_panels_consistent(stats_window, qtbot, tmp_path):
    from stylemixer.core.checkpoints import save_model
    from stylemixer.core.families.stylegan1.network import GeneratorConfig
    from tests.conftest import make_generator

    win, views = stats_window, stats_window.stats_views
    win.mixer.select(7)
    _settle(win, qtbot)
    small = GeneratorConfig(z_dim=16, w_dim=16, mapping_layers=2, mapping_fmaps=16, resolution=8, channels=(8, 4))
    save_model(make_generator(small), tmp_path / "small.safetensors")
    win.open_model(str(tmp_path / "small.safetensors"))
    _settle(win, qtbot)
    assert win.model.num_ws == 4 and views.layer is not None and views.layer < 4
    assert len(views.chart.heights()[0]) == 4
    assert views.panel.has_layer() and len(views.panel.plotted("y_s", "mix")[1]) == small.channels[views.layer // 2]


def test_plots_follow_the_dark_palette(stats_window, qtbot):
    from PySide6.QtGui import QPalette

    win, views = stats_window, stats_window.stats_views
    try:
        for dark in (True, False):
            win.set_dark(dark)
            qtbot.wait(5)
            base = views.panel.palette().color(QPalette.ColorRole.Base)
            assert (base.lightness() < 128) == dark
            for view in (views.panel.plots_view, views.chart.view):
                assert view.backgroundBrush().color() == base
            axis = views.panel.plots["y_s"].getAxis("left")
            assert axis.textPen().color() == views.panel.palette().color(QPalette.ColorRole.Text)
    finally:
        win.set_dark(False)


def test_after_a_burst_every_view_shows_the_newest_result(stats_window, qtbot):
    """A slider moved faster than the views redraw (each redraw spans several event-loop turns): once the
    pictures stop, and without an explicit flush, every plot and the bar chart show the newest picture's
    statistics, not a mixture of results."""
    from stylemixer.core import stats_views as sv

    win, views = stats_window, stats_window.stats_views
    win.mixer.select(6)
    slider = win.mixer.rows[6].slider
    for value in range(0, 1001, 40):
        slider.setValue(value)
        qtbot.wait(1)  # results come back during the burst
    assert win.wait_until_idle(30)
    qtbot.waitUntil(lambda: views.settled, timeout=10000)
    last = win.last_result
    assert last.request.recipe.weights[6] == 1.0 and last.stats is not None
    assert views.panel.stats is last.stats and views.panel.layer == 6
    for q in QUANTITIES:
        for src in ("mix", "a", "b"):
            np.testing.assert_array_equal(views.panel.plotted(q, src)[1], last.stats[src][6][q][0])
    np.testing.assert_allclose(views.chart.heights()[1], sv.distances_across_layers(last.stats, views.panel.spec)[1])


def test_export_buttons_start_in_the_exports_folder_and_remember_the_chosen_one(
    stats_window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    win, views = stats_window, stats_window.stats_views
    start, chosen = tmp_path / "start", tmp_path / "chosen"
    start.mkdir()
    chosen.mkdir()
    win.settings.setValue("folders/exports", str(start))
    asked = []

    def dialog(parent, title, where, filters):
        asked.append((title, where))
        name = "stats" if "statistics" in title else "montage.png"
        return str(chosen / name), filters.split(";;")[-1]  # typed without an extension, the .npz filter chosen

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    win.mixer.select(4)
    _settle(win, qtbot)
    views.panel.export_layer_button.click()
    assert asked[-1] == ("Export statistics", str(start / "stats-layer4.csv"))
    assert (chosen / "stats.npz").exists() and win.settings.value("folders/exports") == str(chosen)
    _stats_dock, feature_dock = views.docks
    feature_dock.raise_()
    qtbot.waitUntil(lambda: views.is_shown(views.features))
    _settle(win, qtbot)
    views.features.save_button.click()
    assert asked[-1][0] == "Save montage" and os.path.dirname(asked[-1][1]) == str(chosen)
    assert (chosen / "montage.png").exists()
