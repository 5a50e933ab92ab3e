"""A seed panel: the source of A or B and its pure image as a thumbnail.

The source is a seed (0 to 2^32 - 1; the arrows, the wheel and the arrow keys step to the previous or next seed;
random), a continuous seed (a fine slider for the fraction, or drag sideways on the picture: w is interpolated
between the neighbouring integer seeds, and the drag snaps to whole seeds near them), or a latent loaded from a
file (shown by name; ✕ goes back to the seed).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
)

from ..core.latents import MAX_SEED
from .imaging import fit_pixmap

SPIN_MAX = MAX_SEED

THUMB = 132
FRACTION_STEPS = 100  # the fine slider: hundredths of the way to the next seed
DRAG_PX_PER_SEED = 80  # dragging the picture this far sideways moves one whole seed
SNAP = 0.06  # a drag within this of a whole seed lands on it (hold Shift to pass it smoothly)


class DragThumb(QLabel):
    """The pure image; dragging it sideways moves the seed continuously."""

    drag_started = Signal()
    dragged = Signal(float)  # seeds moved since the press (positive: to the right)
    drag_finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._x0 = None
        self.snap_off = False
        self.setCursor(Qt.CursorShape.SizeHorCursor)

    def mousePressEvent(self, e):
        if e.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            self._x0 = e.position().x()
            self.drag_started.emit()
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e):
        if self._x0 is not None:
            self.snap_off = bool(e.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.dragged.emit((e.position().x() - self._x0) / DRAG_PX_PER_SEED)
        super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e):
        if self._x0 is not None:
            self._x0 = None
            self.drag_finished.emit()
        super().mouseReleaseEvent(e)


def snapped(value: float, snap: bool = True) -> float:
    n = round(value)
    return float(n) if snap and abs(value - n) < SNAP else value


class SeedSpinBox(QDoubleSpinBox):
    """A spin box for seeds 0 .. 2^32 - 1. QSpinBox holds a C int (at most 2^31 - 1); a double holds every seed
    exactly, so this is a QDoubleSpinBox without decimals that hands out ints. Like the other boxes it commits on
    Enter or when it loses focus (one change, and one undo step, per seed typed, not per digit)."""

    seed_changed = Signal(object)  # int; a Qt int signal would stop at 2^31 - 1

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
        return str(int(round(v)))  # no locale grouping or decimal point, whatever the locale

    def has_uncommitted_text(self) -> bool:
        """Digits typed but not yet committed with Enter (or by leaving the box)."""
        return self.lineEdit().text().strip() != self.textFromValue(self.value())

    def revert_text(self):
        self.lineEdit().setText(self.textFromValue(self.value()))


class SeedPanel(QGroupBox):
    seed_changed = Signal(str, object)  # "a" or "b", new integer seed (up to 2^32 - 1)
    value_changed = Signal(str, float)  # "a" or "b", a continuous seed (seed + fraction)
    random_requested = Signal(str)
    gesture_started = Signal()  # a drag (picture or fine slider) begins: one undo step until it ends
    gesture_finished = Signal()
    latent_requested = Signal(str)  # load a latent file into this panel
    latent_cleared = Signal(str)  # back to the seed

    def __init__(self, which: str, parent=None):
        super().__init__(f"Seed {which.upper()}", parent)
        self.which = which.lower()
        W = which.upper()
        self._value = 0.0
        self._drag_from = None
        self._latent_on = False
        self.thumb = DragThumb()
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setFrameShape(QLabel.Shape.StyledPanel)
        self.thumb.setToolTip(
            f"The pure {W} image: every w index from {W}.\nDrag sideways to move through the "
            f"seeds continuously (w is interpolated between neighbouring seeds; it snaps to "
            f"whole seeds, hold Shift to glide past them)"
        )
        self.thumb.drag_started.connect(self._drag_start)
        self.thumb.dragged.connect(self._drag)
        self.thumb.drag_finished.connect(self._drag_end)

        self.spin = SeedSpinBox()
        self.spin.setToolTip(
            f"Seed {W} (0 to {MAX_SEED}): the random z that {W}'s w comes from. The arrows "
            f"(or ↑ / ↓, or the wheel) step to the next seed; type a number and press Enter; "
            f"Ctrl+Z undoes it."
        )
        self.spin.seed_changed.connect(lambda v: self.seed_changed.emit(self.which, v))

        self.random_button = rand_b = self._button(
            "Random", f"A random seed for {W}", lambda: self.random_requested.emit(self.which)
        )
        self.latent_button = self._button(
            "Latent…",
            f"Load a W or W+ latent (.npz, .npy, .pt) as {W}, e.g. a photo projected with NVIDIA's projector.py",
            lambda: self.latent_requested.emit(self.which),
        )

        self.fine = QSlider(Qt.Orientation.Horizontal)
        self.fine.setRange(0, FRACTION_STEPS - 1)
        self.fine.setToolTip(f"Fraction of the way from seed {W} to the next seed (w is interpolated)")
        self.fine.valueChanged.connect(self._fine_moved)
        self.fine.sliderPressed.connect(self.gesture_started)
        self.fine.sliderReleased.connect(self.gesture_finished)
        self.value_label = QLabel("")
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance("00000.00") + 4)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value_label.setToolTip("The continuous seed: integer seed plus fraction")

        self.latent_label = QLabel("")
        self.latent_label.setWordWrap(True)
        self.clear_latent_button = self._button("✕", f"Back to seed {W}", lambda: self.latent_cleared.emit(self.which))

        # Two rows, so a short screen keeps its mixer rows: the seed (or, in its place, the latent's name) with
        # Random, then the fine slider with Latent….
        row = QHBoxLayout()
        row.setSpacing(2)
        row.addWidget(self.spin, 1)
        row.addWidget(self.latent_label, 1)
        row.addWidget(self.clear_latent_button)
        row.addWidget(rand_b)
        fine_row = QHBoxLayout()
        fine_row.setSpacing(2)
        fine_row.addWidget(self.fine, 1)
        fine_row.addWidget(self.value_label)
        fine_row.addWidget(self.latent_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 4)
        lay.setSpacing(3)
        lay.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addLayout(row)
        lay.addLayout(fine_row)
        self._show_latent(None)

    def _button(self, text, tip, fn) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(False)
        b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        b.clicked.connect(fn)
        return b

    # ---- continuous seed ---------------------------------------------------------------------------------------
    @property
    def value(self) -> float:
        """The continuous seed shown (seed + fraction)."""
        return self._value

    def _fine_moved(self, v: int):
        value = self.spin.value() + v / FRACTION_STEPS
        self._value = value
        self._show_value()
        self.value_changed.emit(self.which, value)

    def _drag_start(self):
        if self._latent_on:
            return
        self._drag_from = self._value
        self.gesture_started.emit()

    def _drag(self, seeds: float):
        if self._drag_from is None:
            return
        value = snapped(max(0.0, min(float(SPIN_MAX - 1), self._drag_from + seeds)), not self.thumb.snap_off)
        value = round(value, 2)
        if value != self._value:
            self._value = value
            self._show_value(update_controls=True)
            self.value_changed.emit(self.which, value)

    def _drag_end(self):
        if self._drag_from is not None:
            self._drag_from = None
            self.gesture_finished.emit()

    def _show_value(self, update_controls: bool = False):
        seed = math.floor(self._value)
        frac = self._value - seed
        self.value_label.setText(f"{self._value:.2f}" if frac else "")
        if update_controls:
            for w, v in ((self.spin, float(min(SPIN_MAX, seed))), (self.fine, round(frac * FRACTION_STEPS))):
                if w.value() != v:
                    w.blockSignals(True)
                    w.setValue(v)
                    w.blockSignals(False)

    # ---- showing a recipe ----------------------------------------------------------------------------------------
    def set_seed(self, seed: int, frac: float = 0.0):
        """Show a seed without emitting a change."""
        self._value = int(seed) + float(frac)
        if self._drag_from is None:  # during a drag the panel already shows where the mouse is
            self._show_value(update_controls=True)

    def show_recipe(self, recipe):
        """Show this panel's source of a recipe (seed, fraction, latent) without emitting changes."""
        w = self.which
        self.set_seed(getattr(recipe, f"seed_{w}"), getattr(recipe, f"frac_{w}"))
        self._show_latent(getattr(recipe, f"latent_{w}"))

    def _show_latent(self, latent):
        on = self._latent_on = latent is not None
        if on:
            self.latent_label.setText(f"<b>{latent.name}</b> ({latent.kind} {list(latent.shape)})")
            self.latent_label.setToolTip(
                f"{self.title()} comes from the latent {latent.name!r}, stored in the "
                "recipe; truncation does not apply to it"
            )
        # The latent's row takes the place of the seed's rows, so the panel keeps its height.
        for widget in (self.latent_label, self.clear_latent_button):
            widget.setVisible(on)
        for widget in (self.spin, self.fine, self.value_label):
            widget.setVisible(not on)
        self.thumb.setCursor(Qt.CursorShape.ArrowCursor if on else Qt.CursorShape.SizeHorCursor)

    def set_thumbnail_visible(self, on: bool):
        self.thumb.setVisible(on)

    def set_image(self, img: QImage | None):
        if img is None:
            self.thumb.clear()
            return
        self.thumb.setPixmap(fit_pixmap(img, THUMB - 4))  # the label's frame takes the rest
