"""Seed panels: latents loaded from files, continuous seeds by dragging, live psi / cutoff sliders."""

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt

from stylemixer.core.errors import RecipeError
from stylemixer.core.latents import ws_from_seed
from stylemixer.gui.latent_actions import load_latent_file, save_latents_file

from ..conftest import TINY

L, D = TINY.num_ws, TINY.w_dim


def test_projected_latent_becomes_seed_a_and_survives_export(window, core, tiny_G, tmp_path):
    ws = ws_from_seed(tiny_G, 77)[0].numpy() * 0.9
    folder = tmp_path / "me"
    folder.mkdir()
    np.savez(folder / "projected_w.npz", w=ws[None])
    assert load_latent_file(window, "a", str(folder / "projected_w.npz"))
    assert window.wait_until_idle(30)
    r = window.controller.recipe
    assert r.latent_a is not None and np.array_equal(r.latent_a.array(), ws) and r.latent_a.name == "me"
    assert "me" in window.seed_a.latent_label.text() and window.seed_a.spin.isHidden()
    assert np.array_equal(window.last_result.mix, core.mix(r))
    png = tmp_path / "mix.png"
    assert window.export_png(str(png))
    (folder / "projected_w.npz").unlink()
    window.seed_a.clear_latent_button.click()
    assert window.wait_until_idle(30) and window.controller.recipe.latent_a is None
    assert window.open_recipe_file(str(png)) and window.wait_until_idle(30)
    assert window.controller.recipe == r and np.array_equal(window.last_result.mix, core.mix(r))
    window.controller.undo()
    assert window.controller.recipe.latent_a is None


def test_wrong_shape_latent_is_refused_with_both_shapes(window, tmp_path):
    np.savez(tmp_path / "projected_w.npz", w=np.zeros((1, 18, 512), np.float32))
    before = window.controller.recipe
    assert not load_latent_file(window, "b", str(tmp_path / "projected_w.npz"))
    msg = window.messages[-1][1]
    assert "[1, 18, 512]" in msg and f"[1, {L}, {D}]" in msg
    assert window.controller.recipe == before
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04garbage")
    assert not load_latent_file(window, "b", str(tmp_path / "bad.npz"))
    assert window.controller.recipe == before


def test_a_file_with_several_latents_asks_which(window, tmp_path, tiny_G):
    from stylemixer.core.latent_files import save_latents

    ws = ws_from_seed(tiny_G, 3)[0].numpy()
    save_latents(tmp_path / "l.npz", {"a": ws, "b": ws + 1, "mix": ws + 2})
    asked = []

    def choose(parent, title, label, items):
        asked.append(items)
        return "b"

    assert load_latent_file(window, "a", str(tmp_path / "l.npz"), choose=choose)
    assert asked[0][:3] == ["a", "b", "mix"]
    assert np.array_equal(window.controller.recipe.latent_a.array(), ws + 1)


def test_save_latents_writes_the_renderers_ws(window, core, tmp_path):
    window.controller.set_seed_value("a", 2.5)
    window.controller.preset("fine")
    assert window.wait_until_idle(30)
    path = tmp_path / "out.npz"
    save_latents_file(window, str(path))
    assert window.wait_until_idle(30)
    want = core.renderer.ws(window.controller.recipe)
    with np.load(path) as z:
        for key, w in zip(("a", "b", "mix"), want):
            assert np.array_equal(z[key][0], w[0].numpy()), key
        assert z["w"].shape == (3, L, D)


def test_drag_on_the_picture_moves_the_seed_continuously(window, core, qtbot):
    window.controller.set_seed("a", 10)
    assert window.wait_until_idle(30)
    thumb = window.seed_a.thumb
    undo_depth = len(window.controller._undo)
    c = QPoint(thumb.width() // 2, thumb.height() // 2)
    qtbot.mousePress(thumb, Qt.MouseButton.LeftButton, pos=c)
    for dx in (8, 20, 36):  # 80 px per seed
        qtbot.mouseMove(thumb, QPoint(c.x() + dx, c.y()))
        qtbot.wait(5)
    qtbot.mouseRelease(thumb, Qt.MouseButton.LeftButton, pos=QPoint(c.x() + 36, c.y()))
    assert window.wait_until_idle(30)
    r = window.controller.recipe
    assert (r.seed_a, r.frac_a) == (10, 0.45)
    assert len(window.controller._undo) == undo_depth + 1  # the whole drag is one step
    assert window.seed_a.value_label.text() == "10.45" and window.seed_a.fine.value() == 45
    assert np.array_equal(window.last_result.a, core.renderer.render(r).a)
    # near a whole seed the drag snaps to it
    qtbot.mousePress(thumb, Qt.MouseButton.LeftButton, pos=c)
    qtbot.mouseMove(thumb, QPoint(c.x() + 41, c.y()))  # 10.45 + 0.51 = 10.96 -> 11
    qtbot.mouseRelease(thumb, Qt.MouseButton.LeftButton, pos=QPoint(c.x() + 41, c.y()))
    assert window.wait_until_idle(30)
    assert (window.controller.recipe.seed_a, window.controller.recipe.frac_a) == (11, 0.0)


def test_fine_slider_and_spin(window):
    window.seed_b.fine.setValue(30)
    assert window.controller.recipe.frac_b == 0.3
    window.seed_b.spin.stepUp()  # stepping goes to whole seeds
    r = window.controller.recipe
    assert r.frac_b == 0 and r.seed_b == 2 and window.seed_b.fine.value() == 0
    try:
        window.controller.set_seed_value("b", 2**32 - 1 + 0.5)
    except RecipeError:
        pass
    assert window.controller.recipe.seed_b == 2


def test_psi_and_cutoff_sliders_render_live_as_one_undo_step(window, qtbot):
    s = window.settings_panel
    undo_depth = len(window.controller._undo)
    shown = window.results_shown
    s.psi_slider.sliderPressed.emit()
    for v in (90, 70, 50):
        s.psi_slider.setValue(v)
        assert window.wait_until_idle(30)
    s.psi_slider.sliderReleased.emit()
    r = window.controller.recipe
    assert r.psi == 0.5 and s.psi.value() == 0.5
    assert window.results_shown >= shown + 3
    assert len(window.controller._undo) == undo_depth + 1
    s.cutoff_slider.setValue(3)
    assert window.controller.recipe.cutoff == 3 and s.cutoff.value() == 3
    s.cutoff_slider.setValue(0)
    assert window.controller.recipe.cutoff is None
    window.controller.set_truncation(psi=0.8)
    assert s.psi_slider.value() == 80
    assert torch.get_num_threads() >= 1
