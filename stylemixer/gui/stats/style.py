"""Colours and small helpers shared by the statistics views, so A, B and the mix look the same everywhere."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF, QGuiApplication, QPalette
from PySide6.QtWidgets import QComboBox, QLabel, QLayout, QMessageBox, QVBoxLayout, QWidget

# Blue A and orange B stay apart for the common colour-vision deficiencies; the mix is drawn on top, thicker.
SOURCE_COLORS = {"mix": "#2bb673", "a": "#4a8fe7", "b": "#f28e2b"}
# A and B are drawn wide underneath the thinner mix, so where the mix equals one of them both stay visible.
SOURCE_WIDTH = {"mix": 1.4, "a": 3.0, "b": 3.0}
SOURCE_DOT = {"mix": 3, "a": 6, "b": 6}
SOURCE_Z = {"a": 1, "b": 2, "mix": 3}
SELECTED_BAR = "#f2c12e"
HOVER_LINE = "#a0a0a0"


def fixed_font(point_delta: int = 0) -> QFont:
    """The system's fixed-width font, `point_delta` points from its size, and no taller per line than the
    interface font of that size: monospace fonts differ a lot in line height (Noto Sans Mono's lines are 15%
    taller than DejaVu Sans Mono's), and the panels' readouts and axes are laid out to fit a small screen."""
    f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if f.pointSizeF() <= 0:
        return f
    size = max(6.0, f.pointSizeF() + point_delta)
    f.setPointSizeF(size)
    ref = QFont(QGuiApplication.font())
    ref.setPointSizeF(size)
    line, ref_line = QFontMetricsF(f).lineSpacing(), QFontMetricsF(ref).lineSpacing()
    if line > 1.02 * ref_line:
        f.setPointSizeF(size * ref_line / line)
    return f


def readout_label(text: str = "") -> QLabel:
    """A label of exact numbers: the fixed font a point smaller, selectable for copying, anchored top left."""
    label = QLabel(text)
    label.setFont(fixed_font(-1))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def column(owner: QWidget, *parts, margin: int = 4, spacing: int = 4) -> QVBoxLayout:
    """`owner`'s layout: `parts` top to bottom, each a widget, a layout, or (either, stretch)."""
    lay = QVBoxLayout(owner)
    lay.setContentsMargins(margin, margin, margin, margin)
    lay.setSpacing(spacing)
    for part in parts:
        item, stretch = part if isinstance(part, tuple) else (part, 0)
        if isinstance(item, QLayout):
            lay.addLayout(item, stretch)
        else:
            lay.addWidget(item, stretch)
    return lay


def select(box: QComboBox, value, choices=None, what: str = "value") -> None:
    """Show `value` in `box` (a setter called from code) without the box calling the setter back; a value not in
    `choices` is an error."""
    if choices is not None and value not in choices:
        raise ValueError(f"{what} must be one of {choices}")
    i = box.findData(value)
    if box.currentIndex() != i:
        box.blockSignals(True)
        box.setCurrentIndex(i)
        box.blockSignals(False)


def apply_plot_palette(view: pg.GraphicsView, plots, owner: QWidget, titles: dict | None = None):
    """Background, axes and titles from the owner's palette, so the plots follow the light/dark theme.
    Called at construction and again on every palette change."""
    pal = owner.palette()
    text = pal.color(QPalette.ColorRole.Text)
    view.setBackground(pal.color(QPalette.ColorRole.Base))
    for p in plots:
        for side in ("left", "bottom"):
            ax = p.getAxis(side)
            ax.setTextPen(text)
            ax.setPen(text)
        if titles and p in titles:
            p.setTitle(titles[p], size="9pt", color=text)


def report_error(owner: QWidget, handler, text: str):
    """Through the window's message function when installed; otherwise a box that does not block."""
    if handler is not None:
        handler(text)
        return
    box = QMessageBox(QMessageBox.Icon.Warning, "StyleMixer", text, QMessageBox.StandardButton.Ok, owner)
    box.setTextFormat(Qt.TextFormat.PlainText)  # text may quote a file: data, never markup
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


class VisibilityReportingWidget(QWidget):
    """A widget that says when it is shown or hidden: the window asks for statistics and feature maps only while
    a view that draws them is visible (tabbed docks all report isVisible(), so the events are what count)."""

    visibility_changed = Signal(bool)

    def showEvent(self, e):
        super().showEvent(e)
        self.visibility_changed.emit(True)

    def hideEvent(self, e):
        super().hideEvent(e)
        self.visibility_changed.emit(False)
