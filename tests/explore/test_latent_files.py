"""Latent files: every accepted layout loads to the same ws; bad files get one clear message and run nothing."""

import os
import zipfile

import numpy as np
import pytest
import torch

from stylemixer.core.latent_files import (
    LatentFileError,
    latent_choices,
    load_latent,
    read_latent,
    save_latent,
    save_latents,
)
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer

from ..conftest import TINY

L, D = TINY.num_ws, TINY.w_dim


@pytest.fixture
def ws():
    return np.random.default_rng(1).standard_normal((L, D)).astype(np.float32)


def write_layouts(folder, ws):
    """The same W+ in every layout people pass around."""
    os.makedirs(folder / "photo", exist_ok=True)
    np.savez(folder / "photo" / "projected_w.npz", w=ws[None])  # NVIDIA projector.py
    np.savez(folder / "ws_key.npz", ws=ws[None])
    np.savez(folder / "bare_any_name.npz", latent=ws)
    np.savez_compressed(folder / "compressed.npz", w=ws)
    np.save(folder / "plain.npy", ws)
    np.save(folder / "batched.npy", ws[None].astype(np.float64))
    torch.save(torch.from_numpy(ws), folder / "tensor.pt")
    torch.save({"w": torch.from_numpy(ws[None]), "step": torch.tensor(3.0)}, folder / "dict.pt")
    torch.save({"ws": torch.from_numpy(ws)}, folder / "legacy.pt", _use_new_zipfile_serialization=False)
    np.save(folder / "no_extension", ws)  # -> no_extension.npy; recognised by content
    os.rename(folder / "no_extension.npy", folder / "no_extension")
    return [
        folder / "photo" / "projected_w.npz",
        folder / "ws_key.npz",
        folder / "bare_any_name.npz",
        folder / "compressed.npz",
        folder / "plain.npy",
        folder / "batched.npy",
        folder / "tensor.pt",
        folder / "dict.pt",
        folder / "legacy.pt",
        folder / "no_extension",
    ]


def test_every_layout_loads_to_the_same_ws(tmp_path, ws, tiny_G):
    renderer = Renderer(tiny_G)
    want = None
    for path in write_layouts(tmp_path, ws):
        latent = load_latent(str(path), L, D)
        assert np.array_equal(latent.array(), ws), path.name
        got = renderer.ws(Recipe.for_model(L, latent_a=latent))[0]
        want = got if want is None else want
        assert torch.equal(got, want), path.name
    # NVIDIA's file is named by its folder
    assert load_latent(str(tmp_path / "photo" / "projected_w.npz")).name == "photo"


def test_w_layouts_broadcast(tmp_path, ws):
    np.save(tmp_path / "w.npy", ws[0])
    np.savez(tmp_path / "w1.npz", w=ws[:1])  # [1, w_dim]: one W with a batch axis
    for p in ("w.npy", "w1.npz"):
        lat = load_latent(str(tmp_path / p), L, D)
        assert lat.kind == "W" and np.array_equal(lat.fit(L, D), np.repeat(ws[:1], L, 0))


def test_own_file_round_trip_and_keys(tmp_path, ws):
    path = tmp_path / "latents.npz"
    save_latents(path, {"a": ws, "b": ws * 2, "mix": ws * 3}, Recipe.for_model(L))
    assert latent_choices(path) == ["a", "b", "mix", "w[0]", "w[1]", "w[2]"]
    assert np.array_equal(read_latent(f"{path}:b")[0], ws * 2)
    assert np.array_equal(read_latent(f"{path}:w[2]")[0], ws * 3)
    with np.load(path) as z:  # NVIDIA's generate.py --projected-w reads z['w'] as [N, num_ws, w_dim]
        assert z["w"].shape == (3, L, D)
    with pytest.raises(LatentFileError, match="holds 6 latents"):
        read_latent(str(path))
    with pytest.raises(LatentFileError, match="no latent 'c'"):
        read_latent(f"{path}:c")
    save_latent(tmp_path / "one.npz", ws)
    with np.load(tmp_path / "one.npz") as z:
        assert z["w"].shape == (1, L, D)


def test_wrong_shape_names_both_shapes(tmp_path):
    np.savez(tmp_path / "projected_w.npz", w=np.zeros((1, 18, 512), np.float32))
    with pytest.raises(LatentFileError) as e:
        load_latent(str(tmp_path / "projected_w.npz"), L, D)
    assert "[1, 18, 512]" in str(e.value) and f"[1, {L}, {D}]" in str(e.value) and f"[{D}]" in str(e.value)


def test_bad_files_one_clear_message(tmp_path, ws):
    cases = {}
    (tmp_path / "empty.npz").write_bytes(b"")
    cases["empty.npz"] = "not a latent file"
    (tmp_path / "text.npz").write_text("hello")
    cases["text.npz"] = "not a latent file"
    data = tmp_path / "t.npz"
    np.savez(data, w=ws)
    raw = data.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    cases["truncated.npz"] = "valid"
    np.save(tmp_path / "ints.npy", np.arange(L * D).reshape(L, D))
    cases["ints.npy"] = "floating-point"
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    cases["objects.npy"] = "floating-point"
    bad = ws.copy()
    bad[2, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    cases["nan.npy"] = "NaN"
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2, 2), np.float32))
    cases["cube.npy"] = "not a latent"
    os.mkdir(tmp_path / "folder.npz")
    cases["folder.npz"] = "not a regular file"
    cases["missing.npz"] = "cannot read"
    for name, words in cases.items():
        with pytest.raises(LatentFileError) as e:
            load_latent(str(tmp_path / name), L, D)
        assert words in str(e.value) and "\n" not in str(e.value), (name, str(e.value))


def test_npz_bomb_is_refused_from_its_header(tmp_path):
    # A member that claims 2**31 values is refused before anything is inflated.
    path = tmp_path / "bomb.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
    header["shape"] = (2**31,)
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("w.npy", buf.getvalue() + b"\0" * 4096)
    with pytest.raises(LatentFileError, match="larger than any latent"):
        read_latent(str(path))


class Boom:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = None


def test_torch_file_with_code_is_refused_and_runs_nothing(tmp_path):
    global MARKER
    MARKER = str(tmp_path / "ran")
    torch.save({"w": Boom()}, tmp_path / "evil.pt")
    with pytest.raises(LatentFileError, match="read safely"):
        read_latent(str(tmp_path / "evil.pt"))
    assert not os.path.exists(MARKER)


def test_a_write_failure_is_told_as_every_export_tells_it(tmp_path, ws):
    from stylemixer.core.export import ExportError

    with pytest.raises(ExportError, match=r"could not write l\.npz: the folder .* does not exist"):
        save_latents(tmp_path / "missing" / "l.npz", {"a": ws})
    assert os.listdir(tmp_path) == []


def test_a_missing_file_is_told_alike_by_every_reader(tmp_path):
    from stylemixer.core.errors import StyleMixerError
    from stylemixer.core.grid import load_grid_file
    from stylemixer.core.stats_export import load_stats_npz
    from stylemixer.core.sweep import sweep_from_file

    path = tmp_path / "gone.x"
    for read in (read_latent, load_grid_file, sweep_from_file, load_stats_npz):
        with pytest.raises(StyleMixerError) as e:
            read(path)
        assert str(e.value) == "cannot read gone.x: No such file or directory", read.__name__
