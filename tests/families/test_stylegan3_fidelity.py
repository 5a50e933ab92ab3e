"""The engine against the independent reference (sg3_reference.py) on the same NVIDIA-named weights:
within 1e-3 (max abs, [-1, 1] images) for T and R, 64 and 256 px, several seeds, psi 1 and 0.7, style-mixed ws,
and input transforms (the user's, a stored one, and both)."""

import math

import numpy as np
import pytest
import torch

from stylemixer.core.families.stylegan3.convert import from_nvidia
from tests.checkpoints.sg3_weights import nvidia_sg3_record, small
from tests.families import sg3_reference as ref
from tests.families.sg3_models import sg3_generator, sg3_record, zs

TOL = 1e-3


def mixed_ws(G, rec, seeds, psi, split):
    """ws of seeds[0] with rows >= split taken from seeds[1], from the engine and the reference mapping."""
    z = zs(seeds, G.z_dim)
    ws = G.mapping(z, truncation_psi=psi)
    ws_ref = ref.mapping(rec, z, psi=psi)
    assert (ws.double() - ws_ref.double()).abs().max() < 1e-5
    mix, mix_ref = ws[:1].clone(), ws_ref[:1].clone()
    mix[:, split:], mix_ref[:, split:] = ws[1:2, split:], ws_ref[1:2, split:]
    return mix, mix_ref


def check(img, img_ref):
    assert img.shape == img_ref.shape
    assert img_ref.std() > 0.01, "the reference image is flat: the test would not see errors"
    err = (img.double() - img_ref.double()).abs().max().item()
    assert err < TOL and err < 0.01 * img_ref.std().item(), f"max abs difference {err:.3g}"


@pytest.mark.parametrize("variant", ["T", "R"])
@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
def test_64px(variant, seed):
    rec = sg3_record(variant, 64, seed)
    G = sg3_generator(variant, 64, seed)
    psi = 0.7 if seed % 2 else 1.0
    translate, rotate = [((0.0, 0.0), 0.0), ((0.13, -0.07), 0.0), ((-0.2, 0.05), 23.0)][seed]
    ws, ws_ref = mixed_ws(G, rec, (10 + seed, 20 + seed), psi, split=5 + seed)
    img = G.synthesis(ws, options={"translate": translate, "rotate": rotate})
    check(img, ref.synthesis(rec, ws_ref, translate, rotate))


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["T", "R"])
def test_256px(variant):
    rec = sg3_record(variant, 256, 3)
    G = sg3_generator(variant, 256, 3)
    ws, ws_ref = mixed_ws(G, rec, (7, 8), 0.7, split=9)
    img = G.synthesis(ws, options={"translate": (0.1, 0.2), "rotate": -40.0})
    check(img, ref.synthesis(rec, ws_ref, (0.1, 0.2), -40.0))


@pytest.mark.slow
def test_batch_of_images_matches_reference():
    rec, G = sg3_record("T", 64, 0), sg3_generator("T", 64, 0)
    z = zs([1, 2, 3])
    img = G.synthesis(G.mapping(z))
    check(img, ref.synthesis(rec, ref.mapping(rec, z)))
    # Each image of the batch is the image computed alone (up to rounding).
    for i in range(3):
        alone = G.synthesis(G.mapping(z[i : i + 1]))
        assert (alone - img[i : i + 1]).abs().max() < 1e-5


@pytest.mark.slow
def test_stored_transform_composes_with_the_users():
    a = math.radians(30)
    stored = np.array([[math.cos(a), -math.sin(a), 0.05], [math.sin(a), math.cos(a), -0.1], [0, 0, 1]])
    rec = nvidia_sg3_record(small("R", 64), 5, transform=stored)
    G = from_nvidia(rec)
    z = zs([4])
    ws, ws_ref = G.mapping(z), ref.mapping(rec, z)
    check(G.synthesis(ws), ref.synthesis(rec, ws_ref))
    check(
        G.synthesis(ws, options={"translate": (0.3, 0.0), "rotate": 90.0}), ref.synthesis(rec, ws_ref, (0.3, 0.0), 90.0)
    )


def test_clamp_and_conditioning():
    """A small conv_clamp (so the clamp is active in every layer) and a conditional mapping network."""
    rec = nvidia_sg3_record(small("T", 64, conv_clamp=0.5, c_dim=4), 6)
    G = from_nvidia(rec)
    z = zs([9, 10])
    c = torch.eye(4)[[1, 3]]
    ws, ws_ref = G.mapping(z, c, truncation_psi=0.8), ref.mapping(rec, z, c, psi=0.8)
    assert (ws.double() - ws_ref.double()).abs().max() < 1e-5
    img = G.synthesis(ws)
    check(img, ref.synthesis(rec, ws_ref))
    # The clamp is reached: some activations hit +-0.5 in the reference's last hidden layer.
    assert img.abs().max() <= 0.5 * 0.25 + 1e-6  # ToRGB clamps at conv_clamp, then the output scale


def test_transform_moves_the_content():
    """StyleGAN3's defining property: translating the input translates the image (texture moves with it).
    A shift by a whole number of output pixels (in image widths) reproduces the shifted image away from the
    borders, up to the small aliasing the paper reports."""
    G = sg3_generator("T", 64, 1)
    ws = G.mapping(zs([3]))
    img = G.synthesis(ws)
    shift = 4
    moved = G.synthesis(ws, options={"translate": (shift / 64, 0.0), "rotate": 0.0})
    moved_back = moved[:, :, 8:-8, 8 + shift : -8]  # the moved image, read `shift` pixels further right
    same = img[:, :, 8:-8, 8 : -8 - shift]
    assert (moved_back - same).abs().mean() < 0.25 * (moved[:, :, 8:-8, 8 : -8 - shift] - same).abs().mean()
