import math

import torch

from stylemixer.core.families.stylegan1.network import AdaIN


def test_output_statistics_equal_style():
    torch.manual_seed(0)
    ada = AdaIN(channels=8, w_dim=16)
    x = torch.randn(4, 8, 9, 7) * 3 + 5  # [N, C, H, W], arbitrary mean and spread
    w = torch.randn(4, 16)
    y = ada(x, w)
    y_s, y_b = ada.styles(w)
    std, mean = torch.std_mean(y, dim=(2, 3), unbiased=False)
    assert torch.allclose(mean, y_b, atol=1e-5)
    assert torch.allclose(std, y_s.abs(), atol=1e-4)


def test_instance_norm_is_per_sample_not_batch():
    torch.manual_seed(1)
    ada = AdaIN(channels=4, w_dim=8)
    x = torch.randn(3, 4, 5, 5)
    w = torch.randn(3, 8)
    alone = ada(x[:1], w[:1])
    x2 = x.clone()
    x2[1:] = torch.randn(2, 4, 5, 5) * 100 + 50  # very different other samples
    assert torch.allclose(ada(x2, w)[:1], alone, atol=1e-6)  # only rounding may differ
    # batch norm would have moved sample 0:
    bn = torch.nn.functional.batch_norm(x2, None, None, training=True)
    assert not torch.allclose(bn[:1], torch.nn.functional.batch_norm(x, None, None, training=True)[:1])


def test_channels_do_not_mix():
    ada = AdaIN(channels=3, w_dim=4)
    x = torch.randn(1, 3, 4, 4)
    w = torch.randn(1, 4)
    y = ada(x, w)
    x2 = x.clone()
    x2[:, 1] *= 7
    x2[:, 2] += 3
    assert torch.equal(ada(x2, w)[:, 0], y[:, 0])


def test_hand_computed_example():
    # One sample, one channel, 2x2 map [[1, 2], [3, 6]]: mean 3, biased var (4+1+0+9)/4 = 3.5.
    ada = AdaIN(channels=1, w_dim=2)
    with torch.no_grad():
        ada.affine.weight.zero_()
        ada.affine.bias.copy_(torch.tensor([1.0, -0.5]))  # y_s = 1 + 1 = 2, y_b = -0.5
    x = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    y = ada(x, torch.zeros(1, 2))
    s = math.sqrt(3.5 + 1e-8)
    expect = torch.tensor(
        [[[[2 * (1 - 3) / s - 0.5, 2 * (2 - 3) / s - 0.5], [2 * (3 - 3) / s - 0.5, 2 * (6 - 3) / s - 0.5]]]]
    )
    assert torch.allclose(y, expect, atol=1e-6)
    assert abs(y[0, 0, 1, 0].item() - (-0.5)) < 1e-7  # the mean pixel maps to y_b exactly


def test_styles_come_from_an_equalized_affine_layer():
    ada = AdaIN(channels=2, w_dim=4)
    with torch.no_grad():
        ada.affine.weight.copy_(torch.arange(16.0).reshape(4, 4))
        ada.affine.bias.zero_()
    w = torch.ones(1, 4)
    y_s, y_b = ada.styles(w)
    row_sums = torch.arange(16.0).reshape(4, 4).sum(1) / 2  # gain 1 / sqrt(w_dim=4)
    assert torch.allclose(y_s[0], row_sums[:2] + 1)
    assert torch.allclose(y_b[0], row_sums[2:])


def test_fast_path_equals_reference_formula():
    from stylemixer.core.families.stylegan1.network import adain_reference

    torch.manual_seed(3)
    x = torch.randn(2, 6, 8, 8) * 4 - 1
    y_s, y_b = torch.randn(2, 6), torch.randn(2, 6)
    with torch.inference_mode():
        fast = AdaIN.modulate(x.clone(), y_s, y_b)[0]  # the in-place path
    assert torch.allclose(fast, adain_reference(x, y_s, y_b), atol=1e-5)
    nchw_last = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert torch.allclose(AdaIN.modulate(nchw_last, y_s, y_b)[0], adain_reference(x, y_s, y_b), atol=1e-5)


def test_the_banded_moments_match_two_passes_in_float64(monkeypatch):
    from stylemixer.core.families import common
    from stylemixer.core.families.stylegan1 import network

    monkeypatch.setattr(common, "BAND_BYTES", 8 * 1024)  # bands of a few rows, the last one cut short
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 61, 33, generator=g) * torch.tensor([1.0, 3.0, 0.05, 1.0])[None, :, None, None]
    x = x + torch.tensor([0.0, 5.0, 0.2, 50.0])[None, :, None, None]  # the last plane's mean is 50x its spread
    x[:, :, :3] += 2.0  # the first band (the shift K) unlike the rest
    x = x.contiguous(memory_format=torch.channels_last)
    mean, var = network.channel_mean_var(x)
    xd = x.double()
    m = xd.mean(dim=(2, 3), keepdim=True)
    v = (xd - m).square().mean(dim=(2, 3), keepdim=True)
    torch.testing.assert_close(mean.double(), m, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(var.double(), v, rtol=1e-4, atol=1e-6)
    before = x.clone()
    with torch.inference_mode():
        out, _, _ = AdaIN.modulate(x, torch.randn(2, 4), torch.randn(2, 4))
    assert torch.equal(x, before) and out.is_contiguous(memory_format=torch.channels_last)  # x is a cached state
