"""`stylemixer bench`: the FLOP count, and a quick run of the real command end to end."""

import json
import os
import subprocess
import sys

import pytest
import torch

from stylemixer.cli import main
from stylemixer.core.families.stylegan1.network import GeneratorConfig, default_channels
from stylemixer.core.families.stylegan1.topology import flops as synthesis_flops
from stylemixer.core.perf import TUNABLES, allocator_env

from ..conftest import TINY


def test_flop_count_by_hand_for_the_tiny_shape():
    # TINY: channels 32/32/16/8 at 4/8/16/32 px, w_dim 32, no fused up-convs below 128 px.
    f = synthesis_flops(TINY)
    elem = lambda c, r: 11 * c * r * r + 2 * 32 * 2 * c
    assert f[0] == elem(32, 4)
    assert f[1] == 2 * 32 * 32 * 9 * 16 + elem(32, 4)
    assert f[2] == 2 * 32 * 32 * 9 * 64 + 2 * 9 * 32 * 64 + elem(32, 8)
    assert f[6] == 2 * 16 * 8 * 9 * 32 * 32 + 2 * 9 * 8 * 32 * 32 + elem(8, 32)
    assert f[7] == 2 * 8 * 8 * 9 * 32 * 32 + elem(8, 32) + 2 * 8 * 3 * 32 * 32


def test_official_1024_shape_is_about_64_gflop_with_fused_up_convs():
    cfg = GeneratorConfig()
    assert cfg.channels == default_channels(1024)
    f = synthesis_flops(cfg)
    # 128 px: a 4x4 transposed conv at stride 2 (256 -> 128 channels from 64 px) plus the blur.
    assert f[10] == 2 * 256 * 128 * 16 * 64 * 64 + 2 * 9 * 128 * 128 * 128 + 11 * 128 * 128 * 128 + 2 * 512 * 2 * 128
    assert 60e9 < sum(f.values()) < 68e9


