"""Sweeps: frame i is its recipe's render; GIF and MP4 decode to the frames; Cancel and errors leave no file."""

import os

import av
import numpy as np
import pytest
from PIL import Image

from stylemixer.core.export import ExportError
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer
from stylemixer.core.sweep import (
    Sweep,
    SweepCancelled,
    SweepError,
    export_sweep,
    iter_frames,
    parse_control,
    sweep_from_file,
)

from ..conftest import TINY

L = TINY.num_ws
BASE = Recipe.for_model(L, seed_a=1, seed_b=2).with_weights([1, 1, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize(
    "sweep",
    [
        Sweep(BASE, "weights", 0, 1, 5, indices=(5,)),
        Sweep(BASE, "weights", 0.2, 0.9, 4, indices=(2, 3), pingpong=True),
        Sweep(BASE, "psi", 1, -0.5, 4),
        Sweep(BASE, "seed_a", 1, 2.5, 4),
        Sweep(BASE, "walk", frames=7, seeds=(3, 9, 4)),
    ],
    ids=["w5", "range-pingpong", "psi", "seed", "walk"],
)
def test_frame_i_equals_a_single_render_of_its_recipe(tiny_G, sweep):
    alone = Renderer(tiny_G, cache=False)
    frames = list(iter_frames(Renderer(tiny_G), sweep))
    assert len(frames) == sweep.frame_count
    for i, res in frames:
        assert np.array_equal(res.mix, alone.render(sweep.frame(i)).mix), i
    assert Sweep.from_json(sweep.to_json()) == sweep


def test_frame_values():
    s = Sweep(BASE, "weights", 0, 1, 5, indices=(5,), pingpong=True)
    assert s.frame_count == 8
    assert [s.frame(i).weights[5] for i in range(8)] == [0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25]
    w = Sweep(BASE, "walk", frames=5, seeds=(3, 9, 4))
    got = [(f.seed_a, f.seed_b, f.weights[0]) for f in map(w.frame, range(5))]
    assert got == [(3, 9, 0), (3, 9, 0.5), (9, 4, 0), (9, 4, 0.5), (9, 4, 1)]
    s = Sweep(BASE, "seed_a", 1, 2, 3)
    assert [(f.seed_a, f.frac_a) for f in map(s.frame, range(3))] == [(1, 0), (1, 0.5), (2, 0)]


def test_a_sweep_of_index_k_resumes_at_k(tiny_G):
    k = 5
    starts = [
        res.info["start"]["mix"]
        for _, res in iter_frames(Renderer(tiny_G), Sweep(BASE, "weights", 0, 1, 6, indices=(k,)))
    ]
    assert starts[0] < k and set(starts[1:]) == {k}


@pytest.mark.parametrize("ext", ["gif", "mp4"])
def test_video_decodes_to_the_frames_and_carries_its_sweep(tiny_G, tmp_path, ext):
    sweep = Sweep(BASE, "weights", 0, 1, 6, indices=(0, 1, 2, 3), pingpong=True, fps=10)
    path = tmp_path / f"s.{ext}"
    seen = []
    export_sweep(Renderer(tiny_G), sweep, path, scale=3, progress=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (10, 10) and len(seen) == 10
    if ext == "gif":
        with Image.open(path) as im:
            assert im.n_frames == 10 and im.size == (96, 96)
            durations = []
            for i in range(im.n_frames):
                im.seek(i)
                durations.append(im.info["duration"])
            assert sum(durations) == 1000
    else:
        with av.open(str(path)) as c:
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
            assert c.streams.video[0].average_rate == 10
        assert len(frames) == 10 and frames[0].shape == (96, 96, 3)
        # lossy (4:2:0 chroma on a noisy random model), but each decoded frame is nearest to its own render
        r = Renderer(tiny_G)
        want = [r.render(sweep.frame(i)).mix.repeat(3, 0).repeat(3, 1).astype(int) for i in range(6)]
        for i in (0, 3, 5, 7):
            err = [np.abs(frames[i].astype(int) - w).mean() for w in want]
            assert int(np.argmin(err)) == (i if i < 6 else 10 - i) and min(err) < 10, (i, err)
    back = sweep_from_file(path)
    assert back == sweep
    assert os.listdir(tmp_path) == [path.name]


def test_cancel_in_the_middle_leaves_no_file(tiny_G, tmp_path):
    for ext in ("gif", "mp4"):
        done = []
        with pytest.raises(SweepCancelled):
            export_sweep(
                Renderer(tiny_G),
                Sweep(BASE, "psi", 1, 0, 20),
                tmp_path / f"c.{ext}",
                progress=lambda d, n, done=done: done.append(d),
                cancelled=lambda done=done: len(done) >= 5,
            )
        assert len(done) == 5
    assert os.listdir(tmp_path) == []


def test_unwritable_folder_fails_before_rendering(tiny_G, tmp_path):
    (tmp_path / "file").write_text("x")
    r = Renderer(tiny_G)
    with pytest.raises(ExportError, match="could not write"):
        export_sweep(r, Sweep(BASE, "psi", 1, 0, 5), tmp_path / "file" / "s.gif")
    assert r.renders == 0


def test_render_error_midway_leaves_no_file(tiny_G, tmp_path):
    class Failing(Renderer):
        def render(self, req):
            if self.renders == 3:
                raise MemoryError("out of memory")
            return super().render(req)

    with pytest.raises(MemoryError):
        export_sweep(Failing(tiny_G), Sweep(BASE, "psi", 1, 0, 8), tmp_path / "m.mp4")
    assert os.listdir(tmp_path) == []


def test_parse_control_and_bad_sweeps(tiny_G):
    layers = tiny_G.layer_table()
    assert parse_control("w4", layers) == ("weights", (4,))
    assert parse_control("coarse", layers) == ("weights", (0, 1, 2, 3))
    assert parse_control("2-3", layers) == ("weights", (2, 3))
    assert parse_control("seed-b", layers) == ("seed_b", ())
    for bad in ("w99", "loud"):
        with pytest.raises(SweepError):
            parse_control(bad, layers)
    for kw in (
        {"frames": 1},
        {"control": "weights"},
        {"control": "walk", "seeds": (1,)},
        {"control": "weights", "indices": (1,), "end": 2},
        {"fps": 0},
    ):
        with pytest.raises(SweepError):
            Sweep(BASE, **{"control": "psi", **kw})


def test_a_gif_too_long_for_memory_says_what_fits(tiny_G, tmp_path):
    from stylemixer.core.sweep import check_memory

    with pytest.raises(SweepError, match="at most .* frames fit"):
        check_memory(Sweep(BASE, "psi", 1, 0, 5000), 1024, 1024, 4, "gif")
