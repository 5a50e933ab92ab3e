"""The command line as a newcomer meets it: --version, a mistyped command, arguments checked before the slow part,
--write-ab images that each re-render, and help text for every option."""

import argparse
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from stylemixer import __version__
from stylemixer.cli import build_parser, main
from stylemixer.core.export import recipe_from_png


def cli_error(capsys, *argv) -> str:
    """`stylemixer ARGV` run in-process: exit status 2 and one `stylemixer: error:` line on stderr, no traceback."""
    capsys.readouterr()
    code = main(list(argv))
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l.strip()]
    assert code == 2 and len(lines) == 1, (argv, code, err)
    assert lines[0].startswith("stylemixer: error:"), (argv, lines)
    return lines[0]


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"stylemixer {__version__}"
    from stylemixer.gui.app import build_parser as app_parser

    with pytest.raises(SystemExit) as e:
        app_parser().parse_args(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"stylemixer {__version__}"


def test_no_reexec_is_taken_out_wherever_it_stands(tiny_model_path, capsys):
    # the process-wide switch is not an argument of any command; in-process nothing re-executes anyway
    assert main(["--no-reexec", "--version"]) == 0
    assert capsys.readouterr().out.strip() == f"stylemixer {__version__}"
    assert main(["--no-reexec", "info", str(tiny_model_path), "--json"]) == 0
    assert main(["info", "--no-reexec", str(tiny_model_path), "--json"]) == 0
    assert "--no-reexec" in build_parser().format_help()


def test_threads_is_an_option_of_the_picture_commands(tiny_model_path, tmp_path, capsys):
    import torch

    out = tmp_path / "t.png"
    assert main(["render", "--model", str(tiny_model_path), "--threads", "2", "-o", str(out)]) == 0
    assert torch.get_num_threads() == 2 and out.exists()  # the command is the entry point: it may set threads
    assert main(["render", "--model", str(tiny_model_path), "--threads", "auto", "-o", str(out)]) == 0
    for command in ("render", "grid", "sweep"):
        line = cli_error(capsys, command, "--threads", "0", "-o", str(tmp_path / "x.png"))
        assert "--threads: 0 is outside 1-1024 (or auto)" in line, line
    assert "threads" not in {a.dest for a in _subparser(build_parser(), "info")._actions}


@pytest.mark.parametrize("word, close", [("infoo", "info"), ("rendr", "render"), ("frobnicate", None)])
def test_a_mistyped_command_is_named_and_the_commands_listed(word, close, capsys, monkeypatch):
    def no_app(argv):
        raise AssertionError(f"{word!r} opened the app")

    monkeypatch.setattr("stylemixer.cli._start_app", no_app)
    line = cli_error(capsys, word)
    assert f"unknown command {word!r}" in line
    for command in ("render", "info", "convert", "bench", "train"):
        assert command in line
    assert (f"did you mean {close}?" in line) if close else ("did you mean" not in line)


@pytest.mark.subprocess
def test_a_mistyped_command_in_a_real_process():
    """End to end once: the first word is looked at before anything starts (offscreen: were the app to open
    instead, the test would time out rather than abort)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run(
        [sys.executable, "-m", "stylemixer", "rendr", "--no-reexec"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 2 and len(lines) == 1, (p.returncode, p.stderr)
    assert lines[0].startswith("stylemixer: error: unknown command 'rendr' (did you mean render?)"), lines


def test_an_existing_file_or_a_file_name_still_goes_to_the_app():
    from stylemixer.cli import _subcommands, unknown_command

    commands = _subcommands(build_parser())
    assert unknown_command("model.pkl", commands) is None  # a file name (missing: the app says so)
    assert unknown_command("dir/model", commands) is None
    assert unknown_command("--dark", commands) is None
    assert unknown_command(os.path.basename(__file__), commands) is None


def test_render_arguments_are_checked_before_the_model_loads(tmp_path, capsys):
    # A file that is not a model: were it loaded first, the error would be about the model.
    bad_model = tmp_path / "not-a-model.safetensors"
    bad_model.write_bytes(os.urandom(2000))
    out = tmp_path / "out.png"
    cases = {
        ("--mix", "huge=B"): "mix: 'huge'",
        ("--mix", "coarse=C"): "mix: value 'C'",
        ("--scale", "0"): "scale must be a whole number of at least 1, got 0",
        ("--seed-a", str(2**32)): "seed_a: must be between 0 and 4294967295, got 4294967296",
        ("--psi", "nan"): "--psi: 'nan' is not a finite number",
        ("--cutoff", "-1"): "--cutoff: -1 is negative",
        ("-o", str(tmp_path / "missing" / "x.png")): f"the folder {tmp_path / 'missing'} does not exist",
    }
    for extra, wanted in cases.items():
        line = cli_error(capsys, "render", "--model", str(bad_model), "-o", str(out), *extra)
        assert wanted in line, (extra, line)
    assert not out.exists()
    # and the model is what fails once the arguments are right
    assert "not-a-model" in cli_error(capsys, "render", "--model", str(bad_model), "-o", str(out))


def test_write_ab_images_each_carry_their_own_recipe(tiny_model_path, tmp_path):
    out = tmp_path / "x.png"
    assert (
        main(
            [
                "render",
                "--model",
                str(tiny_model_path),
                "--seed-a",
                "3",
                "--seed-b",
                str(3_000_000_000),
                "--mix",
                "coarse=B,6-7=0.5",
                "-o",
                str(out),
                "--write-ab",
            ]
        )
        == 0
    )
    mix, a, b = (recipe_from_png(tmp_path / n) for n in ("x.png", "x-A.png", "x-B.png"))
    n = len(mix.weights)
    assert a.weights == (0.0,) * n and b.weights == (1.0,) * n
    assert (a.seed_a, a.seed_b, b.seed_b) == (3, 3_000_000_000, 3_000_000_000)
    # re-rendering each image from its own recipe gives that image, pixel for pixel
    for name in ("x.png", "x-A.png", "x-B.png"):
        again = tmp_path / f"again-{name}"
        assert main(["render", "--recipe", str(tmp_path / name), "-o", str(again)]) == 0
        with Image.open(tmp_path / name) as want, Image.open(again) as got:
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    with Image.open(tmp_path / "x-A.png") as im_a, Image.open(tmp_path / "x.png") as im_mix:
        assert not np.array_equal(np.asarray(im_a), np.asarray(im_mix))


def _subparser(parser, *path):
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("path", [("train",), ("dataset", "preview"), ("render",)])
def test_every_option_has_help_that_names_its_default(path):
    parser = _subparser(build_parser(), *path)
    text = parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        assert action.help, f"{action.option_strings} has no help"
        if action.default not in (None, False, argparse.SUPPRESS):
            assert f"(default: {action.default})" in " ".join(text.split()), action.option_strings
        elif action.default is None:
            assert "default" in action.help, f"{action.option_strings}: say what happens without it"


def test_bench_quick_is_quick_and_says_so():
    parser = _subparser(build_parser(), "bench")
    quick = next(a for a in parser._actions if "--quick" in a.option_strings)
    assert "half a minute" in quick.help and "figures mean little" in quick.help
    assert "minute" in parser.description
