"""The model card's pictures: the mixing grid's cells are the mixes their labels name, and the command writes both."""

import numpy as np
from PIL import Image

from stylemixer.core.families import GROUPS, indices_of_group
from stylemixer.training import card
from stylemixer.training import metrics as M


def test_mixing_grid_cells_are_a_with_the_groups_rows_from_b(tiny_G):
    seeds_a, seeds_b = (1, 2), (10, 11, 12)
    img = np.asarray(card.mixing_grid(tiny_G, seeds_a, seeds_b, scale=1))
    r = tiny_G.cfg.resolution
    cell, label_w, gap = r + 2, 56, 6  # the layout card.mixing_grid draws
    groups = [g for g in GROUPS if indices_of_group(tiny_G, g)]  # 32 px: no fine group
    assert groups == ["coarse", "middle"]
    assert img.shape == (cell + len(groups) * (len(seeds_a) * cell + gap), label_w + (1 + len(seeds_b)) * cell, 3)
    wa, wb = M.seed_ws(tiny_G, seeds_a), M.seed_ws(tiny_G, seeds_b)

    def at(x, y):
        return img[y + 1 : y + 1 + r, x + 1 : x + 1 + r]

    for j, pic in enumerate(M.pictures(tiny_G, wb)):  # the top row: B
        assert np.array_equal(at(label_w + (1 + j) * cell, 0), pic)
    y = cell
    for g in groups:
        y += gap
        rows = indices_of_group(tiny_G, g)
        for i in range(len(seeds_a)):
            assert np.array_equal(at(label_w, y), M.pictures(tiny_G, wa[i : i + 1])[0])  # the left column: A
            for j in range(len(seeds_b)):
                ws = wa[i : i + 1].clone()
                ws[:, rows] = wb[j : j + 1, rows]
                assert np.array_equal(at(label_w + (1 + j) * cell, y), M.pictures(tiny_G, ws)[0]), (g, i, j)
            y += cell


def test_card_command_writes_both_pictures(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "docs"
    assert card.main([str(tiny_model_path), "--out", str(out)]) == 0
    samples, mixing = Image.open(out / "builtin-samples.png"), Image.open(out / "builtin-mixing.png")
    assert samples.size[0] > 0 and mixing.size == card.mixing_grid(card_model(tiny_model_path)).size
    assert "builtin-mixing.png" in capsys.readouterr().out


def card_model(path):
    from stylemixer.core.checkpoints.native import load_model

    return load_model(path)
