import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from stylemixer.cli import main
from stylemixer.core.checkpoints import load_any
from stylemixer.core.export import recipe_from_png
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer

from ..conftest import TINY
from .test_cli_args import cli_error


def test_render_equals_library_and_embeds_recipe(tiny_model_path, tmp_path):
    out = tmp_path / "mix.png"
    rc = main(
        [
            "render",
            "--model",
            str(tiny_model_path),
            "--seed-a",
            "4",
            "--seed-b",
            "9",
            "--mix",
            "coarse=A,4-5=B,6-7=0.5",
            "--psi",
            "0.8",
            "--cutoff",
            "3",
            "-o",
            str(out),
            "--write-ab",
        ]
    )
    assert rc == 0
    rec = recipe_from_png(out)
    assert rec.seed_a == 4 and rec.seed_b == 9 and rec.weights == (0, 0, 0, 0, 1, 1, 0.5, 0.5)
    assert rec.psi == 0.8 and rec.cutoff == 3
    lib = Renderer(load_any(tiny_model_path).G).render(rec)
    assert np.array_equal(np.asarray(Image.open(out)), lib.mix)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "mix-A.png")), lib.a)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "mix-B.png")), lib.b)
    # re-render from the PNG: identical bytes
    again = tmp_path / "again.png"
    assert main(["render", "--recipe", str(out), "-o", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(out)))


def test_recipe_json_and_scale(tiny_model_path, tmp_path):
    rec = Recipe.for_model(TINY.num_ws, seed_a=1, seed_b=2, model=str(tiny_model_path)).with_weight(5, 1)
    (tmp_path / "r.json").write_text(rec.to_json())
    out = tmp_path / "big.png"
    assert main(["render", "--recipe", str(tmp_path / "r.json"), "--scale", "4", "-o", str(out)]) == 0
    big = np.asarray(Image.open(out))
    assert big.shape == (128, 128, 3)
    small = Renderer(load_any(tiny_model_path).G).render(rec).mix
    assert np.array_equal(big[::4, ::4], small)


def test_info(tiny_model_path, capsys):
    assert main(["info", str(tiny_model_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert len(info["layers"]) == TINY.num_ws and info["config"]["resolution"] == 32
    assert main(["info", str(tiny_model_path)]) == 0
    text = capsys.readouterr().out
    assert "16x16/Conv0_up" in text and "middle" in text


def test_user_errors_are_one_line_without_traceback(tiny_model_path, tmp_path, capsys):
    cases = [
        ["render", "--model", str(tmp_path / "missing.safetensors")],
        ["render", "--model", str(tiny_model_path), "--mix", "huge=B"],
        ["render", "--model", str(tiny_model_path), "--seed-a", "-5"],
        ["render", "--recipe", str(tmp_path / "none.json")],
        ["render", "--model", str(tiny_model_path), "-o", str(tmp_path / "no" / "dir.png")],
        ["info", str(tmp_path)],
    ]
    for argv in cases:
        cli_error(capsys, *argv)


@pytest.mark.subprocess
def test_a_user_error_in_a_real_process(tiny_model_path, tmp_path):
    """End to end once: `python -m stylemixer` exits with status 2 and prints one line, no traceback."""
    out = tmp_path / "x.png"
    argv = ["render", "--no-reexec", "--model", str(tiny_model_path), "--seed-a", "-5", "-o", str(out)]
    p = subprocess.run([sys.executable, "-m", "stylemixer", *argv], capture_output=True, text=True, timeout=120)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 2 and len(lines) == 1, (p.returncode, p.stderr)
    assert lines[0].startswith("stylemixer: error: seed_a: must be between 0 and"), lines
    assert not out.exists()
