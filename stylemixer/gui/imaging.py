"""numpy <-> QImage, kept in one place so the tests can read back exactly what a widget shows; and the one rule
for fitting a picture into a label."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_qimage(arr: np.ndarray) -> QImage:
    """uint8 [H, W, 1|3] -> an independent QImage (the array may be freed afterwards)."""
    arr = np.ascontiguousarray(arr)
    h, w, c = arr.shape
    if c == 1:
        img = QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        arr = np.ascontiguousarray(arr[:, :, :3])
        img = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return img.copy()  # detach from the numpy buffer


def from_qimage(img: QImage) -> np.ndarray:
    """QImage -> uint8 [H, W, 3] (grayscale is repeated to three channels)."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


def fit_pixmap(img: QImage, side: int) -> QPixmap:
    """`img` as a pixmap for a label with `side` pixels of room: an image no wider than that is enlarged by the
    largest whole number that fits, nearest neighbour (small models stay crisp); a wider one is scaled down
    smoothly into side x side, keeping its aspect ratio."""
    pm = QPixmap.fromImage(img)
    keep = Qt.AspectRatioMode.KeepAspectRatio
    if pm.width() <= side:
        f = max(1, side // pm.width())
        return pm.scaled(pm.width() * f, pm.height() * f, keep, Qt.TransformationMode.FastTransformation)
    return pm.scaled(side, side, keep, Qt.TransformationMode.SmoothTransformation)
