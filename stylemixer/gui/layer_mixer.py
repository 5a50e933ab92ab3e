"""The layer mixer: one row per w index with a slider from A (0) to B (1), grouped coarse / middle / fine."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSlider, QToolButton, QVBoxLayout, QWidget)

from ..core.families import GROUPS

STEPS = 1000  # slider resolution: weights in steps of 0.001
GROUP_TITLES = {"coarse": "Coarse", "middle": "Middle", "fine": "Fine"}
GROUP_TIPS = {"coarse": "Coarse styles (4-8 px): pose, face shape, general layout",
              "middle": "Middle styles (16-32 px): features, hair style, eyes open or closed",
              "fine": "Fine styles (64 px and up): colour scheme and micro-structure"}
PRESETS = (("all_a", "All A", "Every w index from A"),
           ("all_b", "All B", "Every w index from B"),
           ("coarse", "Coarse ← B", "Coarse w indices from B, the rest from A"),
           ("middle", "Middle ← B", "Middle w indices from B, the rest from A"),
           ("fine", "Fine ← B", "Fine w indices from B, the rest from A"),
           ("swap", "Swap A ⇄ B", "Swap the seeds of A and B, keeping the picture"))


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


class LayerRow(QFrame):
    """One w index. Clicking the row (outside the slider) selects the layer for the statistics panels."""
    clicked = Signal(int)

    def __init__(self, info, parent=None):
        super().__init__(parent)
        self.index = info.index
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAutoFillBackground(True)
        tip = (f"w index {info.index}: {info.name}, {info.resolution}x{info.resolution} px, {info.channels} "
               f"channels ({info.group}).\nDrag towards A (left) or B (right); click the row to inspect it.")
        self.setToolTip(tip)
        self.label = QLabel(f"<b>{info.index}</b>")
        self.label.setMinimumWidth(20)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.detail = QLabel(f"{info.resolution} px · {info.channels} ch")
        self.detail.setMinimumWidth(self.detail.fontMetrics().horizontalAdvance("1024 px · 512 ch") + 6)
        self.a_button = QToolButton()
        self.a_button.setText("A")
        self.a_button.setToolTip(f"w index {info.index} entirely from A")
        self.b_button = QToolButton()
        self.b_button.setText("B")
        self.b_button.setToolTip(f"w index {info.index} entirely from B")
        self.slider = WeightSlider()
        self.slider.setRange(0, STEPS)
        self.slider.setSingleStep(STEPS // 100)
        self.slider.setPageStep(STEPS // 10)
        self.slider.setMinimumWidth(120)
        self.slider.setToolTip(tip)
        self.value = QLabel("0.00")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setMinimumWidth(self.value.fontMetrics().horizontalAdvance("0.000") + 4)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 1, 4, 1)
        lay.addWidget(self.label)
        lay.addWidget(self.detail)
        lay.addWidget(self.a_button)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.b_button)
        lay.addWidget(self.value)

    def set_selected(self, on: bool):
        self.setBackgroundRole(self.palette().ColorRole.AlternateBase if on else self.palette().ColorRole.Window)
        self.setFrameShape(QFrame.Shape.StyledPanel if on else QFrame.Shape.NoFrame)

    def mousePressEvent(self, event):
        self.clicked.emit(self.index)
        super().mousePressEvent(event)


class LayerMixer(QWidget):
    weight_changed = Signal(int, float)
    gesture_started = Signal()
    gesture_finished = Signal()
    preset_requested = Signal(str)
    layer_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[LayerRow] = []
        self.selected: int | None = None
        self.preset_buttons = {}
        presets = QGridLayout()
        presets.setSpacing(4)
        for i, (key, text, tip) in enumerate(PRESETS):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(lambda _=False, k=key: self.preset_requested.emit(k))
            self.preset_buttons[key] = b
            presets.addWidget(b, i // 3, i % 3)
        self.groups_box = QVBoxLayout()
        self.groups_box.setSpacing(6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(presets)
        lay.addLayout(self.groups_box)
        lay.addStretch(1)
        self._group_widgets = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_layers(self, layers):
        """Rebuild the rows for a model's layer table."""
        for w in self._group_widgets:
            self.groups_box.removeWidget(w)
            w.deleteLater()
        self._group_widgets, self.rows, self.selected = [], [], None
        for group in GROUPS:
            members = [l for l in layers if l.group == group]
            if not members:
                continue
            lo, hi = members[0].resolution, members[-1].resolution
            res = f"{lo} px" if lo == hi else f"{lo}–{hi} px"
            box = QGroupBox(f"{GROUP_TITLES[group]} · {res} · w {members[0].index}–{members[-1].index}")
            box.setToolTip(GROUP_TIPS[group])
            v = QVBoxLayout(box)
            v.setContentsMargins(4, 4, 4, 4)
            v.setSpacing(0)
            for info in members:
                row = LayerRow(info)
                self._wire(row)
                v.addWidget(row)
                self.rows.append(row)
            self.groups_box.addWidget(box)
            self._group_widgets.append(box)
        self.rows.sort(key=lambda r: r.index)

    def _wire(self, row: LayerRow):
        i = row.index
        row.slider.valueChanged.connect(lambda v, i=i: self._slider_moved(i, v))
        row.slider.sliderPressed.connect(self.gesture_started)
        row.slider.sliderReleased.connect(self.gesture_finished)
        row.a_button.clicked.connect(lambda _=False, i=i: self.weight_changed.emit(i, 0.0))
        row.b_button.clicked.connect(lambda _=False, i=i: self.weight_changed.emit(i, 1.0))
        row.clicked.connect(self.select)

    def _slider_moved(self, index: int, v: int):
        self.rows[index].value.setText(f"{v / STEPS:.2f}")
        self.weight_changed.emit(index, v / STEPS)

    def select(self, index: int):
        if self.selected is not None and self.selected < len(self.rows):
            self.rows[self.selected].set_selected(False)
        self.selected = index
        self.rows[index].set_selected(True)
        self.layer_selected.emit(index)

    def set_weights(self, weights):
        """Show a recipe's weights without emitting changes."""
        for row, w in zip(self.rows, weights):
            v = round(w * STEPS)
            if row.slider.value() != v:
                row.slider.blockSignals(True)
                row.slider.setValue(v)
                row.slider.blockSignals(False)
            row.value.setText(f"{w:.2f}")
