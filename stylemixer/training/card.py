"""Pictures for the model card: a grid of samples and a style-mixing grid.

    python -m stylemixer.training.card [MODEL] --out docs

Style-mixing grid (as in the StyleGAN paper's figure 3): the top row holds seeds B, the left column seeds A.
There is a block of rows per layer group (three from 64 px up; a smaller model has no fine group); in block g,
cell (A_i, B_j) is A_i with g's w rows from B_j.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from stylemixer.core.families import GROUPS, indices_of_group
from stylemixer.training import metrics as M

SEEDS_A = (1, 2, 3)
SEEDS_B = (10, 11, 12, 13, 14)


def sample_grid(G, seeds=range(32), cols=8, scale=2) -> Image.Image:
    from stylemixer.data.faces import grid

    imgs = M.pictures(G, M.seed_ws(G, seeds))
    g = grid(imgs, cols)
    return g.resize((g.width * scale, g.height * scale), Image.NEAREST)


def mixing_grid(G, seeds_a=SEEDS_A, seeds_b=SEEDS_B, scale=2) -> Image.Image:
    wa, wb = M.seed_ws(G, seeds_a), M.seed_ws(G, seeds_b)
    ia, ib = M.pictures(G, wa), M.pictures(G, wb)
    r = G.cfg.resolution
    cell, label_w, gap = r + 2, 56, 6
    groups = [g for g in GROUPS if indices_of_group(G, g)]
    rows = 1 + len(groups) * len(seeds_a)
    h = rows * cell + len(groups) * gap
    w = label_w + (1 + len(seeds_b)) * cell
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)

    def put(img, x, y):
        canvas.paste(Image.fromarray(img), (x + 1, y + 1))

    draw.text((4, cell // 2 - 12), "A \\ B", fill=(0, 0, 0))
    for j, im in enumerate(ib):
        put(im, label_w + (1 + j) * cell, 0)
    y = cell
    for g in groups:
        y += gap
        rows_g = indices_of_group(G, g)
        draw.text((4, y + 4), f"{g}\nfrom B\n(w {rows_g[0]}-{rows_g[-1]})", fill=(0, 0, 0))
        for i in range(len(seeds_a)):
            put(ia[i], label_w, y)
            ws = wa[i : i + 1].repeat(len(seeds_b), 1, 1)
            ws[:, rows_g] = wb[:, rows_g]
            for j, im in enumerate(M.pictures(G, ws)):
                put(im, label_w + (1 + j) * cell, y)
            y += cell
    return canvas.resize((canvas.width * scale, canvas.height * scale), Image.NEAREST)


def main(argv=None) -> int:
    from stylemixer.core.checkpoints.native import load_model
    from stylemixer.core.resources import builtin_model_path

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model", nargs="?", default=None)
    p.add_argument("--out", default="docs")
    a = p.parse_args(argv)
    G = load_model(a.model or builtin_model_path())
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    sample_grid(G).save(out / "builtin-samples.png")
    mixing_grid(G).save(out / "builtin-mixing.png")
    print(f"wrote {out / 'builtin-samples.png'} and {out / 'builtin-mixing.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
