"""Ctrl+Z and Ctrl+Shift+Z undo and redo the mix even while a seed, psi or cutoff box has the keyboard focus.

A spin box's line edit claims those keys for its own text, so the window's Undo would never fire while the
cursor is in a box. This filter takes them back: with digits typed but not committed, Ctrl+Z discards the typing
(the box shows the recipe's value again); otherwise it runs the window's Undo or Redo action, and the box then
shows the restored value. Enter (or leaving the box) commits a value as one undo step, as before.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox

SK = QKeySequence.StandardKey
REDO_KEYS = (QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))


def _is_redo(event) -> bool:
    if event.matches(SK.Redo):
        return True
    pressed = QKeySequence(event.keyCombination())
    return any(pressed.matches(k) == QKeySequence.SequenceMatch.ExactMatch for k in REDO_KEYS)


def _uncommitted(box: QAbstractSpinBox) -> bool:
    check = getattr(box, "has_uncommitted_text", None)
    if check is not None:
        return check()
    return box.lineEdit().text() != box.textFromValue(box.value()) if hasattr(box, "textFromValue") else False


def _revert(box: QAbstractSpinBox):
    revert = getattr(box, "revert_text", None)
    if revert is not None:
        revert()
    else:
        box.lineEdit().setText(box.textFromValue(box.value()))


class UndoKeysFilter(QObject):
    def __init__(self, undo_action, redo_action, parent=None):
        super().__init__(parent)
        self.undo_action = undo_action
        self.redo_action = redo_action

    def eventFilter(self, obj, event):
        if event.type() != QEvent.Type.KeyPress or not isinstance(obj, QAbstractSpinBox):
            return False
        redo = _is_redo(event)
        if not redo and not event.matches(SK.Undo):
            return False
        if _uncommitted(obj):
            if not redo:
                _revert(obj)
            return True
        action = self.redo_action if redo else self.undo_action
        if action.isEnabled():
            action.trigger()
        return True


def install(boxes, undo_action, redo_action, parent) -> UndoKeysFilter:
    f = UndoKeysFilter(undo_action, redo_action, parent)
    for box in boxes:
        box.installEventFilter(f)
    return f
