"""The PySide6 singleton reference workaround (see stylemixer/gui/qt_fixes.py)."""

import sys

from PySide6.QtCore import QObject


def test_void_calls_do_not_drain_none():
    from stylemixer.gui import qt_fixes

    o = QObject()
    before = sys.getrefcount(None)
    for _ in range(2000):
        o.setObjectName("x")
    lost = before - sys.getrefcount(None)
    if lost > 1000:  # this PySide6 leaks: the reserve must be in place, far beyond any session's calls
        assert qt_fixes.APPLIED
        assert sys.getrefcount(None) > 2**40 and sys.getrefcount(True) > 2**40
    else:
        assert not qt_fixes.APPLIED or sys.version_info < (3, 12)
