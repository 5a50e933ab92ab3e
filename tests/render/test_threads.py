"""The renderer's thread choice: by measurement, or as told."""
import pytest
import torch

from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_auto_times_both_settings_and_keeps_the_choice(tiny_G):
    r = Renderer(tiny_G, threads="auto")
    assert torch.get_num_threads() == 1 and r.thread_choice == {}   # one thread until measured
    r.render(Recipe.for_model(tiny_G.num_ws))
    assert r.thread_choice == {}                                    # the first picture does not wait for it
    r.render(Recipe.for_model(tiny_G.num_ws, seed_a=5))
    choice = r.thread_choice
    if choice.get("reason"):
        pytest.skip("a budget of one thread leaves nothing to choose")
    many = [k for k in choice if k.startswith("ms_") and k != "ms_1"][0]
    assert choice["ms_1"] > 0 and choice[many] > 0 and choice["from_index"] == 0   # tiny: the whole network
    # More threads only when clearly faster (the GUI thread needs a core).
    expected = int(many[3:]) if choice[many] * 1.25 < choice["ms_1"] else 1
    assert choice["threads"] == expected == torch.get_num_threads()


def test_the_library_leaves_threads_alone_unless_asked(tiny_G, monkeypatch):
    # Process-wide policy belongs to entry points: a plain Renderer (and the environment) changes nothing.
    torch.set_num_threads(2)
    monkeypatch.setenv("STYLEMIXER_THREADS", "1")
    Renderer(tiny_G).render(Recipe.for_model(tiny_G.num_ws))
    assert torch.get_num_threads() == 2
    r = Renderer(tiny_G, threads=1)
    assert torch.get_num_threads() == 1 and r.thread_choice == {}
    torch.set_num_threads(2)
    Renderer(tiny_G, threads=None)                        # None: leave the process setting alone
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError):
        Renderer(tiny_G, threads="many")


def test_the_app_worker_takes_the_environment(monkeypatch):
    pytest.importorskip("PySide6")
    from stylemixer.gui.worker import RenderWorker
    monkeypatch.setenv("STYLEMIXER_THREADS", "2")
    assert RenderWorker().threads == 2
    monkeypatch.delenv("STYLEMIXER_THREADS")
    assert RenderWorker().threads == "auto"
