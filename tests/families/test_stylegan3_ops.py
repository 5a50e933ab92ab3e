"""The filtered leaky ReLU's fast path (transposed convolutions, strips with reused row windows, strided
downsampling) against its definition (`filtered_lrelu_ref`: zero insertion, pad, full-rate FIR, lrelu,
FIR, decimate), over the geometries StyleGAN3 uses and odd ones; and the engine's filter design against the
test helper's independent one."""

import numpy as np
import pytest
import torch

from stylemixer.core.families.stylegan3.design import (
    design_config,
    layer_filters,
    lowpass_filter,
)
from stylemixer.core.families.stylegan3.ops import FilteredLReLU, filtered_lrelu_ref
from tests.checkpoints import sg3_weights


def symmetric(n, g):
    half = torch.rand(n // 2, generator=g, dtype=torch.float64) + 0.1
    f = torch.cat([half.flip(0), half] if n % 2 == 0 else [half.flip(0), torch.ones(1, dtype=torch.float64), half])
    return f / f.sum()


CASES = [
    # channels, size, up, down, up taps, down taps, padding, radial
    (4, 38, 2, 2, 12, 12, (9, 8, 9, 8), False),  # T, same rate
    (4, 38, 4, 2, 24, 12, (-6, -9, -6, -9), False),  # T, rate doubles
    (4, 36, 2, 2, 12, 12, (11, 10, 11, 10), True),  # R
    (4, 36, 4, 2, 24, 12, (-2, -5, -2, -5), True),
    (4, 30, 2, 2, 12, 12, (-11, -12, -11, -12), False),  # the last layer crops its margin
    (3, 9, 2, 2, 12, 12, (20, 3, 1, 25), False),  # padding beyond the transposed conv's reach
    (3, 16, 1, 1, 1, 1, (0, 0, 0, 0), False),  # ToRGB: bias and clamp only
    (2, 10, 1, 1, 1, 1, (2, 3, 1, 0), False),  # padding without filters
    (2, 10, 2, 1, 4, 1, (2, 3, 1, 0), False),
    (2, 12, 1, 2, 1, 6, (2, 3, 1, 0), False),
    (2, 13, 3, 2, 9, 7, (4, -2, 0, 5), True),  # odd taps, factor 3, a non-symmetric radial filter
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "strip_bytes, strips", [(1 << 20, True), (1, True), pytest.param(700, True, marks=pytest.mark.slow), (0, False)]
)
def test_fast_path_matches_the_definition(case, strip_bytes, strips):
    c, n, up, down, tu, td, pad, radial = case
    g = torch.Generator().manual_seed(n + up + td)
    x = 2 * torch.randn(2, c, n, n + 1, generator=g, dtype=torch.float64)
    b = torch.randn(c, generator=g, dtype=torch.float64)
    fu = symmetric(tu, g) if tu > 1 else None
    fd = None
    if td > 1:
        fd = torch.rand(td, td, generator=g, dtype=torch.float64) if radial else symmetric(td, g)
        fd = fd / fd.sum()
    want = filtered_lrelu_ref(x, fu, fd, b, up, down, pad, gain=1.7, slope=0.2, clamp=1.0)
    op = FilteredLReLU((n, n + 1), tu, td, up, down, pad, 1.7, 0.2, 1.0, radial=radial)
    got = op(
        x.float().clone(),
        None if fu is None else fu.float(),
        None if fd is None else fd.float(),
        b.float(),
        strip_bytes=strip_bytes,
        strips=strips,
    )
    assert got.shape == want.shape
    assert (got.double() - want).abs().max() < 2e-6 * max(1.0, want.abs().max().item())
    # The clamp is exercised: without it the result differs.
    unclamped = filtered_lrelu_ref(x, fu, fd, b, up, down, pad, gain=1.7, slope=0.2, clamp=None)
    assert (unclamped - want).abs().max() > 0.1


def test_linear_layer_and_no_clamp():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 20, 20, generator=g)
    fu, fd = symmetric(12, g).float(), symmetric(12, g).float()
    want = filtered_lrelu_ref(
        x.double(), fu.double(), fd.double(), None, 2, 2, (9, 8, 9, 8), gain=1.0, slope=1.0, clamp=None
    )
    got = FilteredLReLU((20, 20), 12, 12, 2, 2, (9, 8, 9, 8), 1.0, 1.0, None)(x.clone(), fu, fd)
    assert (got.double() - want).abs().max() < 1e-6


def test_wrong_filters_or_sizes_are_refused():
    op = FilteredLReLU((20, 20), 12, 12, 2, 2, (9, 8, 9, 8), 1.0, 0.2, None)
    with pytest.raises(ValueError):
        op(torch.zeros(1, 1, 20, 20), torch.ones(6), torch.ones(12))
    with pytest.raises(ValueError):
        op(torch.zeros(1, 1, 21, 20), torch.ones(12), torch.ones(12))
    with pytest.raises(ValueError):
        FilteredLReLU((4, 4), 12, 12, 2, 2, (-9, -8, -9, -8), 1.0, 0.2, None)


def test_repeated_runs_are_bit_identical():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 5, 40, 40, generator=g)
    fu, fd = symmetric(24, g).float(), symmetric(12, g).float()
    op = FilteredLReLU((40, 40), 24, 12, 4, 2, (-6, -9, -6, -9), 2**0.5, 0.2, 256)
    assert torch.equal(op(x.clone(), fu, fd, strip_bytes=5000), op(x.clone(), fu, fd, strip_bytes=5000))


@pytest.mark.parametrize("variant", ["T", pytest.param("R", marks=pytest.mark.slow)])
def test_engine_filters_match_the_independent_design(variant):
    cfg = design_config(variant, 256)
    for spec in cfg.layers:
        up, down = layer_filters(spec)
        tmp = spec.in_sampling_rate * spec.up_factor
        want_up = sg3_weights.design(spec.up_taps, spec.in_cutoff, spec.in_half_width * 2, tmp)
        want_down = sg3_weights.design(spec.down_taps, spec.out_cutoff, spec.out_half_width * 2, tmp, spec.down_radial)
        for a, b in ((up, want_up), (down, want_down)):
            assert (a is None) == (b is None)
            if a is not None:
                assert a.shape == b.shape and (a - b).abs().max() < 1e-7


def test_filters_are_normalised_low_pass():
    f = lowpass_filter(12, 5.0, 6.0, 64)
    assert abs(f.sum() - 1) < 1e-12 and np.allclose(f, f[::-1])
    r = lowpass_filter(12, 5.0, 6.0, 64, radial=True)
    assert abs(r.sum() - 1) < 1e-12 and np.allclose(r, r.T) and np.allclose(r, r[::-1, ::-1])
    # Low-pass: the response at Nyquist is small compared with DC.
    assert abs(np.sum(f * (-1.0) ** np.arange(12))) < 0.05
    assert lowpass_filter(1, 5.0, 6.0, 64) is None


def test_the_scratch_rows_serve_calls_inside_and_outside_inference_mode():
    # The renderer synthesises under inference_mode; a library call after it, outside, must not get its buffers
    # (an inference tensor cannot be written outside inference mode).
    from .sg3_models import sg3_generator

    G = sg3_generator("T", 64)
    ws = G.mapping(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(1)))
    with torch.inference_mode():
        inside = G.synthesis(ws, noise_mode="const")
    with torch.no_grad():
        outside = G.synthesis(ws, noise_mode="const")
    torch.testing.assert_close(inside, outside, rtol=0, atol=0)
