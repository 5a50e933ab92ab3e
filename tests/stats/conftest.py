"""Fixtures for the statistics views: a renderer on a real (tiny, random) model file and one mixed render."""

import pytest

from stylemixer.core.checkpoints import load_any
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest


@pytest.fixture(scope="session")
def stats_renderer(tiny_model_path):
    return Renderer(load_any(tiny_model_path).G, "cpu")


@pytest.fixture(scope="session")
def stats_recipe(stats_renderer):
    n = stats_renderer.num_ws
    # A real mix: coarse from A, a half blend in the middle, fine from B.
    weights = [0.0] * 2 + [0.5] * 2 + [1.0] * (n - 4)
    return Recipe.for_model(n, seed_a=3, seed_b=11, model="tiny.safetensors").with_weights(weights)


@pytest.fixture(scope="session")
def stats_result(stats_renderer, stats_recipe):
    return stats_renderer.render(RenderRequest(stats_recipe, stats=True, feature_layer=5, feature_source="mix"))


@pytest.fixture
def stats_window(qtbot, tmp_path, tiny_model_path):
    """The real main window with the statistics panels installed, on the tiny model file."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from stylemixer.gui.main_window import MainWindow
    from stylemixer.gui.settings import open_settings

    win = MainWindow(settings=open_settings(tmp_path / "settings.ini"), device="cpu", dialogs=False)
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    win.open_model(str(tiny_model_path))
    assert win.wait_until_idle(30) and win.model is not None, win.messages
    yield win
    win.close()
    assert win.worker.wait(5000)
