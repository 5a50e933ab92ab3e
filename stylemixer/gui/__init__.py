"""The desktop app (PySide6). The only package that imports Qt; everything it draws comes from stylemixer.core."""
