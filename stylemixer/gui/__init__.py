"""The desktop app (PySide6). The only package that imports Qt; everything it draws comes from stylemixer.core."""

from . import qt_fixes  # noqa: F401  (before anything emits a signal; see the module for why)
