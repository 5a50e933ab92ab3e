"""The real window opens an official-layout pickle directly: progress is shown, the cars model displays 512x384,
and a hostile pickle leaves the current model in place with a message."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from .tf_writer import Spec

pytest.importorskip("PySide6")


@pytest.fixture
def window(qtbot, tmp_path):
    from stylemixer.gui.main_window import MainWindow
    from stylemixer.gui.settings import open_settings

    win = MainWindow(settings=open_settings(tmp_path / "settings.ini"), device="cpu", dialogs=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_open_the_cars_pickle_in_the_window(window, tmp_path):
    spec = Spec(
        resolution=512, fmap_base=512, fmap_max=8, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=2
    )
    path = spec.write(tmp_path / "karras2019stylegan-cars-512x384.pkl")
    progress = []
    window.worker.load_progress.connect(progress.append)
    window.open_model(str(path))
    assert window.wait_until_idle(60)
    assert window.model is not None, window.messages
    assert window.model.format == "stylegan1-tf" and window.model.num_ws == 16
    assert window.shown_array().shape == (384, 512, 3)
    assert progress and progress[-1] == 1.0

    marker = tmp_path / "ran.marker"
    bad = Spec(
        resolution=8,
        fmap_base=32,
        fmap_max=8,
        latent_size=8,
        dlatent_size=8,
        mapping_fmaps=8,
        mapping_layers=2,
        static_kwargs={"x": _Evil(marker)},
    )
    window.open_model(str(bad.write(tmp_path / "evil.pkl")))
    assert window.wait_until_idle(30)
    assert window.model.name == path.name  # the previous model is kept
    assert any(f"{os.system.__module__}.system" in text for _, text in window.messages), window.messages
    assert not marker.exists()


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)
