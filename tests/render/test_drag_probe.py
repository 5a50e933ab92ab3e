"""tools/drag_probe.py drives the real window: a short drag on a tiny model moves the weight and shows pictures."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "drag_probe.py"


@pytest.mark.subprocess
def test_a_short_drag_moves_the_slider_and_reports(tiny_model_path, tmp_path):
    out = tmp_path / "drag.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    p = subprocess.run(
        [
            sys.executable,
            str(TOOL),
            "--model",
            str(tiny_model_path),
            "--seconds",
            "1",
            "--index",
            "5",
            "--threads",
            "1",
            "--json",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert rep["index"] == 5 and rep["mouse_moves"] >= 10
    assert rep["weight_before"] == 0.0 and rep["weight_after"] > 0.1  # the real slider moved under the mouse
    assert rep["pictures_shown"] >= 3 and rep["fps"] > 0
    assert rep["longest_gui_stall_ms"] > 0
