"""Residual discriminator for training the engine's generator.

StyleGAN2-style resnet D: fromRGB at full resolution, one residual block per halving (two 3x3 convs + a 1x1
skip, average-pool downsampling), then a minibatch-stddev layer, a 3x3 conv, and two dense layers at 4x4.
Widths mirror the generator's (`channels` of the GeneratorConfig, read backwards). Equalized learning rate
throughout, so Adam sees well-scaled gradients for every layer regardless of fan-in.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from stylemixer.core.families.stylegan1.network import EqualLinear, lrelu


class EqualConv(nn.Module):
    """k x k equalized conv with bias; gain sqrt(2) for lrelu layers, 1 for linear (skip) layers."""

    def __init__(self, in_ch, out_ch, k, gain=math.sqrt(2), bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, k, k))  # [out, in, k, k]
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale = gain / math.sqrt(in_ch * k * k)
        self.pad = k // 2

    def forward(self, x):  # [N, in, H, W] -> [N, out, H, W]
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)


class DBlock(nn.Module):
    """[N, in, R, R] -> [N, out, R/2, R/2]: conv, conv+pool, plus a pooled 1x1 skip, summed / sqrt(2)."""

    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.conv0 = EqualConv(in_ch, in_ch, 3)
        self.conv1 = EqualConv(in_ch, out_ch, 3)
        self.skip = EqualConv(in_ch, out_ch, 1, gain=1.0, bias=False)

    def forward(self, x):
        y = self.skip(F.avg_pool2d(x, 2))
        x = lrelu(self.conv0(x))
        x = lrelu(F.avg_pool2d(self.conv1(x), 2))  # conv before pooling keeps full-res detail visible to D
        return (x + y) * (1 / math.sqrt(2))


class MinibatchStd(nn.Module):
    """Appends `num_channels` maps of the std over groups of samples, so D can see a lack of variety in a batch
    (the usual defence against mode collapse).

    The features are split into `num_channels` sets, each averaged separately (StyleGAN2's mbstd_num_channels).
    Why more than one: with a single average, the big colour variance of the faces data hides a collapse of
    structure (same head, same place, new colours still give a large std). Measured: with (group 4, 1 channel)
    the model's samples kept one layout for 40k images.
    """

    def __init__(self, group_size=4, num_channels=1):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x):  # [N, C, H, W] -> [N, C+F, H, W]
        n, c, h, w = x.shape
        f = self.num_channels
        g = min(self.group_size, n)
        while n % g:  # fall back to a group size that divides the batch
            g -= 1
        y = x.reshape(g, -1, f, c // f, h, w)  # [G, M, F, C/F, H, W]
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # [M, F, C/F, H, W]
        y = y.mean(dim=(2, 3, 4))  # [M, F]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)  # [N, F, H, W]
        return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """images [N, img_channels, R, R] in [-1, 1] -> logits [N]."""

    def __init__(self, channels, resolution, img_channels=3, mbstd_group=8, mbstd_channels=4):
        super().__init__()
        ch = list(channels)[::-1]  # generator widths at R, R/2, ..., 4 px
        n_blocks = int(math.log2(resolution)) - 2
        assert len(ch) == n_blocks + 1, "channels must have one entry per resolution 4..R"
        self.resolution = resolution
        self.from_rgb = EqualConv(img_channels, ch[0], 1)
        self.blocks = nn.ModuleList(DBlock(ch[i], ch[i + 1]) for i in range(n_blocks))
        assert ch[-1] % mbstd_channels == 0, "the 4x4 width must split evenly into the mbstd feature groups"
        self.mbstd = MinibatchStd(mbstd_group, mbstd_channels)
        self.conv = EqualConv(ch[-1] + mbstd_channels, ch[-1], 3)
        self.fc = EqualLinear(ch[-1] * 16, ch[-1], gain=math.sqrt(2))
        self.out = EqualLinear(ch[-1], 1, gain=1.0)

    def forward(self, img):
        x = lrelu(self.from_rgb(img))  # [N, C_R, R, R]
        for block in self.blocks:
            x = block(x)  # ... -> [N, C_4, 4, 4]
        x = lrelu(self.conv(self.mbstd(x)))  # [N, C_4, 4, 4]
        x = lrelu(self.fc(x.flatten(1)))  # [N, C_4]
        return self.out(x).squeeze(1)  # [N]
