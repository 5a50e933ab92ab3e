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


def test_auto_times_both_settings_and_keeps_the_choice(tiny_G, monkeypatch):
    monkeypatch.delenv("STYLEMIXER_THREADS", raising=False)
    r = Renderer(tiny_G)
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


def test_an_explicit_count_or_the_environment_wins(tiny_G, monkeypatch):
    Renderer(tiny_G, threads=1)
    assert torch.get_num_threads() == 1
    monkeypatch.setenv("STYLEMIXER_THREADS", "2")
    r = Renderer(tiny_G)
    assert torch.get_num_threads() == 2 and r.thread_choice == {}
    torch.set_num_threads(1)
    Renderer(tiny_G, threads=None)                        # None: leave the process setting alone
    assert torch.get_num_threads() == 1
    with pytest.raises(ValueError):
        Renderer(tiny_G, threads="many")
