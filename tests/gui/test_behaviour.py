"""The window as a newcomer drives it: the statistics follow the slider you touch, undo works from inside a box,
seeds above 2^31, slow frames say so, the palette, Help, a moved model, and what is remembered between runs."""

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionButton, QStyleOptionSlider

from stylemixer import __version__
from stylemixer.core.export import recipe_from_png

from .conftest import CoreRender


def handle_centre(slider) -> QPoint:
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    return (
        slider.style()
        .subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider)
        .center()
    )


def test_the_statistics_follow_the_slider_you_touch(window, qtbot):
    views = window.stats_views
    assert window.session.selected == 0 and views.layer == 0
    slider = window.mixer.rows[5].slider
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=handle_centre(slider))  # touching is enough
    assert window.session.selected == 5 and window.mixer.selected == 5 and views.layer == 5
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=handle_centre(slider))
    slider = window.mixer.rows[2].slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)  # keying it too
    assert window.session.selected == 2 and views.layer == 2
    assert window.session.recipe.weights[2] == pytest.approx(0.01)
    window.mixer.rows[7].b_button.click()  # and its A / B buttons
    assert window.session.selected == 7 and views.panel.layer == 7
    window.mixer.preset_buttons["all_a"].click()  # a preset moves all: no
    assert window.session.selected == 7
    assert window.wait_until_idle()
    assert window.last_result.request.stats  # the panel is in front, so statistics come with every picture


def test_undo_and_redo_work_with_the_focus_in_a_seed_or_psi_box(window, qtbot):
    window.activateWindow()
    s = window.session
    spin = window.seed_a.spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "42")
    assert s.recipe.seed_a == 0  # typing alone commits nothing
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert s.recipe.seed_a == 42 and spin.hasFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.recipe.seed_a == 0 and spin.seed() == 0 and spin.text() == "0"
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert s.recipe.seed_a == 42 and spin.text() == "42"
    spin.selectAll()
    qtbot.keyClicks(spin, "77")  # typed, not committed: Ctrl+Z discards the typing first
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert spin.text() == "42" and s.recipe.seed_a == 42
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.recipe.seed_a == 0

    psi = window.settings_panel.psi
    psi.setFocus()
    psi.selectAll()
    qtbot.keyClicks(psi, "0.5")
    qtbot.keyClick(psi, Qt.Key.Key_Enter)
    assert s.recipe.psi == 0.5
    qtbot.keyClick(psi, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.recipe.psi == 1.0 and psi.value() == 1.0
    assert window.wait_until_idle()
    np.testing.assert_array_equal(window.shown_array(), CoreRender(window.model.source).mix(s.recipe))


def test_seeds_above_2_to_the_31_round_trip_through_the_box_and_a_png(window, qtbot, tmp_path):
    big = 3_000_000_000
    spin = window.seed_b.spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(big))
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.session.recipe.seed_b == big
    assert window.seed_b.spin.maximum() == 2**32 - 1
    assert window.wait_until_idle()
    assert window.export_png(str(tmp_path / "big.png"))
    assert recipe_from_png(tmp_path / "big.png").seed_b == big
    window.seed_b.spin.setValue(5)
    assert window.open_recipe_file(str(tmp_path / "big.png"))
    assert window.wait_until_idle()
    assert window.session.recipe.seed_b == big and window.seed_b.spin.text() == str(big)
    np.testing.assert_array_equal(window.shown_array(), CoreRender(window.model.source).mix(window.session.recipe))
    window.settings_panel.noise_seed.setValue(4_000_000_000)
    assert window.session.recipe.noise_seed == 4_000_000_000


class HeldRequests:
    """Stands in for the worker thread while a frame is 'slow': holds the request until the test lets it go."""

    def __init__(self, worker):
        self.worker = worker
        self.held = []

    def submit(self, req):
        self.held.append(req)

    def release(self):
        for req in self.held:
            self.worker.submit(req)
        self.held.clear()


def test_a_slow_frame_says_it_is_rendering_and_a_cached_one_says_cached(window, qtbot):
    assert window.wait_until_idle()  # the opening render may still run on a busy machine
    assert window.view.busy_text == ""
    held = HeldRequests(window.worker)
    window.session.executor = held
    t0 = time.monotonic()
    window.session.set_seed("a", 12)
    qtbot.wait(120)
    shown_early = window.view.busy_text
    if time.monotonic() - t0 < 0.18:  # still under 200 ms (a busy machine may have taken longer to get here)
        assert shown_early == ""  # nothing shown yet
    assert window.session.rendering
    qtbot.waitUntil(lambda: window.view.busy_text == "Rendering…", timeout=2000)
    assert window.busy.isVisible()
    window.session.executor = window.worker
    held.release()
    assert window.wait_until_idle()
    assert window.view.busy_text == "" and not window.busy.isVisible()
    assert window.last_result.request.recipe.seed_a == 12
    assert window.timing_label.text().split(" · ")[0].endswith(("ms", " s"))
    window.session.request_render()  # the same state again: every image comes from the cache
    assert window.wait_until_idle()
    assert window.timing_label.text().startswith("cached")
    assert "0 ms" not in window.timing_label.text()


def test_dark_applies_to_one_run_and_the_view_menu_choice_is_remembered(make_window, tiny_model_path, settings):
    app = QApplication.instance()
    try:
        win = make_window(tiny_model_path, dark=True)  # `stylemixer --dark`
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert win.actions_["dark"].isChecked()
        assert not settings.value("view/dark", False, type=bool)
        win.close()
        again = make_window()
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 150 and not again.dark
        again.actions_["dark"].setChecked(True)  # the menu: remembered
        assert settings.value("view/dark", False, type=bool)
        again.close()
        third = make_window()
        assert third.dark and app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    finally:
        from stylemixer.gui.palette import apply_palette

        apply_palette(False)


