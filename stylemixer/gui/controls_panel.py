"""The model's per-image input controls (e.g. StyleGAN3's input translation and rotation), built from the family's
`synthesis_controls`: a slider and a spin box per control, live while dragged. Hidden for models without any."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QGroupBox, QLabel, QPushButton, QSlider

STEPS = 1000  # slider positions across a control's range


class ControlsPanel(QGroupBox):
    option_changed = Signal(str, float)  # control key, value (every move while dragging)
    drag_started = Signal()
    drag_finished = Signal()
    reset_requested = Signal()

    def __init__(self, parent=None):
        super().__init__("Input", parent)
        self.controls: tuple = ()
        self.sliders: dict[str, QSlider] = {}
        self.boxes: dict[str, QDoubleSpinBox] = {}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(6, 6, 6, 6)
        self._grid.setColumnStretch(1, 1)
        self.setToolTip("Inputs of the synthesis besides the latents: move them to see how the picture follows")
        self.hide()

    def set_controls(self, controls):
        """The loaded model's controls; rebuilds the rows (none: the panel hides)."""
        controls = tuple(controls or ())
        if controls == self.controls:
            return
        self.controls = controls
        while self._grid.count():
            w = self._grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.sliders, self.boxes = {}, {}
        for row, c in enumerate(controls):
            label = QLabel(c.label)
            label.setToolTip(c.help)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, STEPS)
            slider.setToolTip(c.help)
            box = QDoubleSpinBox()
            box.setRange(c.minimum, c.maximum)
            box.setSingleStep(c.step)
            box.setDecimals(max(0, len(f"{c.step:g}".partition(".")[2])))
            box.setSuffix(c.unit)
            box.setKeyboardTracking(False)
            box.setValue(c.default)
            slider.setValue(self._to_slider(c, c.default))
            slider.valueChanged.connect(lambda v, c=c: self._slider_moved(c, v))
            slider.sliderPressed.connect(self.drag_started)
            slider.sliderReleased.connect(self.drag_finished)
            box.valueChanged.connect(lambda v, c=c: self._box_changed(c, v))
            label.setBuddy(box)
            self._grid.addWidget(label, row, 0)
            self._grid.addWidget(slider, row, 1)
            self._grid.addWidget(box, row, 2)
            self.sliders[c.key], self.boxes[c.key] = slider, box
        if controls:
            reset = QPushButton("Reset")
            reset.setToolTip("Back to the model's own input (every control at its default)")
            reset.clicked.connect(self.reset_requested)
            self._grid.addWidget(reset, len(controls), 2)
        self.setVisible(bool(controls))

    def show_options(self, options: dict):
        """Show a recipe's values without echoing them back as changes."""
        for c in self.controls:
            v = float(options.get(c.key, c.default))
            for w, val in ((self.boxes[c.key], v), (self.sliders[c.key], self._to_slider(c, v))):
                w.blockSignals(True)
                w.setValue(val)
                w.blockSignals(False)

    @staticmethod
    def _to_slider(c, v: float) -> int:
        return round((v - c.minimum) / (c.maximum - c.minimum) * STEPS)

    def _slider_moved(self, c, pos: int):
        v = round(c.minimum + (c.maximum - c.minimum) * pos / STEPS, 6)
        box = self.boxes[c.key]
        box.blockSignals(True)
        box.setValue(v)
        box.blockSignals(False)
        self.option_changed.emit(c.key, float(box.value()))

    def _box_changed(self, c, v: float):
        slider = self.sliders[c.key]
        slider.blockSignals(True)
        slider.setValue(self._to_slider(c, v))
        slider.blockSignals(False)
        self.option_changed.emit(c.key, float(v))
