"""Work around PySide6 builds that treat None, True and False as immortal on Python < 3.12.

Python 3.12 made these singletons immortal, so C code may return them without taking a reference. Some PySide6
releases do exactly that, and on Python 3.10/3.11 every call to a void method (`label.setText`, `widget.update`)
then removes one reference from `None`, and every `signal.emit()` one from `True`. After some tens of thousands
of calls the count reaches zero and the interpreter aborts ("none_dealloc: deallocating None"), i.e. the app
would crash after a minute of slider dragging.

The fix is measured, not assumed: call a void method and emit a signal a few times, and only if a singleton
lost references give each singleton a large reserve once. They are static objects that are never freed, so
extra references cost nothing; the reserve just makes them as immortal as Python 3.12 does.
"""

from __future__ import annotations

import ctypes
import sys

RESERVE = 1 << 48  # more calls than any session will make
SINGLETONS = (None, True, False)


def singleton_leaks() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = [sys.getrefcount(x) for x in SINGLETONS]
    for _ in range(8):
        probe.setObjectName("probe")  # a void method: returns None
        probe.ping.emit()  # returns True
    after = [sys.getrefcount(x) for x in SINGLETONS]
    return any(a < b - 4 for a, b in zip(after, before))


def protect_singletons() -> bool:
    """Returns True when the workaround was needed and applied."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not singleton_leaks():
        return False
    for obj in SINGLETONS:
        ctypes.c_ssize_t.from_address(id(obj)).value += RESERVE  # ob_refcnt is the first field of every object
    return True


APPLIED = protect_singletons()
