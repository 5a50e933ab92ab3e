"""Checks made before the desktop app imports Qt, so that a machine that cannot show the window gets one line and
exit status 2 instead of a traceback or Qt's abort() (a core dump). Qt-free: the command line imports this.

- No display: on Linux and the BSDs neither DISPLAY nor WAYLAND_DISPLAY is set (and no other Qt platform chosen).
- Missing system libraries: Qt's own libraries and its X11 platform plugin link against system libraries a bare
  machine lacks (libglib-2.0, libEGL, the xcb utility libraries, ...). `ldd` lists every one that is missing,
  and each is named with the Debian/Ubuntu package that provides it.

`gui/display.py` catches what only shows once Qt runs (a display that cannot be reached, a plugin that fails).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys

EXIT_STATUS = 2
PREFIX = "stylemixer: error: no display"
HELP = "the subcommands (stylemixer --help) work without one"

# Debian names a library package after its soname (libfoo.so.N -> libfooN, or libfoo-N when the name ends in a
# digit); these are the exceptions among the libraries Qt needs.
DEBIAN_PACKAGE = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libfreetype.so.6": "libfreetype6",
    "libz.so.1": "zlib1g",
}
# What the window loads: Qt's core, GUI and widget libraries and the X11 platform plugin (relative to PySide6/).
QT_PARTS = ("QtCore.abi3.so", "QtGui.abi3.so", "QtWidgets.abi3.so", "Qt/plugins/platforms/libqxcb.so")


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
    return f"{PREFIX} (neither DISPLAY nor WAYLAND_DISPLAY is set): the app needs a desktop session; {HELP}"


def debian_package(soname: str) -> str:
    if soname in DEBIAN_PACKAGE:
        return DEBIAN_PACKAGE[soname]
    m = re.fullmatch(r"lib(.+)\.so\.(\d+)", soname)
    if not m:
        return soname
    name, ver = m.group(1).lower(), m.group(2)
    return f"lib{name}-{ver}" if name[-1].isdigit() else f"lib{name}{ver}"


def parse_ldd_missing(ldd_output: str) -> list[str]:
    found = []
    for line in ldd_output.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+not found", line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return found


def pyside_dir() -> str | None:
    spec = importlib.util.find_spec("PySide6")  # finds the package without importing (loading) it
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def missing_libraries(parts=QT_PARTS) -> list[str]:
    """Sonames that Qt's libraries or its X11 plugin need and the system lacks, by `ldd`; [] if none or unknown."""
    base = pyside_dir()
    if base is None or shutil.which("ldd") is None or not sys.platform.startswith("linux"):
        return []
    found: list[str] = []
    for part in parts:
        path = os.path.join(base, part)
        if not os.path.isfile(path):
            continue
        try:
            out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        found += [s for s in parse_ldd_missing(out) if s not in found]
    return found


def missing_libraries_text(missing: list[str]) -> str:
    pkgs = " ".join(dict.fromkeys(debian_package(s) for s in missing))
    return (
        f"Qt cannot load {', '.join(missing)}; on Debian/Ubuntu install them with "
        f"`sudo apt-get install {pkgs}` (README: Set-up)"
    )


def qt_import_error(e: ImportError) -> str | None:
    """The one line for a Qt import that failed on a missing system library; None for any other import error."""
    text = str(e)
    if "cannot open shared object file" not in text and "Library not loaded" not in text:
        return None
    missing = missing_libraries() or re.findall(r"(lib[\w.+-]+\.so[.\d]*)", text)[:1]
    if missing:
        return f"stylemixer: error: the app cannot start: {missing_libraries_text(missing)}; {HELP}"
    return f"stylemixer: error: the app cannot start: {text}; {HELP}"


def check() -> str | None:
    """The error line that stops the app before Qt is imported, or None when it may go on."""
    return missing_display()
