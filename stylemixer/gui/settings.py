"""Where the app remembers things (window geometry, folders, recent models, palette).

Tests and screenshots pass their own ini file so they never read or write the user's settings."""

from __future__ import annotations

from PySide6.QtCore import QSettings

RECENT_MAX = 8


def open_settings(path=None) -> QSettings:
    if path:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "StyleMixer", "StyleMixer")


def read_list(s: QSettings, key: str) -> list[str]:
    v = s.value(key, [])
    if v is None:
        return []
    if isinstance(v, str):  # an ini file stores a one-item list as a plain string
        return [v] if v else []
    return [str(x) for x in v]


def push_recent(s: QSettings, key: str, item: str):
    items = [x for x in read_list(s, key) if x != item]
    s.setValue(key, ([item] + items)[:RECENT_MAX])


def remove_recent(s: QSettings, key: str, item: str):
    s.setValue(key, [x for x in read_list(s, key) if x != item])
