"""Truncation (psi, cutoff) and noise (mode, seed): the recipe's settings that are not per-layer weights.

Psi and cutoff have a spin box for exact values and a slider that renders live while it is dragged (one undo
step per drag, like the layer mixer's sliders)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QLabel, QSlider, QSpinBox

from ..core.families import NOISE_MODES
from .seed_panel import SeedSpinBox

NOISE_TIPS = {
    "const": "The model's stored noise: the same picture every time",
    "random": "Fresh noise drawn from the noise seed",
    "none": "No noise at all (smoother, less detail)",
}


class SettingsPanel(QGroupBox):
    psi_changed = Signal(float)
    cutoff_changed = Signal(object)  # int or None (= all w indices)
    noise_mode_changed = Signal(str)
    noise_seed_changed = Signal(object)  # int up to 2^32 - 1
    gesture_started = Signal()
    gesture_finished = Signal()

    PSI_STEPS = 100  # slider steps per unit of psi

    def __init__(self, parent=None):
        super().__init__("Truncation and noise", parent)
        self.psi = QDoubleSpinBox()
        self.psi.setRange(-2.0, 2.0)
        self.psi.setSingleStep(0.05)
        self.psi.setDecimals(2)
        self.psi.setKeyboardTracking(False)
        self.psi.setToolTip(
            "Truncation psi: 1 = none, smaller pulls both seeds towards the average face "
            "(tidier, less varied); negative gives the 'opposite' face"
        )
        self.psi.valueChanged.connect(lambda v: self.psi_changed.emit(round(float(v), 4)))

        self.cutoff = QSpinBox()
        self.cutoff.setRange(0, 64)
        self.cutoff.setSpecialValueText("all")
        self.cutoff.setKeyboardTracking(False)
        self.cutoff.setToolTip("Truncate only the w indices below this one (all: every index)")
        self.cutoff.valueChanged.connect(lambda v: self.cutoff_changed.emit(None if v == 0 else int(v)))

        self.psi_slider = self._slider(
            round(-2 * self.PSI_STEPS), round(2 * self.PSI_STEPS), "Drag to change psi live (-2 to 2)"
        )
        self.psi_slider.valueChanged.connect(lambda v: self.psi.setValue(v / self.PSI_STEPS))
        self.cutoff_slider = self._slider(0, 64, "Drag to change the cutoff live (leftmost: all w indices)")
        self.cutoff_slider.valueChanged.connect(self.cutoff.setValue)

        self.noise_mode = QComboBox()
        for m in NOISE_MODES:
            self.noise_mode.addItem(m)
            self.noise_mode.setItemData(self.noise_mode.count() - 1, NOISE_TIPS[m], 3)  # 3 = ToolTipRole
        self.noise_mode.setToolTip("Per-pixel noise: const (stored), random (from the noise seed) or none")
        self.noise_mode.currentTextChanged.connect(self._mode)

        self.noise_seed = SeedSpinBox()
        self.noise_seed.setToolTip("Seed of the random noise (used when the noise mode is random)")
        self.noise_seed.seed_changed.connect(self.noise_seed_changed)

        grid = QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setVerticalSpacing(2)
        for i, (text, w) in enumerate(
            (("Psi", self.psi), ("Cutoff", self.cutoff), ("Noise", self.noise_mode), ("Noise seed", self.noise_seed))
        ):
            label = QLabel(text)
            label.setToolTip(w.toolTip())
            label.setBuddy(w)
            row = 2 * (i // 2)  # the sliders go in the row below psi and cutoff
            grid.addWidget(label, row, 2 * (i % 2))
            grid.addWidget(w, row, 2 * (i % 2) + 1)
        grid.addWidget(self.psi_slider, 1, 0, 1, 2)
        grid.addWidget(self.cutoff_slider, 1, 2, 1, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

    def _slider(self, lo, hi, tip) -> QSlider:
        s = QSlider(Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setToolTip(tip)
        s.sliderPressed.connect(self.gesture_started)
        s.sliderReleased.connect(self.gesture_finished)
        return s

    def _mode(self, text):
        self.noise_seed.setEnabled(text == "random")
        self.noise_mode_changed.emit(text)

    def set_num_ws(self, n: int):
        for w in (self.cutoff, self.cutoff_slider):
            w.blockSignals(True)
            w.setRange(0, n)
            w.blockSignals(False)

    def show_recipe(self, r):
        for w, v in (
            (self.psi, r.psi),
            (self.cutoff, r.cutoff or 0),
            (self.psi_slider, round(r.psi * self.PSI_STEPS)),
            (self.cutoff_slider, r.cutoff or 0),
        ):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)
        self.noise_seed.set_seed(r.noise_seed)
        self.noise_mode.blockSignals(True)
        self.noise_mode.setCurrentText(r.noise_mode)
        self.noise_mode.blockSignals(False)
        self.noise_seed.setEnabled(r.noise_mode == "random")
