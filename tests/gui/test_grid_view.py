"""The mixing grid window on a real model: cells, cache reuse, newest wins, export equal to the CLI, reopening."""

import os

import numpy as np
from PIL import Image

from stylemixer.cli import main
from stylemixer.core.grid import grid_from_png
from stylemixer.gui.grid_view import open_grid_view

from ..conftest import TINY

L = TINY.num_ws


def grid_window(window, rows="1,2", cols="3-5"):
    view = open_grid_view(window)
    view.preset("coarse")
    view.set_seeds(rows, cols)
    assert window.wait_until_idle(60)
    assert view.complete, view.status.text()
    return view


def test_cells_equal_single_renders(window, core):
    view = grid_window(window)
    g = view.grid
    assert g.shape == (2, 3) and g.recipe.weights == (1, 1, 1, 1, 0, 0, 0, 0)
    for r in range(2):
        for c in range(3):
            want = core.renderer.render(g.cell(r, c))
            assert np.array_equal(view.images.cells[(r, c)], want.mix), (r, c)
            assert np.array_equal(view.images.row_images[r], want.a)
            assert np.array_equal(view.images.col_images[c], want.b)
    assert view.canvas.fresh >= {("cell", 1, 2), ("row", 1), ("col", 2)}
    assert "2 × 3 cells in" in view.status.text()


def test_a_column_change_renders_only_that_column(window):
    view = grid_window(window)
    view.edit_header("col", 1, "99")
    assert window.wait_until_idle(60) and view.complete
    assert [s.seed for s in view.grid.cols] == [3, 99, 5]
    for (r, c), start in view.images.starts.items():
        assert start == (4 if c == 1 else L), (r, c, start)  # coarse from B: the new column resumes after B's rows
    view.mixer.rows[6].slider.setValue(500)  # a weight change at w 6 resumes every cell at 6
    assert window.wait_until_idle(60) and view.complete
    assert view.grid.recipe.weights[6] == 0.5 and set(view.images.starts.values()) == {6}


def test_newest_grid_wins(make_window, heavy_model_path):
    win = make_window(heavy_model_path)
    view = open_grid_view(win)
    finished = []
    win.worker.task_finished.connect(lambda name, tid, status, msg: finished.append((tid, status)))
    first = view.task_id
    for cols in ("10,11", "12,13", "14,15"):  # faster than a grid of this model renders
        view.set_seeds("1", cols)
    assert win.wait_until_idle(120) and view.complete
    assert [s.seed for s in view.grid.cols] == [14, 15] and view.cells_done == 2
    statuses = dict(finished)
    assert statuses[view.task_id] == "done"
    assert all(statuses[t] == "cancelled" for t in statuses if t != view.task_id and t >= first)
    assert view.images.grid == view.grid


def test_export_equals_the_cli_and_reopens(window, tiny_model_path, tmp_path):
    view = grid_window(window, rows="1,2,3", cols="4-6")
    app_png = tmp_path / "app.png"
    assert view.export_png(str(app_png), scale=1)
    cli_png = tmp_path / "cli.png"
    assert (
        main(
            [
                "grid",
                "--model",
                str(tiny_model_path),
                "--rows",
                "1-3",
                "--cols",
                "4,5,6",
                "--mix",
                "coarse=B",
                "-o",
                str(cli_png),
            ]
        )
        == 0
    )
    assert np.array_equal(np.asarray(Image.open(app_png)), np.asarray(Image.open(cli_png)))
    assert grid_from_png(app_png) == grid_from_png(cli_png) == view.grid
    (tmp_path / "file").write_text("x")
    assert not view.export_png(str(tmp_path / "file" / "g.png"))
    assert "could not write" in window.messages[-1][1]
    # opening the PNG (as File > Open Recipe or a drop would) restores the grid
    view.set_seeds("7", "8")
    assert window.wait_until_idle(60)
    assert window.open_recipe_file(str(app_png))
    assert window.wait_until_idle(60)
    assert view.grid == grid_from_png(app_png) and view.complete


def test_click_a_cell_opens_the_pair(window, core, qtbot):
    from PySide6.QtCore import Qt

    view = grid_window(window)
    view.resize(900, 600)
    qtbot.wait(10)
    rect = view.canvas.slot_rect(2, 3)  # row 1, column 2 (slot 0 is the header)
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert window.wait_until_idle(30)
    want = view.grid.cell(1, 2)
    r = window.controller.recipe
    assert (r.seed_a, r.seed_b, r.weights) == (want.seed_a, want.seed_b, want.weights)
    assert np.array_equal(window.last_result.mix, core.mix(r))


def test_rows_and_columns_edit(window):
    view = grid_window(window)
    view.add_row()
    view.add_col()
    assert view.grid.shape == (3, 4) and view.grid.rows[-1].seed == 6
    view.remove_col(0)
    assert [s.seed for s in view.grid.cols] == [4, 5, 7]
    view.rows_edit.setText("1, x")
    view.rows_edit.editingFinished.emit()
    assert "not a seed" in window.messages[-1][1] and view.rows_edit.text() == "1,2,6"
    view.figure3()
    assert [s.seed for s in view.grid.rows] == [888, 829, 1898, 1733, 1614, 845]
    assert "rows 1-3 coarse, rows 4-5 middle, row 6 fine" in view.note.text()
    view.preset("swap")
    assert [s.seed for s in view.grid.cols][:2] == [888, 829]
    assert window.wait_until_idle(60)


def test_too_large_says_what_fits_and_keeps_working(window, monkeypatch):
    import stylemixer.core.grid as core_grid

    view = grid_window(window)
    monkeypatch.setattr(core_grid, "grid_budget", lambda: 200_000)
    view.set_seeds("1-20", "1-20")
    assert "at most" in window.messages[-1][1] and "fits" in window.messages[-1][1]
    assert not view.export_png(os.devnull + ".png")
    monkeypatch.undo()
    view.set_seeds("1", "2")
    assert window.wait_until_idle(60) and view.complete


def test_grid_dialogs_hand_on_the_chosen_path_and_remember_its_folder(window, tiny_G, tmp_path, monkeypatch, qtbot):
    from stylemixer.core.latents import ws_from_seed

    view = grid_window(window)
    exports, latents = tmp_path / "exports", tmp_path / "latents"
    exports.mkdir()
    latents.mkdir()
    monkeypatch.setattr(window, "ask_save_path", lambda *a: str(exports / "g.png"))
    view.export_dialog()
    qtbot.waitUntil((exports / "g.png").exists, timeout=30000)
    assert window.settings.value("folders/exports") == str(exports)
    ws = ws_from_seed(tiny_G, 77)[0].numpy()
    np.savez(latents / "projected_w.npz", w=ws[None])
    monkeypatch.setattr(window, "ask_open_path", lambda *a: str(latents / "projected_w.npz"))
    view.load_latent("row", 1)
    assert window.settings.value("folders/latents") == str(latents)
    assert window.wait_until_idle(60) and view.complete
    assert np.array_equal(view.grid.rows[1].latent.array(), ws)
    monkeypatch.setattr(window, "ask_open_path", lambda *a: None)  # cancelled: nothing changes, folder kept
    before = view.grid
    view.load_latent("row", 0)
    assert view.grid == before and window.settings.value("folders/latents") == str(latents)
