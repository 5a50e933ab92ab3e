"""The measures used on the shipped weights must mean what they say: structure ignores colour, colour ignores
position, noise and flat images are recognised."""

import numpy as np

from stylemixer.data import faces
from stylemixer.training import metrics as M


def _faces(n, seed=11):
    return faces.make_pool(n, seed=seed).astype(np.float64)


def test_structure_distance_ignores_colour_but_sees_shape():
    x = _faces(16)
    recoloured = x[..., [2, 0, 1]]  # same drawing, every colour changed
    other = np.roll(x, 1, axis=0)  # a different face
    same_shape = M.structure_distance(x, recoloured)
    diff_shape = M.structure_distance(x, other)
    assert (same_shape < diff_shape).mean() >= 0.9


def test_colour_distance_ignores_position_but_sees_colour():
    x = _faces(16)
    shifted = np.roll(x, 5, axis=2)  # same colours, moved 5 px
    recoloured = x[..., [2, 0, 1]]
    assert (M.colour_distance(x, shifted) < M.colour_distance(x, recoloured)).mean() >= 0.9


def test_flat_and_noise_detectors():
    x = _faces(8)
    flat = np.full_like(x, 128.0)
    noise = np.random.RandomState(0).uniform(0, 255, x.shape)
    assert M.pixel_std(flat).max() < 1e-9 and M.pixel_std(x).min() > 10
    assert M.high_freq_ratio(noise).min() > 0.7 and M.high_freq_ratio(x).max() < 0.6


def test_pairwise_l1_is_symmetric_with_zero_diagonal():
    d = M.pairwise_l1(_faces(5))
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0) and (d[~np.eye(5, dtype=bool)] > 0).all()
