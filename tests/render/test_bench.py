"""`stylemixer bench`: the FLOP count, and a quick run of the real command end to end."""

import json

import pytest

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
    from stylemixer.bench import launch_time

    res = launch_time(timeout=60, model=tiny_model_path)
    assert res.get("error") is None, res
    assert 0.3 < res["seconds"] < 60  # at least the imports of torch and Qt; never a hang


@pytest.mark.subprocess
def test_launch_time_gives_up_on_an_app_that_shows_nothing(tmp_path):
    from stylemixer.bench import launch_time

    bad = tmp_path / "not-a-model.safetensors"
    bad.write_bytes(b"garbage")
    res = launch_time(timeout=4, model=bad)  # an error message instead of a picture
    assert res["seconds"] is None and "no first image" in res["error"]
