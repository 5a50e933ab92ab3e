"""`stylemixer convert IN OUT.safetensors`: any model file StyleMixer can open -> its native format."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import TYPE_CHECKING

from ..errors import ModelFileError, describe, printable, write_error_text

if TYPE_CHECKING:
    import argparse

    from ..families.api import StyleGenerator


def parse_crop(text: str) -> str | tuple[int, ...]:
    """'auto' (keep what the loader decided), 'none', or 'TOP,BOTTOM,LEFT,RIGHT'."""
    t = text.strip().lower()
    if t in ("auto", "none"):
        return t
    try:
        box = tuple(int(v) for v in t.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise ModelFileError(f"--crop must be auto, none or TOP,BOTTOM,LEFT,RIGHT, got {describe(text)}")
    return box


def apply_crop(G: StyleGenerator, crop: str | tuple[int, ...]) -> StyleGenerator:
    """Set the content box of G's config; 'auto' leaves it as loaded."""
    if crop == "auto":
        return G
    box = None if isinstance(crop, str) else crop  # parse_crop's strings: "auto" (above) and "none"
    r = G.cfg.resolution
    if box is not None:
        top, bottom, left, right = box
        if not (0 <= top < bottom <= r and 0 <= left < right <= r):
            raise ModelFileError(f"--crop {top},{bottom},{left},{right} does not fit a {r}x{r} image")
    cfg = dataclasses.replace(G.cfg, crop=box)
    G.cfg = cfg
    G.synthesis.cfg = cfg
    return G


def cmd_convert(args: argparse.Namespace) -> int:
    from ..families.stylegan1.network import count_parameters
    from . import load_any, save_model

    src, dst = os.path.abspath(args.input), os.path.abspath(args.output)
    if os.path.exists(dst) and os.path.exists(src) and os.path.samefile(src, dst):
        raise ModelFileError("the output file must differ from the input file")
    if not dst.lower().endswith(".safetensors"):
        raise ModelFileError(f"the output file should end in .safetensors, got {printable(os.path.basename(dst))}")
    if os.path.isdir(dst):
        raise ModelFileError(f"{printable(args.output)} is a folder; name the .safetensors file to write")
    if not os.path.isdir(os.path.dirname(dst)):
        raise ModelFileError(
            f"cannot write {printable(os.path.basename(dst))}: the folder "
            f"{printable(os.path.dirname(dst))} does not exist"
        )
    crop = parse_crop(args.crop)
    from ..export import check_output_path

    check_output_path(dst)  # before a read that can take seconds
    t0 = time.perf_counter()
    shown = [-1]

    def progress(frac: float) -> None:  # a percentage on stderr when it is a terminal; the summary line stays on stdout
        pct = int(frac * 100)
        if sys.stderr.isatty() and pct != shown[0]:
            shown[0] = pct
            print(f"\rreading {os.path.basename(src)}: {pct:3d}%", end="", file=sys.stderr, flush=True)

    loaded = load_any(src, "cpu", progress=progress)
    if shown[0] >= 0:
        print(file=sys.stderr)
    G = apply_crop(loaded.G, crop)
    try:
        save_model(G, dst, extra_metadata={"converted_from": loaded.name, "source_format": loaded.format})
    except OSError as e:
        raise ModelFileError(write_error_text(dst, e)) from None
    cfg = G.cfg
    size = f"{cfg.resolution}x{cfg.resolution}"
    if cfg.crop is not None:
        size += f" (content {cfg.crop[3] - cfg.crop[2]}x{cfg.crop[1] - cfg.crop[0]})"
    trunc = f"psi {cfg.truncation_psi}, cutoff {cfg.truncation_cutoff}" if cfg.truncation_psi != 1 else "no truncation"
    print(
        f"converted {printable(loaded.name)} ({loaded.format}) -> {printable(os.path.basename(dst))}: {size}, "
        f"{G.num_ws} w indices, "
        f"{count_parameters(G) / 1e6:.2f}M parameters, default {trunc}, in {time.perf_counter() - t0:.1f} s"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "convert", help="convert a model file (e.g. an official StyleGAN .pkl) to StyleMixer's .safetensors format"
    )
    p.add_argument("input", help="the model file to read; its format is recognised by content")
    p.add_argument("output", help="the .safetensors file to write (written atomically)")
    p.add_argument(
        "--crop",
        default="auto",
        help="content box kept when rendering: auto (default; the official "
        "cars model gets 64,448,0,512), none, or TOP,BOTTOM,LEFT,RIGHT",
    )
    p.set_defaults(func=cmd_convert)
