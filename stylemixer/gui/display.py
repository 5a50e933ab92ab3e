"""Starting the window where there is no usable display: one line and exit status 2, not Qt's abort.

Qt ends the process with abort() (a core dump, exit status 134) when its platform plugin cannot start, after
printing a hint that is often wrong (it names xcb-cursor0 whatever library is missing). Two checks replace that:

- before Qt is touched: on Linux and the BSDs, neither DISPLAY nor WAYLAND_DISPLAY set means no display;
- while the QApplication is made: a message handler sees Qt's fatal message, works out the cause (a library the
  xcb plugin cannot load, found with `ldd`; a display it cannot connect to) and exits with status 2.

Nothing here runs Qt code of its own: `install_guard()` / `remove_guard()` wrap the QApplication constructor.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

EXIT_STATUS = 2
PREFIX = "stylemixer: error: no display"
HELP = "the subcommands (stylemixer --help) work without one"

# Debian names a library package after its soname (libfoo.so.N -> libfooN, or libfoo-N when the name ends in a
# digit); these are the exceptions among the libraries Qt's xcb plugin needs.
DEBIAN_PACKAGE = {"libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0",
                  "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libOpenGL.so.0": "libopengl0",
                  "libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6"}


def uses_window_system(environ=None, platform: str | None = None) -> bool:
    """Whether Qt will look for an X11 or Wayland display (Linux and the BSDs, no other platform chosen)."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").strip().lower()
    return not chosen or chosen.startswith(("xcb", "wayland"))


def missing_display(environ=None, platform: str | None = None) -> str | None:
    """A one-line error when there is certainly no display to open a window on, else None."""
    env = os.environ if environ is None else environ
    if not uses_window_system(env, platform):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (f"{PREFIX} (neither DISPLAY nor WAYLAND_DISPLAY is set): the app needs a desktop session; {HELP}")


def debian_package(soname: str) -> str:
    if soname in DEBIAN_PACKAGE:
        return DEBIAN_PACKAGE[soname]
    m = re.fullmatch(r"lib(.+)\.so\.(\d+)", soname)
    if not m:
        return soname
    name, ver = m.group(1).lower(), m.group(2)
    return f"lib{name}-{ver}" if name[-1].isdigit() else f"lib{name}{ver}"


def missing_libraries(plugin: str | None = None) -> list[str]:
    """Sonames the xcb platform plugin (and the Qt libraries it loads) cannot find, by `ldd`; [] if unknown."""
    plugin = plugin or xcb_plugin_path()
    if not plugin or not os.path.isfile(plugin) or shutil.which("ldd") is None:
        return []
    try:
        out = subprocess.run(["ldd", plugin], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_ldd_missing(out)


def parse_ldd_missing(ldd_output: str) -> list[str]:
    found = []
    for line in ldd_output.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+not found", line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return found


def xcb_plugin_path() -> str | None:
    try:
        from PySide6.QtCore import QLibraryInfo
        plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    except Exception:
        return None
    path = os.path.join(plugins, "platforms", "libqxcb.so")
    return path if os.path.isfile(path) else None


def explain(messages: list[str], environ=None, missing: list[str] | None = None) -> str:
    """The one line for a platform plugin that failed to start, from Qt's messages and the plugin's libraries."""
    env = os.environ if environ is None else environ
    text = "\n".join(messages)
    if missing is None:
        missing = missing_libraries() if "xcb" in text else []
    if missing:
        pkgs = " ".join(dict.fromkeys(debian_package(s) for s in missing))
        return (f"{PREFIX}: Qt's X11 (xcb) plugin cannot load {', '.join(missing)}; on Debian/Ubuntu install "
                f"them with `sudo apt-get install {pkgs}` (README: Set-up); {HELP}")
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
