"""Closing, devices, failures, remembered settings, the hooks for side panels, and the app entry point."""

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from stylemixer.core.checkpoints import save_model
from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import RenderRequest


@pytest.fixture(scope="module")
def slow_model_path(tmp_path_factory):
    """Big enough that a render takes a noticeable time on one thread (~0.1 s), small enough to stay quick."""
    cfg = GeneratorConfig(
        z_dim=32, w_dim=32, mapping_layers=2, mapping_fmaps=32, resolution=256, channels=(64, 64, 64, 32, 32, 16, 16)
    )
    path = tmp_path_factory.mktemp("slow") / "slow.safetensors"
    save_model(init_for_training(Generator(cfg), 0), path)
    return path


def test_closing_during_a_render_exits_within_a_second(make_window, slow_model_path, qtbot):
    win = make_window(slow_model_path)
    for seed in range(100, 104):  # new seeds: nothing can come from a cache
        win.controller.set_seed("a", seed)
        win.worker.submit(win.controller.make_request())
    deadline = time.monotonic() + 2
    while not win.worker.busy and time.monotonic() < deadline:  # the worker picks the request up at once
        time.sleep(0.001)
    assert win.worker.busy, "no render in flight"
    t0 = time.perf_counter()
    win.close()
    elapsed = time.perf_counter() - t0
    assert win.worker.isFinished()
    assert elapsed < 1.0, f"closing took {elapsed:.2f} s"
    QApplication.processEvents()  # nothing arrives after close
    assert win.worker.renders_done <= 3


def test_a_device_that_fails_keeps_the_model_working(window, core):
    window.set_device("cuda:7")
    assert window.wait_until_idle()
    kind, text = window.messages[-1]
    assert kind == "error" and "cuda:7" in text
    assert window.device_label.text() == "on cpu"
    window.mixer.rows[0].slider.setValue(500)
    assert window.wait_until_idle()
    np.testing.assert_array_equal(window.shown_array(), core.mix(window.controller.recipe))
    window.set_device("cpu")
    assert window.wait_until_idle()
    assert [a.data() for a in window.actions_["device_group"].actions() if a.isChecked()] == ["cpu"]


def test_a_render_failure_shows_a_message_and_the_app_keeps_working(window, core):
    shown = window.shown_array()
    bad = RenderRequest(Recipe.for_model(window.model.num_ws + 1), id=window.controller.make_request().id)
    window.worker.submit(bad)
    assert window.wait_until_idle()
    kind, text = window.messages[-1]
    assert kind == "error" and "Rendering failed" in text and "weights" in text
    np.testing.assert_array_equal(window.shown_array(), shown)
    window.mixer.rows[2].b_button.click()
    assert window.wait_until_idle()
    np.testing.assert_array_equal(window.shown_array(), core.mix(window.controller.recipe))


