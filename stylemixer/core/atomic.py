"""Atomic file writes: a temporary file beside the target, fsync, then rename. A failure leaves nothing behind.

The temporary file is created private (mode 0600, so nobody reads half a file), then given the mode any other
program's `open(path, "w")` would give the result: the mode of the file it replaces, or 0666 minus the umask
for a new file (0644 under the usual umask 022).
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux: /proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere the only way to read it is to set it and set it back; another thread creating a file in between
    # would see umask 022, which is what it almost always is anyway.
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def mode_for(path: str | os.PathLike[str]) -> int:
    """Permission bits for a file written at `path`: those of the file it replaces, or 0666 minus the umask."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    return 0o666 & ~current_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    mode = mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=".stylemixer-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        if not hasattr(os, "fchmod"):  # Windows: only the read-only bit exists
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
