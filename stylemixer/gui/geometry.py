"""Window sizes that fit the screen: the first window is sized from the screen's available area, and a remembered
geometry from a larger screen (or another monitor) is pulled back onto the current one."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize

PREFERRED = QSize(1480, 900)  # what the window asks for when the screen has room
MINIMUM = QSize(960, 600)  # the smallest size the layout is made for (a 1280x720 laptop has room for it)
FRAME = QSize(24, 48)  # room left for the window manager's frame and title bar


def minimum_size(available: QRect) -> QSize:
    """MINIMUM, or less on a screen smaller than that."""
    return QSize(min(MINIMUM.width(), available.width()), min(MINIMUM.height(), available.height()))


def first_size(available: QRect) -> QSize:
    """PREFERRED where it fits with its frame, otherwise the available area less the frame (never below the
    minimum that fits)."""
    low = minimum_size(available)
    w = min(PREFERRED.width(), available.width() - FRAME.width())
    h = min(PREFERRED.height(), available.height() - FRAME.height())
    return QSize(max(low.width(), w), max(low.height(), h))


def opens_maximized(available: QRect) -> bool:
    """A screen smaller than the preferred window plus its frame: the first window fills it (maximized)."""
    return (
        available.width() < PREFERRED.width() + FRAME.width()
        or available.height() < PREFERRED.height() + FRAME.height()
    )


def centred(size: QSize, available: QRect) -> QRect:
    r = QRect(0, 0, size.width(), size.height())
    r.moveCenter(available.center())
    return r


def clamped(frame: QRect, available: QRect) -> QRect:
    """`frame` moved (and shrunk where needed) to lie inside `available`."""
    w = min(frame.width(), available.width())
    h = min(frame.height(), available.height())
    x = min(max(frame.x(), available.x()), available.x() + available.width() - w)
    y = min(max(frame.y(), available.y()), available.y() + available.height() - h)
    return QRect(x, y, w, h)
