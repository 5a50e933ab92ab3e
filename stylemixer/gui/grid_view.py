"""The style-mixing grid window: destination seeds down the side (A), source seeds across the top (B).

Every cell is one recipe (core/grid.py) rendered by the main window's worker as a named task, so the cells share
the renderer's cache with the main view and with each other, arrive one by one, and a newer grid replaces one
still rendering (the worker drops it at its next cell). The layer mixer is the same widget as in the main window;
its presets apply to every row, and "swap" exchanges rows and columns. Click a cell to open that pair in the main
window; double-click a seed (or right-click it) to edit or remove it.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import StyleMixerError
from ..core.families import GROUPS
from ..core.grid import (
    GAP,
    Grid,
    GridError,
    GridImages,
    check_fits,
    figure3,
    iter_grid,
    load_grid_file,
    parse_sources,
    save_grid_png,
    source_text,
)
from ..core.mixing import BUILTIN_MODEL, Recipe, SeedSource
from .imaging import to_qimage
from .layer_mixer import LayerMixer
from .windows import open_once

TASK = "grid"
DEFAULT_ROWS = (1, 2, 3, 4, 5, 6)
DEFAULT_COLS = (7, 8, 9, 10, 11, 12)


def _seeds_text(sources) -> str:
    """Compact text of a row or column list: runs of consecutive integer seeds as ranges."""
    parts, i, items = [], 0, list(sources)
    while i < len(items):
        s = items[i]
        j = i
        if isinstance(s, SeedSource) and s.frac == 0:
            while (
                j + 1 < len(items)
                and isinstance(items[j + 1], SeedSource)
                and items[j + 1].frac == 0
                and items[j + 1].seed == items[j].seed + 1
            ):
                j += 1
        parts.append(source_text(s) if j - i < 2 else f"{s.seed}-{items[j].seed}")
        if 0 < j - i < 2:
            parts.append(source_text(items[j]))
        i = j + 1
    return ",".join(parts)


class GridCanvas(QWidget):
    """Paints the grid: header row and column (pure images, labelled), cells; stale cells are dimmed."""

    cell_clicked = Signal(int, int)
    header_edit = Signal(str, int)  # "row" | "col", index
    header_menu = Signal(str, int, object)  # kind, index, global position

    def __init__(self, parent=None):
        super().__init__(parent)
        self.shape = (0, 0)
        self.labels = ([], [])
        self.cells: dict = {}
        self.rows: dict = {}
        self.cols: dict = {}
        self.fresh: set = set()  # keys ("cell", r, c) / ("row", r) / ("col", c) of the current grid
        self.setMouseTracking(True)
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def layout_box(self):
        """(cell size in px, gap, origin x, origin y) for the current widget size."""
        R, C = self.shape
        if not R or not C:
            return 0, 0, 0, 0
        gap = 3
        some = next(iter(self.cells.values()), None) or next(iter(self.rows.values()), None)
        side = min((self.width() - C * gap) / (C + 1), (self.height() - R * gap) / (R + 1))
        if some is not None and side >= 2 * some.width():
            side = some.width() * int(side // some.width())  # whole-pixel enlargement: small models stay crisp
        side = max(8, int(side))
        w, h = (C + 1) * side + C * gap, (R + 1) * side + R * gap
        return side, gap, max(0, (self.width() - w) // 2), max(0, (self.height() - h) // 2)

    def slot_rect(self, r: int, c: int) -> QRectF:
        """Rectangle of canvas slot (r, c); r = 0 is the header row, c = 0 the header column."""
        side, gap, x0, y0 = self.layout_box()
        return QRectF(x0 + c * (side + gap), y0 + r * (side + gap), side, side)

    def hit(self, pos: QPointF):
        R, C = self.shape
        for r in range(R + 1):
            for c in range(C + 1):
                if self.slot_rect(r, c).contains(pos):
                    return r, c
        return None

    def paintEvent(self, _):
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        R, C = self.shape
        if not R:
            return
        small = next(iter(self.cells.values()), None)
        smooth = small is not None and self.layout_box()[0] % small.width() != 0
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)

        def draw(rect, img, fresh, label=None):
            if img is None:
                p.fillRect(rect, pal.alternateBase())
            else:
                p.drawImage(rect, img)
                if not fresh:
                    p.fillRect(rect, QColor(128, 128, 128, 150))
            if label:
                fm = p.fontMetrics()
                tw = fm.horizontalAdvance(label) + 6
                box = QRectF(rect.left(), rect.bottom() - fm.height() - 2, min(tw, rect.width()), fm.height() + 2)
                p.fillRect(box, QColor(0, 0, 0, 150))
                p.setPen(QPen(QColor(255, 255, 255)))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)

        corner = self.slot_rect(0, 0)
        p.setPen(QPen(pal.text().color()))
        p.drawText(
            corner.adjusted(4, 4, -4, -4),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            "rows: A\ncolumns: B →",
        )
        for c in range(C):
            draw(self.slot_rect(0, c + 1), self.cols.get(c), ("col", c) in self.fresh, self.labels[1][c])
        for r in range(R):
            draw(self.slot_rect(r + 1, 0), self.rows.get(r), ("row", r) in self.fresh, self.labels[0][r])
            for c in range(C):
                draw(self.slot_rect(r + 1, c + 1), self.cells.get((r, c)), ("cell", r, c) in self.fresh)

    def mousePressEvent(self, e):
        h = self.hit(e.position())
        if h is None:
            return
        r, c = h
        if e.button() == Qt.MouseButton.RightButton and (r == 0) != (c == 0):
            self.header_menu.emit("col" if r == 0 else "row", (c if r == 0 else r) - 1, e.globalPosition().toPoint())
        elif e.button() == Qt.MouseButton.LeftButton and r > 0 and c > 0:
            self.cell_clicked.emit(r - 1, c - 1)

    def mouseDoubleClickEvent(self, e):
        h = self.hit(e.position())
        if h is not None and (h[0] == 0) != (h[1] == 0):
            r, c = h
            self.header_edit.emit("col" if r == 0 else "row", (c if r == 0 else r) - 1)

    def mouseMoveEvent(self, e):
        h = self.hit(e.position())
        tip = ""
        if h is not None:
            r, c = h
            if r > 0 and c > 0:
                tip = (
                    f"Row {self.labels[0][r - 1]} (A) with column {self.labels[1][c - 1]} (B): "
                    "click to open this pair in the main window"
                )
            elif (r == 0) != (c == 0):
                tip = "Double-click to change this seed; right-click to remove it or load a latent"
        self.setToolTip(tip)


class GridView(QWidget):
    """A top-level window attached to the main window (its controller, worker and messages)."""

    def __init__(self, win):
        super().__init__(win, Qt.WindowType.Window)  # its own window, closed with the main one
        self.win = win
        self.setWindowTitle("StyleMixer — Mixing grid")
        self.resize(1180, 700)
        self.grid: Grid | None = None
        self.images: GridImages | None = None
        self.task_id = None
        self._t0 = 0.0
        self.last_ms = None
        self.cells_done = 0
        self.error = ""

        self.rows_edit = QLineEdit()
        self.rows_edit.setToolTip("Destination seeds (A of each cell), e.g. 1,2,3 or 1-6; 3.5 is a continuous seed")
        self.cols_edit = QLineEdit()
        self.cols_edit.setToolTip(
            "Source seeds (B of each cell): each cell takes the mixed-in w indices from its column"
        )
        for e in (self.rows_edit, self.cols_edit):
            e.editingFinished.connect(self._seeds_edited)
        self.buttons = {}
        top = QHBoxLayout()
        for key, title, noun, edit in (
            ("row", "Rows (A)", "row", self.rows_edit),
            ("col", "Columns (B)", "column", self.cols_edit),
        ):
            if key == "col":
                top.addSpacing(10)
            top.addWidget(QLabel(title))
            top.addWidget(edit, 1)
            top.addWidget(self._tool(f"add_{key}", "+", f"Add a {noun} (the next seed)"))
            top.addWidget(self._tool(f"remove_{key}", "−", f"Remove the last {noun}"))

        bar = QHBoxLayout()
        for key, text, tip in (
            (
                "figure3",
                "Figure 3",
                "The StyleGAN paper's Figure 3: its seeds, three rows of coarse styles, two "
                "of middle, one of fine; no truncation, const noise",
            ),
            ("from_main", "Use Main Mix", "Take the weights, truncation and noise of the main window's mix"),
            (
                "export",
                "Export PNG…",
                "The whole grid as one PNG, with the grid recipe embedded (open it again to restore the grid)",
            ),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            self.buttons[key] = b
            bar.addWidget(b)
        self.scale_spin = QSpinBox()
        self.scale_spin.setRange(1, 16)
        self.scale_spin.setPrefix("×")
        self.scale_spin.setToolTip("Enlargement of the exported PNG (whole pixels)")
        bar.addWidget(self.scale_spin)
        bar.addStretch(1)
        self.status = QLabel("")
        bar.addWidget(self.status)
        self.buttons["figure3"].clicked.connect(self.figure3)
        self.buttons["from_main"].clicked.connect(self.use_main_mix)
        self.buttons["export"].clicked.connect(self.export_dialog)

        self.mixer = LayerMixer()
        self.mixer.weight_changed.connect(self._weight)
        self.mixer.preset_requested.connect(self.preset)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.truncation = QLabel("")
        self.truncation.setWordWrap(True)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<b>Mixed in from each column</b> (0 = row's w, 1 = column's w)"))
        lv.addWidget(self.note)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.mixer)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lv.addWidget(scroll, 1)
        lv.addWidget(self.truncation)
        left.setMinimumWidth(380)

        self.canvas = GridCanvas()
        self.canvas.cell_clicked.connect(self.open_cell)
        self.canvas.header_edit.connect(self.edit_header)
        self.canvas.header_menu.connect(self._header_menu)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.canvas)
        split.setStretchFactor(1, 1)
        split.setSizes([400, 780])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(bar)
        lay.addWidget(split, 1)

        w = win.worker
        w.task_item.connect(self._on_item)
        w.task_finished.connect(self._on_finished)
        win.model_changed.connect(self._on_model)
        if win.model is not None:
            self._on_model(win.model)

    def _tool(self, key, text, tip):
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(getattr(self, key))
        self.buttons[key] = b
        return b

    # ---- the grid ---------------------------------------------------------------------------------------------
    def _base_recipe(self) -> Recipe:
        """The main window's mix, as the starting point of a grid for the loaded model."""
        m = self.win.model
        r = self.win.controller.recipe or Recipe.for_model(m.num_ws)
        return replace(r, model=m.source, frac_a=0.0, frac_b=0.0, latent_a=None, latent_b=None)

    def _on_model(self, info):
        if self.grid is not None and len(self.grid.recipe.weights) == info.num_ws:
            grid = replace(self.grid, recipe=replace(self.grid.recipe, model=info.source))
        else:
            base = self._base_recipe()
            weights = [1.0 if l.group == "coarse" else 0.0 for l in info.layers]
            rows = self.grid.rows if self.grid else DEFAULT_ROWS
            cols = self.grid.cols if self.grid else DEFAULT_COLS
            keep = [s for s in rows + cols if isinstance(s, SeedSource)]
            if len(keep) != len(rows) + len(cols):  # latents belong to the previous model
                rows, cols = DEFAULT_ROWS, DEFAULT_COLS
            grid = Grid(base.with_weights(weights), rows, cols)
        self.mixer.set_layers(info.layers)
        self.set_grid(grid)

    def set_grid(self, grid: Grid):
        """Show and render a grid (the newest wins: a grid still rendering is dropped at its next cell)."""
        m = self.win.model
        if m is not None and grid.recipe.model != m.source:
            grid = replace(grid, recipe=replace(grid.recipe, model=m.source))
        if m is not None:
            grid.recipe.check_model(m.num_ws)
        old = self.grid
        self.grid = grid
        self.rows_edit.setText(_seeds_text(grid.rows))
        self.cols_edit.setText(_seeds_text(grid.cols))
        self.mixer.set_weights(grid.recipe.weights)
        r = grid.recipe
        self.truncation.setText(
            f"Truncation psi {r.psi:g}, cutoff {r.cutoff if r.cutoff is not None else 'all'}; "
            f"noise {r.noise_mode}"
            + (f" (seed {r.noise_seed})" if r.noise_mode == "random" else "")
            + ". Use Main Mix to take the main window's."
        )
        self.note.setText(self._row_weights_note(grid))
        R, C = grid.shape
        c = self.canvas
        if old is None or old.shape != grid.shape:  # keep what is shown where it still fits, dimmed
            c.cells = {k: v for k, v in c.cells.items() if k[0] < R and k[1] < C}
            c.rows = {k: v for k, v in c.rows.items() if k < R}
            c.cols = {k: v for k, v in c.cols.items() if k < C}
        c.shape, c.labels = grid.shape, ([source_text(s) for s in grid.rows], [source_text(s) for s in grid.cols])
        c.fresh = set()
        c.update()
        self._render()

    def _row_weights_note(self, grid: Grid) -> str:
        if not grid.row_weights:
            return ""
        layers = self.win.model.layers if self.win.model else ()
        names = []
        for w in grid.row_weights:
            group = next(
                (g for g in GROUPS if w is not None and tuple(1.0 if l.group == g else 0.0 for l in layers) == w), None
            )
            names.append(group or ("the sliders" if w is None else "own weights"))
        runs, i = [], 0
        while i < len(names):  # rows 1-3 coarse, rows 4-5 middle, row 6 fine
            j = i
            while j + 1 < len(names) and names[j + 1] == names[i]:
                j += 1
            runs.append(f"row {i + 1} {names[i]}" if i == j else f"rows {i + 1}-{j + 1} {names[i]}")
            i = j + 1
        return "Per-row weights: " + ", ".join(runs) + ". Moving a slider applies it to every row."

    def _render(self):
        grid, m = self.grid, self.win.model
        if grid is None or m is None:
            return
        h = w = m.resolution
        crop = getattr(m.cfg, "crop", None)
        if crop:
            h, w = crop[1] - crop[0], crop[3] - crop[2]
        try:
            check_fits(grid, h, w, m.cfg.img_channels, self.scale_spin.value(), GAP)
        except GridError as e:
            self.error = str(e)
            self.status.setText("Too large")
            self.win.show_message("error", f"The grid was not rendered: {e}.")
            if self.task_id is not None:
                self.win.worker.cancel_task(TASK, self.task_id)
            return
        self.error = ""
        self.images = GridImages(grid)
        self.cells_done = 0
        self._t0 = time.perf_counter()
        self.task_id = self.win.worker.submit_task(TASK, lambda renderer, g=grid: iter_grid(renderer, g))
        self.status.setText(f"0 / {grid.shape[0] * grid.shape[1]} cells")

    def _on_item(self, name, tid, item):
        if name != TASK or tid != self.task_id:
            return
        r, c, res = item
        self.images.add(r, c, res)
        self.cells_done += 1
        cv = self.canvas
        cv.cells[(r, c)] = to_qimage(res.mix)
        cv.rows[r] = to_qimage(res.a)
        cv.cols[c] = to_qimage(res.b)
        cv.fresh |= {("cell", r, c), ("row", r), ("col", c)}
        cv.update()
        R, C = self.grid.shape
        ms = (time.perf_counter() - self._t0) * 1000
        self.status.setText(f"{self.cells_done} / {R * C} cells · {ms:.0f} ms")

    def _on_finished(self, name, tid, status, message):
        if name != TASK or tid != self.task_id:
            return
        if status == "done":
            self.last_ms = (time.perf_counter() - self._t0) * 1000
            self.images.ms = self.last_ms
            R, C = self.grid.shape
            self.status.setText(f"{R} × {C} cells in {self.last_ms:.0f} ms")
        elif status == "failed":
            self.status.setText("Failed")
            self.win.show_message("error", f"The grid could not be rendered: {message}")

    @property
    def complete(self) -> bool:
        return self.images is not None and self.images.grid == self.grid and self.images.complete

    # ---- edits ------------------------------------------------------------------------------------------------
    def _apply(self, fn):
        if self.grid is None:
            return
        try:
            self.set_grid(fn(self.grid))
        except StyleMixerError as e:
            self.win.show_message("error", f"The grid was not changed: {e}")
            self.rows_edit.setText(_seeds_text(self.grid.rows))
            self.cols_edit.setText(_seeds_text(self.grid.cols))

    def _seeds_edited(self):
        if self.grid is None:
            return
        rows, cols = self.rows_edit.text(), self.cols_edit.text()
        if rows == _seeds_text(self.grid.rows) and cols == _seeds_text(self.grid.cols):
            return
        self._apply(lambda g: self._with_edits(g, rows, cols))

    def _with_edits(self, g: Grid, rows_text: str, cols_text: str) -> Grid:
        keep_latents = {source_text(s): s for s in g.rows + g.cols if not isinstance(s, SeedSource)}

        def parse(text, where):  # latents stay addressable by their name
            return parse_sources(text, where, latent_loader=lambda n: _known(keep_latents, n))

        return g.with_rows(parse(rows_text, "rows")).with_cols(parse(cols_text, "cols"))

    def set_seeds(self, rows=None, cols=None):
        """Rows and / or columns as text ('1,2,5-8') or sequences of seeds."""

        def conv(v):
            return v if v is None or isinstance(v, str) else ",".join(str(x) for x in v)

        rows, cols = conv(rows), conv(cols)
        self._apply(
            lambda g: self._with_edits(
                g, rows if rows is not None else _seeds_text(g.rows), cols if cols is not None else _seeds_text(g.cols)
            )
        )

    def _next_seed(self, sources) -> int:
        return max((s.seed for s in sources if isinstance(s, SeedSource)), default=0) + 1

    def add_row(self):
        self._apply(lambda g: g.with_rows(g.rows + (self._next_seed(g.rows + g.cols),)))

    def add_col(self):
        self._apply(lambda g: g.with_cols(g.cols + (self._next_seed(g.rows + g.cols),)))

    def remove_row(self, index=None):
        self._apply(lambda g: g.with_rows(_without(g.rows, index)))

    def remove_col(self, index=None):
        self._apply(lambda g: g.with_cols(_without(g.cols, index)))

    def _weight(self, index, value):
        self._apply(lambda g: g.with_recipe(g.recipe.with_weight(index, value)))

    def preset(self, name: str):
        if name == "swap":
            self._apply(lambda g: g.transposed())
            return
        m = self.win.model
        if m is None:
            return
        n = m.num_ws
        w = {"all_a": [0.0] * n, "all_b": [1.0] * n}.get(name)
        if w is None:
            w = [1.0 if l.group == name else 0.0 for l in m.layers]
        self._apply(lambda g: g.with_recipe(g.recipe.with_weights(w)))

    def figure3(self):
        if self.win.model is not None:
            self._apply(lambda g: figure3(g.recipe, self.win.model.layers))

    def use_main_mix(self):
        r = self.win.controller.recipe
        if r is not None:
            self._apply(
                lambda g: g.with_recipe(
                    replace(
                        g.recipe,
                        weights=r.weights,
                        psi=r.psi,
                        cutoff=r.cutoff,
                        noise_mode=r.noise_mode,
                        noise_seed=r.noise_seed,
                    )
                )
            )

    def edit_header(self, kind: str, index: int, text: str | None = None):
        """Change one row's or column's seed (asks when `text` is None)."""
        sources = self.grid.rows if kind == "row" else self.grid.cols
        if text is None:
            text, ok = QInputDialog.getText(
                self,
                "Seed",
                f"Seed of {kind} {index + 1} (a fraction like 3.5 interpolates):",
                text=source_text(sources[index]),
            )
            if not ok:
                return
        new = parse_sources(text, kind) if text.strip() else ()
        if len(new) != 1:
            self.win.show_message("error", f"The {kind} was not changed: give one seed.")
            return
        items = list(sources)
        items[index] = new[0]
        self._apply(lambda g: g.with_rows(items) if kind == "row" else g.with_cols(items))

    def _header_menu(self, kind, index, pos):
        menu = QMenu(self)
        menu.addAction("Change Seed…", lambda: self.edit_header(kind, index))
        menu.addAction(
            f"Remove This {'Row' if kind == 'row' else 'Column'}",
            lambda: self.remove_row(index) if kind == "row" else self.remove_col(index),
        )
        menu.addAction("Load a Latent Here…", lambda: self.load_latent(kind, index))
        menu.popup(pos)

    def load_latent(self, kind: str, index: int, path: str | None = None):
        from ..core.mixing import LatentSource
        from .latent_actions import LATENT_FILTER, read_latent_for_model

        if path is None:  # ask; the chosen file's folder is where the next latent dialog starts
            self.win.open_chosen("Load Latent", "latents", LATENT_FILTER, lambda p: self.load_latent(kind, index, p))
            return
        latent = read_latent_for_model(self.win, path, parent=self)
        if latent is None:
            return
        items = list(self.grid.rows if kind == "row" else self.grid.cols)
        items[index] = LatentSource(latent)
        self._apply(lambda g: g.with_rows(items) if kind == "row" else g.with_cols(items))

    def open_cell(self, r: int, c: int):
        """Make the main window show this pair with the grid's weights."""
        if self.grid is None:
            return
        recipe = self.grid.cell(r, c)
        try:
            self.win.controller.apply(replace(recipe, model=self.win.model.source))
        except StyleMixerError as e:
            self.win.show_message("error", f"Could not open the cell: {e}")
            return
        self.win.raise_()
        self.win.activateWindow()

    # ---- files ------------------------------------------------------------------------------------------------
    def export_dialog(self):
        if not self._ready_to_export():
            return
        R, C = self.grid.shape
        self.win.save_chosen("Export Grid", "exports", f"grid-{R}x{C}.png", "PNG images (*.png)", self.export_png)

    def _ready_to_export(self) -> bool:
        if self.error:
            self.win.show_message("error", f"Nothing was exported: {self.error}.")
            return False
        if not self.complete:
            self.win.show_message("info", "The grid is still rendering; export it when every cell is shown.")
            return False
        return True

    def export_png(self, path: str, scale: int | None = None) -> bool:
        if not self._ready_to_export():
            return False
        if not str(path).lower().endswith(".png"):
            path = f"{path}.png"
        try:
            save_grid_png(path, self.images, scale=scale or self.scale_spin.value())
        except StyleMixerError as e:
            self.win.show_message("error", f"Nothing was exported: {e}")
            return False
        self.win.statusBar().showMessage(f"Exported {path}", 4000)
        self.status.setText(f"Exported {os.path.basename(path)}")
        return True

    def closeEvent(self, e):
        if self.task_id is not None:
            self.win.worker.cancel_task(TASK, self.task_id)
        super().closeEvent(e)


