"""Export, recipes and model files through the window: real PNGs and model files on disk."""

import os

import numpy as np
import pytest
from PIL import Image

from stylemixer.core.export import recipe_from_png
from stylemixer.core.mixing import Recipe


def png_pixels(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_export_embeds_a_recipe_that_rerenders_to_the_same_pixels(window, core, tmp_path, monkeypatch):
    window.mixer.rows[1].slider.setValue(450)
    window.seed_b.spin.setValue(9)
    assert window.wait_until_idle()
    target = tmp_path / "out.png"
    monkeypatch.setattr(window, "ask_save_path", lambda *a: str(target))
    window.actions_["export"].trigger()
    assert target.exists(), window.messages
    recipe = recipe_from_png(target)
    assert recipe == window.controller.recipe
    assert recipe.weights[1] == 0.45 and recipe.seed_b == 9
    np.testing.assert_array_equal(png_pixels(target), core.mix(recipe))
    # the folder is remembered for the next dialog
    assert window.settings.value("folders/exports") == str(tmp_path)


def test_enlarged_export_and_strip(window, tmp_path):
    res = window.last_result
    big = tmp_path / "big.png"
    assert window.export_png(str(big), scale=4)
    px = png_pixels(big)
    assert px.shape == (res.mix.shape[0] * 4, res.mix.shape[1] * 4, 3)
    np.testing.assert_array_equal(px[::4, ::4], res.mix)  # whole-pixel (nearest-neighbour) enlargement
    h, w = res.mix.shape[:2]
    for labels in (False, True):  # File > Label Strip Exports, on by default
        window.actions_["strip_labels"].setChecked(labels)
        strip = tmp_path / f"strip-{labels}"
        assert window.export_strip(str(strip), scale=1)
        px = png_pixels(tmp_path / f"strip-{labels}.png")
        np.testing.assert_array_equal(px[:h, :w], res.a)
        np.testing.assert_array_equal(px[:h, w + 4 : 2 * w + 4], res.mix)
        np.testing.assert_array_equal(px[:h, -w:], res.b)
        assert recipe_from_png(tmp_path / f"strip-{labels}.png") == res.request.recipe
        band = px[h:]
        if labels:  # dark text under each of the three images, on white
            assert band.shape[0] >= 12
            for x0, x1 in ((0, w), (w + 4, 2 * w + 4), (2 * w + 8, 3 * w + 8)):
                assert (band[:, x0:x1] < 128).any()
        else:
            assert band.shape[0] == 0
    assert window.settings.value("export/strip_labels", type=bool)


def test_export_to_an_unwritable_place_shows_an_error_and_writes_nothing(window, tmp_path):
    missing = tmp_path / "no-such-folder" / "out.png"
    assert not window.export_png(str(missing))
    kind, text = window.messages[-1]
    assert kind == "error" and "out.png" in text
    assert not missing.parent.exists()
    # a target that is a folder: the temporary file must not be left behind
    folder = tmp_path / "taken.png"
    folder.mkdir()
    before = sorted(os.listdir(tmp_path))
    n = len(window.messages)
    assert not window.export_png(str(folder))
    assert len(window.messages) == n + 1 and window.messages[-1][0] == "error"
    assert sorted(os.listdir(tmp_path)) == before
    assert os.listdir(folder) == []
    assert not window.save_recipe(str(missing.with_suffix(".json")))
    assert window.messages[-1][0] == "error"


def test_saved_recipe_and_exported_png_restore_the_mix(window, core, tmp_path):
    c = window.controller
    window.mixer.preset_buttons["middle"].click()
    window.seed_a.spin.setValue(11)
    assert window.wait_until_idle()
    wanted, wanted_img = c.recipe, window.shown_array()
    assert window.save_recipe(str(tmp_path / "r.json"))
    assert window.export_png(str(tmp_path / "r.png"))
    assert Recipe.from_json((tmp_path / "r.json").read_text()) == wanted

    for path in (tmp_path / "r.json", tmp_path / "r.png"):
        window.mixer.preset_buttons["all_a"].click()
        window.seed_a.spin.setValue(3)
        assert window.wait_until_idle()
        assert c.recipe != wanted
        assert window.open_recipe_file(str(path))
        assert window.wait_until_idle()
        assert c.recipe == wanted
        np.testing.assert_array_equal(window.shown_array(), wanted_img)
        assert window.mixer.rows[4].slider.value() == 1000 and window.seed_a.spin.value() == 11


def test_png_without_recipe_and_bad_json_change_nothing(window, tmp_path):
    before = window.controller.recipe
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    (tmp_path / "bad.json").write_text('{"weights": [0.5], "seed_a": -1}')
    for name in ("plain.png", "bad.json"):
        n = len(window.messages)
        window.open_recipe_file(str(tmp_path / name))  # read in the background
        assert window.wait_until_idle()
        assert len(window.messages) == n + 1 and window.messages[-1][0] == "error"
        assert window.controller.recipe == before


def test_corrupt_model_file_shows_an_error_and_keeps_the_model(window, core, tmp_path, tiny_model_path):
    model = window.model
    good = tiny_model_path.read_bytes()
    files = {"garbage.safetensors": os.urandom(4000), "truncated.safetensors": good[: len(good) // 2], "empty.pkl": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        n = len(window.messages)
        window.open_model(str(tmp_path / name))
        assert window.busy.isVisible() or window.wait_until_idle()
        assert window.wait_until_idle()
        assert len(window.messages) == n + 1, name
        kind, text = window.messages[-1]
        assert kind == "error" and "Could not open the model" in text
        assert window.model is model
        assert not window.busy.isVisible()
    # the previous model still renders
    window.mixer.rows[3].slider.setValue(1000)
    assert window.wait_until_idle()
    np.testing.assert_array_equal(window.shown_array(), core.mix(window.controller.recipe))
    assert window.controller.recipe.weights[3] == 1.0
    assert str(tmp_path) not in " ".join(window.recent_models())


def test_opening_another_model_switches_and_is_remembered(window, tmp_path, tiny_G):
    from stylemixer.core.checkpoints import save_model
    from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training

    cfg = GeneratorConfig(z_dim=16, w_dim=16, mapping_layers=2, mapping_fmaps=16, resolution=16, channels=(16, 8, 8))
    path = tmp_path / "other.safetensors"
    save_model(init_for_training(Generator(cfg), 3), path)
    seeds = (window.controller.recipe.seed_a, window.controller.recipe.seed_b)
    window.open_model(str(path))
    assert window.wait_until_idle()
    assert window.model.num_ws == 6 and len(window.mixer.rows) == 6
    assert window.shown_array().shape == (16, 16, 3)
    assert (window.controller.recipe.seed_a, window.controller.recipe.seed_b) == seeds
    assert window.controller.recipe.model == str(path)
    assert window.recent_models()[0] == str(path)
    assert "other.safetensors" in window.model_label.text()
    window.fill_recent_menu()
    texts = [a.text() for a in window.actions_["recent_menu"].actions()]
    assert str(path) in texts and "Built-in Model" in texts


def test_dropping_a_png_restores_its_recipe_and_model(make_window, window, tmp_path, qtbot):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    window.mixer.preset_buttons["fine"].click()
    assert window.wait_until_idle()
    png = tmp_path / "drop.png"
    assert window.export_png(str(png))
    other = make_window()  # no model yet: the drop must load the recorded model too
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    ev = QDropEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    other.dropEvent(ev)
    assert other.wait_until_idle()
    assert other.model is not None and other.model.source == window.model.source, other.messages
    assert other.controller.recipe == window.controller.recipe
    np.testing.assert_array_equal(other.shown_array(), window.shown_array())


def test_copy_puts_the_image_and_its_recipe_on_the_clipboard(window):
    from PySide6.QtGui import QGuiApplication

    from stylemixer.gui.files import enlarge_factor
    from stylemixer.gui.imaging import from_qimage

    window.mixer.rows[0].slider.setValue(250)
    assert window.wait_until_idle()
    window.actions_["copy"].trigger()
    mime = QGuiApplication.clipboard().mimeData()
    assert Recipe.from_json(mime.text()) == window.controller.recipe
    img = from_qimage(mime.imageData())
    f = enlarge_factor(window.last_result.mix.shape[1])
    np.testing.assert_array_equal(img[::f, ::f], window.last_result.mix)
    # Leave nothing on the clipboard: offscreen Qt crashes at interpreter exit when it still owns mime data.
    del mime
    QGuiApplication.clipboard().clear()


@pytest.mark.builtin
def test_a_missing_first_model_leaves_a_clear_empty_state(make_window, tmp_path):
    win = make_window()
    win.open_model(str(tmp_path / "nowhere.safetensors"))
    assert win.wait_until_idle()
    assert win.model is None and win.messages[-1][0] == "error" and "no such file" in win.messages[-1][1]
    # the centre says why and offers the two ways out; no mixer, no fake axes, no psi 0.00
    assert win.central.currentWidget() is win.empty and win.empty.isVisible()
    assert "nowhere.safetensors" in win.empty.detail.text()
    assert win.empty.builtin_button.isVisible() and win.empty.file_button.isVisible()
    assert not win.mixer.isVisible() and not win.settings_panel.isVisible()
    assert all(d.widget().currentIndex() == 1 for d in win._side_docks)  # "Open a model to see them"
    assert not win.actions_["export"].isEnabled()
    win.empty.builtin_button.click()
    assert win.wait_until_idle(60)
    assert win.model is not None and win.model.source == "builtin", win.messages
    assert win.central.currentWidget() is win.splitter and win.mixer.isVisible()
    assert all(d.widget().currentIndex() == 0 for d in win._side_docks)


def test_dropping_a_model_file_opens_it_and_a_missing_recent_entry_is_removed(window, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    from stylemixer.core.checkpoints import save_model
    from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training

    cfg = GeneratorConfig(z_dim=16, w_dim=16, mapping_layers=2, mapping_fmaps=16, resolution=8, channels=(8, 8))
    path = tmp_path / "dropped.safetensors"
    save_model(init_for_training(Generator(cfg), 1), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(
        QDropEvent(
            QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
        )
    )
    assert window.wait_until_idle()
    assert window.model.source == str(path) and window.shown_array().shape == (8, 8, 3)

    path.unlink()
    window.fill_recent_menu()
    entry = [a for a in window.actions_["recent_menu"].actions() if a.text() == str(path)][0]
    entry.trigger()
    assert window.wait_until_idle()
    assert window.messages[-1][0] == "error" and "no longer exists" in window.messages[-1][1]
    assert str(path) not in window.recent_models()
    assert window.model.source == str(path)  # what is open stays open


def test_cutoff_all_means_none(window, core):
    sp = window.settings_panel
    sp.cutoff.setValue(4)
    sp.psi.setValue(0.6)
    assert window.wait_until_idle()
    assert (window.controller.recipe.cutoff, window.controller.recipe.psi) == (4, 0.6)
    np.testing.assert_array_equal(window.shown_array(), core.mix(window.controller.recipe))
    sp.cutoff.setValue(0)
    assert sp.cutoff.text() == "all" and window.controller.recipe.cutoff is None
    assert sp.cutoff.maximum() == window.model.num_ws


def test_file_dialogs_hand_on_the_chosen_path_and_remember_its_folder(window, tmp_path, monkeypatch, qtbot):
    from stylemixer.gui.latent_actions import save_latents_dialog

    wanted = window.controller.recipe
    chosen = {}
    for dialog, key, name in (
        (window.save_recipe_dialog, "recipes", "r.json"),
        (window.export_strip_dialog, "exports", "s.png"),
        (lambda: save_latents_dialog(window), "latents", "l.npz"),
    ):
        folder = tmp_path / key
        folder.mkdir()
        chosen[key] = folder / name
        monkeypatch.setattr(window, "ask_save_path", lambda *a, p=chosen[key]: str(p))
        dialog()
        qtbot.waitUntil(chosen[key].exists, timeout=30000)
        assert window.settings.value(f"folders/{key}") == str(folder)
    monkeypatch.setattr(window, "ask_save_path", lambda *a: None)  # cancelled: nothing written, folder kept
    os.remove(chosen["recipes"])
    window.save_recipe_dialog()
    assert not chosen["recipes"].exists() and window.settings.value("folders/recipes") == str(tmp_path / "recipes")

    window.save_recipe(str(chosen["recipes"]))
    window.seed_b.spin.setValue(wanted.seed_b + 1)
    monkeypatch.setattr(window, "ask_open_path", lambda *a: str(chosen["recipes"]))
    window.open_recipe_dialog()
    qtbot.waitUntil(lambda: window.controller.recipe.seed_b == wanted.seed_b, timeout=30000)
    assert window.settings.value("folders/recipes") == str(tmp_path / "recipes")
