"""The renderer's thread choice: by measurement, or as told; the app's render thread priority."""

import os
import sys
import threading

import pytest
import torch

from stylemixer.core.mixing import Recipe
from stylemixer.core.perf import lower_thread_priority
from stylemixer.core.render import Renderer
from stylemixer.core.threads import ThreadPolicy


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_auto_starts_with_one_thread_and_records_what_each_render_used(tiny_G):
    r = Renderer(tiny_G, threads="auto")
    assert torch.get_num_threads() == 1 and r.thread_choice["threads"] == 1  # the first picture never waits
    for seed in range(4):
        res = r.render(Recipe.for_model(tiny_G.num_ws, seed_a=seed))
        assert res.info["threads"] == torch.get_num_threads() >= 1


def test_auto_measures_on_the_renders_themselves(tiny_G):
    # With no work below the timing threshold, every render counts: the other count is tried on the second.
    r = Renderer(tiny_G, threads="auto")
    r.thread_policy.min_flops = 0
    used = [r.render(Recipe.for_model(tiny_G.num_ws, seed_a=s, seed_b=100 + s)).info["threads"] for s in range(3)]
    if r.thread_policy.budget == 1:
        assert used == [1, 1, 1]
        return
    assert used[:2] == [1, r.thread_policy.budget] and r.thread_policy.trials == 1
    assert set(r.thread_policy.rate) == {1, r.thread_policy.budget}
    assert used[2] == r.thread_policy.current


def test_synthetic_calibration_sets_the_policy(tiny_G):
    r = Renderer(tiny_G, threads="auto")
    choice = r.calibrate_threads()
    assert choice["threads"] == torch.get_num_threads() == r.thread_policy.current


def feed(policy, threads_to_s_per_gflop, renders):
    """Run `renders` renders of 1 GFLOP each, whose time depends only on the thread count; return the counts used."""
    used = []
    for _ in range(renders):
        n = policy.threads_for_next()
        used.append(n)
        policy.observe(n, 1e9, threads_to_s_per_gflop[n])
    return used


def test_policy_takes_more_threads_when_clearly_faster():
    p = ThreadPolicy(budget=4)
    used = feed(p, {1: 0.10, 4: 0.03}, 5)
    assert used[:2] == [1, 4] and used[2:] == [4, 4, 4] and p.current == 4 and p.switches == 1


def test_policy_keeps_one_thread_unless_the_gain_is_worth_a_core():
    p = ThreadPolicy(budget=2, gain=1.15)
    feed(p, {1: 0.10, 2: 0.095}, 3)  # 5% faster: not worth taking the GUI's core
    assert p.current == 1


def test_policy_tries_a_losing_count_ever_more_rarely():
    p = ThreadPolicy(budget=2, explore_every=4, max_explore_every=16)
    used = feed(p, {1: 0.1, 2: 0.4}, 80)  # two threads 4x slower: a busy machine
    trials = [i for i, n in enumerate(used) if n == 2]
    gaps = [b - a for a, b in zip(trials, trials[1:])]
    assert trials[0] == 1 and gaps == sorted(gaps) and gaps[-1] == 17 and p.current == 1


def test_policy_re_measures_when_the_load_changes():
    p = ThreadPolicy(budget=2, explore_every=4, max_explore_every=256)
    feed(p, {1: 0.1, 2: 0.4}, 40)  # busy: one thread, trials far apart
    assert p.current == 1 and p._until_trial > 10
    used = feed(p, {1: 0.2, 2: 0.06}, 3)  # the other process ended ... and one thread's renders drift
    assert used == [1, 2, 2] and p.current == 2 and p.last_reason == "2 threads faster"


def test_a_trial_waits_for_a_render_large_enough_to_time():
    # A drag on a small model: renders below the threshold must not run on the trial count for good.
    p = ThreadPolicy(budget=2, min_flops=1e9)
    assert p.threads_for_next(5e9) == 1
    p.observe(1, 5e9, 0.5)  # timed: the other count is due next
    for _ in range(20):
        assert p.threads_for_next(1e6) == 1  # too small to time: stays on the count in use
        p.observe(1, 1e6, 0.001)
    assert p.threads_for_next(5e9) == 2 and p.threads_for_next(None) == 2
    p.observe(2, 5e9, 0.2)
    assert p.trials == 1 and p.current == 2


def test_the_renderer_estimates_a_render_s_work_from_its_cache(tiny_G):
    r = Renderer(tiny_G)
    rec = Recipe.for_model(tiny_G.num_ws, seed_a=3, seed_b=4).with_weights([0.5] * tiny_G.num_ws)
    full = r._estimate_work(rec)
    assert full == pytest.approx(3 * sum(tiny_G.flops().values()))  # nothing cached: three whole images
    r.render(rec)
    assert r._estimate_work(rec) == 0  # all three images cached
    k = tiny_G.num_ws - 2
    # v1's state entering k holds layer k's convolution: a resume at k runs the layers after it
    later = sum(tiny_G.flops()[j] for j in range(k + 1, tiny_G.num_ws))
    assert r._estimate_work(rec.with_weight(k, 0.9)) == pytest.approx(later)