def indicator_lightness(box) -> float:
    """Mean lightness of the check box's indicator square, as drawn."""
    opt = QStyleOptionButton()
    box.initStyleOption(opt)
    r = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, opt, box).adjusted(3, 3, -3, -3)
    img = box.grab().toImage()
    vals = [img.pixelColor(x, y).lightness() for x in range(r.left(), r.right()) for y in range(r.top(), r.bottom())]
    return sum(vals) / len(vals)


def test_switching_dark_to_light_live_repaints_the_styled_check_boxes(make_window, tiny_model_path):
    try:
        win = make_window(tiny_model_path, dark=True)
        boxes = list(win.stats_views.panel.checks.values())
        assert all(indicator_lightness(b) < 110 for b in boxes)
        win.actions_["dark"].setChecked(False)
        QApplication.processEvents()
        assert all(indicator_lightness(b) > 180 for b in boxes), [indicator_lightness(b) for b in boxes]
    finally:
        from stylemixer.gui.palette import apply_palette

        apply_palette(False)


def test_help_menu_pages_and_the_difference_bar_legend(window):
    page = window.show_shortcuts()
    text = page.text.toPlainText()
    for expected in ("Undo", "Ctrl+Z", "Export PNG", "Ctrl+E", "Keyboard Shortcuts", "Home / End"):
        assert expected in text, expected
    assert not page.isModal() and page.isVisible()
    assert window.show_shortcuts() is page  # raised again, not opened twice
    panels = window.show_panels_help().text.toPlainText()
    assert "AdaIN" in panels and "Feature maps" in panels and "style difference" in panels
    assert __version__ in window.show_about().text.toPlainText()
    assert not window.actions_["shortcuts"].shortcut().isEmpty()
    legend = window.stats_views.chart.legend.text()
    for group in ("coarse", "middle", "fine", "selected"):
        assert group in legend
    for page in window._help_pages.values():
        page.close()


def test_a_moved_model_is_located_once_and_remembered(make_window, window, tmp_path, tiny_model_path, monkeypatch):
    import shutil

    model = tmp_path / "mine.safetensors"
    shutil.copy(tiny_model_path, model)
    window.open_model(str(model))
    assert window.wait_until_idle()
    window.mixer.preset_buttons["fine"].click()
    assert window.wait_until_idle()
    png = tmp_path / "mix.png"
    assert window.export_png(str(png))
    wanted, wanted_img = window.session.recipe, window.shown_array()
    moved = tmp_path / "moved" / "mine.safetensors"
    moved.parent.mkdir()
    model.rename(moved)

    other = make_window()
    asked = []
    monkeypatch.setattr(other, "ask_locate_model", lambda missing, fits: asked.append(missing) or str(moved))
    assert other.open_recipe_file(str(png))
    assert other.wait_until_idle()
    assert asked == [str(model)]
    assert other.model is not None, other.messages
    assert other.model.source == str(moved) and other.session.recipe.weights == wanted.weights
    np.testing.assert_array_equal(other.shown_array(), wanted_img)

    third = make_window()  # the answer is remembered: not asked again
    monkeypatch.setattr(third, "ask_locate_model", lambda *a: pytest.fail("asked again"))
    assert third.open_recipe_file(str(png))
    assert third.wait_until_idle()
    assert third.model.source == str(moved)

    fourth = make_window()  # declining leaves an error and nothing open
    monkeypatch.setattr(fourth, "moved_models", lambda: {})
    monkeypatch.setattr(fourth, "ask_locate_model", lambda *a: None)
    fourth.open_recipe_file(str(png))  # read off the GUI thread: the outcome is a message
    assert fourth.wait_until_idle()
    assert fourth.model is None and "was not found" in fourth.messages[-1][1]


def test_last_model_layer_zoom_and_view_are_remembered(make_window, tiny_model_path):
    from stylemixer.gui import app as gui_app

    first = make_window(tiny_model_path)
    first.mixer.select(5)
    first.set_zoom(4)
    first.set_triptych(True)
    first.close()
    second = make_window()
    gui_app._open_start_files(second, gui_app.build_parser().parse_args([]))  # `stylemixer` with no file
    assert second.wait_until_idle(30)
    assert second.model is not None and second.model.source == str(tiny_model_path)
    assert second.session.selected == 5 and second.stats_views.layer == 5 and second.mixer.selected == 5
    assert second.zoom_combo.currentText() == "4×" and second.view.mode == 4
    assert second.triptych_box.isChecked() and second.view.triptych


def test_the_zoom_label_follows_the_splitter_and_docks(window, qtbot):
    """The enlargement shown beside the zoom box changes with the picture's room, whatever changed it."""
    window.set_zoom("fit")
    QApplication.processEvents()

    def shown():
        return window.scale_label.text()

    assert shown() == f"{window.view.scale():.0f}×"
    for step in ("close the side panels", "squeeze the picture with the splitter"):
        before = shown()
        if step == "close the side panels":
            for dock in window._side_docks:
                dock.close()
        else:
            sizes = window.splitter.sizes()
            window.splitter.setSizes([sizes[0] + sizes[1] - 200, 200])
        qtbot.waitUntil(lambda before=before: shown() != before, timeout=2000)
        assert shown() == f"{window.view.scale():.0f}×", step
