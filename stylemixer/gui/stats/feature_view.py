"""The feature-map view: every channel of the selected layer's output, as a montage of coloured thumbnails.
What the maps are (the title, the help text) comes from the family's StatsSpec.

The montage (colours, normalisation, layout) is built by core.stats_views; this widget only paints it and maps
clicks back to channels. A clicked channel is shown enlarged beside its exact statistics. The maps of only one
layer and one source cross from the worker, and only while this view is visible (see `wants_features`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from ...core import stats_views as sv
from ...core.export import ExportError
from ...core.stats_export import save_montage_png
from ..flow_layout import FlowLayout, fixed_row_policy
from ..imaging import to_qimage
from .style import VisibilityReportingWidget, column, readout_label, report_error, select

NORM_TEXT = {"channel": "per channel", "shared": "shared"}
PNG_MIN_TILE = 32  # exported montages enlarge small maps (4 px) so each channel is visible
MONTAGE_GAP = 1
MAX_TILE = 128  # thumbnails of larger maps are block means (the enlarged channel keeps every pixel)
ZOOM_SIZE = 168  # the enlarged channel; its numbers go beside it (the channel smaller in a narrow panel) or below
ZOOM_SMALL = 128


class ImageCanvas(QWidget):
    """Paints one QImage as large as fits, keeping whole pixels crisp; reports clicks in image pixels."""

    clicked = Signal(float, float)
    hovered = Signal(float, float)

    def __init__(self, min_size: int = 120, parent=None):
        super().__init__(parent)
        self.image: QImage | None = None
        self.placeholder = ""
        self.highlight: QRectF | None = None  # image-pixel rectangle to outline (the selected tile)
        self.setMinimumSize(min_size, min_size)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)

    def set_image(self, image: QImage | None, placeholder: str = ""):
        self.image = image
        self.placeholder = placeholder
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def target(self) -> QRectF:
        """Where the image is drawn: centred, the largest integer enlargement that fits (or shrunk to fit)."""
        if self.image is None or self.image.isNull():
            return QRectF()
        iw, ih = self.image.width(), self.image.height()
        s = min(self.width() / iw, self.height() / ih)
        if s >= 4:
            s = float(int(s))  # whole pixels where that costs little space
        w, h = iw * s, ih * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_image(self, pos: QPointF) -> tuple[float, float] | None:
        t = self.target()
        if t.isEmpty() or not t.contains(pos):
            return None
        return (
            (pos.x() - t.x()) / t.width() * self.image.width(),
            (pos.y() - t.y()) / t.height() * self.image.height(),
        )

    def paintEvent(self, event):
        p = QPainter(self)
        if self.image is None:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        t = self.target()
        # Nearest neighbour when enlarging (feature pixels stay square), smooth only when shrinking.
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, t.width() < self.image.width())
        p.drawImage(t, self.image)
        if self.highlight is not None:
            sx, sy = t.width() / self.image.width(), t.height() / self.image.height()
            r = self.highlight
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
            p.drawRect(QRectF(t.x() + r.x() * sx - 1, t.y() + r.y() * sy - 1, r.width() * sx + 2, r.height() * sy + 2))

    def mousePressEvent(self, e):
        hit = self.to_image(e.position())
        if hit is not None and e.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(*hit)
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e):
        hit = self.to_image(e.position())
        if hit is not None:
            self.hovered.emit(*hit)
        super().mouseMoveEvent(e)


class FeatureView(VisibilityReportingWidget):
    request_changed = Signal()  # the source changed: the window must ask for other maps
    channel_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer: int | None = None
        self.source = "mix"
        self.cmap = "viridis"
        self.norm = "channel"
        self.order: np.ndarray | None = None  # display order from the statistics panel
        self.features: np.ndarray | None = None  # float32 [C, H, W] of (self.layer, self.source)
        self.stats: dict | None = None
        self.recipe = None
        self.channel: int | None = None
        self.montage: sv.Montage | None = None
        self.on_error = None
        self.save_dialog = None  # callable(title, name, filters) -> (path, filter); the window's when installed
        self.paused = False  # behind another tab: no montage is built until shown again (StatsViews sets it)
        self._stale = False
        self._build()

    def _build(self):
        self.spec = None
        self.title = QLabel("<b>Feature maps</b>: no layer selected")
        self.title.setWordWrap(True)
        self.source_box = self._combo(
            [(sv.SOURCE_LABELS[s], s) for s in sv.SOURCES],
            self.set_source,
            "Whose feature maps to show: the mix, pure A or pure B",
        )
        self.cmap_box = self._combo(
            [(c, c) for c in sv.COLORMAPS], self.set_colormap, "Colour map; 'diverging' is centred on zero (white = 0)"
        )
        self.norm_box = self._combo(
            [(NORM_TEXT[n], n) for n in sv.NORMALISATIONS],
            self.set_normalisation,
            "Per channel: each thumbnail uses its own range. Shared: one range for the "
            "whole layer, so channel strengths can be compared",
        )
        self.save_button = QPushButton("Save montage…")
        self.save_button.setToolTip("Save the montage as a PNG that records the recipe")
        self.save_button.clicked.connect(self._ask_save)
        # The controls wrap onto a second line in a narrow panel rather than forcing a horizontal scroll bar.
        controls = FlowLayout(spacing=8, line_spacing=4)
        for text, w in (("show", self.source_box), ("colours", self.cmap_box), ("range", self.norm_box)):
            pair = QWidget()
            h = QHBoxLayout(pair)
            h.setContentsMargins(0, 0, 0, 0)
            h.setSpacing(3)
            label = QLabel(text)
            label.setBuddy(w)
            h.addWidget(label)
            h.addWidget(w)
            controls.addWidget(fixed_row_policy(pair))
        controls.addWidget(fixed_row_policy(self.save_button))

        self.canvas = ImageCanvas(160)
        self.canvas.clicked.connect(self._on_canvas_click)
        self.canvas.hovered.connect(self._on_canvas_hover)
        self.canvas.set_image(None, "Select a layer to see its channels")

        self.zoom = ImageCanvas(128)
        self.zoom.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.zoom.setFixedSize(ZOOM_SIZE, ZOOM_SIZE)
        self.zoom.set_image(None, "Click a channel")
        self.channel_text = readout_label()
        self.detail = detail = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        detail.setContentsMargins(0, 0, 0, 0)
        detail.addWidget(self.zoom, 0, Qt.AlignmentFlag.AlignTop)
        detail.addWidget(self.channel_text, 1)

        self.hover_label = QLabel("")
        column(self, self.title, controls, (self.canvas, 1), self.hover_label, detail)
        self.save_button.setEnabled(False)

    def _combo(self, items, slot, tip):
        box = QComboBox()
        for text, data in items:
            box.addItem(text, data)
        box.setToolTip(tip)
        box.currentIndexChanged.connect(lambda _: slot(box.currentData()))
        return box

    # ---- inputs --------------------------------------------------------------------------------------
    def set_spec(self, spec):
        """The family's StatsSpec (kept when None): the title and what the maps are."""
        if spec is None:
            return
        self.spec = spec
        self.title.setToolTip(spec.features_help)
        self._redraw()

    def _name(self) -> str:
        return self.spec.features_title if self.spec is not None else "Feature maps"

    def set_layer(self, index: int | None):
        if index == self.layer:
            return
        self.layer = index
        self.features = None
        self.channel = None
        self._redraw()

    def set_source(self, source: str):
        select(self.source_box, source, sv.SOURCES, "source")
        if source != self.source:
            self.source = source
            self.features = None
            self._redraw()
            self.request_changed.emit()

    def set_colormap(self, name: str):
        sv.colormap(name)  # validates
        select(self.cmap_box, name)
        self.cmap = name
        self._redraw()

    def set_normalisation(self, norm: str):
        select(self.norm_box, norm, sv.NORMALISATIONS, "normalisation")
        self.norm = norm
        self._redraw()

    def set_order(self, order):
        self.order = None if order is None else np.asarray(order, dtype=np.int64)
        self._redraw()

    def set_result(self, result):
        """Take the statistics (for the side text) and, when they are this view's layer and source, the maps."""
        if result.stats is not None:
            self.stats = result.stats
        self.recipe = result.request.recipe
        req = result.request
        if result.features is not None and req.feature_layer == self.layer and req.feature_source == self.source:
            self.features = result.features
        self._redraw()

    def select_channel(self, channel: int | None):
        self.channel = channel
        self._update_detail()
        if channel is not None:
            self.channel_selected.emit(int(channel))

    def set_paused(self, on: bool):
        self.paused = bool(on)
        if not on and self._stale:
            self._stale = False
            self._redraw()

    # ---- drawing -------------------------------------------------------------------------------------
    def _display_order(self):
        c = self.features.shape[0]
        if self.order is not None and len(self.order) == c:
            return self.order
        return np.arange(c)

    def _redraw(self):
        if self.paused:  # (the maps kept from when it was in front would be rebuilt with every result)
            self._stale = True
            return
        who = sv.SOURCE_LABELS[self.source]
        if self.layer is None:
            self.title.setText(f"<b>{self._name()}</b>: no layer selected")
        else:
            self.title.setText(f"<b>{self._name()}</b> — w {self.layer}, {who}")
        if self.features is None:
            self.montage = None
            self.canvas.highlight = None
            self.canvas.set_image(
                None,
                "Waiting for the feature maps…" if self.layer is not None else "Select a layer to see its channels",
            )
            self.save_button.setEnabled(False)
            self._update_detail()
            return
        c, h, w = self.features.shape
        thumbs = sv.shrink(self.features, MAX_TILE)
        # Lay the tiles out to fill the canvas; the gaps and the empty tail take the canvas colour.
        cols = sv.montage_columns(c, max(thumbs.shape[1:]), MONTAGE_GAP, self.canvas.width(), self.canvas.height())
        bg = self.canvas.palette().color(QPalette.ColorRole.Base)
        self.montage = sv.build_montage(
            thumbs,
            self.cmap,
            self.norm,
            order=self._display_order(),
            cols=cols,
            gap=MONTAGE_GAP,
            background=(bg.red(), bg.green(), bg.blue()),
        )
        self.canvas.set_image(to_qimage(self.montage.image))
        self.title.setText(f"<b>{self._name()}</b> — w {self.layer}, {who}: {c} channels of {h}×{w}")
        self.save_button.setEnabled(True)
        self._update_detail()

    def _update_detail(self):
        ch = self.channel
        if ch is None or self.features is None or ch >= self.features.shape[0]:
            self.zoom.set_image(None, "Click a channel")
            self.canvas.highlight = None
            self.canvas.update()
            self.channel_text.setText("")
            return
        self.zoom.set_image(to_qimage(sv.channel_image(self.features, ch, self.cmap, self.norm)))
        lo, hi = sv.value_ranges(self.features, self.norm, sv.is_symmetric(self.cmap))[ch]
        text = (
            [sv.channel_report(self.stats, self.layer, ch, self.spec, "out")]
            if self._has_stats() and self.spec
            else [f"channel {ch}"]
        )
        plane = self.features[ch]
        text.append(f"map ({sv.SOURCE_LABELS[self.source]}): min {plane.min():.3f}  max {plane.max():.3f}")
        text.append(f"colour range: {lo:.3f} … {hi:.3f}")
        self.channel_text.setText("\n".join(text))
        self._reflow_detail()
        if self.montage is not None:
            i = int(np.flatnonzero(self.montage.order == ch)[0])
            top, left = self.montage.tile_origin(i)
            self.canvas.highlight = QRectF(left, top, self.montage.tile, self.montage.tile)
            self.canvas.update()

    def _has_stats(self) -> bool:
        return (
            self.stats is not None
            and self.layer is not None
            and all(self.layer in self.stats.get(s, {}) for s in sv.SOURCES)
        )

    def _on_canvas_click(self, x, y):
        if self.montage is not None:
            ch = self.montage.channel_at(x, y)
            if ch is not None:
                self.select_channel(ch)

    def _on_canvas_hover(self, x, y):
        ch = None if self.montage is None else self.montage.channel_at(x, y)
        self.hover_label.setText("" if ch is None else f"channel {ch} — click to enlarge")

    # ---- export --------------------------------------------------------------------------------------
    def save_montage(self, path):
        if self.features is None:
            raise ExportError("no feature maps to save yet")
        _c, h, w = self.features.shape
        scale = max(1, -(-PNG_MIN_TILE // max(h, w)))
        m = sv.build_montage(self.features, self.cmap, self.norm, order=self._display_order(), scale=scale)
        save_montage_png(path, m.image, self.recipe, self.layer, self.source, self.cmap, self.norm)

    def _ask_save(self):
        name = f"features-layer{self.layer}-{self.source}.png"
        ask = self.save_dialog or (lambda *a: QFileDialog.getSaveFileName(self, *a))
        path, _ = ask("Save montage", name, "PNG image (*.png)")
        if not path:
            return
        try:
            self.save_montage(path)
        except ExportError as e:
            report_error(self, self.on_error, str(e))

    def changeEvent(self, e):
        super().changeEvent(e)
        if e.type() == QEvent.Type.PaletteChange and self.features is not None:
            # the montage's gaps take the canvas colour, which the canvas gets after this widget: redraw after it
            QTimer.singleShot(0, self._redraw)

    def resizeEvent(self, e):
        super().resizeEvent(e)
        self._reflow_detail()
        if self.features is not None:
            self._redraw()

    def _reflow_detail(self):
        """The channel's numbers beside the enlarged channel when they fit, beside a smaller one when that fits,
        below it otherwise."""
        m = self.layout().contentsMargins()
        room = self.width() - m.left() - m.right() - self.detail.spacing() - self.channel_text.sizeHint().width()
        size = ZOOM_SIZE if room >= ZOOM_SIZE or room < ZOOM_SMALL else ZOOM_SMALL
        want = QBoxLayout.Direction.LeftToRight if room >= size else QBoxLayout.Direction.TopToBottom
        if self.zoom.width() != size:
            self.zoom.setFixedSize(size, size)
        if self.detail.direction() != want:
            self.detail.setDirection(want)

    # ---- visibility ----------------------------------------------------------------------------------
    @property
    def wants_features(self) -> bool:
        return self.isVisible() and self.layer is not None
