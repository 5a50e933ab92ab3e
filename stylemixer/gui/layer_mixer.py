"""The layer mixer: one row per w index with a slider from A (0) to B (1), grouped coarse / middle / fine.

Rows are dense (ROW_HEIGHT pixels) so that a 1024 px model's 18 rows fit a 1280x720 screen, and each group can
be collapsed to its header, which then sums up the group's weights.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.families import GROUPS

STEPS = 1000  # slider resolution: weights in steps of 0.001
ROW_HEIGHT = 19
HEADER_HEIGHT = 18
GROUP_TITLES = {"coarse": "Coarse", "middle": "Middle", "fine": "Fine"}
GROUP_TIPS = {
    "coarse": "Coarse styles (4-8 px): pose, face shape, general layout",
    "middle": "Middle styles (16-32 px): features, hair style, eyes open or closed",
    "fine": "Fine styles (64 px and up): colour scheme and micro-structure",
}
PRESETS = (
    ("all_a", "All A", "Every w index from A"),
    ("all_b", "All B", "Every w index from B"),
    ("coarse", "Coarse←B", "Coarse w indices from B, the rest from A"),
    ("middle", "Middle←B", "Middle w indices from B, the rest from A"),
    ("fine", "Fine←B", "Fine w indices from B, the rest from A"),
    ("swap", "Swap", "Swap the seeds of A and B, keeping the picture"),
)


def weight_text(w: float) -> str:
    return "A" if w == 0 else "B" if w == 1 else f"{w:.2f}"


class WeightSlider(QSlider):
    """A slider that leaves the mouse wheel to the scrolling mixer unless it has keyboard focus, so scrolling
    through the rows never changes a weight by accident."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event):
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


