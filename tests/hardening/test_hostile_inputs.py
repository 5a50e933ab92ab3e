"""Every broken or hostile model and recipe file of the corpus gets one clear message, through the API and the
command line: a ModelFileError / RecipeError (never a bare ValueError, never a hang), one escaped
`stylemixer: error:` line with exit status 2, and memory bounded by the file."""

import json
import os
import re
import subprocess
import sys
import threading

import pytest

from stylemixer.cli import main
from stylemixer.core.checkpoints import load_any
from stylemixer.core.errors import ModelFileError, RecipeError
from stylemixer.core.export import load_recipe_file

from .corpus import ANSI, model_corpus, recipe_corpus, write_all

MODELS = model_corpus()
RECIPES = recipe_corpus()


def within(seconds, fn, *args):
    """fn(*args) on a thread: ('ok', value) or ('raised', exception); fails if it does not return in time (a
    FIFO opened for reading would block forever)."""
    out = []

    def run():
        try:
            out.append(("ok", fn(*args)))
        except BaseException as e:
            out.append(("raised", e))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert out, f"{fn.__name__} did not return within {seconds} s"
    return out[0]


def check_outcome(outcome, expected, error_type):
    kind, value = outcome
    if expected == "ok":
        assert kind == "ok", f"refused: {value}"
        return
    assert kind == "raised", "accepted a broken file"
    assert isinstance(value, error_type), f"{type(value).__name__}: {value}"
    text = str(value)
    assert re.search(expected, text), text
    assert "\n" not in text and "\x1b" not in text, repr(text)


@pytest.mark.parametrize("label,name,writer,expected", MODELS, ids=[m[0] for m in MODELS])
def test_model_files_through_the_api(tmp_path, label, name, writer, expected):
    path = tmp_path / name
    writer(str(path))
    check_outcome(within(10, load_any, str(path)), expected, ModelFileError)


# Writing these three takes seconds (a 9000x9000 PNG, 100 MB compressed at level 9): the slow tier's.
SLOW_RECIPES = ("9000x9000 PNG (250 KB) with a recipe", "zTXt inflating to 100 MB", "iTXt inflating to 100 MB")


@pytest.mark.parametrize(
    "label,name,writer,expected",
    [pytest.param(*r, marks=pytest.mark.slow) if r[0] in SLOW_RECIPES else r for r in RECIPES],
    ids=[r[0] for r in RECIPES],
)
def test_recipe_files_through_the_api(tmp_path, label, name, writer, expected):
    path = tmp_path / name
    writer(str(path))
    check_outcome(within(10, load_recipe_file, str(path)), expected, RecipeError)


def one_error_line(capsys, code):
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stylemixer: error: "), repr(err)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err), repr(err)  # escaped: nothing can drive the terminal
    return lines[0]


@pytest.mark.slow
def test_every_bad_model_gives_one_line_on_the_command_line(tmp_path, capsys):
    bad = [(label, path) for label, path, expected in write_all(MODELS, str(tmp_path)) if expected != "ok"]
    for label, path in bad:
        for argv in (["info", path], ["render", "--model", path, "-o", str(tmp_path / "x.png")]):
            line = one_error_line(capsys, within(10, main, argv)[1])
            assert "Traceback" not in line, (label, line)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_every_bad_recipe_gives_one_line_on_the_command_line(tmp_path, capsys, tiny_model_path):
    for label, path, expected in write_all(RECIPES, str(tmp_path)):
        out = tmp_path / f"out-{os.path.basename(path)}.png"
        code = within(10, main, ["render", "--recipe", path, "--model", str(tiny_model_path), "-o", str(out)])[1]
        if expected == "ok":
            assert code == 0 and out.exists(), (label, capsys.readouterr().err)
            capsys.readouterr()
        else:
            one_error_line(capsys, code)
            assert not out.exists(), label


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--scale", "100000"], "scale of 100000"),
        (["--scale", "-3"], "at least 1"),
        (["--scale", "0"], "at least 1"),
        (["--scale", "4096"], "at most 16384 pixels"),
        (["--psi", "1e308"], "psi"),
        (["--psi", "nan"], "psi"),
        (["--psi", "inf"], "psi"),
        (["--cutoff", "-1"], "cutoff"),
        (["--seed-a", str(2**40)], "seed_a"),
        (["--mix", "all=1e308"], "outside"),
    ],
)
def test_bad_render_arguments(tmp_path, capsys, tiny_model_path, args, expected):
    out = tmp_path / "x.png"
    # an option's own type check is argparse's one-line usage error: main returns its status 2 too
    code = main(["render", "--model", str(tiny_model_path), "-o", str(out), *args])
    assert expected in one_error_line(capsys, code)
    assert not out.exists()


