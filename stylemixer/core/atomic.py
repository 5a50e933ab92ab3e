"""Atomic file writes: a temporary file beside the target, fsync, then rename. A failure leaves nothing behind."""
from __future__ import annotations

import os
import tempfile


def atomic_write_bytes(path, data: bytes):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".stylemixer-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
