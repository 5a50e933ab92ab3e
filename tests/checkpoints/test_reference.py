"""Checks of the independent reference itself, so a match against it means something."""

import numpy as np

from . import reference as ref


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_vectorised_scatter_equals_pixel_by_pixel_scatter():
    x, w = _rand(2, 3, 5, 4), _rand(3, 3, 4, 6, seed=1)
    f = ref.fused_kernel(w)
    assert f.shape == (4, 4, 6, 4)
    np.testing.assert_allclose(
        ref.conv_transpose_stride2_same(x, f), ref.conv_transpose_stride2_same_loops(x, f), rtol=1e-12, atol=1e-12
    )


def test_fused_upconv_is_nearest_then_flipped_conv_not_the_stored_kernel():
    # The fact sheet's A5.1: the two TF paths agree only if the 3x3 kernel is flipped spatially, so a loader
    # must not swap one for the other.
    x, w = _rand(1, 4, 4, 3), _rand(3, 3, 3, 5, seed=2)
    fused = ref.conv_transpose_stride2_same(x, ref.fused_kernel(w))
    flipped = ref.conv3x3_same(ref.upscale_nearest(x), w[::-1, ::-1])
    plain = ref.conv3x3_same(ref.upscale_nearest(x), w)
    np.testing.assert_allclose(fused, flipped, rtol=1e-12, atol=1e-12)
    assert np.abs(fused - plain).max() > 0.5


def test_blur_keeps_a_constant_interior_and_sums_to_one():
    x = np.ones((1, 6, 6, 2))
    y = ref.blur(x)
    np.testing.assert_allclose(y[:, 1:-1, 1:-1], 1.0)
    assert y[0, 0, 0, 0] == 9 / 16  # zero padding at the corner
