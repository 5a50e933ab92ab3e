"""A compact bar chart over all w indices: how different A's and B's styles are at each layer.

The bar is the family's style distance between A and B (its StatsSpec says which quantities it compares). A
layer whose bar is near zero
looks the same whichever seed it comes from, so moving its slider changes little: the answer to "style mixing
does nothing". Clicking a bar selects that layer.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout

from ...core import stats_views as sv
from .style import SELECTED_BAR, VisibilityReportingWidget, apply_plot_palette, fixed_font

GROUP_COLORS = {"coarse": "#6f86c6", "middle": "#5aa9a0", "fine": "#a99a5a"}
DEFAULT_BAR = "#7a8aa6"


def legend_html() -> str:
    swatch = '<span style="color:{}">&#9632;</span>&nbsp;{}'
    items = [swatch.format(c, g) for g, c in GROUP_COLORS.items()] + [swatch.format(SELECTED_BAR, "selected")]
    return "<small>" + " &nbsp; ".join(items) + "</small>"


class AcrossLayersChart(VisibilityReportingWidget):
    layer_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = None
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0)
        self.selected: int | None = None
        self.paused = False  # behind another tab: nothing is drawn until shown again (StatsViews sets it)
        self._stale = False
        self.caption = QLabel(
            "<b>A ↔ B style difference per w index</b> <small>(near 0: mixing changes little)</small>"
        )
        self.spec = None
        self._caption_help = (
            "Where it is small, A's and B's styles are alike and moving that layer's slider changes little."
        )
        self.caption.setToolTip(self._caption_help)
        self.caption.setWordWrap(True)
        self.view = pg.PlotWidget()
        self.view.setFixedHeight(100)
        self.plot = self.view.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        for side in ("left", "bottom"):
            ax = self.plot.getAxis(side)
            ax.setStyle(tickFont=fixed_font(-2), tickTextOffset=2)
        self.plot.getAxis("left").setWidth(38)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.75, brush=DEFAULT_BAR, pen=pg.mkPen(None))
        self.plot.addItem(self.bars)
        apply_plot_palette(self.view, [self.plot], self)
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.view.scene().sigMouseMoved.connect(self._on_move)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 0)
        lay.setSpacing(2)
        lay.addWidget(self.caption)
        lay.addWidget(self.view)
        self.legend = QLabel(legend_html())
        self.legend.setToolTip("Bar colours: the layer group of each w index; the selected layer is yellow")
        lay.addWidget(self.legend)

    def set_layer_table(self, table, spec=None):
        self.table = list(table) if table is not None else None
        if spec is not None:
            self.spec = spec
            self.caption.setToolTip(f"{spec.distance_help} {self._caption_help}".strip())
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0)
        self._update()

    def set_result(self, result):
        if result.stats is None or self.spec is None:
            return
        keys, values = sv.distances_across_layers(result.stats, self.spec)
        if np.array_equal(keys, self.keys) and np.array_equal(values, self.values):
            return  # the A-B distances do not change while a weight is dragged: nothing to redraw
        self.keys, self.values = keys, values
        self._update()

    def set_selected(self, index: int | None):
        self.selected = index
        self._update()

    def set_paused(self, on: bool):
        self.paused = bool(on)
        if not on and self._stale:
            self._stale = False
            self._update()

    def heights(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, heights) of the bars as drawn (tests read this back)."""
        return np.asarray(self.bars.opts["x"], dtype=float), np.asarray(self.bars.opts["height"], dtype=float)

    def _color(self, k: int) -> str:
        if k == self.selected:
            return SELECTED_BAR
        if self.table is not None and k < len(self.table):
            return GROUP_COLORS.get(self.table[k].group, DEFAULT_BAR)
        return DEFAULT_BAR

    def _update(self):
        if self.paused:
            self._stale = True
            return
        brushes = [pg.mkBrush(self._color(int(k))) for k in self.keys]
        # (pyqtgraph 0.14 fails on an empty per-bar pen list, so one shared invisible pen)
        self.bars.setOpts(x=self.keys.astype(float), height=self.values, width=0.75, brushes=brushes)
        if len(self.keys):
            self.plot.setXRange(-0.6, float(self.keys.max()) + 0.6, padding=0)
            self.plot.getAxis("bottom").setTicks([[(float(k), str(int(k))) for k in self.keys]])
            top = float(self.values.max()) if self.values.size else 0.0
            self.plot.setYRange(0, top * 1.08 if top > 0 else 1.0, padding=0)

    def _index_at(self, scene_pos) -> int | None:
        vb = self.plot.vb
        if not len(self.keys) or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        k = int(round(vb.mapSceneToView(scene_pos).x()))
        return k if k in set(self.keys.tolist()) else None

    def _on_click(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            k = self._index_at(event.scenePos())
            if k is not None:
                self.layer_clicked.emit(k)

    def _on_move(self, scene_pos):
        k = self._index_at(scene_pos)
        if k is None:
            self.view.setToolTip("")
            return
        v = float(self.values[list(self.keys).index(k)])
        where = ""
        if self.table is not None and k < len(self.table):
            info = self.table[k]
            where = f" · {info.resolution} px {info.group}"
        self.view.setToolTip(f"w {k}{where}: A ↔ B style difference {v:.4f}")

    def changeEvent(self, e):
        super().changeEvent(e)
        if e.type() == QEvent.Type.PaletteChange:
            apply_plot_palette(self.view, [self.plot], self)
