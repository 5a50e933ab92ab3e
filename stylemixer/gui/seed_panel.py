"""A seed panel: the seed of A or B, previous / next / random, and that seed's pure image as a thumbnail."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QToolButton, QVBoxLayout

SPIN_MAX = 2**31 - 1  # QSpinBox holds a C int; recipes may carry larger seeds, which are shown clamped
THUMB = 132


class SeedPanel(QGroupBox):
    seed_changed = Signal(str, int)     # "a" or "b", new seed
    random_requested = Signal(str)

    def __init__(self, which: str, parent=None):
        super().__init__(f"Seed {which.upper()}", parent)
        self.which = which.lower()
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setFrameShape(QLabel.Shape.StyledPanel)
        self.thumb.setToolTip(f"The pure {which.upper()} image: every w index from seed {which.upper()}")

        self.spin = QSpinBox()
        self.spin.setRange(0, SPIN_MAX)
        self.spin.setKeyboardTracking(False)  # one change (and one undo step) per Enter, not per digit
        self.spin.setAccelerated(True)
        self.spin.setToolTip(f"Seed {which.upper()}: the random z that {which.upper()}'s w comes from")
        self.spin.valueChanged.connect(lambda v: self.seed_changed.emit(self.which, int(v)))

        self.prev_button = prev_b = self._button("◀", "Previous seed", lambda: self._step(-1))
        self.next_button = next_b = self._button("▶", "Next seed", lambda: self._step(+1))
        self.random_button = rand_b = self._button("Random", f"A random seed for {which.upper()}",
                                                   lambda: self.random_requested.emit(self.which))

        row = QHBoxLayout()
        row.setSpacing(2)
        row.addWidget(prev_b)
        row.addWidget(self.spin, 1)
        row.addWidget(next_b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addLayout(row)
        lay.addWidget(rand_b)

    def _button(self, text, tip, fn) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(False)
        b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        b.clicked.connect(fn)
        return b

    def _step(self, d: int):
        self.spin.setValue(min(SPIN_MAX, max(0, self.spin.value() + d)))

    def set_seed(self, seed: int):
        """Show a seed without emitting a change."""
        self.spin.blockSignals(True)
        self.spin.setValue(min(SPIN_MAX, int(seed)))
        self.spin.blockSignals(False)

    def set_image(self, img: QImage | None):
        if img is None:
            self.thumb.clear()
            return
        pm = QPixmap.fromImage(img)
        if pm.width() <= THUMB:  # small models: whole-number nearest-neighbour enlargement stays crisp
            f = max(1, (THUMB - 4) // pm.width())
            pm = pm.scaled(pm.width() * f, pm.height() * f, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.FastTransformation)
        else:
            pm = pm.scaled(THUMB - 4, THUMB - 4, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
        self.thumb.setPixmap(pm)
