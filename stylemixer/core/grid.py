"""The style-mixing grid: destination sources down the side (rows, A), source sources across the top (columns, B).

Cell (r, c) is the render of one recipe: A = row r, B = column c, the grid's weights (how much of the column's w
feeds each w index). So a grid is nothing but recipes, and the renderer's cache does the sharing: every cell of
row r reuses row r's w and, through the chain cache, the activations of whatever prefix of rows it shares with
the pure images; a changed column re-renders only that column's cells, and a changed weight at index k resumes
every cell at k. The top row and left column show the pure images (each cell's render returns them).

NVIDIA ships the paper's figure only as a script (`generate_figures.py`, `style_mixing.py`); `figure3` is that
figure's layout as a preset, with per-row weights.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import RecipeError, read_error_text
from .images import enlarge
from .mixing import Latent, LatentSource, Recipe, SeedSource, document_fields, document_json, seed_source
from .safeio import open_regular

if TYPE_CHECKING:
    from .families.api import LayerInfo
    from .render import Renderer, RenderResult

GRID_FORMAT = "stylemixer.grid"
GRID_VERSION = 1
GRID_KEY = "stylemixer.grid"  # PNG text keyword
MAX_SIDE = 64  # rows or columns
GAP = 2  # pixels between cells in an exported grid
FILL = 255

# Karras et al. 2019, Figure 3, as NVIDIA's generate_figures.py draws it (FFHQ 1024 px, no truncation, const
# noise): the destination seeds down the side, the source seeds across the top, and the w indices each row copies
# from the column: three rows of coarse styles (4-8 px), two of middle (16-32 px), one of fine (64-1024 px).
FIGURE3_ROWS = (888, 829, 1898, 1733, 1614, 845)
FIGURE3_COLS = (639, 701, 687, 615, 2268)
FIGURE3_GROUPS = ("coarse", "coarse", "coarse", "middle", "middle", "fine")


class GridError(RecipeError):
    pass


def _source(v: object, where: str) -> SeedSource | LatentSource:
    if isinstance(v, (SeedSource, LatentSource)):
        return v
    if isinstance(v, Latent):
        return LatentSource(v)
    if isinstance(v, dict):
        return LatentSource(Latent.from_dict(v, where))
    try:
        return seed_source(v)
    except RecipeError as e:
        raise GridError(f"{where}: {str(e).partition(': ')[2] or e}") from None


def _source_json(s: SeedSource | LatentSource) -> Any:
    if isinstance(s, LatentSource):
        return s.latent.to_dict()
    return s.seed if s.frac == 0 else s.seed + s.frac


def source_text(s: SeedSource | LatentSource) -> str:
    """How a row or column is labelled: '42', '3.25' or a latent's name."""
    if isinstance(s, LatentSource):
        return s.latent.name
    return str(s.seed) if s.frac == 0 else f"{s.seed + s.frac:g}"


