"""A storm of 500 slider, seed and truncation changes always ends on the picture of the final state; the app
process exits promptly when its window is closed while a load is stuck."""

import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest

EXIT_SCRIPT = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from stylemixer.core.checkpoints import load_any
from stylemixer.gui.app import leave
from stylemixer.gui.main_window import MainWindow
from stylemixer.gui.settings import open_settings

fifo, model, ini = sys.argv[1:4]

def loader(path, device, progress=None):
    if path == fifo:
        with open(fifo, "rb") as f:  # a read that never returns: nobody writes to this FIFO
            f.read()
    return load_any(path, device, progress)

app = QApplication([])
win = MainWindow(settings=open_settings(ini), device="cpu", dialogs=False, loader=loader)
win.show()
win.open_model(model)
win.wait_until_idle(60)
win.open_model(fifo)
closed = []
QTimer.singleShot(300, lambda: (closed.append(time.monotonic()), win.close()))
code = app.exec()
print(f"event loop left {time.monotonic() - closed[0]:.2f} s after close", flush=True)
sys.exit(leave(code))
"""


@pytest.mark.subprocess
def test_the_app_process_exits_when_closed_during_a_stuck_load(tmp_path, tiny_model_path):
    fifo = tmp_path / "stuck.safetensors"
    os.mkfifo(fifo)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": os.pathsep.join(sys.path)}
    t0 = time.monotonic()
    p = subprocess.Popen(
        [sys.executable, "-c", EXIT_SCRIPT, str(fifo), str(tiny_model_path), str(tmp_path / "s.ini")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:  # never leave it behind; release its read first
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            p.kill()
    print(out.strip(), f"(whole run {time.monotonic() - t0:.1f} s)")
    assert p.returncode == 0, err
    assert "Destroyed while thread" not in err and "Traceback" not in err, err
    left = float(out.split("event loop left ")[1].split(" s")[0])
    assert left < 1.0
    assert (tmp_path / "s.ini").exists()  # the settings were written before leaving


def test_a_storm_of_500_changes_ends_on_the_final_picture(window, core, qtbot):
    """Sliders dragged, seeds stepped, truncation changed and undo pressed in a random burst with the event
    loop turning in between (as a hand on a mouse would): after each storm the shown picture is the core's
    render of the final recipe. Three storms; the renders stay a fraction of the changes."""
    rng = random.Random(14)
    rows = window.mixer.rows
    done_before = window.worker.renders_done
    for _storm in range(3):
        for i in range(500):
            action = rng.random()
            if action < 0.75:
                rows[rng.randrange(len(rows))].slider.setValue(rng.randrange(0, 1001))
            elif action < 0.85:
                (window.seed_a if rng.random() < 0.5 else window.seed_b).spin.setValue(rng.randrange(0, 50))
            elif action < 0.93:
                window.settings_panel.psi.setValue(rng.choice([0.5, 0.7, 1.0]))
            else:
                window.actions_["undo"].trigger()
            if i % 7 == 0:
                qtbot.wait(1)
        assert window.wait_until_idle(60)
        r = window.controller.recipe
        assert window.last_result.request.recipe == r
        np.testing.assert_array_equal(window.shown_array(), core.mix(r))
    renders = window.worker.renders_done - done_before
    print(f"3 storms of 500 changes: {renders} renders")
    assert renders < 1500
