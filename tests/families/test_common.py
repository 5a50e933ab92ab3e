"""Pieces the families share."""

import pytest
import torch

from stylemixer.core.families import common


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("shape", [(1, 3, 8, 8), (2, 16, 256, 256), (1, 5, 333, 77)])
def test_channel_moments_match_the_two_pass_reference(shape, channels_last, monkeypatch):
    monkeypatch.setattr(common, "BAND_BYTES", 64 * 1024)  # bands of a few rows, and a last band cut short
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g) * 3 + torch.randn(shape[:2] + (1, 1), generator=g) * 5
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    mean, std = common.channel_moments(x)
    xd = x.double()
    m = xd.mean(dim=(2, 3))
    s = (xd - m[:, :, None, None]).square().mean(dim=(2, 3)).sqrt()
    assert mean.shape == std.shape == shape[:2] and mean.dtype == std.dtype == torch.float32
    torch.testing.assert_close(mean.double(), m, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(std.double(), s, rtol=1e-5, atol=1e-6)
