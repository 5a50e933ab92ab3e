"""Shared fixtures: small random generators written as real model files; the test tiers (markers)."""

import os
import sys
import threading
from pathlib import Path

import pytest
import torch

from stylemixer.core.checkpoints import save_model
from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training

TINY = GeneratorConfig(z_dim=32, w_dim=32, mapping_layers=3, mapping_fmaps=32, resolution=32, channels=(32, 32, 16, 8))


def make_generator(cfg: GeneratorConfig = TINY, seed: int = 0) -> Generator:
    """Random weights, with non-trivial noise strengths, biases and styles so every term is exercised."""
    G = init_for_training(Generator(cfg), seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith(("noise_strength", "bias")):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
        G.mapping_net.w_avg.copy_(0.1 * torch.randn(G.mapping_net.w_avg.shape, generator=g))
    return G.eval().requires_grad_(False)


def make_stylegan2(seed: int = 0):
    """A 32 px StyleGAN2 with random NVIDIA-layout weights (noise strengths, biases, an active clamp), converted by
    the family's own converter."""
    from stylemixer.core.families.stylegan2.convert import from_nvidia

    from .checkpoints.sg2_weights import record_for

    cfg = {"img_resolution": 32, "synthesis_kwargs": {"conv_clamp": 0.5}}
    return from_nvidia(record_for(cfg, seed)[2], "stylegan2-32px").eval().requires_grad_(False)


def make_stylegan3(seed: int = 0, variant: str = "T"):
    """A 64 px StyleGAN3 (T by default) with random NVIDIA-named weights and NVIDIA's filter design."""
    from stylemixer.core.families.stylegan3.convert import from_nvidia

    from .checkpoints.sg3_weights import nvidia_sg3_record, small

    return from_nvidia(nvidia_sg3_record(small(variant, 64), seed)).eval().requires_grad_(False)


# One small random generator per family: tests that must hold for every family are parametrised over these.
FAMILY_MAKERS = {"stylegan1": make_generator, "stylegan2": make_stylegan2, "stylegan3": make_stylegan3}


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread_from_the_start():
    """Before any other session fixture builds or renders a model (see _one_torch_thread)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread for every test (one that changes it gets it back after). The test machine's cores are
    shared with other jobs; two OpenMP threads then spin at every barrier waiting for a descheduled partner, and
    the tiny test models ran up to 10x slower. It also makes `threads="auto"` see a budget of one thread, so the
    app's renders in the GUI tests run on the same single thread as the core renders they are compared with bit
    for bit (a different thread count may round differently). ThreadPolicy is tested with explicit budgets."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_G() -> Generator:
    return make_generator()


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory, tiny_G):
    path = tmp_path_factory.mktemp("models") / "tiny.safetensors"
    save_model(tiny_G, path)
    return path


# ---- test tiers -------------------------------------------------------------------------------------------------
# Markers (registered in pyproject.toml, explained in docs/testing.md): gui, slow, subprocess, builtin, and fast for
# everything that is none of slow, gui and subprocess (`pytest -m fast`, the tier to run while working).
# gui and builtin are given here from where a test lives and what it uses; slow and subprocess are written on the
# tests themselves, and a test that starts a Python interpreter or reads the built-in model file without its marker
# fails, so the tiers cannot drift as tests are added. fast is derived, never written on a test.
TESTS = Path(__file__).resolve().parent
_BUILTIN_FILE = None
_MAIN_THREAD = threading.get_ident()
_run = {"item": None, "unmarked": []}  # the running test, its markers, and what it did outside them


def pytest_collection_modifyitems(config, items):
    for item in items:
        here = Path(str(item.path)).resolve()
        if "qtbot" in getattr(item, "fixturenames", ()) or TESTS / "gui" in here.parents:
            item.add_marker(pytest.mark.gui)
        if TESTS / "builtin" in here.parents:
            item.add_marker(pytest.mark.builtin)
        if not any(item.get_closest_marker(name) for name in ("slow", "gui", "subprocess")):
            item.add_marker(pytest.mark.fast)


def _is_python(executable) -> bool:
    name = os.path.basename(os.fsdecode(executable))
    return os.fsdecode(executable) == sys.executable or name.startswith("python")


def _audit(event, args):
    """Records a Python interpreter started, or the built-in model file opened, by a test not marked for it."""
    if _run["item"] is None:
        return
    if event == "subprocess.Popen" and not _run["subprocess"]:
        executable, argv = args[0], args[1]
        first = argv if isinstance(argv, (str, bytes)) else (list(argv)[:1] or [""])[0]
        if _is_python(executable or first):
            _run["unmarked"].append("started a Python interpreter (mark it `subprocess`)")
    elif (
        event == "open"
        and not _run["builtin"]
        and isinstance(args[0], (str, os.PathLike))
        and threading.get_ident() == _MAIN_THREAD  # a worker thread may still be finishing an earlier test's load
    ):
        path = os.fspath(args[0])
        if path.endswith("builtin.safetensors") and os.path.realpath(path) == _BUILTIN_FILE:
            _run["unmarked"].append("read the built-in model file (mark it `builtin`)")


def _watched(item):
    global _BUILTIN_FILE
    if _BUILTIN_FILE is None:
        from stylemixer.core.resources import builtin_model_path

        _BUILTIN_FILE = os.path.realpath(builtin_model_path())
        sys.addaudithook(_audit)  # for the rest of the process; it looks only while a test sets up or runs
    _run.update(item=item, unmarked=[], subprocess=item.get_closest_marker("subprocess") is not None)
    _run["builtin"] = item.get_closest_marker("builtin") is not None
    try:
        yield
    finally:
        _run["item"] = None
    if _run["unmarked"]:
        pytest.fail(f"this test {'; '.join(sorted(set(_run['unmarked'])))}: see docs/testing.md", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _watched(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _watched(item))
