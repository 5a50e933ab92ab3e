"""The window on the screens a newcomer has: a 1280x720 laptop (also at 150 % scaling, and with a desktop panel and a
title bar taking room), and 1600x1000. Each case starts the real window in a fresh interpreter on an offscreen
screen of that size (tests/gui/screen_probe.py) with an 18-row (1024 px) model, on fresh settings."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.subprocess

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "screen_probe.py")


@pytest.fixture(scope="module")
def model_1024(tmp_path_factory):
    """The official 1024 px layout (18 w indices) with narrow layers, so it renders in a fraction of a second."""
    from stylemixer.core.checkpoints import save_model
    from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training

    cfg = GeneratorConfig(
        z_dim=32,
        w_dim=32,
        mapping_layers=2,
        mapping_fmaps=32,
        resolution=1024,
        channels=(16, 16, 16, 16, 8, 8, 4, 4, 4),
    )
    path = tmp_path_factory.mktemp("m1024") / "narrow1024.safetensors"
    save_model(init_for_training(Generator(cfg), 0), path)
    return path


def probe(tmp_path, model, width, height, dpr=1.0, shorter=0) -> dict:
    config = tmp_path / "screen.json"
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "test",
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": height,
                        "logicalDpiX": 96,
                        "logicalDpiY": 96,
                        "dpr": dpr,
                    }
                ]
            }
        )
    )
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    args = [sys.executable, PROBE, str(model), str(tmp_path / "settings.ini")]
    if shorter:
        args += ["--shorter", str(shorter)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    lines = [l for l in p.stdout.splitlines() if l.startswith("PROBE ")]
    assert p.returncode == 0 and lines, p.stdout + p.stderr
    out = json.loads(lines[-1][len("PROBE ") :])
    print(out)
    return out


def everything_fits(out):
    assert out["window_on_screen"], out
    assert out["status_bar_shown"], out
    assert out["rows"] == 18 and out["rows_in_view"] == 18, out
    assert out["stats_summary_in_view"] and out["stats_export_in_view"] and not out["stats_hscroll"], out
    # the feature-map panel at its default dock width: no horizontal scroll bar, every control reachable
    assert out["feature_dock_width"] <= 420, out
    assert not out["feature_hscroll"] and out["feature_save_in_view"] and out["feature_controls_in_view"], out
    assert out["montage_columns_fit"], out
    assert not out["feature_hscroll_with_channel"] and not out["channel_text_clipped"], out


def test_a_1280x720_laptop(tmp_path, model_1024):
    out = probe(tmp_path, model_1024, 1280, 720)
    everything_fits(out)
    assert not out["thumbnails"]  # they make room for the rows


def test_150_percent_scaling_with_a_panel_and_a_title_bar(tmp_path, model_1024):
    # 1920x1080 at 150 % is 1280x720 logical pixels; a desktop panel and a title bar take another 64
    out = probe(tmp_path, model_1024, 1280, 720, dpr=1.5, shorter=64)
    assert out["dpr"] == 1.5
    everything_fits(out)


def test_a_1600x1000_screen(tmp_path, model_1024):
    out = probe(tmp_path, model_1024, 1600, 1000)
    everything_fits(out)
    assert out["thumbnails"]
    _x, _y, w, h = out["frame"]
    assert (w, h) <= (1480 + 8, 900 + 8)  # the preferred size, centred, not the whole screen


def test_a_geometry_saved_on_a_larger_screen_is_pulled_onto_a_smaller_one(tmp_path, model_1024):
    """Quit on a 1600x1000 screen, start again on 1280x720 (a laptop undocked): the window fits the new screen."""
    big = probe(tmp_path, model_1024, 1600, 1000)
    assert big["frame"][2] > 1280 or big["frame"][3] > 720  # the remembered window is larger than the laptop
    small = probe(tmp_path, model_1024, 1280, 720)  # the same settings file
    assert small["window_on_screen"] and small["status_bar_shown"], small
    assert small["rows_in_view"] == 18, small
