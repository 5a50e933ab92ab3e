"""The per-layer statistics panel: one per-channel plot per quantity the model's family records, live.

Which quantities there are comes from the family's StatsSpec (`G.stats_spec`; docs/stats-views.md shows what
each family records). Each plot shows one quantity over the layer's channels, for the mix with A and B
overlaid. The curves are created once per model family and updated with setData, so a slider drag costs only
the new numbers. The x axis is the display position: channel index, or (for the quantities indexed like the
A-B distance) rank by how differently A and B style the channel. Hovering shows the exact values; clicking an
output channel emits `channel_clicked` (the feature view opens it).

A fresh result or another layer redraws in steps: the title, summary and order at once, then one plot per step.
Inside the window `StatsViews` runs one step per event-loop turn (`stepper`), so the GUI thread is never away for
the whole redraw at once: each plot's new data and its paint (only that plot's part of the view is repainted) take
a turn of their own. On a 1024 px model the plots of a layer with hundreds of channels took 60-70 ms to update
and as long again to paint, the longest GUI stall of a slider drag.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
)

from ...core import stats_views as sv
from ...core.export import ExportError
from ...core.stats_export import save_stats
from ..flow_layout import SideBySide
from .style import (
    HOVER_LINE,
    SOURCE_COLORS,
    SOURCE_DOT,
    SOURCE_WIDTH,
    SOURCE_Z,
    VisibilityReportingWidget,
    apply_plot_palette,
    column,
    fixed_font,
    readout_label,
    report_error,
    select,
)

ORDER_TEXT = {"index": "channel index", "difference": "A–B difference"}
# Up to this many channels: lines through dots. Beyond it, lines between neighbouring channels turn into a
# thicket, and dots alone show better where A and B part.
MAX_LINE_CHANNELS = 64
PLOT_ROW_HEIGHT = 95  # px per row of plots beyond three (title, data, axis); the panel then scrolls


class TimedGraphicsLayout(pg.GraphicsLayoutWidget):
    """Remembers how long its last paint took, so the views can pace themselves (see StatsViews)."""

    last_paint_ms = 0.0
    paint_ms_total = 0.0  # all paints so far: a redraw in steps is painted in several parts

    def paintEvent(self, ev):
        t0 = time.perf_counter()
        super().paintEvent(ev)
        self.last_paint_ms = (time.perf_counter() - t0) * 1000
        self.paint_ms_total += self.last_paint_ms


class StatsPanel(VisibilityReportingWidget):
    channel_clicked = Signal(int)  # channel index (not display position)
    order_changed = Signal(object)  # np.ndarray, channels in display order

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stats: dict | None = None  # {"mix"|"a"|"b": {w index: LayerStats}} of the newest result
        self.recipe = None
        self.table = None  # LayerInfo per w index
        self.spec = None  # the family's StatsSpec (which plots exist)
        self.layer: int | None = None
        self.order_mode = "index"
        self.order = np.zeros(0, dtype=np.int64)
        self.hover_channel: int | None = None
        self._hover_axis = "out"  # which channels the hovered plot is indexed by
        self._shape_for: dict = {}  # quantity -> channel count its curves' symbols and x range were set up for
        self._curve_y: dict = {}  # (quantity, source) -> the y values its curve holds
        self.selected_channel: int | None = None
        self.shown = {src: True for src in sv.SOURCES}
        self.on_error = None  # callable(text); the window's message function when installed
        self.save_dialog = None  # callable(title, name, filters) -> (path, filter); the window's when installed
        # callable(generator): runs the rest of a redraw later, a step at a time (StatsViews); None: at once
        self.stepper = None
        self.paused = False  # behind another tab: nothing is drawn until shown again (StatsViews sets it)
        self._stale = False
        self._generation = 0  # counts redraws; a stepped redraw stops when a newer one has begun
        self._build()

    # ---- construction --------------------------------------------------------------------------------
    def _build(self):
        self.title = QLabel("Statistics: no model")
        self.title.setWordWrap(True)
        self.title.setToolTip("Click a row of the layer mixer (or a bar above) to choose the layer")

        self.checks = {}
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        for src in sv.SOURCES:
            cb = QCheckBox(sv.SOURCE_LABELS[src])
            cb.setChecked(True)
            cb.setStyleSheet(f"QCheckBox {{ color: {SOURCE_COLORS[src]}; font-weight: bold; }}")
            cb.setToolTip(f"Show or hide the {sv.SOURCE_LABELS[src]} curves")
            cb.toggled.connect(lambda on, s=src: self.set_source_shown(s, on))
            self.checks[src] = cb
            top.addWidget(cb)
        top.addStretch(1)
        top.addWidget(QLabel("order:"))
        self.order_box = QComboBox()
        for key in sv.ORDERS:
            self.order_box.addItem(ORDER_TEXT[key], key)
        self.order_box.setToolTip("Channels by index, or those where A and B differ most first")
        self.order_box.currentIndexChanged.connect(lambda _: self.set_order(self.order_box.currentData()))
        top.addWidget(self.order_box)

        self.plots_view = TimedGraphicsLayout()
        self._min_plots_height = 200  # three rows of plots; more where the dock is taller
        self.plots_view.setMinimumHeight(self._min_plots_height)
        self.plots_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plots_view.ci.setSpacing(2)
        self.plots_view.ci.setContentsMargins(2, 2, 2, 2)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.hover_lines: dict[str, pg.InfiniteLine] = {}
        self.select_lines: dict[str, pg.InfiniteLine] = {}
        self._titles: dict = {}
        self.plots_view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plots_view.scene().sigMouseClicked.connect(self._on_mouse_clicked)

        self.readout = readout_label(
            "Hover over a plot:\na channel's exact\nvalues. Click: open\nit in the feature\nmaps."
        )
        self.readout.setMinimumHeight(self.readout.fontMetrics().lineSpacing() * 9)
        self.summary = readout_label()

        self.export_layer_button = QPushButton("Export layer…")
        self.export_layer_button.setToolTip("Save this layer's statistics as CSV or .npz (the .npz records the recipe)")
        self.export_layer_button.clicked.connect(lambda: self._ask_export(all_layers=False))
        self.export_all_button = QPushButton("Export all layers…")
        self.export_all_button.setToolTip("Save every layer's statistics as CSV or .npz (the .npz records the recipe)")
        self.export_all_button.clicked.connect(lambda: self._ask_export(all_layers=True))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.export_layer_button)
        buttons.addWidget(self.export_all_button)
        buttons.addStretch(1)

        # side by side where they fit, else in a smaller font, else one above the other (narrow docks)
        self.bottom = SideBySide(self.readout, self.summary, spacing=4)

        column(self, self.title, top, (self.plots_view, 1), self.bottom, buttons)
        self._set_export_enabled()

    def _build_plots(self, spec):
        """One plot per quantity of the family, two columns; x axes linked among quantities of one axis."""
        self.plots_view.ci.clear()
        self.plots, self.curves, self.hover_lines, self.select_lines = {}, {}, {}, {}
        quantities = spec.quantities if spec is not None else ()
        mixed_axes = len({q.axis for q in quantities}) > 1
        first_of_axis: dict = {}
        cols = 2  # what a side dock fits; a family with more quantities gets more rows (the panel scrolls)
        for i, q in enumerate(quantities):
            p = self.plots_view.addPlot(row=i // cols, col=i % cols)
            p.hideButtons()
            p.setMenuEnabled(False)
            p.setMouseEnabled(x=False, y=False)
            p.showGrid(x=False, y=True, alpha=0.25)
            for side in ("left", "bottom"):
                ax = p.getAxis(side)
                ax.setStyle(tickFont=fixed_font(-2), tickTextOffset=2)
                # Axis text is the costliest thing to paint; cache it as a pixmap, redrawn when its ticks change.
                ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            p.getAxis("left").setWidth(38)
            p.getAxis("bottom").setHeight(18)
            if i < len(quantities) - cols and not mixed_axes:
                # The x axes are linked; ticks under the bottom row only. Axis text is most of the paint cost.
                p.hideAxis("bottom")
            if q.axis in first_of_axis:
                p.setXLink(first_of_axis[q.axis])
            else:
                first_of_axis[q.axis] = p
            for src in sorted(sv.SOURCES, key=SOURCE_Z.get):  # made in drawing order
                curve = p.plot(
                    [], [], pen=pg.mkPen(SOURCE_COLORS[src], width=SOURCE_WIDTH[src]), name=sv.SOURCE_LABELS[src]
                )
                curve.setZValue(SOURCE_Z[src])
                self.curves[(q.key, src)] = curve
            hl = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(HOVER_LINE, width=1))
            sl = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(HOVER_LINE, width=1, style=Qt.PenStyle.DashLine))
            for line in (hl, sl):
                line.setZValue(10)
                line.hide()
                p.addItem(line, ignoreBounds=True)
            if q.help:
                p.setToolTip(q.help)
            self.hover_lines[q.key] = hl
            self.select_lines[q.key] = sl
            self.plots[q.key] = p
        self._titles = {
            p: (q.label if q.axis == "out" or not mixed_axes else f"{q.label} (in)")
            for q, p in zip(quantities, self.plots.values())
        }
        # Each row of plots needs room for its title, its data and an axis: a family with more quantities gets a
        # taller (scrolling) panel rather than plots with no room for data.
        rows = (len(quantities) + cols - 1) // cols
        layout_min = self.plots_view.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        self.plots_view.setMinimumHeight(
            int(max(self._min_plots_height, layout_min, PLOT_ROW_HEIGHT * rows if rows > 3 else 0))
        )
        self.updateGeometry()  # the scrolling dock around the panel takes the new minimum
        self._shape_for, self._curve_y = {}, {}
        for src, on in self.shown.items():
            self.set_source_shown(src, on)
        apply_plot_palette(self.plots_view, self.plots.values(), self, self._titles)

    # ---- inputs --------------------------------------------------------------------------------------
    def set_spec(self, spec):
        """The model's statistics spec; the plots are rebuilt only when the quantities change."""
        if spec is self.spec or (spec is not None and self.spec is not None and spec == self.spec):
            return
        self.spec = spec
        self._build_plots(spec)
        self.stats = None
        self._refresh()

    def set_layer_table(self, table, spec=None):
        if spec is not None:
            self.set_spec(spec)
        self.table = list(table) if table is not None else None
        if self.layer is not None and (self.table is None or self.layer >= len(self.table)):
            self.layer = None
        self.stats = None
        self._refresh()

    def set_result(self, result):
        """A fresh RenderResult. Results without statistics (capture off) leave the plots as they are."""
        if result.stats is None:
            return
        self.stats = result.stats
        self.recipe = result.request.recipe
        if self.layer is None and self.stats.get("mix"):
            self.layer = min(self.stats["mix"])
        self._draw()

    def set_layer(self, index: int):
        if index == self.layer:
            return
        self.layer = int(index)
        self.selected_channel = None
        self.hover_channel = None
        self._draw()

    def set_order(self, mode: str):
        select(self.order_box, mode, sv.ORDERS, "order")
        self.order_mode = mode
        self._refresh()

    def set_source_shown(self, src: str, on: bool):
        was = self.shown.get(src)
        self.shown[src] = bool(on)
        if self.checks[src].isChecked() != bool(on):
            self.checks[src].setChecked(bool(on))
        for (_, s), curve in self.curves.items():
            if s == src:
                curve.setVisible(bool(on))
        if on and not was and self.has_layer():
            self._refresh()  # hidden curves are not updated (see _refresh_steps)

    def set_paused(self, on: bool):
        """Stop drawing (the panel is behind another tab) or draw what came meanwhile (it is in front again)."""
        self.paused = bool(on)
        if not on and self._stale:
            self._stale = False
            self._refresh()

    def set_selected_channel(self, channel: int | None):
        self.selected_channel = channel
        self._place_line(self.select_lines, channel)

    # ---- what is shown -------------------------------------------------------------------------------
    def has_layer(self) -> bool:
        return (
            self.stats is not None
            and self.layer is not None
            and self.spec is not None
            and all(self.layer in self.stats.get(src, {}) for src in sv.SOURCES)
        )

    def _order_for(self, key: str, n: int) -> np.ndarray:
        """Display order of a quantity's channels: the A-B order for the distance's axis, index order otherwise."""
        if self.spec.quantity(key).axis == sv.distance_axis(self.spec) and len(self.order) == n:
            return self.order
        return np.arange(n)

    def plotted(self, quantity: str, source: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) that the curve holds now: what a person sees (tests read this back)."""
        x, y = self.curves[(quantity, source)].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def _refresh(self):
        """Redraw everything now."""
        for _ in self._refresh_steps():
            pass

    def _draw(self):
        """Redraw: the text at once, the plots a step at a time through the stepper (at once without one)."""
        steps = self._refresh_steps()
        next(steps, None)
        if self.stepper is not None:
            self.stepper(steps)
        else:
            for _ in steps:
                pass

    def _refresh_steps(self):
        """The redraw as a generator: titles, order, summary and hover lines before the first yield, then one plot
        per step. A redraw begun later (a newer result, another layer) ends this one at its next step."""
        self._generation += 1
        generation = self._generation
        if self.paused:
            self._stale = True
            return
        self._update_title()
        self._set_export_enabled()
        if not self.has_layer():
            for curve in self.curves.values():
                curve.setData([], [])
            self._shape_for, self._curve_y = {}, {}
            self.summary.setText("")
            return
        layer = {src: self.stats[src][self.layer] for src in sv.SOURCES}
        order = sv.channel_order(layer["a"], layer["b"], self.order_mode, self.spec)
        changed = not np.array_equal(order, self.order)
        self.order = order
        sizes = {q: layer["mix"][q].shape[1] for q in self.spec.keys}
        self._update_summary()
        self._place_line(self.hover_lines, self.hover_channel, self._hover_axis)
        self._place_line(self.select_lines, self.selected_channel)
        if self.hover_channel is not None:
            self.readout.setText(
                sv.channel_report(self.stats, self.layer, self.hover_channel, self.spec, self._hover_axis)
            )
        if changed:
            # The feature maps are output channels: they follow the A-B order only when it is over outputs.
            out_order = order if sv.distance_axis(self.spec) == "out" else np.arange(sizes[self.spec.keys[-1]])
            self.order_changed.emit(out_order.copy())
        # The plots, one per step. Curves of a hidden source are left as they are (set_source_shown redraws).
        for q in self.spec.keys:
            yield
            if generation != self._generation:
                return
            if self._shape_for.get(q) != sizes[q]:
                self._set_up_plot(q, sizes[q])
            qorder = self._order_for(q, sizes[q])
            x = np.arange(sizes[q], dtype=np.float64)
            for src in sv.SOURCES:
                y = sv.channel_values(layer[src], q)[qorder]
                held = self._curve_y.get((q, src))
                # Unchanged curves are not set again: dragging a weight changes the mix only, not A or B.
                if self.shown[src] and (held is None or not np.array_equal(held, y)):
                    self.curves[(q, src)].setData(x, y)
                    self._curve_y[(q, src)] = y

    def _set_up_plot(self, q: str, n: int):
        """Symbols and the x range of a quantity's plot for n channels (they change with the layer, not per frame;
        done in the plot's own step, so that only this plot is repainted with it)."""
        self._shape_for[q] = n
        lines = n <= MAX_LINE_CHANNELS
        for src in sv.SOURCES:
            curve = self.curves[(q, src)]
            curve.setData([], [])
            self._curve_y.pop((q, src), None)
            curve.setPen(pg.mkPen(SOURCE_COLORS[src], width=SOURCE_WIDTH[src]) if lines else None)
            curve.setSymbol("o")
            curve.setSymbolSize(SOURCE_DOT[src] + (1 if lines else 0))
            curve.setSymbolPen(None)
            curve.setSymbolBrush(SOURCE_COLORS[src])
        self.plots[q].setXRange(-0.5, n - 0.5, padding=0.02)

    def _update_title(self):
        name = self.spec.title if self.spec is not None else "Statistics"
        if self.spec is None:
            self.title.setText(f"<b>{name}</b>: no model")
            return
        if self.layer is None:
            self.title.setText(f"<b>{name}</b>: no layer selected")
            return
        if self.table is not None and self.layer < len(self.table):
            info = self.table[self.layer]
            where = (
                f"w {info.index} · {info.resolution}×{info.resolution} {info.short_name} · "
                f"{info.channels} channels · {info.group}"
            )
        else:
            where = f"w {self.layer}"
        order = "sorted by A–B difference" if self.order_mode == "difference" else "by channel index"
        self.title.setText(f"<b>{name}</b> — {where}<br><small>x: channels {order}</small>")

    def _update_summary(self):
        s = sv.layer_summary(self.stats, self.layer, self.spec)
        lines = ["mean over channels", f"{'':<9}" + "".join(f"{sv.SOURCE_LABELS[src]:>8}" for src in sv.SOURCES)]
        for q in self.spec.quantities:
            lines.append(f"{q.short:<9}" + "".join(f"{s.means[src][q.key]:>8.3f}" for src in sv.SOURCES))
        lines.append(f"{'mix↔A':<9}{s.mix_to_a:>8.3f}   {'mix↔B':<6}{s.mix_to_b:>7.3f}")
        lines.append(f"{'A↔B':<9}{s.a_to_b:>8.3f}")
        self.summary.setText("\n".join(lines))
        self.summary.setToolTip(
            "Means over the layer's channels. mix↔A, mix↔B and A↔B are style distances: the "
            f"mean over channels of {self.spec.distance_label}; mix↔A is 0 when the mix takes "
            "this layer from A."
        )

    def _place_line(self, lines: dict, channel, axis: str = "out"):
        """Mark a channel of `axis` in the plots of that axis (a selected output channel, a hovered one)."""
        for key, line in lines.items():
            n = self.stats["mix"][self.layer][key].shape[1] if self.has_layer() else 0
            if channel is None or self.spec.quantity(key).axis != axis or channel >= n:
                line.hide()
                continue
            order = self._order_for(key, n)
            line.setPos(int(np.flatnonzero(order == channel)[0]))
            line.show()

    # ---- mouse ---------------------------------------------------------------------------------------
    def channel_at_scene(self, scene_pos, with_axis: bool = False):
        """The channel under a scene point of any plot (None outside them); with_axis: (channel, axis)."""
        if not self.has_layer():
            return None
        for key, p in self.plots.items():
            if p.vb.sceneBoundingRect().contains(scene_pos):
                n = self.stats["mix"][self.layer][key].shape[1]
                i = int(round(p.vb.mapSceneToView(scene_pos).x()))
                if 0 <= i < n:
                    c = int(self._order_for(key, n)[i])
                    return (c, self.spec.quantity(key).axis) if with_axis else c
        return None

    def _on_mouse_moved(self, scene_pos):
        hit = self.channel_at_scene(scene_pos, with_axis=True)
        if hit is None or hit == (self.hover_channel, self._hover_axis):
            return
        self.hover_channel, self._hover_axis = hit
        self._place_line(self.hover_lines, hit[0], hit[1])
        self.readout.setText(sv.channel_report(self.stats, self.layer, hit[0], self.spec, hit[1]))

    def _on_mouse_clicked(self, event):
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self.channel_at_scene(event.scenePos(), with_axis=True)
        if hit is not None and hit[1] == "out":  # the feature maps are the layer's output channels
            self.set_selected_channel(hit[0])
            self.channel_clicked.emit(hit[0])

    # ---- export --------------------------------------------------------------------------------------
    def _set_export_enabled(self):
        ok = self.has_layer()
        self.export_layer_button.setEnabled(ok)
        self.export_all_button.setEnabled(ok)

    def export(self, path, all_layers: bool):
        """Write the current layer's (or every layer's) statistics; the format follows the extension."""
        if not self.has_layer():
            raise ExportError("no statistics to export yet")
        save_stats(path, self.stats, self.recipe, layers=None if all_layers else [self.layer], table=self.table)

    def _ask_export(self, all_layers: bool):
        stem = "stats-all-layers" if all_layers else f"stats-layer{self.layer}"
        ask = self.save_dialog or (lambda *a: QFileDialog.getSaveFileName(self, *a))
        path, chosen = ask("Export statistics", stem + ".csv", "CSV (*.csv);;NumPy archive with recipe (*.npz)")
        if not path:
            return
        if os.path.splitext(path)[1].lower() not in (".csv", ".npz"):
            path += ".npz" if "npz" in chosen else ".csv"  # a name typed without extension: the chosen filter's
        try:
            self.export(path, all_layers)
        except ExportError as e:
            report_error(self, self.on_error, str(e))

    def changeEvent(self, e):
        super().changeEvent(e)
        if e.type() == QEvent.Type.PaletteChange:
            apply_plot_palette(self.plots_view, self.plots.values(), self, self._titles)
