"""The main window's tool windows (the grid, the sweep): one of each, made on first use and raised on later
requests, so a second request never stacks a second copy with its own render tasks."""

from __future__ import annotations


def open_once(win, attr: str, make):
    """`win.<attr>`, made by `make(win)` the first time; shown and raised."""
    view = getattr(win, attr, None)
    if view is None:
        view = make(win)
        setattr(win, attr, view)
    view.show()
    view.raise_()
    return view
