"""Official-layout StyleGAN (v1) TF pickles load and render exactly what an independent reference computes."""

import math
import sys

import numpy as np
import pytest
import torch

from stylemixer.core.checkpoints import load_any, sniff
from stylemixer.core.checkpoints.stylegan1 import CARS_CROP
from stylemixer.core.families.stylegan1.network import count_parameters

from . import reference as ref
from .tf_writer import NUMPY1, NUMPY2, Spec


def render(G, z, psi, cutoff):
    with torch.no_grad():
        ws = G.mapping(torch.from_numpy(z).float(), truncation_psi=psi, truncation_cutoff=cutoff)
        return G.synthesis(ws, noise_mode="const").double().numpy()


def assert_matches(img, expected):
    scale = np.abs(expected).max()
    err = np.abs(img - expected).max()
    assert img.shape == expected.shape
    assert err <= 5e-5 * scale, f"max difference {err:.3g} at output scale {scale:.3g}"


@pytest.mark.parametrize(
    "resolution,fmap_base,fmap_max,protocol,numpy_names",
    [
        (8, 64, 16, 2, NUMPY1),
        (32, 128, 32, 3, NUMPY2),
        pytest.param(128, 256, 16, 4, NUMPY1, marks=pytest.mark.slow),  # the first fused up-convolution
        pytest.param(256, 512, 16, 4, NUMPY2, marks=pytest.mark.slow),
        # every official stage, with small widths (16 ... 2 channels)
        pytest.param(1024, 1024, 16, 4, NUMPY1, marks=pytest.mark.slow),
    ],
)
def test_matches_reference(tmp_path, resolution, fmap_base, fmap_max, protocol, numpy_names):
    spec = Spec(resolution=resolution, fmap_base=fmap_base, fmap_max=fmap_max, seed=resolution)
    path = spec.write(tmp_path / "network-final.pkl", protocol=protocol, numpy_names=numpy_names)
    assert sniff(path) == "pickle"
    m = load_any(path)
    G = m.G
    assert m.format == "stylegan1-tf"
    assert G.cfg.resolution == resolution and G.num_ws == 2 * int(math.log2(resolution)) - 2
    assert (G.cfg.truncation_psi, G.cfg.truncation_cutoff) == (0.7, 8)  # the official defaults
    assert "dnnlib" not in sys.modules and "tensorflow" not in sys.modules
    # several seeds, truncation on (official and other settings) and off; a batch of two where it is cheap
    runs = [(0, 0.7, 8), (7, 1.0, None), (9, 0.5, 3)] if resolution <= 256 else [(3, 0.7, 8)]
    for seed, psi, cutoff in runs:
        z = np.random.RandomState(seed).randn(2 if resolution <= 256 else 1, spec.kwargs["latent_size"])
        img = render(G, z, psi, cutoff)
        assert_matches(img, ref.generate(spec.variables, z, psi, cutoff))


def test_fused_path_matters_and_G_is_not_confused_with_Gs(tmp_path):
    spec = Spec(resolution=128, fmap_base=256, fmap_max=16, seed=5)
    G = load_any(spec.write(tmp_path / "m.pkl")).G
    z = np.random.RandomState(1).randn(1, 32)
    img = render(G, z, 1.0, None)
    assert_matches(img, ref.generate(spec.variables, z, 1.0, None))
    unfused = ref.generate(spec.variables, z, 1.0, None, fused_from=10**9)
    assert np.abs(img - unfused).max() > 0.05 * np.abs(unfused).max()
    G_inst = {"Gs": spec.g[0], "mapping": spec.g[1], "synthesis": spec.g[2]}  # the tuple's first network
    assert np.abs(img - ref.generate(G_inst, z, 1.0, None)).max() > 0.05 * np.abs(img).max()


def test_static_kwargs_fused_scale_and_truncation_are_honoured(tmp_path):
    spec = Spec(
        resolution=32,
        fmap_base=128,
        fmap_max=16,
        static_kwargs={"fused_scale": True},
        truncation={"truncation_psi": 0.5, "truncation_cutoff": 4},
    )
    G = load_any(spec.write(tmp_path / "m.pkl")).G
    assert (G.cfg.truncation_psi, G.cfg.truncation_cutoff) == (0.5, 4)
    z = np.random.RandomState(2).randn(2, 32)
    assert_matches(render(G, z, 0.5, 4), ref.generate(spec.variables, z, 0.5, 4, fused_from=8))

    spec = Spec(resolution=32, fmap_base=128, fmap_max=16, truncation={"truncation_psi": None})
    assert load_any(spec.write(tmp_path / "n.pkl")).G.cfg.truncation_psi == 1.0


def test_a_lone_Gs_network_and_a_shared_G_load(tmp_path):
    spec = Spec(resolution=16, fmap_base=64, fmap_max=16, g_mode="shared")
    for what in ("Gs", "tuple"):
        G = load_any(spec.write(tmp_path / f"{what}.pkl", what=what)).G
        z = np.random.RandomState(0).randn(1, 32)
        assert_matches(render(G, z, 0.7, 8), ref.generate(spec.variables, z, 0.7, 8))