@dataclass(frozen=True)
class Grid:
    recipe: Recipe  # weights, truncation, noise and model of every cell; its own A and B are not used
    rows: tuple  # destination sources (A of each cell): SeedSource or LatentSource (ints are accepted)
    cols: tuple  # source sources (B of each cell)
    row_weights: tuple = ()  # empty, or per row: a weights tuple that replaces the recipe's for that row, or None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(_source(v, f"rows[{i}]") for i, v in enumerate(self.rows)))
        object.__setattr__(self, "cols", tuple(_source(v, f"cols[{i}]") for i, v in enumerate(self.cols)))
        for name in ("rows", "cols"):
            n = len(getattr(self, name))
            if not 1 <= n <= MAX_SIDE:
                raise GridError(f"{name}: a grid has 1 to {MAX_SIDE} {name}, got {n}")
        rw = tuple(None if w is None else tuple(float(v) for v in w) for w in self.row_weights)
        if rw and len(rw) != len(self.rows):
            raise GridError(f"row_weights: {len(rw)} entries for {len(self.rows)} rows")
        for i, w in enumerate(rw):
            if w is not None:
                try:
                    self.recipe.with_weights(w)
                except RecipeError as e:
                    raise GridError(f"row_weights[{i}]: {e}") from None
                if len(w) != len(self.recipe.weights):
                    raise GridError(f"row_weights[{i}]: {len(w)} weights, the recipe has {len(self.recipe.weights)}")
        if rw and all(w is None for w in rw):
            rw = ()
        object.__setattr__(self, "row_weights", rw)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.cols)

    def weights_of(self, r: int) -> tuple:
        w = self.row_weights[r] if self.row_weights else None
        return self.recipe.weights if w is None else w

    def cell(self, r: int, c: int) -> Recipe:
        """The recipe of cell (r, c): A = row r, B = column c."""
        rec = self.recipe.with_source("a", self.rows[r]).with_source("b", self.cols[c])
        w = self.weights_of(r)
        return rec if w == rec.weights else rec.with_weights(w)

    # ---- edits (each returns a new grid) ----------------------------------------------------------------------
    def with_recipe(self, recipe: Recipe) -> Grid:
        """New weights / truncation / noise for every row (per-row weights are dropped)."""
        return replace(self, recipe=recipe, row_weights=())

    def with_rows(self, rows: Iterable[SeedSource | LatentSource]) -> Grid:
        rows = tuple(rows)
        rw: tuple = ()
        if self.row_weights:  # keep the per-row weights of rows that stay where they were
            rw = tuple(
                self.row_weights[i] if i < len(self.rows) and rows[i] == self.rows[i] else None
                for i in range(len(rows))
            )
        return replace(self, rows=rows, row_weights=rw)

    def with_cols(self, cols: Iterable[SeedSource | LatentSource]) -> Grid:
        return replace(self, cols=tuple(cols))

    def transposed(self) -> Grid:
        """Rows become columns (the grid's weights become 1 - weight, so every cell keeps its picture)."""
        return Grid(self.recipe.with_weights([1.0 - v for v in self.recipe.weights]), self.cols, self.rows)

    # ---- JSON ------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {
            "format": GRID_FORMAT,
            "version": GRID_VERSION,
            "rows": [_source_json(s) for s in self.rows],
            "cols": [_source_json(s) for s in self.cols],
            "recipe": self.recipe.to_dict(),
        }
        if self.row_weights:
            d["row_weights"] = [None if w is None else list(w) for w in self.row_weights]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: object) -> Grid:
        d = document_fields(d, "grid", GRID_FORMAT, GRID_VERSION, ("rows", "cols", "recipe", "row_weights"), GridError)
        for k in ("rows", "cols"):
            if not isinstance(d.get(k), list):
                raise GridError(f"{k}: expected a list of seeds or latents")
        rw = d.get("row_weights") or ()
        if not isinstance(rw, (list, tuple)) or not all(w is None or isinstance(w, list) for w in rw):
            raise GridError("row_weights: expected a list of weight lists (or nulls)")
        recipe = Recipe.from_dict(d.get("recipe"))
        return cls(recipe, tuple(d["rows"]), tuple(d["cols"]), tuple(rw))

    @classmethod
    def from_json(cls, text: str) -> Grid:
        return cls.from_dict(document_json(text, "grid", GridError))


def figure3(recipe: Recipe, layers: list[LayerInfo]) -> Grid:
    """The paper's Figure 3 for a model with this layer table: its seeds, coarse x3 / middle x2 / fine x1 rows,
    no truncation, const noise (as NVIDIA's script draws it)."""
    base = replace(
        recipe, psi=1.0, cutoff=None, noise_mode="const", frac_a=0.0, frac_b=0.0, latent_a=None, latent_b=None
    )
    per_row = tuple(tuple(1.0 if l.group == g else 0.0 for l in layers) for g in FIGURE3_GROUPS)
    base = base.with_weights(per_row[0])
    return Grid(base, FIGURE3_ROWS, FIGURE3_COLS, per_row)


def parse_sources(text: str, where: str = "seeds", latent_loader: Callable[[str], Latent] | None = None) -> tuple:
    """'1,2,5-8' -> seeds 1, 2, 5, 6, 7, 8; '3.5' is a fractional seed; other items are latent files when a
    `latent_loader(spec) -> Latent` is given."""
    out: list[SeedSource | LatentSource] = []
    for item in filter(None, (p.strip() for p in str(text).split(","))):
        lo, sep, hi = item.partition("-")
        if sep and lo.isdigit() and hi.isdigit():
            a, b = int(lo), int(hi)
            if b < a:
                raise GridError(f"{where}: range {item!r} runs backwards")
            if b - a >= MAX_SIDE:
                raise GridError(f"{where}: range {item!r} has more than {MAX_SIDE} seeds")
            out += [SeedSource(s) for s in range(a, b + 1)]
            continue
        try:
            v = float(item)
        except ValueError:
            if latent_loader is None:
                raise GridError(f"{where}: {item!r} is not a seed or a range like 4-9") from None
            out.append(LatentSource(latent_loader(item)))
            continue
        out.append(_source(int(v) if v.is_integer() else v, where))
    if not out:
        raise GridError(f"{where}: no seeds given")
    if len(out) > MAX_SIDE:
        raise GridError(f"{where}: {len(out)} entries; a grid has at most {MAX_SIDE}")
    return tuple(out)


