"""A layout that places its items left to right and wraps them onto the next line when the width runs out, so a
row of controls fits a narrow side panel without a horizontal scroll bar (Qt's flow-layout example, in Python)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QBoxLayout, QLayout, QSizePolicy, QWidget, QWidgetItem


class FlowLayout(QLayout):
    def __init__(self, parent=None, spacing: int = 6, line_spacing: int = 4):
        super().__init__(parent)
        self._items: list = []
        self._h = spacing
        self._v = line_spacing
        self.setContentsMargins(0, 0, 0, 0)

    # ---- QLayout's item list ---------------------------------------------------------------------------
    def addItem(self, item):
        self._items.append(item)

    def addWidget(self, w):
        self.addChildWidget(w)
        self.addItem(QWidgetItem(w))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, i):
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i):
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    # ---- geometry ------------------------------------------------------------------------------------
    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect):
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        """All items on one line."""
        w = sum(i.sizeHint().width() for i in self._visible()) + self._h * max(0, len(self._visible()) - 1)
        h = max((i.sizeHint().height() for i in self._visible()), default=0)
        m = self.contentsMargins()
        return QSize(w + m.left() + m.right(), h + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        """The widest single item: everything else can wrap."""
        size = QSize()
        for i in self._visible():
            size = size.expandedTo(i.minimumSize())
        m: QMargins = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible(self):
        return [i for i in self._items if i.widget() is None or not i.widget().isHidden()]

    def _place(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        r = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_h = r.x(), r.y(), 0
        for item in self._visible():
            hint = item.sizeHint()
            w = min(hint.width(), r.width())
            if x > r.x() and x + w > r.right() + 1:
                x, y, line_h = r.x(), y + line_h + self._v, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), QSize(w, hint.height())))
            x += w + self._h
            line_h = max(line_h, hint.height())
        return y + line_h - rect.y() + m.bottom()


def fixed_row_policy(w):
    """Items of a flow layout keep their natural size."""
    w.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return w


class SideBySide(QWidget):
    """Two fixed-width text blocks (a read-out and a summary) side by side while they fit the width, in a
    slightly smaller font when that makes them fit, and one above the other otherwise. The widest text each has
    shown since the last resize decides, so hovering does not make the layout jump back and forth."""

    def __init__(self, first, second, spacing: int = 6, parent=None):
        super().__init__(parent)
        self.blocks = (first, second)
        self.base_fonts = (QFont(first.font()), QFont(second.font()))
        self._widest = [0, 0]
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(spacing)
        self.box.addWidget(first, 1)
        self.box.addWidget(second, 1)
        self.mode = "side"
        for b in self.blocks:
            b.installEventFilter(self)

    @staticmethod
    def text_width(label, font) -> int:
        fm = QFontMetrics(font)
        return max((fm.horizontalAdvance(line) for line in label.text().splitlines()), default=0) + 4

    def _need(self, smaller: bool) -> int:
        widths = []
        for i, (b, f) in enumerate(zip(self.blocks, self.base_fonts)):
            font = QFont(f)
            if smaller and font.pointSize() > 6:
                font.setPointSize(font.pointSize() - 1)
            w = self.text_width(b, font)
            if not smaller:
                self._widest[i] = max(self._widest[i], w)
                w = self._widest[i]
            widths.append(w)
        return sum(widths) + self.box.spacing()

    def reflow(self):
        width = self.width()
        if width <= 0:
            return
        normal, small = self._need(False), self._need(True)
        mode = "side" if normal <= width else "small" if small <= width else "stacked"
        if mode == self.mode:
            return
        self.mode = mode
        self.box.setDirection(
            QBoxLayout.Direction.TopToBottom if mode == "stacked" else QBoxLayout.Direction.LeftToRight
        )
        for b, f in zip(self.blocks, self.base_fonts):
            font = QFont(f)
            if mode == "small" and font.pointSize() > 6:
                font.setPointSize(font.pointSize() - 1)
            b.setFont(font)

    def resizeEvent(self, e):
        super().resizeEvent(e)
        self._widest = [0, 0]
        self.reflow()

    def eventFilter(self, obj, event):
        if obj in self.blocks and event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            self.reflow()
        return False
