"""The large mixed image: fit or 1:1, nearest-neighbour enlargement, optionally A | mix | B side by side."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..core.stats_views import SOURCE_LABELS

FIT, ONE_TO_ONE = "fit", 1  # a mode is FIT or a whole-number enlargement
MIN_SIZE = (180, 180)
GAP = 12
LABEL_H = 20


class ImageView(QWidget):
    """Paints QImages itself, so scaling is exactly nearest-neighbour at integer factors when it can be.

    `busy_text` (e.g. "Rendering…") is drawn in the top right corner over the picture while set."""

    zoom_changed = Signal(object)
    scale_changed = Signal()  # the enlargement in use may have changed (resize, new image, mode)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mix: QImage | None = None
        self.a: QImage | None = None
        self.b: QImage | None = None
        self.mode = FIT
        self.triptych = False
        self.placeholder = "No model loaded"
        self.busy_text = ""
        self.setMinimumSize(*MIN_SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_images(self, mix: QImage, a: QImage, b: QImage):
        resized = self.mix is None or self.mix.size() != mix.size()
        self.mix, self.a, self.b = mix, a, b
        if resized:
            self._fit_minimum()
            self.scale_changed.emit()
        self.update()

    def clear(self, placeholder: str):
        self.mix = self.a = self.b = None
        self.placeholder = placeholder
        self.update()

    def set_mode(self, mode):
        self.mode = mode if mode == FIT else max(1, int(mode))
        self._fit_minimum()
        self.zoom_changed.emit(self.mode)
        self.scale_changed.emit()
        self.update()

    def set_triptych(self, on: bool):
        self.triptych = bool(on)
        self._fit_minimum()
        self.scale_changed.emit()
        self.update()

    def set_busy(self, text: str):
        if text != self.busy_text:
            self.busy_text = text
            self.update()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.scale_changed.emit()

    def _fit_minimum(self):
        """At a fixed enlargement the widget is as large as its content, so the scroll area around it scrolls."""
        if self.mode == FIT or self.mix is None:
            self.setMinimumSize(*MIN_SIZE)
            return
        n = 3 if self.triptych else 1
        w = n * self.mix.width() * self.mode + (n + 1) * GAP
        h = self.mix.height() * self.mode + 2 * GAP + (LABEL_H if self.triptych else 0)
        self.setMinimumSize(max(MIN_SIZE[0], w), max(MIN_SIZE[1], h))

    def sizeHint(self) -> QSize:
        return QSize(560, 560)

    def scale(self) -> float:
        """The enlargement in use: 1 at 1:1; in fit mode the largest integer factor that fits (crisp
        pixels), or a fraction when even 1x does not fit."""
        if self.mix is None:
            return 1.0
        if self.mode != FIT:
            return float(self.mode)
        n = 3 if self.triptych else 1
        avail_w = max(1, self.width() - 2 * GAP - (n - 1) * GAP) / n
        avail_h = max(1, self.height() - 2 * GAP - (LABEL_H if self.triptych else 0))
        s = min(avail_w / self.mix.width(), avail_h / self.mix.height())
        return float(int(s)) if s >= 1 else s

    def paintEvent(self, event):
        p = QPainter(self)
        # a neutral backdrop a little darker than the window, so the image's own edges stay visible
        p.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window).darker(112))
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale() < 1)
        if self.mix is None:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        s = self.scale()
        w, h = round(self.mix.width() * s), round(self.mix.height() * s)
        if self.triptych:
            images = [(SOURCE_LABELS["a"], self.a), (SOURCE_LABELS["mix"], self.mix), (SOURCE_LABELS["b"], self.b)]
        else:
            images = [("", self.mix)]
        total_w = len(images) * w + (len(images) - 1) * GAP
        label_h = LABEL_H if self.triptych else 0
        x = max(GAP, (self.width() - total_w) // 2)
        y = max(GAP, (self.height() - h - label_h) // 2) + label_h
        p.setPen(self.palette().color(QPalette.ColorRole.Text))
        for name, img in images:
            target = QRect(x, y, w, h)
            if img is not None:
                p.drawImage(target, img)
            if name:
                p.drawText(QRect(x, y - label_h, w, label_h), Qt.AlignmentFlag.AlignCenter, name)
            x += w + GAP
        if self.busy_text:
            self._paint_badge(p, self.busy_text)

    def _paint_badge(self, p: QPainter, text: str):
        """A small label in the visible top right corner (the view may be scrolled inside a larger area)."""
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 16, fm.height() + 8
        area = self.visibleRegion().boundingRect()
        r = QRect(area.right() - w - 6, area.top() + 6, w, h)
        pal = self.palette()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(pal.color(QPalette.ColorRole.ToolTipBase))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.drawRoundedRect(r, 4, 4)
        p.setPen(pal.color(QPalette.ColorRole.ToolTipText))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