@pytest.mark.slow
def test_quick_bench_writes_a_complete_report(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--quick",
                "--no-launch",
                "--silent",
                "--model",
                str(tiny_model_path),
                "--big-resolution",
                "16",
                "--frames",
                "2",
                "--threads",
                "1",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "fp32 matmul" in table and "changing only w index k" in table and "1 thread:" in table
    rep = json.loads(out.read_text())
    assert rep["matmul_gflops"] > 0
    small = rep["builtin"]
    assert small["label"] == "tiny.safetensors"
    assert set(small["scenarios"]) == {"seed", "coarse", "fine", "seed+stats", "coarse+stats", "fine+stats"}
    for row in small["scenarios"].values():
        assert row["cached"]["n"] == 2 and row["cached"]["median_ms"] > 0 and row["speedup"] > 0
    assert "full_render_pct" in small["stats_overhead"]
    big = rep["big"]
    assert big["config"]["resolution"] == 16 and len(big["per_index"]) == 6
    assert big["full_synthesis"]["gflops"] > 0 and big["peak_rss_mb"] > 0
    # --threads 1: the full synthesis is timed with that count only, against the rates with as many threads
    assert list(big["full_synthesis_by_threads"]) == ["1"] and big["full_synthesis"]["threads"] == 1
    assert big["full_synthesis"]["pct_of_conv3x3"] > 0 and big["picture_from_scratch_ms"]["n"] == 1
    # ... and against the convolution timed right before each synthesis; the band loop's count is reported
    assert big["full_synthesis"]["pct_of_conv3x3_beside"] > 0 and big["full_synthesis"]["band_threads"] == 1
    assert "of the conv timed beside each synthesis" in table
    assert len(big["cache_fill_ms"]) >= 1  # the per-index table is timed with the cache full


def test_allocator_env_adds_the_tunables_once_and_keeps_the_users():
    env = allocator_env({"GLIBC_TUNABLES": "glibc.malloc.check=0:glibc.malloc.arena_max=4"})
    assert env["GLIBC_TUNABLES"] == (
        "glibc.malloc.check=0:glibc.malloc.arena_max=4:" + ":".join(t for t in TUNABLES if "arena_max" not in t)
    )
    assert allocator_env(env)["GLIBC_TUNABLES"] == env["GLIBC_TUNABLES"]
    assert allocator_env({})["GLIBC_TUNABLES"] == ":".join(TUNABLES)
    assert TUNABLES[0] == "glibc.malloc.hugetlb=1" and "glibc.malloc.mmap_max=0" in TUNABLES


@pytest.mark.subprocess
def test_launch_time_starts_the_real_app_and_sees_its_first_image(tiny_model_path):
    from stylemixer.benchmarks.bench import launch_time

    res = launch_time(timeout=60, model=tiny_model_path)
    assert res.get("error") is None, res
    assert 0.3 < res["seconds"] < 60  # at least the imports of torch and Qt; never a hang


@pytest.mark.subprocess
def test_launch_time_gives_up_on_an_app_that_shows_nothing(tmp_path):
    from stylemixer.benchmarks.bench import launch_time

    bad = tmp_path / "not-a-model.safetensors"
    bad.write_bytes(b"garbage")
    res = launch_time(timeout=4, model=bad)  # an error message instead of a picture
    assert res["seconds"] is None and "no first image" in res["error"]


def test_quick_family_sections_run_end_to_end(tmp_path, capsys):
    # Narrow 64 px stand-ins of StyleGAN2 config F and StyleGAN3-T/-R: the code paths of the 1024 px sections.
    out = tmp_path / "families.json"
    argv = ["bench", "--quick", "--silent", "--threads", "1", "--json", str(out)]
    assert main(argv + ["--family", "stylegan2,stylegan3-t,stylegan3-r"]) == 0
    table = capsys.readouterr().out
    assert "StyleGAN2 config F 64px narrow" in table and "previews/s" in table and "filtered lrelu" in table
    rep = json.loads(out.read_text())
    assert rep["families"] == ["stylegan2", "stylegan3-t", "stylegan3-r"]
    assert "builtin" not in rep and "big" not in rep and "launch" not in rep  # only the sections asked for
    sg2 = rep["stylegan2"]
    assert sg2["config"]["resolution"] == 64 and len(sg2["per_index"]) == 10
    assert sg2["full_synthesis"]["gflops"] > 0 and sg2["full_synthesis"]["cpu_ms"] >= 0
    for key in ("load_avg_before", "load_avg_after", "seconds", "cpu_seconds", "peak_rss_mb"):
        assert key in sg2
    assert set(sg2["preview_drag"]) == {"coarse", "middle", "fine"}
    for drag in sg2["preview_drag"].values():
        assert set(drag["sweeps"]) == {"out", "back"} and drag["pictures_per_s"] > 0
        assert drag["sweeps"]["out"]["render_ms"]["n"] == drag["moves_per_sweep"]
    every = sg2["drag_every_index"]
    assert sorted(every, key=int) == [str(k) for k in range(10)]
    for k, row in every.items():
        assert row["pictures_per_s"] > 0 and row["preview_px"]  # the quick section always previews
        if int(k) <= 7:  # up to w 7, which finishes the 32 px picture: a preview shows the change
            assert row["whole_images"] == 0 and row["preview_px"][-1] >= 4 * 2 ** ((int(k) - 1) // 2)
        else:  # the 64 px block's conv and ToRGB: only the whole image shows them
            assert row["whole_images"] == 3
    assert "drag per w index" in table
    targets = sg2["targets"]
    assert targets["previews_per_s"]["target"] == 20 and isinstance(targets["previews_per_s"]["met"], bool)
    assert targets["nvidia_reference_cpu"]["met"] is None  # NVIDIA's figures are for 1024 px only
    assert [q["ms"] for q in targets["nvidia_reference_cpu"]["quoted_ms"]] == [11443, 16467, 12286]
    for name in ("stylegan3-t", "stylegan3-r"):
        sg3 = rep[name]
        assert sg3["variant"] == name[-1].upper() and len(sg3["config"]["layers"]) == 15
        assert set(sg3["resume"]) == {"0", "12", "13", "14", "15"}
        for k, row in sg3["resume"].items():
            assert row["start"] == int(k) and row["ms"] > 0  # each render resumed where it was meant to
        assert sg3["resume"]["0"]["speedup"] == 1.0 and sg3["full_frame"]["ms"] == sg3["resume"]["0"]["ms"]
        fl = sg3["filtered_lrelu"]
        assert 0 < fl["share"] < 1 and 0 < fl["ms"] < sg3["full_frame"]["ms"]
        assert sg3["cache_fill_ms"]["ms"] > 0


def test_an_unknown_family_is_one_error_line_before_any_timing(capsys):
    assert main(["bench", "--family", "stylegan4", "--json", ""]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown --family stylegan4" in err[0] and "stylegan3-r" in err[0]


def test_the_filtered_lrelu_timer_gives_the_layers_their_own_objects_back():
    from stylemixer.benchmarks.families import FilteredLReLUTimer, stylegan3_generator

    G = stylegan3_generator("T", 64, narrow=True)
    before = [G.synthesis.layer(i).flrelu for i in range(len(G.cfg.layers))]
    ws = G.mapping(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(0)))
    with torch.inference_mode():
        plain = G.synthesis(ws)
        with FilteredLReLUTimer(G) as timer:
            timed = G.synthesis(ws)
    assert torch.equal(plain, timed)  # the wrapper changes no number
    assert [G.synthesis.layer(i).flrelu for i in range(len(G.cfg.layers))] == before
    wall, cpu = timer.seconds()
    assert wall > 0 and cpu > 0


@pytest.mark.subprocess
def test_the_app_and_the_other_commands_never_import_the_bench():
    # `import stylemixer`, the command line's parser (every subcommand registered), the app's modules: the
    # bench's code is imported only when `stylemixer bench` runs.
    code = (
        "import sys, stylemixer, stylemixer.cli\n"
        "stylemixer.cli.build_parser()\n"
        "import stylemixer.gui.app, stylemixer.gui.main_window\n"
        "bad = [m for m in sys.modules if m.startswith('stylemixer.bench')]\n"
        "assert not bad, bad\n"
        "stylemixer.cli.build_parser().parse_args(['bench', '--quick'])\n"
        "assert not [m for m in sys.modules if m.startswith('stylemixer.bench')]\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr


def test_the_launch_probe_is_an_app_option_not_an_environment_switch():
    from stylemixer.benchmarks import bench
    from stylemixer.gui.app import build_parser as app_parser

    assert app_parser().parse_args(["--exit-after-first-image"]).exit_after_first_image
    assert not app_parser().parse_args([]).exit_after_first_image
    assert bench.FIRST_IMAGE_OPTION == "--exit-after-first-image"
    assert not hasattr(bench, "FIRST_IMAGE_ENV")
