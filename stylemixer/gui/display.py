"""Starting the window where there is no usable display: one line and exit status 2, not Qt's abort.

Qt ends the process with abort() (a core dump, exit status 134) when its platform plugin cannot start, after
printing a hint that is often wrong (it names xcb-cursor0 whatever library is missing). What can be checked
before Qt is imported is in `stylemixer.startup` (no DISPLAY, missing system libraries); here, while the
QApplication is made, a message handler sees Qt's fatal message, works out the cause (a library the xcb plugin
cannot load, found with `ldd`; a display it cannot connect to) and exits with status 2.

Nothing here runs Qt code of its own: `install_guard()` / `remove_guard()` wrap the QApplication constructor.
"""

from __future__ import annotations

import os
import sys

from ..startup import (
    EXIT_STATUS,
    HELP,
    PREFIX,
    missing_libraries,
    missing_libraries_text,
)


def explain(messages: list[str], environ=None, missing: list[str] | None = None) -> str:
    """The one line for a platform plugin that failed to start, from Qt's messages and the plugin's libraries."""
    env = os.environ if environ is None else environ
    text = "\n".join(messages)
    if missing is None:
        missing = missing_libraries() if "xcb" in text else []
    if missing:
        return f"{PREFIX}: {missing_libraries_text(missing)}; {HELP}"
    if "could not connect to display" in text or "Could not connect to any X display" in text:
        where = env.get("DISPLAY", "")
        return f"{PREFIX}: cannot connect to the X display {where!r}; {HELP}"
    if "wayland" in text.lower() and env.get("WAYLAND_DISPLAY"):
        return f"{PREFIX}: cannot connect to the Wayland display {env.get('WAYLAND_DISPLAY')!r}; {HELP}"
    first = next((m.splitlines()[0] for m in messages if m.strip()), "no Qt platform plugin could be started")
    return f"{PREFIX}: {first.rstrip('.')}; {HELP}"


class _Guard:
    def __init__(self):
        self.messages: list[str] = []
        self.previous = None

    def handler(self, kind, context, text):
        from PySide6.QtCore import QtMsgType

        self.messages.append(str(text))
        if kind == QtMsgType.QtFatalMsg:
            print(explain(self.messages), file=sys.stderr, flush=True)
            os._exit(EXIT_STATUS)  # before Qt's abort(): no core dump


_guard: _Guard | None = None


def install_guard():
    """Collect Qt's messages while the QApplication is made; a fatal one becomes our one-line error."""
    global _guard
    from PySide6.QtCore import qInstallMessageHandler

    _guard = _Guard()
    _guard.previous = qInstallMessageHandler(_guard.handler)


def remove_guard():
    """The application started: give the messages back to Qt's usual handling (warnings still reach stderr)."""
    global _guard
    if _guard is None:
        return
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(_guard.previous)
    for m in _guard.messages:
        print(m, file=sys.stderr)
    _guard = None
