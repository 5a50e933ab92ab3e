"""Opening files that came from a user: only regular files, never a FIFO, a device or a socket.

Opening a FIFO for reading blocks until a writer appears, and reading a device (/dev/zero, /dev/urandom, a
terminal) never ends; either would freeze a load forever. So a file is opened with O_NONBLOCK (which makes
opening a FIFO return at once), checked with fstat on the open descriptor (no race with a rename), and only
a regular file is handed on, switched back to ordinary blocking reads.
"""

from __future__ import annotations

import io
import os
import stat

from .errors import StyleMixerError, printable, read_error_text

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def open_regular(
    path: str | os.PathLike[str], error: type[Exception] = StyleMixerError, what: str = "file"
) -> io.BufferedReader:
    """Open `path` for binary reading if it is a regular file; otherwise raise `error` with one clear line."""
    name = printable(os.path.basename(os.fspath(path)) or os.fspath(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if not hasattr(os, "O_NONBLOCK"):  # Windows: no FIFOs to block on; stat first for devices
            _check_mode(os.stat(path).st_mode, name, error, what)
        fd = os.open(path, flags)
    except OSError as e:
        raise error(read_error_text(path, e)) from None
    except ValueError:  # an embedded NUL character
        raise error(f"cannot read {name}: the path is not valid") from None
    try:
        _check_mode(os.fstat(fd).st_mode, name, error, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_mode(mode: int, name: str, error: type[Exception], what: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((label for test, label in _KINDS if test(mode)), "not a regular file")
    raise error(f"{name} is {kind}, not a {what}; only regular files are opened")