# ---- memory ----------------------------------------------------------------------------------------------------
def grid_budget() -> int:
    """Bytes a grid's images may take: a quarter of the memory available now, between 256 MB and 4 GB."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        return 2**30
    return int(min(4 * 2**30, max(256 * 2**20, avail // 4)))


def grid_bytes(rows: int, cols: int, height: int, width: int, channels: int = 3, scale: int = 1, gap: int = GAP) -> int:
    """The cells and pure images held while rendering, plus the composed (enlarged) picture."""
    images = (rows * cols + rows + cols) * height * width * channels
    canvas = ((rows + 1) * height * scale + rows * gap) * ((cols + 1) * width * scale + cols * gap) * channels
    return images + canvas


def _mb(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_fits(
    grid: Grid, height: int, width: int, channels: int = 3, scale: int = 1, gap: int = GAP, budget: int | None = None
) -> int:
    """Bytes the grid needs, or a GridError that says what fits."""
    budget = grid_budget() if budget is None else int(budget)
    R, C = grid.shape
    need = grid_bytes(R, C, height, width, channels, scale, gap)
    if need <= budget:
        return need
    n = 1
    while n < MAX_SIDE and grid_bytes(n + 1, n + 1, height, width, channels, scale, gap) <= budget:
        n += 1
    rows_here = 0
    while rows_here < MAX_SIDE and grid_bytes(rows_here + 1, C, height, width, channels, scale, gap) <= budget:
        rows_here += 1
    fits = (
        f"at most {n} × {n} fits"
        if grid_bytes(1, 1, height, width, channels, scale, gap) <= budget
        else "not even one cell fits; lower the enlargement"
    )
    also = f" ({rows_here} rows with {C} columns)" if rows_here > 0 and rows_here != n else ""
    raise GridError(
        f"a {R} × {C} grid of {width} × {height} images{f' enlarged {scale}×' if scale > 1 else ''} "
        f"needs {_mb(need)}, more than the {_mb(budget)} a grid may use here; {fits}{also}"
    )


# ---- rendering ---------------------------------------------------------------------------------------------------
@dataclass
class GridImages:
    """What has been rendered of one grid: cell images and the pure row / column images (uint8 [H, W, C])."""

    grid: Grid
    cells: dict = field(default_factory=dict)  # (r, c) -> image
    row_images: dict = field(default_factory=dict)
    col_images: dict = field(default_factory=dict)
    ms: float = 0.0  # time until the last cell
    starts: dict = field(default_factory=dict)  # (r, c) -> first AdaIN the mix ran (num_ws: from the cache)

    def add(self, r: int, c: int, result: RenderResult) -> None:
        self.cells[(r, c)] = result.mix
        self.row_images[r] = result.a
        self.col_images[c] = result.b
        self.starts[(r, c)] = result.info.get("start", {}).get("mix")

    @property
    def complete(self) -> bool:
        R, C = self.grid.shape
        return len(self.cells) == R * C


def iter_grid(
    renderer: Renderer, grid: Grid, order: Iterable[tuple[int, int]] | None = None
) -> Iterator[tuple[int, int, RenderResult]]:
    """Render cell by cell (row by row unless `order` lists (r, c) pairs), yielding (r, c, RenderResult).

    A generator, so a caller can show cells as they arrive and stop early (the GUI's worker drops a superseded
    grid between two cells)."""
    from .render import RenderRequest

    R, C = grid.shape
    for r, c in order if order is not None else ((r, c) for r in range(R) for c in range(C)):
        yield r, c, renderer.render(RenderRequest(grid.cell(r, c)))


def render_grid(
    renderer: Renderer, grid: Grid, on_cell: Callable[[int, int, RenderResult], None] | None = None
) -> GridImages:
    """Every cell, through the renderer (and its cache). `on_cell(r, c, result)` after each."""
    images = GridImages(grid)
    t0 = time.perf_counter()
    for r, c, res in iter_grid(renderer, grid):
        images.add(r, c, res)
        if on_cell is not None:
            on_cell(r, c, res)
    images.ms = (time.perf_counter() - t0) * 1000
    return images


def compose(images: GridImages, scale: int = 1, gap: int = GAP, fill: int = FILL) -> np.ndarray:
    """The grid as one picture: a blank corner, the column images across the top, the row images down the left,
    the cells; `gap` pixels of `fill` between them. Cells not rendered yet stay blank."""
    R, C = images.grid.shape
    some = next(iter(images.cells.values()), None)
    if some is None:
        raise GridError("the grid has no rendered cells")
    h, w, ch = some.shape
    H, W = h * scale, w * scale
    out = np.full(((R + 1) * H + R * gap, (C + 1) * W + C * gap, ch), fill, np.uint8)

    def put(r: int, c: int, img: np.ndarray) -> None:  # r, c in canvas slots (0 = the header row / column)
        y, x = r * (H + gap), c * (W + gap)
        out[y : y + H, x : x + W] = enlarge(img, scale)

    for c, img in images.col_images.items():
        put(0, c + 1, img)
    for r, img in images.row_images.items():
        put(r + 1, 0, img)
    for (r, c), img in images.cells.items():
        put(r + 1, c + 1, img)
    return out


def save_grid_png(path: str | os.PathLike[str], images: GridImages, scale: int = 1, gap: int = GAP) -> None:
    """One PNG with the grid JSON in its `stylemixer.grid` text chunk; atomic (export.save_png)."""
    from .export import save_png

    save_png(
        path,
        compose(images, scale, gap),
        None,
        extra={GRID_KEY: images.grid.to_json(), "stylemixer.layout": f"grid scale={scale} gap={gap}"},
    )


# ---- reading a grid back ------------------------------------------------------------------------------------------
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_BYTES = 64 * 2**20


def png_text(path: str | os.PathLike[str], key: str) -> str | None:
    """A PNG's tEXt / zTXt / iTXt value for `key`, read chunk by chunk without decoding the picture (so a big grid
    never meets Pillow's decompression-bomb guard). None when the PNG has no such chunk."""
    try:
        with open_regular(path, GridError, "grid file") as f:
            if f.read(8) != PNG_SIGNATURE:
                return None
            want = key.encode("latin-1")
            while True:
                head = f.read(8)
                if len(head) < 8:
                    return None
                n, kind = struct.unpack(">I4s", head)
                if kind in (b"IDAT", b"IEND"):  # Pillow writes text before the picture
                    if kind == b"IEND":
                        return None
                    f.seek(n + 4, os.SEEK_CUR)
                    continue
                if kind not in (b"tEXt", b"zTXt", b"iTXt"):
                    f.seek(n + 4, os.SEEK_CUR)
                    continue
                if n > MAX_TEXT_BYTES:
                    raise GridError(f"{os.path.basename(os.fspath(path))}: a text chunk of {n} bytes is too large")
                data = f.read(n)
                f.read(4)
                name, _, rest = data.partition(b"\0")
                if name != want:
                    continue
                if kind == b"tEXt":
                    return rest.decode("latin-1")
                if kind == b"zTXt":
                    return _inflate(rest[1:]).decode("latin-1")
                comp, _method, rest = rest[0], rest[1], rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _tkey, _, text = rest.partition(b"\0")
                return (_inflate(text) if comp else text).decode("utf-8")
    except OSError as e:
        raise GridError(read_error_text(path, e)) from None


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_TEXT_BYTES)
    if d.unconsumed_tail:
        raise GridError("a compressed text chunk is too large")
    return out


