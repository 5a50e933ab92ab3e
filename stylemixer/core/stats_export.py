"""Export of per-channel statistics (CSV for spreadsheets, .npz with the recipe for scripts) and of the feature
montage (PNG with the recipe). Every write is atomic: a failure raises ExportError and leaves no file.

CSV layout (one row per layer, source and channel), one column per quantity the family records, e.g. for v1:
    layer,resolution,source,channel,mean_in,std_in,y_s,y_b,mean_out,std_out
resolution is empty when the layer table is not given. A quantity indexed by fewer channels than the row's (a
StyleGAN2 style per input channel beside features per output channel) leaves its cell empty. Values are written
with 9 significant digits, which round-trips float32 exactly.

.npz layout:
    format        "stylemixer.stats"
    version       1
    recipe        the recipe JSON (Recipe.from_json reads it back)
    layers        int64 [L]  w indices present
    channels      int64 [L]  channels of each (the most any quantity has)
    resolutions   int64 [L]  feature-map size of each (-1 when unknown)
    quantities    str [Q]    the recorded quantities, in display order
    <source>.<layer>.<quantity>   float32 [C], e.g. "mix.3.y_s"; source in mix, a, b
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import read_error_text
from .export import ExportError, save_png, write_file
from .mixing import Recipe
from .safeio import open_regular
from .stats import SOURCES, LayerStats

if TYPE_CHECKING:
    from .families.api import LayerInfo

STATS_FORMAT = "stylemixer.stats"
STATS_VERSION = 1
_V1_QUANTITIES = ("mean_in", "std_in", "y_s", "y_b", "mean_out", "std_out")  # files written before "quantities"


def _layers(stats: dict, layers: Iterable[int] | None) -> list[int]:
    have = sorted(stats["mix"])
    if layers is None:
        return have
    missing = [k for k in layers if k not in stats["mix"]]
    if missing:
        raise ExportError(f"no statistics captured for layer {missing[0]}")
    return sorted(int(k) for k in layers)


def _resolutions(table: Iterable[LayerInfo] | None) -> dict:
    return {} if table is None else {info.index: info.resolution for info in table}


def _quantities(stats: dict) -> tuple:
    """The recorded quantities in the order the family recorded them (the same at every layer)."""
    first = stats["mix"][min(stats["mix"])] if stats.get("mix") else None
    return tuple(first.keys()) if first is not None else ()


def stats_csv(stats: dict, layers: Iterable[int] | None = None, table: Iterable[LayerInfo] | None = None) -> str:
    """CSV text of the given w indices (all captured layers when None). table: optional `G.layer_table()`."""
    res = _resolutions(table)
    qs = _quantities(stats)
    rows = [",".join(("layer", "resolution", "source", "channel") + qs)]
    for k in _layers(stats, layers):
        for src in SOURCES:
            s = stats[src][k]
            cols = [s[q][0] for q in qs]
            for c in range(max(len(v) for v in cols)):
                vals = [f"{v[c]:.9g}" if c < len(v) else "" for v in cols]
                rows.append(",".join([str(k), str(res.get(k, "")), src, str(c)] + vals))
    return "\n".join(rows) + "\n"


def stats_npz_bytes(
    stats: dict, recipe: Recipe, layers: Iterable[int] | None = None, table: Iterable[LayerInfo] | None = None
) -> bytes:
    res = _resolutions(table)
    keys = _layers(stats, layers)
    qs = _quantities(stats)
    arrays: dict[str, Any] = {
        "format": np.array(STATS_FORMAT),
        "version": np.array(STATS_VERSION),
        "recipe": np.array(recipe.to_json()),
        "layers": np.array(keys, dtype=np.int64),
        "channels": np.array([max(stats["mix"][k][q].shape[1] for q in qs) for k in keys], dtype=np.int64),
        "resolutions": np.array([res.get(k, -1) for k in keys], dtype=np.int64),
        "quantities": np.array(qs),
    }
    for k in keys:
        for src in SOURCES:
            for q in qs:
                arrays[f"{src}.{k}.{q}"] = np.asarray(stats[src][k][q][0], dtype=np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def save_stats(
    path: str | os.PathLike[str],
    stats: dict,
    recipe: Recipe,
    layers: Iterable[int] | None = None,
    table: Iterable[LayerInfo] | None = None,
) -> None:
    """Pick the format from the extension: .csv or .npz."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext == ".csv":
        data = stats_csv(stats, layers, table).encode("utf-8")
    elif ext == ".npz":
        data = stats_npz_bytes(stats, recipe, layers, table)
    else:
        raise ExportError(f"statistics can be saved as .csv or .npz, not {ext or 'a file without extension'}")
    write_file(path, data)


def load_stats_npz(path: str | os.PathLike[str]) -> tuple[Recipe, dict]:
    """Read back a file written by save_stats as .npz: (recipe, {source: {layer: LayerStats [1, C]}})."""
    try:
        with open_regular(path, ExportError, "statistics file") as f, np.load(f, allow_pickle=False) as z:
            if "format" not in z.files or str(z["format"]) != STATS_FORMAT:
                raise ExportError(f"{os.path.basename(os.fspath(path))} is not a StyleMixer statistics file")
            recipe = Recipe.from_json(str(z["recipe"]))
            qs = [str(q) for q in z["quantities"]] if "quantities" in z.files else list(_V1_QUANTITIES)
            stats = {
                src: {int(k): LayerStats({q: z[f"{src}.{k}.{q}"][None] for q in qs}) for k in z["layers"]}
                for src in SOURCES
            }
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise ExportError(read_error_text(path, e)) from None
    return recipe, stats


def save_montage_png(
    path: str | os.PathLike[str],
    image: np.ndarray,
    recipe: Recipe | None,
    layer: int,
    source: str,
    cmap: str,
    norm: str,
) -> None:
    """The montage as shown, with the recipe and what it shows in PNG text chunks."""
    save_png(
        path,
        image,
        recipe,
        extra={"stylemixer.montage": f"layer={layer} source={source} colormap={cmap} normalisation={norm}"},
    )