def test_convert_into_a_missing_folder_or_onto_a_folder(tmp_path, capsys, tiny_model_path):
    line = one_error_line(capsys, main(["convert", str(tiny_model_path), str(tmp_path / "no" / "m.safetensors")]))
    assert "does not exist" in line
    (tmp_path / "taken.safetensors").mkdir()
    line = one_error_line(capsys, main(["convert", str(tiny_model_path), str(tmp_path / "taken.safetensors")]))
    assert "is a folder" in line
    assert sorted(os.listdir(tmp_path)) == ["taken.safetensors"]


@pytest.mark.subprocess
def test_text_from_a_file_cannot_drive_the_terminal(tmp_path):
    """A real process: a file name and metadata with escape codes and a newline give one escaped line."""
    from .corpus import model_bytes

    path = tmp_path / f"evil{ANSI}.safetensors"
    path.write_bytes(model_bytes(metadata={"version": ANSI}))
    p = subprocess.run(
        [sys.executable, "-m", "stylemixer", "--no-reexec", "info", str(path)], capture_output=True, timeout=120
    )
    assert p.returncode == 2
    err = p.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("stylemixer: error: ") and "\x1b" not in err, repr(err)
    assert "Traceback" not in err and "\\x1b[2J" in err and "\\n" in err


@pytest.mark.subprocess
def test_memory_is_bounded_by_the_file(tmp_path):
    """In a fresh process: the small files that describe huge generators or inflate to huge texts cost no more
    than a few MB each to refuse (peak RSS measured around each load)."""
    names = [
        "res16384.safetensors",
        "channels.safetensors",
        "mapping.safetensors",
        "official-shape.safetensors",
        "dim-huge.safetensors",
        "offsets.safetensors",
    ]
    recipes = ["bomb.png", "zbomb.png", "ibomb.png", "len.png", "big.json", "cut.png"]
    models = {
        n: p
        for _, p, _ in write_all([m for m in MODELS if m[1] in names], str(tmp_path))
        for n in [os.path.basename(p)]
    }
    rec_dir = tmp_path / "recipes"
    rec_dir.mkdir()
    recs = {os.path.basename(p): p for _, p, _ in write_all([r for r in RECIPES if r[1] in recipes], str(rec_dir))}
    script = f"""
import json
from stylemixer.core.checkpoints import load_any
from stylemixer.core.export import load_recipe_file
from stylemixer.core.errors import StyleMixerError
def status(key):
    return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) / 1024
def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:  # "5" resets VmHWM, the peak RSS (Linux 4.0+)
        f.write("5")
out = {{}}
for fn, files in ((load_any, {json.dumps(models)}), (load_recipe_file, {json.dumps(recs)})):
    for name, path in files.items():
        reset_peak()
        before = status("VmRSS")
        try:
            fn(path)
        except StyleMixerError:
            pass
        out[name] = [before, status("VmHWM"), __import__("os").path.getsize(path) / 2**20]
print(json.dumps(out))
"""
    p = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)
    for name, (before, after, size_mb) in results.items():
        print(f"{name}: {size_mb:.2f} MB file, peak RSS +{after - before:.1f} MB")
        assert after - before < 16 + 2 * size_mb, (name, before, after)