def test_side_panel_hooks(window, qtbot):
    results = []
    window.result_ready.connect(results.append)
    dock1 = window.add_side_panel("Statistics", QLabel("stats"))
    dock2 = window.add_side_panel("Feature maps", QLabel("maps"))
    QApplication.processEvents()  # tabs are arranged by the layout
    assert window.dockWidgetArea(dock1) == Qt.DockWidgetArea.RightDockWidgetArea
    assert dock2 in window.tabifiedDockWidgets(dock1)
    assert dock1.toggleViewAction() in window.actions_["panels_menu"].actions()

    window.controller.set_capture(stats=True, feature_layer=2, feature_source="b")
    assert window.wait_until_idle()
    res = results[-1]
    assert res is window.last_result and res.request.stats and res.request.feature_layer == 2
    assert set(res.stats) == {"mix", "a", "b"} and set(res.stats["mix"]) == set(range(window.model.num_ws))
    layer = window.model.layers[2]
    assert res.features.shape == (layer.channels, layer.resolution, layer.resolution)
    with pytest.raises(ValueError):
        window.controller.set_capture(feature_layer=window.model.num_ws)

    selected = []
    window.layer_selected.connect(selected.append)
    row = window.mixer.rows[5]
    qtbot.mouseClick(row, Qt.MouseButton.LeftButton, pos=QPoint(3, row.height() // 2))
    assert selected == [5] and window.mixer.selected == 5


def test_geometry_folders_and_palette_are_remembered(make_window, tiny_model_path, settings):
    app = QApplication.instance()
    first = make_window(tiny_model_path)
    first.resize(1234, 777)
    first.actions_["dark"].setChecked(True)
    dark = app.palette()
    assert dark.color(QPalette.ColorRole.Window).lightness() < 80
    R = QPalette.ColorRole
    assert dark.color(R.WindowText).lightness() - dark.color(R.Window).lightness() > 120
    first.close()
    try:
        second = make_window()
        # Qt clamps a restored geometry to the screen (the offscreen one is small), so compare with what a
        # plain window restoring the saved bytes gets; without restoring, the default size would show
        ref = QMainWindow()
        ref.setMinimumSize(second.minimumSize())
        ref.restoreGeometry(settings.value("window/geometry"))
        assert second.size() == ref.size() != QSize(1480, 900)
        assert second.actions_["dark"].isChecked()
        second.actions_["dark"].setChecked(False)
        light = app.palette()
        assert light.color(QPalette.ColorRole.Window).lightness() > 150
        assert light.color(R.Window).lightness() - light.color(R.WindowText).lightness() > 120
    finally:
        from stylemixer.gui.palette import apply_palette

        apply_palette(False)
    assert second.minimumWidth() >= 800 and second.minimumHeight() >= 500
    hint = second.minimumSizeHint()  # the content fits the minimum size (side panels scroll)
    assert hint.width() <= second.minimumWidth() and hint.height() <= second.minimumHeight()


def test_app_main_opens_a_model_and_saves_a_screenshot(tiny_model_path, tmp_path):
    from stylemixer.gui.app import main

    out = tmp_path / "shot.png"
    rc = main(
        [
            "--model",
            str(tiny_model_path),
            "--settings",
            str(tmp_path / "s.ini"),
            "--screenshot",
            str(out),
            "--size",
            "1100x700",
        ]
    )
    assert rc == 0
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (1100, 700)
        assert len(set(np.asarray(im.convert("L")).ravel().tolist())) > 20  # not a blank window


def test_the_gui_thread_keeps_running_while_the_worker_renders(make_window, heavy_model_path, qtbot):
    """Full renders take ~0.1-0.3 s here; the event loop must keep turning meanwhile (it never waits on torch),
    and when the changes stop, the picture is the last state. How many renders that takes depends on the CPU
    (coalescing merges changes that arrive while one renders), so no count is asserted.
    The statistics panels are closed: their drawing time is theirs to test, this is the window alone."""
    from dataclasses import replace

    from PySide6.QtCore import QTimer

    win = make_window(heavy_model_path)
    for dock in win._side_docks:
        dock.close()
    assert win.wait_until_idle()
    ticks = {"busy": 0, "all": 0}

    def tick():
        ticks["all"] += 1
        if win.worker.busy:
            ticks["busy"] += 1  # the GUI thread ran while the worker was inside torch

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    done_before = win.worker.renders_done
    timer.start()
    for seed in range(200, 205):  # new seeds for A and B: full renders, nothing from a cache
        win.controller.apply(replace(win.controller.recipe, seed_a=seed, seed_b=seed + 1000))
        qtbot.wait(150)
    assert win.wait_until_idle(60)
    timer.stop()
    renders = win.worker.renders_done - done_before
    print(f"{renders} renders, {ticks['all']} ticks, {ticks['busy']} of them while the worker rendered")
    assert renders >= 1 and ticks["busy"] >= 3, ticks
    final = win.controller.recipe
    assert final.seed_a == 204 and win.last_result.request.recipe == final
    assert win.last_result.request.id == win.controller.last_request_id
    # the picture on screen is that result's mix (an independent render may use another thread count here,
    # which moves the odd pixel by one level; exact equality with the core is tested on the tiny model)
    np.testing.assert_array_equal(win.shown_array(), win.last_result.mix)


def test_a_second_start_restores_the_side_panels_without_stray_tab_bars(tiny_model_path, tmp_path, monkeypatch):
    """The app's own start, twice on one settings file: the dock layout saved at the first close is restored once
    the side panels exist. Restoring it for every panel as it came left tab bars of the intermediate layouts on
    screen: a lone "Statistics" tab over the File menu."""
    from PySide6.QtWidgets import QTabBar

    from stylemixer.gui import app as app_module

    seen = []
    screenshot = app_module._screenshot

    def look_then_screenshot(app, win, path):
        win.wait_until_idle(30)
        app.processEvents()
        inside = win.rect()
        seen.append(
            [
                ([bar.tabText(i) for i in range(bar.count())], bar.geometry())
                for bar in win.findChildren(QTabBar)
                if bar.isVisible() and bar.geometry().intersects(inside)
            ]
        )
        seen[-1].append(("menu", win.menuBar().geometry()))
        return screenshot(app, win, path)

    monkeypatch.setattr(app_module, "_screenshot", look_then_screenshot)
    argv = ["--settings", str(tmp_path / "settings.ini"), str(tiny_model_path), "--size", "1256x672"]
    for run in ("first", "second"):
        assert app_module.main([*argv, "--screenshot", str(tmp_path / f"{run}.png")]) == 0
    for bars in seen:
        *bars, (_, menu) = bars
        assert [names for names, _ in bars] == [["Statistics", "Feature maps"]], bars
        assert not any(geometry.intersects(menu) for _, geometry in bars), bars
