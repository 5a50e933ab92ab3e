"""`stylemixer grid` and `stylemixer sweep`: the same core, files that render again, one-line errors."""

import os

import numpy as np
from PIL import Image

from stylemixer.cli import main
from stylemixer.core.checkpoints import load_any
from stylemixer.core.grid import compose, grid_from_png, render_grid
from stylemixer.core.render import Renderer
from stylemixer.core.sweep import sweep_from_file


def test_grid_command_equals_the_core_and_renders_again(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert (
        main(
            [
                "grid",
                "--model",
                str(tiny_model_path),
                "--rows",
                "1,2,3",
                "--cols",
                "4-6",
                "--mix",
                "coarse=B",
                "--psi",
                "0.9",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "cells 9/9" in capsys.readouterr().err
    g = grid_from_png(out)
    assert [s.seed for s in g.rows] == [1, 2, 3] and [s.seed for s in g.cols] == [4, 5, 6]
    assert g.recipe.psi == 0.9 and g.recipe.weights[:4] == (1, 1, 1, 1)
    images = render_grid(Renderer(load_any(str(tiny_model_path)).G, cache=False), g)
    assert np.array_equal(np.asarray(Image.open(out)), compose(images))
    again = tmp_path / "again.png"
    assert main(["grid", "--recipe", str(out), "-o", str(again), "--scale", "2"]) == 0
    # enlarged 2x with the same 2 px gaps: every other pixel is the 1x grid with 1 px gaps
    assert np.array_equal(np.asarray(Image.open(again))[::2, ::2], compose(images, scale=1, gap=1))


def test_figure3_command(tiny_model_path, tmp_path):
    out = tmp_path / "f3.png"
    assert main(["grid", "--model", str(tiny_model_path), "--figure3", "--gap", "0", "-o", str(out)]) == 0
    assert Image.open(out).size == (6 * 32, 7 * 32)
    assert len(grid_from_png(out).row_weights) == 6


def test_sweep_command_and_re_render_from_the_video(tiny_model_path, tmp_path, capsys):
    for ext in ("gif", "mp4"):
        out = tmp_path / f"s.{ext}"
        assert (
            main(
                [
                    "sweep",
                    "--model",
                    str(tiny_model_path),
                    "--seed-a",
                    "1",
                    "--seed-b",
                    "2",
                    "--control",
                    "w5",
                    "--frames",
                    "4",
                    "--pingpong",
                    "-o",
                    str(out),
                ]
            )
            == 0
        )
        assert "frames 6/6" in capsys.readouterr().err
        s = sweep_from_file(out)
        assert s.indices == (5,) and s.frame_count == 6 and s.recipe.seed_b == 2
        again = tmp_path / f"again.{ext}"
        assert main(["sweep", "--sweep", str(out), "-o", str(again)]) == 0
        assert sweep_from_file(again) == s
    # a GIF is lossless up to its palette: rendering the sweep again gives the same frames
    a, b = Image.open(tmp_path / "s.gif"), Image.open(tmp_path / "again.gif")
    assert a.n_frames == b.n_frames == 6
    for i in range(6):
        a.seek(i), b.seek(i)
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))
    walk = tmp_path / "walk.gif"
    assert (
        main(
            [
                "sweep",
                "--model",
                str(tiny_model_path),
                "--control",
                "walk",
                "--seeds",
                "1,5,9",
                "--frames",
                "5",
                "-o",
                str(walk),
            ]
        )
        == 0
    )
    assert sweep_from_file(walk).seeds == (1, 5, 9)


def test_errors_are_one_line(tiny_model_path, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    np.savez(tmp_path / "big.npz", w=np.zeros((1, 18, 512), np.float32))
    cases = [
        ["grid", "--model", str(tiny_model_path), "--rows", "1,x", "--cols", "2"],
        ["grid", "--model", str(tiny_model_path), "--rows", "1"],
        ["grid", "--model", str(tiny_model_path), "--rows", "1", "--cols", "2", "-o", str(tmp_path / "file" / "g.png")],
        ["grid", "--recipe", str(tmp_path / "file")],
        ["sweep", "--model", str(tiny_model_path), "--control", "w99"],
        ["sweep", "--model", str(tiny_model_path), "-o", str(tmp_path / "s.avi")],
        ["sweep", "--model", str(tiny_model_path), "-o", str(tmp_path / "file" / "s.gif")],
        ["sweep", "--sweep", str(tmp_path / "file")],
        ["render", "--model", str(tiny_model_path), "--latent-b", str(tmp_path / "big.npz")],
        ["render", "--model", str(tiny_model_path), "--latent-a", str(tmp_path / "none.npz")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert err and err[-1].startswith("stylemixer: error:") and "Traceback" not in "".join(err), (argv, err)
    assert sorted(os.listdir(tmp_path)) == ["big.npz", "file"]


def test_latents_command_writes_per_seed_w_and_w_plus(tiny_model_path, tmp_path):
    from stylemixer.core.latent_files import load_latent
    from stylemixer.core.mixing import Recipe

    G = load_any(str(tiny_model_path)).G
    r = Renderer(G)
    out = tmp_path / "seeds.npz"
    assert (
        main(
            [
                "latents",
                "--model",
                str(tiny_model_path),
                "--seeds",
                "1-3,4.5",
                "--psi",
                "0.6",
                "--cutoff",
                "3",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    for key, (seed, frac) in {"seed_1": (1, 0), "seed_3": (3, 0), "seed_4.5": (4, 0.5)}.items():
        latent = load_latent(f"{out}:{key}", G.num_ws, G.w_dim)
        want = r.ws(Recipe.for_model(G.num_ws, seed_a=seed, frac_a=frac, psi=0.6, cutoff=3))[0][0].numpy()
        assert np.array_equal(latent.array(), want), key
    with np.load(out) as z:
        assert z["w"].shape == (4, G.num_ws, G.w_dim)
    w_out = tmp_path / "w.npz"
    assert main(["latents", "--model", str(tiny_model_path), "--seeds", "2", "--kind", "w", "-o", str(w_out)]) == 0
    latent = load_latent(f"{w_out}:seed_2", G.num_ws, G.w_dim)
    assert latent.kind == "W"
    assert np.array_equal(latent.fit(G.num_ws, G.w_dim), r.ws(Recipe.for_model(G.num_ws, seed_a=2))[0][0].numpy())
    assert (
        main(
            [
                "latents",
                "--model",
                str(tiny_model_path),
                "--seeds",
                "2",
                "--kind",
                "w",
                "--psi",
                "0.5",
                "--cutoff",
                "2",
                "-o",
                str(tmp_path / "bad.npz"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "bad.npz").exists()