def _known(latents: dict, name: str):
    if name in latents:
        return latents[name].latent
    raise GridError(
        f"{name!r} is not a seed, a range or a latent already in the grid (load a latent with a "
        "right-click on a row or column)"
    )


def _without(sources, index):
    if len(sources) <= 1:
        raise GridError("a grid keeps at least one row and one column")
    i = len(sources) - 1 if index is None else index
    return sources[:i] + sources[i + 1 :]


def open_grid_view(win) -> GridView:
    """The main window's grid window (made on first use)."""
    return open_once(win, "grid_view", GridView)


def open_grid_file(win, path: str) -> bool:
    """A grid PNG or JSON: show it in the grid window, loading its model first when it is another one that can
    be found (the built-in one or a file that still exists)."""
    try:
        grid = load_grid_file(path)
    except StyleMixerError as e:
        win.show_message("error", f"Could not open the grid: {e}")
        return False
    model, here = grid.recipe.model, win.model
    findable = model == BUILTIN_MODEL or os.path.isfile(model)
    if here is None or (model != here.source and findable):

        def after(_info, grid=grid):
            win.model_changed.disconnect(after)
            _show(win, grid)

        win.model_changed.connect(after)
        win.open_model(model if findable else BUILTIN_MODEL)
        return True
    return _show(win, grid)


def _show(win, grid) -> bool:
    view = open_grid_view(win)
    try:
        view.set_grid(grid)
    except StyleMixerError as e:
        win.show_message("error", f"The grid does not fit {win.model.name if win.model else 'the model'}: {e}")
        return False
    return True
