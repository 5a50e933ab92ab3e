"""Starting the app where it cannot show a window: one line and status 2, never Qt's abort (a core dump)."""

import os
import subprocess
import sys

import pytest

from stylemixer import startup
from stylemixer.gui import display

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland start-up")


def start(tmp_path, env_changes: dict, drop=()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_changes, STYLEMIXER_NO_REEXEC="1")
    return subprocess.run(
        [sys.executable, "-m", "stylemixer", "--settings", str(tmp_path / "s.ini")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def one_line(p) -> str:
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 2, (p.returncode, p.stderr)  # not 134 (abort)
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_no_display_at_all(tmp_path):
    p = start(tmp_path, {}, drop=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    line = one_line(p)
    assert line.startswith("stylemixer: error: no display") and "DISPLAY" in line
    assert "stylemixer --help" in line


def test_a_display_that_cannot_be_reached(tmp_path):
    """The xcb plugin is tried and fails (a display nobody serves, or libraries it cannot load on a bare machine):
    Qt's fatal message is caught and explained."""
    p = start(tmp_path, {"DISPLAY": ":97", "QT_QPA_PLATFORM": "xcb"}, drop=("WAYLAND_DISPLAY",))
    line = one_line(p)
    assert line.startswith("stylemixer: error: no display:"), line
    missing = display.missing_libraries()
    if missing:  # this machine lacks some of the plugin's libraries: they are named, with the packages
        assert missing[0] in line and "apt-get install" in line
    else:
        assert "cannot connect to the X display ':97'" in line


def test_the_explanations():
    ldd = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibxcb-icccm.so.4 => not found\n"
        "\tlibxcb-keysyms.so.1 => not found\n\tlibxkbcommon-x11.so.0 => /lib/libxkbcommon-x11.so.0 (0x7f)\n"
    )
    missing = startup.parse_ldd_missing(ldd)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    line = display.explain(['Could not load the Qt platform plugin "xcb"'], {}, missing)
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in line
    assert [
        startup.debian_package(s)
        for s in ("libxkbcommon-x11.so.0", "libdbus-1.so.3", "libEGL.so.1", "libglib-2.0.so.0", "libxcb-cursor.so.0")
    ] == ["libxkbcommon-x11-0", "libdbus-1-3", "libegl1", "libglib2.0-0", "libxcb-cursor0"]
    assert startup.missing_display({}, "linux") is not None
    assert startup.missing_display({"DISPLAY": ":0"}, "linux") is None
    assert startup.missing_display({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert startup.missing_display({}, "darwin") is None


def test_a_missing_qt_library_is_one_line_naming_the_packages():
    e = ImportError("libglib-2.0.so.0: cannot open shared object file: No such file or directory")
    line = startup.qt_import_error(e)
    assert line.startswith("stylemixer: error: the app cannot start: Qt cannot load ")
    missing = startup.missing_libraries()
    assert ("libglib-2.0.so.0" in line and "libglib2.0-0" in line) if not missing else missing[0] in line
    assert startup.qt_import_error(ImportError("No module named 'PySide6'")) is None  # not a system library