@pytest.mark.parametrize(
    "name,crop",
    [
        ("karras2019stylegan-cars-512x384.pkl", CARS_CROP),
        ("my-car-model.pkl", CARS_CROP),
        ("network-snapshot-512x384.pkl", CARS_CROP),
        ("karras2019stylegan-bedrooms-512.pkl", None),  # 'carpet', 'scar' etc. do not count either
    ],
)
def test_cars_rule(tmp_path, name, crop):
    spec = Spec(
        resolution=512, fmap_base=512, fmap_max=8, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=2
    )
    m = load_any(spec.write(tmp_path / name))
    assert m.G.cfg.crop == crop
    if crop:
        from stylemixer.core.mixing import Recipe
        from stylemixer.core.render import Renderer

        res = Renderer(m.G).render(Recipe.for_model(m.G.num_ws))
        assert res.mix.shape == (384, 512, 3)


def test_small_files_stay_small_and_resolution_1024_stays_1024(tmp_path):
    spec = Spec(resolution=64, fmap_base=128, fmap_max=8)
    assert load_any(spec.write(tmp_path / "ffhq-1024x1024-renamed.pkl")).G.cfg.crop is None


def test_progress_is_reported_in_order_and_reaches_one(tmp_path):
    spec = Spec(resolution=256, fmap_base=1024, fmap_max=64, seed=3)
    seen = []
    load_any(spec.write(tmp_path / "m.pkl"), progress=seen.append)
    assert len(seen) >= 20
    assert seen == sorted(seen) and 0 <= seen[0] < 0.1 and seen[-1] == 1.0


@pytest.mark.slow
def test_official_1024_widths(tmp_path):
    """The FFHQ 1024 layout at full width: 26,219,627 trainable TF parameters (the official training log), of which
    the engine keeps all but the unused lower-resolution ToRGBs; the first 12 layers (to 128 px, including the
    first fused up-convolution) match the reference. The full 1024 image is compared in test_matches_reference
    with small widths (same code paths); at full width the reference needs about a minute on two cores."""
    spec = Spec(
        resolution=1024,
        latent_size=512,
        dlatent_size=512,
        mapping_fmaps=512,
        fmap_base=8192,
        fmap_max=512,
        g_mode="shared",
        d_fmap_max=16,
        seed=11,
    )
    trainable = sum(
        a.size
        for part in (spec.gs[1], spec.gs[2])
        for k, a in part.items()
        if not (k.startswith("noise") or k == "lod")
    )
    assert trainable == 26_219_627
    unused_torgb = sum(a.size for k, a in spec.gs[2].items() if k.startswith("ToRGB_lod") and k[9] != "0")
    G = load_any(spec.write(tmp_path / "karras2019stylegan-ffhq-1024x1024.pkl")).G
    assert G.cfg.channels == (512, 512, 512, 512, 256, 128, 64, 32, 16)
    assert count_parameters(G) == trainable - unused_torgb
    z = np.random.RandomState(4).randn(1, 512)
    dl = ref.dlatents(spec.variables, z, 18, 0.7, 8)
    with torch.no_grad():
        ws = G.mapping(torch.from_numpy(z).float(), truncation_psi=0.7, truncation_cutoff=8)
        np.testing.assert_allclose(ws.double().numpy(), dl, rtol=1e-4, atol=1e-4)
        x = None
        noise = G.synthesis.noises(1, "const")
        for layer in G.synthesis.layers[:12]:  # the engine's own forward, stopped at 128 px
            x = G.synthesis.const.expand(1, -1, -1, -1) if x is None else x
            x = layer.adain(layer.pre(x, noise[layer.index]), ws[:, layer.index])
    expected = _reference_features(spec.variables, dl, stop_res=128)
    assert_matches(x.double().numpy(), expected)


def _reference_features(variables, dl, stop_res):
    """The reference synthesis cut after the block at stop_res (features, NCHW)."""
    cut = {
        "Gs": variables["Gs"],
        "mapping": variables["mapping"],
        "synthesis": {
            k: v
            for k, v in variables["synthesis"].items()
            if not any(k.startswith(f"{r}x{r}/") for r in (256, 512, 1024))
        },
    }
    k = int(math.log2(stop_res))
    c = cut["synthesis"][f"{stop_res}x{stop_res}/Conv1/weight"].shape[3]
    eye = np.eye(c, dtype=np.float64)[None, None] * math.sqrt(c)  # ToRGB replaced by the identity
    cut["synthesis"]["ToRGB_lod0/weight"] = eye
    cut["synthesis"]["ToRGB_lod0/bias"] = np.zeros(c)
    return ref.synthesis(cut, dl[:, : 2 * k - 2])
