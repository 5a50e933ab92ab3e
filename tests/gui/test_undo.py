"""Undo and redo of mixing changes; one slider drag is one undo step."""

import numpy as np
import pytest


def drag(window, qtbot, row, values):
    """Press the handle, move through values with the event loop running, release: what a mouse drag does."""
    s = window.mixer.rows[row].slider
    s.setSliderDown(True)  # emits sliderPressed
    for v in values:
        s.setValue(v)
        qtbot.wait(1)
    s.setSliderDown(False)  # emits sliderReleased


def test_a_drag_is_one_undo_step_and_undo_restores_the_picture(window, core, qtbot):
    c = window.controller
    start = c.recipe
    start_img = window.shown_array()
    drag(window, qtbot, 0, range(0, 801, 50))
    assert window.wait_until_idle()
    dragged = c.recipe
    assert dragged.weights[0] == pytest.approx(0.8)
    dragged_img = window.shown_array()
    assert not np.array_equal(dragged_img, start_img)

    window.mixer.rows[4].b_button.click()  # a second, separate step
    assert window.wait_until_idle()
    assert c.recipe.weights[4] == 1.0

    window.actions_["undo"].trigger()
    assert window.wait_until_idle()
    assert c.recipe == dragged
    np.testing.assert_array_equal(window.shown_array(), dragged_img)
    assert window.mixer.rows[4].slider.value() == 0

    window.actions_["undo"].trigger()  # the whole drag at once
    assert window.wait_until_idle()
    assert c.recipe == start
    np.testing.assert_array_equal(window.shown_array(), start_img)
    assert window.mixer.rows[0].slider.value() == 0
    assert not window.actions_["undo"].isEnabled()

    window.actions_["redo"].trigger()
    assert window.wait_until_idle()
    assert c.recipe == dragged
    np.testing.assert_array_equal(window.shown_array(), core.mix(dragged))
    assert window.mixer.rows[0].slider.value() == 800
    assert window.actions_["redo"].isEnabled()


def test_a_new_edit_clears_redo_and_seeds_are_undoable(window):
    c = window.controller
    window.seed_b.spin.setValue(5)
    window.seed_b.spin.setValue(6)
    assert c.recipe.seed_b == 6
    c.undo()
    assert c.recipe.seed_b == 5 and window.seed_b.spin.value() == 5
    assert c.can_redo()
    window.actions_["preset_actions"][1].trigger()  # All from B
    assert not c.can_redo()
    assert c.recipe.weights == (1.0,) * window.model.num_ws
    c.undo()
    c.undo()
    assert c.recipe.seed_b == 1


def test_shortcuts_are_bound(window):
    a = window.actions_
    for key in ("open_model", "export", "copy", "undo", "redo", "random"):
        assert not a[key].shortcut().isEmpty(), key
    assert all(not p.shortcut().isEmpty() for p in a["preset_actions"])
    seeds = (window.controller.recipe.seed_a, window.controller.recipe.seed_b)
    a["random"].trigger()
    assert (window.controller.recipe.seed_a, window.controller.recipe.seed_b) != seeds
