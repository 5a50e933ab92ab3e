"""Light and dark palettes for the Fusion style; every widget takes its colours from these roles."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory


def dark_palette() -> QPalette:
    p = QPalette()
    R = QPalette.ColorRole
    base, window, text = QColor(30, 31, 34), QColor(45, 47, 51), QColor(225, 226, 228)
    for role, c in (
        (R.Window, window),
        (R.WindowText, text),
        (R.Base, base),
        (R.AlternateBase, QColor(58, 62, 70)),
        (R.ToolTipBase, QColor(55, 57, 62)),
        (R.ToolTipText, text),
        (R.Text, text),
        (R.Button, QColor(55, 57, 62)),
        (R.ButtonText, text),
        (R.BrightText, QColor(255, 90, 90)),
        (R.Link, QColor(110, 170, 255)),
        (R.Highlight, QColor(60, 120, 215)),
        (R.HighlightedText, QColor(255, 255, 255)),
        (R.PlaceholderText, QColor(140, 142, 146)),
        (R.Light, QColor(75, 78, 84)),
        (R.Midlight, QColor(62, 64, 70)),
        (R.Mid, QColor(40, 42, 45)),
        (R.Dark, QColor(22, 23, 25)),
        (R.Shadow, QColor(10, 10, 10)),
    ):
        p.setColor(role, c)
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 122, 126))
    return p


def apply_palette(dark: bool):
    app = QApplication.instance()
    if app is None:
        return
    if "Fusion" in QStyleFactory.keys() and app.style().name().lower() != "fusion":  # noqa: SIM118 (a Qt static method, not a dict)
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    # A widget with its own style sheet keeps the palette it was polished with (a check box would keep a dark
    # fill after switching back to light): polishing it again makes it take the new one.
    for w in app.allWidgets():
        sheet = w.styleSheet()
        if sheet:
            w.setStyleSheet("")
            w.setStyleSheet(sheet)
