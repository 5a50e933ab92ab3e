"""The procedural data set: deterministic, varied, anti-aliased, and every factor actually sampled."""

import numpy as np

from stylemixer.data import faces


def test_same_seed_and_index_give_identical_images():
    a = faces.make_pool(6, seed=3)
    b = np.stack([faces.face(3, i) for i in range(6)])
    assert a.dtype == np.uint8 and a.shape == (6, faces.RES, faces.RES, 3)
    assert np.array_equal(a, b)


def test_different_seeds_and_indices_differ():
    a, b = faces.make_pool(8, seed=0), faces.make_pool(8, seed=1)
    assert not np.array_equal(a, b)
    flat = a.reshape(8, -1).astype(np.float32)
    d = np.abs(flat[:, None] - flat[None]).mean(-1)
    # every pair of images differs by a clear margin (colours alone change tens of levels on most pixels)
    assert d[~np.eye(8, dtype=bool)].min() > 10


def test_no_flat_images_and_full_colour_range():
    pool = faces.make_pool(32, seed=0)
    assert (pool.reshape(32, -1, 3).std(axis=1).mean(axis=1) > 10).all()
    means = pool.reshape(32, -1, 3).mean(axis=1)  # [32, 3] mean colour per image
    assert (means.std(axis=0) > 15).all()  # colour varies across the set in each channel


def test_edges_are_antialiased():
    # supersampling leaves intermediate values on edges; a hard-edged drawing would have far fewer distinct colours
    img = faces.face(0, 0)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 150


def test_every_categorical_factor_is_sampled():
    fs = [faces.sample_factors(np.random.default_rng([0, i])) for i in range(400)]
    assert {f.hair_style for f in fs} == set(faces.HAIR_STYLES)
    assert {f.mouth for f in fs} == set(faces.MOUTHS)
    assert {f.brows for f in fs} == set(faces.BROWS)
    assert {f.glasses for f in fs} == set(faces.GLASSES)
    assert {f.pattern for f in fs} == set(faces.PATTERNS)
    assert {f.eyes_open for f in fs} == {True, False}


def test_colour_is_independent_of_shape():
    # the hair colour's hue must not predict the hair style (no shape-colour entanglement in the data)
    fs = [faces.sample_factors(np.random.default_rng([0, i])) for i in range(2000)]
    mean_red = {s: np.mean([f.hair[0] for f in fs if f.hair_style == s]) for s in faces.HAIR_STYLES}
    assert max(mean_red.values()) - min(mean_red.values()) < 25


def test_grid_layout():
    g = faces.grid(faces.make_pool(5, seed=0), cols=3)
    assert g.size == (3 * 65 + 1, 2 * 65 + 1)
