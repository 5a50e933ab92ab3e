"""Analytic operation counts of the generator, for throughput figures and for sizing work."""
from __future__ import annotations


def synthesis_flops(cfg) -> dict:
    """Floating-point operations of one image through synthesis, per w index, counted from the layer shapes.

    A multiply-add counts 2. Convolutions as executed: 3x3 at the output size; a fused up-convolution is a 4x4
    transposed conv at stride 2 (16 taps per input pixel); nearest upsampling costs nothing; the blur is a 3x3
    depthwise conv. Per-element work (noise, bias, lrelu, instance norm, style): 11 operations per element. The
    style affine layer, 2 * w_dim * 2C. toRGB (1x1) is added to the last layer.
    """
    from .layers import layer_table

    out = {}
    prev_c = cfg.channels[0]
    for info in layer_table(cfg):
        c, r = info.channels, info.resolution
        if info.index == 0:
            conv = 0
        elif info.name.endswith("Conv0_up"):
            if r >= cfg.fused_up_min_res:
                conv = 2 * prev_c * c * 16 * (r // 2) ** 2
            else:
                conv = 2 * prev_c * c * 9 * r * r
            conv += 2 * 9 * c * r * r
        else:
            conv = 2 * c * c * 9 * r * r
        out[info.index] = conv + 11 * c * r * r + 2 * cfg.w_dim * 2 * c
        prev_c = c
    out[len(out) - 1] += 2 * cfg.channels[-1] * cfg.img_channels * cfg.resolution ** 2
    return out
