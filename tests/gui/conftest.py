"""GUI fixtures: a real MainWindow on a real (tiny, random) model file, with settings in a temporary ini file.

Messages are recorded instead of opening message boxes (dialogs=False), and file dialogs are replaced by
patching `ask_save_path` / `ask_open_path`, so no test ever waits on a modal dialog.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from stylemixer.core.checkpoints import load_any
from stylemixer.core.render import Renderer


@pytest.fixture
def settings(tmp_path):
    from stylemixer.gui.settings import open_settings

    return open_settings(tmp_path / "settings.ini")


@pytest.fixture(scope="session")
def heavy_model_path(tmp_path_factory):
    """A model whose renders take ~0.1-0.3 s on one thread: slower than a slider drag sends changes, so
    coalescing and responsiveness show. 64 channels up to 256 px: the costly end of synthesis, which every
    render resumed at a low w index still has to run."""
    from stylemixer.core.checkpoints import save_model
    from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training

    cfg = GeneratorConfig(z_dim=32, w_dim=32, mapping_layers=2, mapping_fmaps=32, resolution=256, channels=(64,) * 7)
    path = tmp_path_factory.mktemp("heavy") / "heavy.safetensors"
    save_model(init_for_training(Generator(cfg), 0), path)
    return path


@pytest.fixture
def make_window(qtbot, settings):
    from stylemixer.gui.main_window import MainWindow

    made = []

    def make(model=None, **kw):
        win = MainWindow(settings=kw.pop("settings", settings), device="cpu", dialogs=False, **kw)
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        if model is not None:
            win.open_model(str(model))
            assert win.wait_until_idle(30), "the model did not load in time"
            assert win.model is not None, win.messages
        return win

    yield make
    for win in made:
        win.close()
        assert win.worker.wait(5000)


@pytest.fixture
def window(make_window, tiny_model_path):
    return make_window(tiny_model_path)


class CoreRender:
    """The same model rendered by the core alone, for comparison with what the window shows."""

    def __init__(self, path):
        self.renderer = Renderer(load_any(str(path), "cpu").G, "cpu")

    def mix(self, recipe) -> np.ndarray:
        return self.renderer.render(recipe).mix


@pytest.fixture
def core(tiny_model_path):
    return CoreRender(tiny_model_path)
