"""Broken and hostile files opened in the real window: each gives one error message (plain text, escaped), and
the model, the recipe and rendering keep working afterwards. The same corpus the API and CLI tests use."""

import os
import re
import threading
import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from stylemixer.core.checkpoints import load_any
from stylemixer.core.errors import ModelFileError
from stylemixer.gui.worker import abandoned_running

from ..hardening.corpus import (
    ANSI,
    big_idat,
    chunk,
    model_bytes,
    model_corpus,
    png,
    recipe_corpus,
    recipe_json,
    text_chunk,
    write_all,
)

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _bad(corpus):
    return [c for c in corpus if c[3] != "ok"]


def test_every_bad_file_leaves_the_model_the_recipe_and_rendering_working(window, core, tmp_path):
    window.mixer.rows[2].slider.setValue(600)
    window.seed_b.spin.setValue(21)
    assert window.wait_until_idle()
    model, recipe, shown = window.model, window.controller.recipe, window.shown_array()
    (tmp_path / "m").mkdir()
    (tmp_path / "r").mkdir()
    opened = [(window.open_model, f) for f in write_all(_bad(model_corpus()), str(tmp_path / "m"))]
    opened += [(window.open_recipe_file, f) for f in write_all(_bad(recipe_corpus()), str(tmp_path / "r"))]
    opened += [(window.open_path, f) for _, f in opened]  # dropped or given on the command line
    for how, (label, path, _) in opened:
        n = len(window.messages)
        how(path)
        assert window.wait_until_idle(30), label
        assert len(window.messages) == n + 1, (label, window.messages[n:])
        kind, text = window.messages[-1]
        assert kind == "error" and not CONTROL.search(text), (label, text)
        assert window.model is model and window.controller.recipe == recipe, label
        np.testing.assert_array_equal(window.shown_array(), shown)
    print(f"{len(opened)} bad files opened in the window")
    window.mixer.rows[3].slider.setValue(250)  # the window still renders, exactly as the core does
    assert window.wait_until_idle()
    assert window.controller.recipe.weights[3] == 0.25
    np.testing.assert_array_equal(window.shown_array(), core.mix(window.controller.recipe))


def test_a_huge_png_recipe_opens_without_decoding_the_image(window, tmp_path, tiny_model_path):
    """250 KB on disk, 9000x9000 pixels: the recipe is read from its text chunk (a decode would need 243 MB)."""
    text = recipe_json(model=str(tiny_model_path), seed_a=77, weights=[1.0] * 8)
    path = tmp_path / "huge.png"
    path.write_bytes(
        png([text_chunk(text)], 9000, 9000, image=False, end=False) + big_idat(9000, 9000) + chunk(b"IEND", b"")
    )
    window.open_recipe_file(str(path))
    assert window.wait_until_idle()
    assert window.controller.recipe.seed_a == 77 and window.controller.recipe.weights == (1.0,) * 8, window.messages


def test_models_with_unusable_defaults_never_replace_the_working_one(window, core, tmp_path):
    from ..hardening.corpus import with_config

    model = window.model
    for i, changes in enumerate(
        [dict(truncation_psi=float("nan")), dict(truncation_cutoff=-3), dict(crop=[0, 0, 0, 0]), dict(crop=[1, 2, 3])]
    ):
        path = tmp_path / f"defaults-{i}.safetensors"
        path.write_bytes(with_config(**changes))
        window.open_model(str(path))
        assert window.wait_until_idle()
        assert window.model is model and window.messages[-1][0] == "error"
    window.seed_a.spin.setValue(5)
    assert window.wait_until_idle()
    np.testing.assert_array_equal(window.shown_array(), core.mix(window.controller.recipe))


def test_message_boxes_and_labels_show_file_text_as_plain_text(make_window, tmp_path, tiny_G):
    from stylemixer.core.checkpoints import save_model

    path = tmp_path / "<b>bold<img src=x>.safetensors"  # no "/" in a file name: unclosed tags are markup too
    save_model(tiny_G, path)
    win = make_window(path)
    win.dialogs = True  # real message boxes from here on (opened without a nested event loop)
    assert win.model_label.textFormat() == Qt.TextFormat.PlainText
    assert "<b>bold<img src=x>" in win.model_label.text()
    forged = tmp_path / f"<font color=green>Model verified - safe<br>{ANSI.replace('/', '')}.safetensors"
    forged.write_bytes(model_bytes(metadata={"version": ANSI}))
    win.open_model(str(forged))
    assert win.wait_until_idle()
    boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
    assert boxes, win.messages
    box = boxes[-1]
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert "<font color=green>" in box.text() and "\\x1b" in box.text() and not CONTROL.search(box.text())
    for b in boxes:
        b.close()


def test_closing_while_a_load_is_stuck_exits_within_a_second(make_window, tiny_model_path, tmp_path):
    """A load blocked for good inside a read (here a real FIFO nobody writes to, opened the way a careless
    reader would) must not hold the window: it closes at once and the worker is abandoned, then ends quietly
    when the read returns."""
    fifo = str(tmp_path / "stuck.safetensors")
    os.mkfifo(fifo)
    entered = threading.Event()

    def loader(path, device, progress=None):
        if path == fifo:
            entered.set()
            with open(fifo, "rb") as f:  # blocks in the kernel until a writer appears
                f.read()
            raise ModelFileError("released")
        return load_any(path, device, progress)

    win = make_window(tiny_model_path, loader=loader)
    n = len(win.messages)
    win.open_model(fifo)
    assert entered.wait(10)
    time.sleep(0.05)
    t0 = time.perf_counter()
    win.close()
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, f"closing took {elapsed:.2f} s"
    assert not win.isVisible() and win.worker.isRunning() and abandoned_running()
    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # a writer comes and goes: the read returns
    assert win.worker.wait(10_000)
    QApplication.processEvents()
    assert not abandoned_running() and len(win.messages) == n  # the abandoned load reported nothing
