"""A seed panel: the seed of A or B (its arrows, the wheel and the arrow keys step to the previous or next seed), a
random seed, and that seed's pure image as a thumbnail."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout

from ..core.latents import MAX_SEED

THUMB = 132


class SeedSpinBox(QDoubleSpinBox):
    """A spin box for seeds 0 .. 2^32 - 1. QSpinBox holds a C int (at most 2^31 - 1); a double holds every seed
    exactly, so this is a QDoubleSpinBox without decimals that hands out ints. Like the other boxes it commits on
    Enter or when it loses focus (one change, and one undo step, per seed typed, not per digit)."""
    seed_changed = Signal(object)   # int; a Qt int signal would stop at 2^31 - 1

    def __init__(self, maximum: int = MAX_SEED, parent=None):
        super().__init__(parent)
        self.setDecimals(0)
        self.setRange(0, maximum)
        self.setSingleStep(1)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setGroupSeparatorShown(False)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.valueChanged.connect(lambda v: self.seed_changed.emit(int(round(v))))

    def seed(self) -> int:
        return int(round(self.value()))

    def set_seed(self, seed: int):
        """Show a seed without emitting a change."""
        self.blockSignals(True)
        self.setValue(float(max(0, min(int(self.maximum()), int(seed)))))
        self.blockSignals(False)

    def textFromValue(self, v: float) -> str:
        return str(int(round(v)))   # no locale grouping or decimal point, whatever the locale

    def has_uncommitted_text(self) -> bool:
        """Digits typed but not yet committed with Enter (or by leaving the box)."""
        return self.lineEdit().text().strip() != self.textFromValue(self.value())

    def revert_text(self):
        self.lineEdit().setText(self.textFromValue(self.value()))


class SeedPanel(QGroupBox):
    seed_changed = Signal(str, object)  # "a" or "b", new seed (an int up to 2^32 - 1)
    random_requested = Signal(str)

    def __init__(self, which: str, parent=None):
        super().__init__(f"Seed {which.upper()}", parent)
        self.which = which.lower()
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setFrameShape(QLabel.Shape.StyledPanel)
        self.thumb.setToolTip(f"The pure {which.upper()} image: every w index from seed {which.upper()}")

        self.spin = SeedSpinBox()
        self.spin.setToolTip(f"Seed {which.upper()} (0 to {MAX_SEED}): the random z that {which.upper()}'s w "
                             f"comes from. The arrows (or ↑ / ↓, or the wheel) step to the next seed; type a "
                             f"number and press Enter; Ctrl+Z undoes it.")
        self.spin.seed_changed.connect(lambda v: self.seed_changed.emit(self.which, v))

        self.random_button = rand_b = self._button("Random", f"A random seed for {which.upper()}",
                                                   lambda: self.random_requested.emit(self.which))

        row = QHBoxLayout()
        row.setSpacing(2)
        row.addWidget(self.spin, 1)
        row.addWidget(rand_b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addLayout(row)

    def _button(self, text, tip, fn) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(False)
        b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        b.clicked.connect(fn)
        return b

    def set_seed(self, seed: int):
        """Show a seed without emitting a change."""
        self.spin.set_seed(seed)

    def set_thumbnail_visible(self, on: bool):
        self.thumb.setVisible(on)

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
