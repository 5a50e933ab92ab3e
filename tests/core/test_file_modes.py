"""Files StyleMixer writes get the mode any program's open(path, "w") would give them: 0666 minus the umask for a
new file, the old mode for a file that is replaced. (The temporary file is private while it is written.)"""

import os
import stat

import numpy as np
import pytest

from stylemixer.cli import main
from stylemixer.core.atomic import atomic_write_bytes, current_umask
from stylemixer.core.checkpoints import save_model
from stylemixer.core.export import ExportError, save_png, save_text
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer, RenderRequest
from stylemixer.core.stats_export import save_stats

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


@pytest.fixture
def umask():
    before = os.umask(0o022)
    os.umask(before)

    def set_(mask):
        os.umask(mask)

    yield set_
    os.umask(before)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def write_everything(folder, tiny_G, tiny_model_path) -> list:
    """One file of every kind StyleMixer writes, through the functions the app and the CLI use."""
    recipe = Recipe.for_model(tiny_G.num_ws, model=str(tiny_model_path))
    res = Renderer(tiny_G, "cpu", threads=None).render(RenderRequest(recipe, stats=True))
    paths = [
        folder / n
        for n in (
            "mix.png",
            "recipe.json",
            "stats.csv",
            "stats.npz",
            "model.safetensors",
            "bench.json",
            "cli.png",
            "cli-A.png",
            "cli-B.png",
        )
    ]
    save_png(paths[0], res.mix, recipe)
    save_text(paths[1], recipe.to_json())
    save_stats(paths[2], res.stats, recipe)
    save_stats(paths[3], res.stats, recipe)
    save_model(tiny_G, paths[4])
    atomic_write_bytes(paths[5], b"{}")  # what `bench` writes its report with
    assert main(["render", "--model", str(tiny_model_path), "-o", str(paths[6]), "--write-ab"]) == 0
    return paths


def test_new_files_follow_the_umask(tmp_path, umask, tiny_G, tiny_model_path):
    umask(0o022)
    assert current_umask() == 0o022
    for p in write_everything(tmp_path, tiny_G, tiny_model_path):
        assert mode(p) == 0o644, (p.name, oct(mode(p)))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".stylemixer-")], "a temporary file was left"

    private = tmp_path / "private"
    private.mkdir()
    umask(0o077)
    assert current_umask() == 0o077
    for p in write_everything(private, tiny_G, tiny_model_path):
        assert mode(p) == 0o600, (p.name, oct(mode(p)))


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    p = tmp_path / "r.json"
    p.write_text("old")
    os.chmod(p, 0o640)
    save_text(p, "new")
    assert p.read_text() == "new" and mode(p) == 0o640


def test_a_missing_folder_is_named_as_the_reason(tmp_path):
    target = tmp_path / "no-such-folder" / "out.png"
    with pytest.raises(ExportError) as e:
        save_png(target, np.zeros((4, 4, 3), np.uint8))
    assert "out.png" in str(e.value) and f"the folder {target.parent} does not exist" in str(e.value)
