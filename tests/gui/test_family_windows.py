"""The real window on NVIDIA's StyleGAN2 and StyleGAN3 pickles (written by the tests in NVIDIA's format): it opens
them, mixes, shows the family's statistics, moves StyleGAN3's input transform, exports a PNG whose recipe renders
the same pixels again, and keeps its model when a broken file is opened."""

import numpy as np
from PIL import Image

from stylemixer.core.checkpoints import load_any
from stylemixer.core.export import recipe_from_png
from stylemixer.core.render import Renderer

from ..checkpoints import nvidia_writer as nw
from ..checkpoints.sg2_weights import record_for
from ..checkpoints.sg3_weights import nvidia_sg3_record, small


def _pickle(tmp_path, rec, name):
    path = tmp_path / name
    nw.write(path, nw.spec_from_record(rec))
    return path


def _pixels(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_a_stylegan2_pickle_mixes_with_modulation_statistics_and_survives_a_broken_file(make_window, tmp_path):
    path = _pickle(tmp_path, record_for({"img_resolution": 32}, 4)[2], "network-snapshot-000100.pkl")
    win = make_window(path)
    assert "StyleGAN2" in win.model_label.text() and win.model.num_ws == 8
    assert not win.controls_panel.isVisibleTo(win)  # StyleGAN2 has no input controls
    win.controller.set_capture(stats=True)
    win.mixer.rows[2].slider.setValue(700)
    assert win.wait_until_idle()
    win.stats_views.flush()
    panel = win.stats_views.panel
    assert panel.spec.title == "Modulation statistics" and "AdaIN" not in panel.title.text()
    assert set(panel.plots) == {"s", "demod", "mean_in", "std_in", "mean_out", "std_out"}
    core = Renderer(load_any(str(path)).G)
    shown = win.last_result
    np.testing.assert_array_equal(shown.mix, core.render(win.controller.recipe).mix)
    _x, y = panel.plotted("s", "mix")
    np.testing.assert_array_equal(y, shown.stats["mix"][panel.layer]["s"][0])

    broken = tmp_path / "broken.pkl"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = win.controller.recipe
    win.open_model(str(broken))
    assert win.wait_until_idle()
    assert any(kind == "error" for kind, _ in win.messages)
    assert win.model.source == str(path) and win.controller.recipe == before


def test_a_stylegan3_pickle_moves_its_input_and_exports_a_recipe_that_renders_again(make_window, tmp_path, monkeypatch):
    path = _pickle(tmp_path, nvidia_sg3_record(small("T", 64), 2), "stylegan3-t-test.pkl")
    win = make_window(path)
    assert "StyleGAN3-T" in win.model_label.text() and win.model.num_ws == 16
    assert win.controls_panel.isVisibleTo(win) and set(win.controls_panel.sliders) == {
        "translate_x",
        "translate_y",
        "rotate",
    }
    first = win.last_result.mix.copy()
    win.controls_panel.sliders["rotate"].setValue(600)  # 600 / 1000 of -180..180 degrees: 36
    win.controls_panel.sliders["translate_x"].setValue(550)
    assert win.wait_until_idle()
    recipe = win.controller.recipe
    assert dict(recipe.options) == {"rotate": 36.0, "translate_x": 0.1}
    assert not np.array_equal(win.last_result.mix, first)  # the input moved under the styles
    win.mixer.rows[5].slider.setValue(1000)
    assert win.wait_until_idle()

    target = tmp_path / "sg3.png"
    monkeypatch.setattr(win, "ask_save_path", lambda *a: str(target))
    win.actions_["export"].trigger()
    assert target.exists(), win.messages
    saved = recipe_from_png(target)
    assert saved == win.controller.recipe and saved.options == recipe.options
    again = Renderer(load_any(str(path)).G).render(saved)
    np.testing.assert_array_equal(_pixels(target), again.mix)
