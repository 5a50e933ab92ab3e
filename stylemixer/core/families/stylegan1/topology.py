"""The StyleGAN v1 layout, described once: one LayerSpec per w index drives the modules, the layer table, the TF
variable names of official checkpoints and the FLOP count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..api import LayerInfo

if TYPE_CHECKING:
    from .network import GeneratorConfig


@dataclass(frozen=True)
class LayerSpec:
    index: int  # w index (= synthesis layer)
    block: int  # 0 for 4 px, 1 for 8 px, ...
    res: int  # output height/width
    in_ch: int
    out_ch: int
    kind: str  # "const" (the learned 4x4 input), "up" (upsampling conv), "conv" (3x3 conv)
    fused: bool  # "up" as one transposed conv (official: 128 px and above)
    tf_scope: str  # the official TF variable scope, e.g. "16x16/Conv0_up"


def topology(cfg: GeneratorConfig) -> list[LayerSpec]:
    ch, out = cfg.channels, []
    for b in range(cfg.num_blocks):
        r = 4 * 2**b
        if b == 0:
            out.append(LayerSpec(0, 0, 4, ch[0], ch[0], "const", False, "4x4/Const"))
        else:
            out.append(LayerSpec(2 * b, b, r, ch[b - 1], ch[b], "up", r >= cfg.fused_up_min_res, f"{r}x{r}/Conv0_up"))
        out.append(
            LayerSpec(2 * b + 1, b, r, ch[b], ch[b], "conv", False, f"{r}x{r}/Conv" if b == 0 else f"{r}x{r}/Conv1")
        )
    return out


def group_of(resolution: int) -> str:
    """The paper's split: coarse 4-8 px (pose, face shape), middle 16-32 px (features, hair), fine 64 px and up."""
    if resolution <= 8:
        return "coarse"
    if resolution <= 32:
        return "middle"
    return "fine"


_ROLES = {"const": "const + AdaIN", "up": "upsample conv + AdaIN", "conv": "3x3 conv + AdaIN"}


def layer_table(cfg: GeneratorConfig) -> list[LayerInfo]:
    return [
        LayerInfo(s.index, s.res, s.out_ch, s.tf_scope, _ROLES[s.kind], group_of(s.res), s.in_ch) for s in topology(cfg)
    ]


def flops(cfg: GeneratorConfig) -> dict:
    """Floating-point operations of one image per w index, counted from the layer shapes (multiply-add = 2).

    Convolutions as executed: 3x3 at the output size; a fused up-convolution is a 4x4 transposed conv at stride 2
    (16 taps per input pixel); nearest upsampling is free; the blur is a 3x3 depthwise conv. Per-element work
    (noise, bias, lrelu, instance norm, style): 11 operations. The style affine layer: 2 * w_dim * 2C. toRGB (1x1)
    is added to the last index.
    """
    out = {}
    for s in topology(cfg):
        c, r = s.out_ch, s.res
        if s.kind == "const":
            conv = 0
        elif s.kind == "up":
            conv = 2 * s.in_ch * c * (16 * (r // 2) ** 2 if s.fused else 9 * r * r) + 2 * 9 * c * r * r
        else:
            conv = 2 * c * c * 9 * r * r
        out[s.index] = conv + 11 * c * r * r + 2 * cfg.w_dim * 2 * c
    out[len(out) - 1] += 2 * cfg.channels[-1] * cfg.img_channels * cfg.resolution**2
    return out