def grid_from_png(path: str | os.PathLike[str]) -> Grid:
    text = png_text(path, GRID_KEY)
    if text is None:
        raise GridError(f"{os.path.basename(os.fspath(path))} carries no StyleMixer grid")
    return Grid.from_json(text)


def is_grid_file(path: str | os.PathLike[str]) -> bool:
    """A PNG with a grid chunk, or a grid JSON. Only a regular file is opened: a FIFO or a device never is (an
    open would block)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        if str(path).lower().endswith(".json"):
            with open_regular(path, GridError, "grid file") as f:
                return b'"stylemixer.grid"' in f.read(4096)
        return png_text(path, GRID_KEY) is not None
    except (OSError, GridError):
        return False


def load_grid_file(path: str | os.PathLike[str]) -> Grid:
    """A grid PNG written by StyleMixer, or a grid JSON."""
    try:
        with open_regular(path, GridError, "grid file") as f:
            head = f.read(8)
    except OSError as e:
        raise GridError(read_error_text(path, e)) from None
    if head == PNG_SIGNATURE:
        return grid_from_png(path)
    try:
        with open_regular(path, GridError, "grid file") as f:
            data = f.read(MAX_TEXT_BYTES + 1)
    except OSError as e:
        raise GridError(read_error_text(path, e)) from None
    if len(data) > MAX_TEXT_BYTES:
        raise GridError(f"{os.path.basename(os.fspath(path))} is too large for a grid JSON")
    return Grid.from_json(data.decode("utf-8", errors="replace"))
