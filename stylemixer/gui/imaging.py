"""numpy <-> QImage, kept in one place so the tests can read back exactly what a widget shows."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


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