def _small_button(text: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setFixedSize(ROW_HEIGHT, ROW_HEIGHT - 2)
    return b


class LayerRow(QFrame):
    """One w index. Touching its slider or clicking the row selects the layer for the statistics panels."""

    clicked = Signal(int)

    def __init__(self, info, parent=None):
        super().__init__(parent)
        self.index = info.index
        self.group = info.group
        self.selected = False
        self._tinting = False
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAutoFillBackground(True)
        self.setFixedHeight(ROW_HEIGHT)
        tip = (
            f"w index {info.index}: {info.name}, {info.resolution}x{info.resolution} px, {info.channels} "
            f"channels ({info.group}).\nDrag towards A (left) or B (right); the statistics show the layer "
            f"you touch."
        )
        self.setToolTip(tip)
        self.label = QLabel(f"<b>{info.index}</b>")
        self.label.setFixedWidth(self.label.fontMetrics().horizontalAdvance("00") + 4)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.detail = QLabel(f"{info.resolution} px · {info.channels} ch")
        self.detail.setFixedWidth(self.detail.fontMetrics().horizontalAdvance("1024 px · 512 ch") + 4)
        self.a_button = _small_button("A", f"w index {info.index} entirely from A")
        self.b_button = _small_button("B", f"w index {info.index} entirely from B")
        self.slider = WeightSlider()
        self.slider.setRange(0, STEPS)
        self.slider.setSingleStep(STEPS // 100)
        self.slider.setPageStep(STEPS // 10)
        self.slider.setMinimumWidth(80)
        self.slider.setToolTip(tip)
        self.value = QLabel("0.00")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setFixedWidth(self.value.fontMetrics().horizontalAdvance("0.000") + 2)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(4)
        lay.addWidget(self.label)
        lay.addWidget(self.detail)
        lay.addWidget(self.a_button)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.b_button)
        lay.addWidget(self.value)

    def set_selected(self, on: bool):
        """A tint of the highlight colour behind the row (the slider's own blue fill stays visible on it)."""
        self.selected = bool(on)
        self._tint()
        font = self.label.font()
        font.setBold(True)
        font.setUnderline(self.selected)
        self.label.setFont(font)

    def _tint(self):
        pal = QPalette()  # empty: every role follows the window's palette (and a live light/dark switch) ...
        if self.selected:  # ... except the background
            base = (self.parentWidget() or self).palette()
            w, h = base.color(QPalette.ColorRole.Window), base.color(QPalette.ColorRole.Highlight)
            pal.setColor(
                QPalette.ColorRole.Window,
                QColor(
                    *(
                        round(0.7 * a + 0.3 * b)
                        for a, b in ((w.red(), h.red()), (w.green(), h.green()), (w.blue(), h.blue()))
                    )
                ),
            )
        self._tinting = True
        self.setPalette(pal)
        self._tinting = False

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.selected and not self._tinting:
            QTimer.singleShot(0, self._tint)  # the window's palette changed: tint from the new one

    def mousePressEvent(self, event):
        self.clicked.emit(self.index)
        super().mousePressEvent(event)


class GroupHeader(QToolButton):
    """A group's title; clicking it collapses the group to this line, which then lists the group's weights.
    Checked means expanded (drawn flat either way: the arrow shows the state)."""

    def __init__(self, group: str, members, parent=None):
        super().__init__(parent)
        self.group = group
        lo, hi = members[0].resolution, members[-1].resolution
        res = f"{lo} px" if lo == hi else f"{lo}–{hi} px"
        self.title = f"{GROUP_TITLES[group]} · {res} · w {members[0].index}–{members[-1].index}"
        self.setCheckable(True)
        self.setChecked(True)  # expanded
        self.setAutoRaise(True)
        font = self.font()
        font.setBold(True)
        self.setFont(font)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(HEADER_HEIGHT)
        self.setToolTip(f"{GROUP_TIPS[group]}.\nClick to collapse or expand the group.")
        self.weights = ()
        self.toggled.connect(lambda _: self._update())
        self._update()

    def set_weights(self, weights):
        self.weights = tuple(weights)
        if not self.isChecked():
            self._update()

    def initStyleOption(self, option):
        super().initStyleOption(option)
        option.state &= ~QStyle.StateFlag.State_On  # expanded is not "pressed": no sunken panel
        option.state &= ~QStyle.StateFlag.State_Sunken

    def _update(self):
        self.setArrowType(Qt.ArrowType.DownArrow if self.isChecked() else Qt.ArrowType.RightArrow)
        text = self.title
        if not self.isChecked() and self.weights:
            text += ":  " + " ".join(weight_text(w) for w in self.weights)
        self.setText(text)


class LayerMixer(QWidget):
    rows_shown_changed = Signal()  # a group was collapsed or expanded
    weight_changed = Signal(int, float)
    gesture_started = Signal()
    gesture_finished = Signal()
    preset_requested = Signal(str)
    layer_selected = Signal(int)  # the user chose a layer (a click, or a touch of its slider)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[LayerRow] = []
        self.headers: dict[str, GroupHeader] = {}
        self.selected: int | None = None
        self.preset_buttons = {}
        presets = QHBoxLayout()
        presets.setSpacing(2)
        for key, text, tip in PRESETS:
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            b.clicked.connect(lambda _=False, k=key: self.preset_requested.emit(k))
            self.preset_buttons[key] = b
            presets.addWidget(b)
        self.groups_box = QVBoxLayout()
        self.groups_box.setSpacing(0)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        lay.addLayout(presets)
        lay.addLayout(self.groups_box)
        lay.addStretch(1)
        self._group_widgets = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_layers(self, layers):
        """Rebuild the rows for a model's layer table (collapsed groups stay collapsed)."""
        collapsed = {g for g, h in self.headers.items() if not h.isChecked()}
        for w in self._group_widgets:
            self.groups_box.removeWidget(w)
            w.deleteLater()
        self._group_widgets, self.rows, self.headers, self.selected = [], [], {}, None
        for group in GROUPS:
            members = [l for l in layers if l.group == group]
            if not members:
                continue
            box = QWidget()
            v = QVBoxLayout(box)
            v.setContentsMargins(0, 0, 0, 0)
            v.setSpacing(0)
            header = GroupHeader(group, members)
            v.addWidget(header)
            body = QWidget()
            bv = QVBoxLayout(body)
            bv.setContentsMargins(8, 0, 0, 0)
            bv.setSpacing(0)
            for info in members:
                row = LayerRow(info)
                self._wire(row)
                bv.addWidget(row)
                self.rows.append(row)
            v.addWidget(body)
            header.toggled.connect(body.setVisible)
            header.toggled.connect(lambda _: self.rows_shown_changed.emit())
            header.setChecked(group not in collapsed)
            body.setVisible(group not in collapsed)
            self.headers[group] = header
            self.groups_box.addWidget(box)
            self._group_widgets.append(box)
        self.rows.sort(key=lambda r: r.index)

    def set_collapsed(self, group: str, collapsed: bool):
        self.headers[group].setChecked(not collapsed)

    def _wire(self, row: LayerRow):
        i = row.index
        row.slider.valueChanged.connect(lambda v, i=i: self._slider_moved(i, v))
        row.slider.sliderPressed.connect(self.gesture_started)
        row.slider.sliderPressed.connect(lambda i=i: self.layer_selected.emit(i))
        row.slider.sliderReleased.connect(self.gesture_finished)
        row.a_button.clicked.connect(lambda _=False, i=i: self.weight_changed.emit(i, 0.0))
        row.b_button.clicked.connect(lambda _=False, i=i: self.weight_changed.emit(i, 1.0))
        row.clicked.connect(self.select)

    def _slider_moved(self, index: int, v: int):
        self.rows[index].value.setText(f"{v / STEPS:.2f}")
        self.weight_changed.emit(index, v / STEPS)

    def select(self, index: int):
        """The user picked a layer (the window's session decides and calls `show_selected`)."""
        self.layer_selected.emit(int(index))

    def show_selected(self, index: int | None):
        """Highlight the selected row without emitting anything."""
        if self.selected is not None and self.selected < len(self.rows):
            self.rows[self.selected].set_selected(False)
        self.selected = index
        if index is not None and index < len(self.rows):
            self.rows[index].set_selected(True)

    def set_weights(self, weights):
        """Show a recipe's weights without emitting changes."""
        for row, w in zip(self.rows, weights):
            v = round(w * STEPS)
            if row.slider.value() != v:
                row.slider.blockSignals(True)
                row.slider.setValue(v)
                row.slider.blockSignals(False)
            row.value.setText(f"{w:.2f}")
        for group, header in self.headers.items():
            header.set_weights([w for row, w in zip(self.rows, weights) if row.group == group])