def test_policy_ignores_renders_too_small_to_time():
    p = ThreadPolicy(budget=2, min_flops=1e9)
    for _ in range(5):
        assert p.threads_for_next() == 1
        p.observe(1, 1e6, 0.001)
    assert p.samples == {} and p.trials == 0


def test_policy_with_a_budget_of_one_never_tries():
    p = ThreadPolicy(budget=1)
    assert feed(p, {1: 0.1}, 5) == [1] * 5 and p.trials == 0


def test_the_library_leaves_threads_alone_unless_asked(tiny_G, monkeypatch):
    # Process-wide policy belongs to entry points: a plain Renderer (and the environment) changes nothing.
    torch.set_num_threads(2)
    monkeypatch.setenv("STYLEMIXER_THREADS", "1")
    Renderer(tiny_G).render(Recipe.for_model(tiny_G.num_ws))
    assert torch.get_num_threads() == 2
    r = Renderer(tiny_G, threads=1)
    assert torch.get_num_threads() == 1 and r.thread_choice == {} and r.thread_policy is None
    torch.set_num_threads(2)
    Renderer(tiny_G, threads=None)  # None: leave the process setting alone
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError):
        Renderer(tiny_G, threads="many")


def test_the_app_takes_its_render_threads_from_the_command_line(monkeypatch):
    pytest.importorskip("PySide6")
    from stylemixer.gui.app import build_parser
    from stylemixer.gui.worker import RenderWorker

    assert build_parser().parse_args([]).threads == "auto"
    assert build_parser().parse_args(["--threads", "2"]).threads == 2
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--threads", "0"])
    monkeypatch.setenv("STYLEMIXER_THREADS", "2")  # the old switch: no longer read
    assert RenderWorker().threads == "auto"
    assert RenderWorker(threads=2).threads == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_lower_thread_priority_changes_only_the_calling_thread():
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def work():
        tid = threading.get_native_id()
        seen["before"] = os.getpriority(os.PRIO_PROCESS, tid)
        seen["done"] = lower_thread_priority(3)
        seen["after"] = os.getpriority(os.PRIO_PROCESS, tid)
        seen["noop"] = lower_thread_priority(0)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["done"] and seen["after"] == min(19, seen["before"] + 3) and not seen["noop"]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before


def test_the_app_worker_renders_below_the_gui_unless_told():
    pytest.importorskip("PySide6")
    from stylemixer.gui.worker import RENDER_NICE, RenderWorker

    assert RenderWorker().nice == RENDER_NICE > 0
    assert RenderWorker(nice=0).nice == 0


# ------------------------------------------------------------------------------------------------ band threads


def test_band_loop_runs_on_its_own_count_and_restores_torchs(monkeypatch):
    from stylemixer.core.families import common

    x = torch.randn(1, 8, 64, 64).contiguous(memory_format=torch.channels_last)
    monkeypatch.setattr(common, "BAND_BYTES", 8 * 64 * 4 * 4)  # bands of 4 rows: the banded loop runs
    torch.set_num_threads(2)
    plain = common.channel_mean_var(x)
    seen = []
    real_sub = torch.sub

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_sub(*args, **kwargs)

    monkeypatch.setattr(torch, "sub", spy)
    with common.band_threads(1):
        banded = common.channel_mean_var(x)
    assert seen and set(seen) == {1}  # every band on one thread
    assert torch.get_num_threads() == 2  # torch's count back for the rest of the render
    for a, b in zip(plain, banded):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    seen.clear()
    common.channel_mean_var(x)  # outside the context: torch's count, untouched
    assert set(seen) == {2}


def test_measure_band_threads_times_both_counts_and_keeps_the_callers():
    from stylemixer.core.threads import measure_band_threads

    torch.set_num_threads(2)
    m = measure_band_threads(2, reps=1)
    assert m["threads"] in (1, 2) and m["ms_1"] > 0 and m["ms_2"] > 0
    assert m["threads"] == (1 if m["ms_1"] < m["ms_2"] else 2)
    assert torch.get_num_threads() == 2


def test_renderer_runs_its_renders_with_the_band_count_it_measured(tiny_G, monkeypatch):
    from stylemixer.core import threads
    from stylemixer.core.families import common
    from stylemixer.core.families.stylegan1 import network as v1

    monkeypatch.setitem(threads._BAND_THREADS, 2, {"threads": 1, "ms_1": 1.0, "ms_2": 2.0})
    r = Renderer(tiny_G, threads=2)
    assert torch.get_num_threads() == 2
    seen = []
    real = common.channel_mean_var

    def spy(x):
        seen.append(getattr(common._BANDS, "n", None))
        return real(x)

    monkeypatch.setattr(v1, "channel_mean_var", spy)  # the tiny model is a v1 generator: every AdaIN
    res = r.render(Recipe.for_model(tiny_G.num_ws, seed_a=1, seed_b=2).with_weights([0.5] * tiny_G.num_ws))
    assert res.info["threads"] == 2 and res.info["band_threads"] == 1
    assert seen and set(seen) == {1}
    assert getattr(common._BANDS, "n", None) is None  # only within the render
    r1 = Renderer(tiny_G, threads=None)
    assert "band_threads" in r1.render(Recipe.for_model(tiny_G.num_ws, seed_a=1)).info
