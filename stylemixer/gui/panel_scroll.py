"""A scroll area for side panels that gives its panel the whole visible area, and scrolls only below the panel's
minimum size.

QScrollArea's own resizing asks a panel with wrapped text (any word-wrapped QLabel makes the layout height-for-
width) for its *preferred* height at the given width; a panel of expanding plots then comes out taller than the
dock, and its summary and buttons end up below the fold although everything fits at the minimum size. Here the
panel is as large as the viewport, its plots shrink first, and a scroll bar appears only when even its minimum
size does not fit.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QScrollArea, QSizePolicy


class PanelScroll(QScrollArea):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(False)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def setWidget(self, widget):
        super().setWidget(widget)
        widget.installEventFilter(self)
        self.fit()

    def eventFilter(self, obj, event):
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return super().eventFilter(obj, event)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.fit()

    @staticmethod
    def minimum_height(widget) -> int:
        return widget.minimumSizeHint().expandedTo(widget.minimumSize()).height()

    def fit(self):
        w = self.widget()
        if w is None:
            return
        frame = 2 * self.frameWidth()
        width, height = self.width() - frame, self.height() - frame
        bar_w = self.verticalScrollBar().sizeHint().width()
        bar_h = self.horizontalScrollBar().sizeHint().height()
        min_w = w.minimumSizeHint().expandedTo(w.minimumSize()).width()
        need_h = self.minimum_height(w)
        if need_h > height:  # a vertical bar will show and take its width
            width -= bar_w
        if min_w > width:  # a horizontal bar will show and take its height
            height -= bar_h
        new_w = max(min_w, width)
        new_h = max(need_h, height)
        if (w.width(), w.height()) != (new_w, new_h):
            w.resize(new_w, new_h)
