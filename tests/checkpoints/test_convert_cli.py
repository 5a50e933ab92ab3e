"""`stylemixer convert IN.pkl OUT.safetensors`: the converted file renders exactly like the pickle."""

import numpy as np
import pytest

from stylemixer.cli import main
from stylemixer.core.checkpoints import load_any, sniff
from stylemixer.core.mixing import Recipe
from stylemixer.core.render import Renderer

from .tf_writer import Spec


def _spec(resolution=64):
    return Spec(
        resolution=resolution,
        fmap_base=256,
        fmap_max=16,
        latent_size=16,
        dlatent_size=16,
        mapping_fmaps=16,
        mapping_layers=4,
        seed=2,
    )


def test_round_trip_renders_identically(tmp_path, capsys):
    src = _spec().write(tmp_path / "karras2019stylegan-cats-256x256.pkl")
    dst = tmp_path / "cats.safetensors"
    assert main(["convert", str(src), str(dst)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("converted karras2019stylegan-cats-256x256.pkl (stylegan1-tf) -> ")
    assert "64x64, 10 w indices" in out[0] and "psi 0.7, cutoff 8" in out[0]
    assert sniff(dst) == "stylemixer"
    a, b = load_any(src), load_any(dst)
    assert a.G.cfg == b.G.cfg and (b.G.cfg.truncation_psi, b.G.cfg.truncation_cutoff) == (0.7, 8)
    mix = tuple(np.linspace(0, 1, a.G.num_ws))
    for noise in ("const", "random"):
        recipe = Recipe(weights=mix, seed_a=3, seed_b=4, psi=0.7, cutoff=8, noise_mode=noise, noise_seed=5)
        ra, rb = Renderer(a.G).render(recipe), Renderer(b.G).render(recipe)
        for x, y in ((ra.mix, rb.mix), (ra.a, rb.a), (ra.b, rb.b)):
            assert np.array_equal(x, y)
    # and the render command reads the converted file
    png = tmp_path / "mix.png"
    assert main(["render", "--model", str(dst), "--seed-a", "1", "--seed-b", "2", "-o", str(png)]) == 0
    assert png.exists()


def test_crop_override_and_cars(tmp_path, capsys):
    spec = Spec(
        resolution=512, fmap_base=512, fmap_max=8, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=2
    )
    src = spec.write(tmp_path / "karras2019stylegan-cars-512x384.pkl")
    assert main(["convert", str(src), str(tmp_path / "cars.safetensors")]) == 0
    assert "512x512 (content 512x384)" in capsys.readouterr().out
    assert load_any(tmp_path / "cars.safetensors").G.cfg.crop == (64, 448, 0, 512)
    assert main(["convert", "--crop", "none", str(src), str(tmp_path / "full.safetensors")]) == 0
    assert load_any(tmp_path / "full.safetensors").G.cfg.crop is None
    assert main(["convert", "--crop", "0,600,0,512", str(src), str(tmp_path / "bad.safetensors")]) == 2
    assert "does not fit" in capsys.readouterr().err
    assert not (tmp_path / "bad.safetensors").exists()


@pytest.mark.parametrize("content", [b"\x80\x04 not really", b"random bytes " * 50])
def test_bad_input_writes_nothing(tmp_path, capsys, content):
    src = tmp_path / "in.pkl"
    src.write_bytes(content)
    dst = tmp_path / "out.safetensors"
    assert main(["convert", str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stylemixer: error: ") and "in.pkl" in err
    assert not dst.exists() and list(tmp_path.iterdir()) == [src]


def test_output_must_be_safetensors_and_not_the_input(tmp_path, capsys):
    src = _spec(16).write(tmp_path / "m.pkl")
    assert main(["convert", str(src), str(src)]) == 2
    assert main(["convert", str(src), str(tmp_path / "m.pt")]) == 2
    assert "safetensors" in capsys.readouterr().err
    assert src.read_bytes()[:2] == b"\x80\x04"
