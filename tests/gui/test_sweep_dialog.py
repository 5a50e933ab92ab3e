"""The sweep dialog on a real model: preview, GIF and MP4 export with progress, Cancel leaves nothing."""

import os

import av
import numpy as np
from PIL import Image

from stylemixer.core.sweep import sweep_from_file
from stylemixer.gui.sweep_dialog import open_sweep_dialog

from ..conftest import TINY


def test_preview_frames_are_the_sweeps_renders(window, core):
    dlg = open_sweep_dialog(window)
    dlg.set_control("weights", (5,))
    dlg.frames_spin.setValue(4)
    dlg.preview()
    assert window.wait_until_idle(60)
    sweep = dlg.preview_sweep
    assert len(dlg.frames) == 4 and dlg.timer.isActive()
    from stylemixer.gui.imaging import from_qimage

    for i, img in enumerate(dlg.frames):
        assert np.array_equal(from_qimage(img), core.mix(sweep.frame(i))), i


def test_export_gif_and_mp4(window, tmp_path):
    tmp_path = tmp_path / "out"  # the window's settings file lives in tmp_path itself
    tmp_path.mkdir()
    window.controller.preset("coarse")
    dlg = open_sweep_dialog(window)
    dlg.set_control("seed_a", ())
    dlg.start.setValue(2)
    dlg.end.setValue(4)
    dlg.frames_spin.setValue(6)
    dlg.pingpong.setChecked(True)
    dlg.scale.setValue(2)
    for ext in ("gif", "mp4"):
        path = tmp_path / f"s.{ext}"
        dlg.export(str(path))
        assert not dlg.buttons["gif"].isEnabled() and dlg.buttons["cancel"].isEnabled()
        assert window.wait_until_idle(60)
        assert dlg.last_status == "done" and dlg.progress.value() == 10
        s = sweep_from_file(path)
        assert s == dlg.sweep() and s.frame_count == 10 and s.recipe.weights[:4] == (1, 1, 1, 1)
        if ext == "gif":
            with Image.open(path) as im:
                assert im.n_frames == 10 and im.size == (2 * TINY.resolution,) * 2
        else:
            with av.open(str(path)) as c:
                assert sum(1 for _ in c.decode(video=0)) == 10
    assert sorted(os.listdir(tmp_path)) == ["s.gif", "s.mp4"]


def test_cancel_in_the_middle_leaves_no_file_and_the_app_keeps_working(make_window, heavy_model_path, tmp_path, qtbot):
    win = make_window(heavy_model_path)
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    dlg = open_sweep_dialog(win)
    dlg.set_control("weights", (0,))
    dlg.frames_spin.setValue(200)
    for ext in ("mp4", "gif"):
        dlg.export(str(tmp_path / f"long.{ext}"))
        qtbot.waitUntil(lambda: dlg.progress.value() >= 2, timeout=60_000)
        assert any(n.endswith(f".part.{ext}") for n in os.listdir(tmp_path))  # being written beside the target
        dlg.buttons["cancel"].click()
        assert win.wait_until_idle(60)
        assert dlg.last_status == "cancelled" and "nothing was written" in dlg.status.text()
        assert os.listdir(tmp_path) == [], os.listdir(tmp_path)
        assert dlg.buttons["gif"].isEnabled()
    win.controller.set_seed("a", 5)
    assert win.wait_until_idle(60) and win.last_result.request.recipe.seed_a == 5


def test_unwritable_folder(window, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    (tmp_path / "file").write_text("x")
    dlg = open_sweep_dialog(window)
    dlg.frames_spin.setValue(3)
    dlg.export(str(tmp_path / "file" / "s.gif"))
    assert window.wait_until_idle(60)
    assert dlg.last_status == "failed" and "could not write" in window.messages[-1][1]
    assert os.listdir(tmp_path) == ["file"]
