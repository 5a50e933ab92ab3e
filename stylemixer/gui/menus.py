"""Menus, actions and keyboard shortcuts of the main window."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from ..core.devices import available_devices
from . import latent_actions

SK = QKeySequence.StandardKey


def _act(win, menu, text, fn, shortcut=None, tip=None, checkable=False):
    a = QAction(text, win)
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            a.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            a.setShortcut(QKeySequence(shortcut))
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    a.setCheckable(checkable)
    (a.toggled if checkable else a.triggered).connect(fn)
    menu.addAction(a)
    return a


def build_menus(win) -> dict:
    """Create the menu bar; returns the actions by key (the window enables them and tests trigger them)."""
    A = {}
    c = win.controller
    mb = win.menuBar()

    f = mb.addMenu("&File")
    A["open_model"] = _act(
        win,
        f,
        "Open &Model…",
        win.open_model_dialog,
        SK.Open,
        "Open a generator file (StyleMixer .safetensors or a supported checkpoint)",
    )
    A["open_builtin"] = _act(
        win,
        f,
        "Open the &Built-in Model",
        lambda: win.open_model("builtin"),
        None,
        "The small face generator that ships with StyleMixer",
    )
    A["recent_menu"] = f.addMenu("Open &Recent")
    A["recent_menu"].aboutToShow.connect(win.fill_recent_menu)
    A["open_recipe"] = _act(
        win,
        f,
        "Open Recipe or &Image…",
        win.open_recipe_dialog,
        "Ctrl+Shift+O",
        "Restore a mix from a recipe JSON or a PNG exported by StyleMixer",
    )
    A["save_recipe"] = _act(
        win, f, "&Save Recipe…", win.save_recipe_dialog, SK.Save, "Save the current mix as a recipe JSON"
    )
    f.addSeparator()
    A["load_latent_a"] = _act(
        win,
        f,
        "Load Latent into A…",
        lambda: latent_actions.load_latent_dialog(win, "a"),
        tip="A W or W+ latent (.npz, .npy, .pt; e.g. NVIDIA's projected_w.npz) as seed A",
    )
    A["load_latent_b"] = _act(win, f, "Load Latent into B…", lambda: latent_actions.load_latent_dialog(win, "b"))
    A["save_latents"] = _act(
        win,
        f,
        "Save &Latents…",
        lambda: latent_actions.save_latents_dialog(win),
        tip="The ws of A, B and the mix as an .npz",
    )
    f.addSeparator()
    A["export"] = _act(
        win,
        f,
        "&Export PNG…",
        lambda: win.export_dialog(1),
        "Ctrl+E",
        "The mixed image at its native size, with the recipe embedded",
    )
    A["export_big"] = _act(
        win,
        f,
        "Export &Enlarged PNG…",
        lambda: win.export_dialog(None),
        "Ctrl+Shift+E",
        "The mixed image enlarged with whole pixels, with the recipe embedded",
    )
    A["export_strip"] = _act(
        win,
        f,
        "Export A | mix | B S&trip…",
        win.export_strip_dialog,
        "Ctrl+Alt+E",
        "A, the mix and B side by side in one PNG",
    )
    A["strip_labels"] = _act(
        win,
        f,
        "&Label Strip Exports",
        win.set_strip_labels,
        None,
        "Write 'A · seed', 'mix' and 'B · seed' under the images of an A | mix | B strip",
        checkable=True,
    )
    A["strip_labels"].setChecked(True)
    A["copy"] = _act(
        win, f, "&Copy Image", win.copy_image, SK.Copy, "Copy the mixed image (and its recipe as text) to the clipboard"
    )
    f.addSeparator()
    _act(win, f, "&Quit", win.close, SK.Quit)

    e = mb.addMenu("&Edit")
    A["undo"] = _act(win, e, "&Undo", c.undo, SK.Undo, "Undo the last mixing change")
    A["redo"] = _act(
        win,
        e,
        "&Redo",
        c.redo,
        [QKeySequence(SK.Redo).toString() or "Ctrl+Shift+Z", "Ctrl+Y"],
        "Redo the change undone last",
    )
    A["undo"].setEnabled(False)
    A["redo"].setEnabled(False)
    e.addSeparator()
    A["random"] = _act(win, e, "Random &Seeds", lambda: c.random_seeds("ab"), "Ctrl+R", "New random seeds for A and B")
    A["random_a"] = _act(win, e, "Random Seed &A", lambda: c.random_seeds("a"), "Ctrl+Shift+A")
    A["random_b"] = _act(win, e, "Random Seed &B", lambda: c.random_seeds("b"), "Ctrl+Shift+B")

    m = mb.addMenu("&Mix")
    A["preset_actions"] = []
    for i, (key, text) in enumerate(
        (
            ("all_a", "All from &A"),
            ("all_b", "All from &B"),
            ("coarse", "&Coarse from B"),
            ("middle", "&Middle from B"),
            ("fine", "&Fine from B"),
            ("swap", "&Swap A and B"),
        )
    ):
        a = _act(win, m, text, lambda _=False, k=key: c.preset(k), f"Ctrl+{i + 1}")
        A["preset_actions"].append(a)

    A["grid"] = _act(
        win,
        m,
        "Mixing &Grid…",
        lambda: _open_grid_view(win),
        "Ctrl+G",
        "Rows of seeds x columns of seeds, each cell mixing its column into its row",
    )
    A["sweep"] = _act(
        win,
        m,
        "S&weep to GIF / MP4…",
        lambda: _open_sweep_dialog(win),
        "Ctrl+Shift+W",
        "Animate a weight, psi or the seed and export it",
    )

    v = mb.addMenu("&View")
    A["fit"] = _act(win, v, "Zoom to &Fit", lambda: win.set_zoom("fit"), "Ctrl+9")
    A["one"] = _act(win, v, "&Actual Pixels (1:1)", lambda: win.set_zoom(1), "Ctrl+0")
    A["triptych"] = _act(win, v, "Show A | mix | &B", win.set_triptych, "Ctrl+T", checkable=True)
    v.addSeparator()
    A["dark"] = _act(win, v, "&Dark Palette", win.set_dark, "Ctrl+Shift+D", checkable=True)
    A["panels_menu"] = v.addMenu("&Panels")
    A["panels_menu"].menuAction().setVisible(False)

    d = mb.addMenu("&Device")
    A["device_group"] = QActionGroup(win)
    A["device_group"].setExclusive(True)
    for dev in available_devices():
        a = _act(win, d, dev, lambda _=False, x=dev: win.set_device(x), tip=f"Run the model on {dev}")
        a.setCheckable(True)
        a.setData(dev)
        A["device_group"].addAction(a)

    h = mb.addMenu("&Help")
    A["shortcuts"] = _act(
        win, h, "&Keyboard Shortcuts", win.show_shortcuts, "F1", "Every keyboard shortcut of the window and its panels"
    )
    A["panels_help"] = _act(
        win,
        h,
        "How to &Read the Panels",
        win.show_panels_help,
        None,
        "What the picture, the bars, the statistics and the feature maps show",
    )
    h.addSeparator()
    A["about"] = _act(win, h, "&About StyleMixer", win.show_about)
    return A


# The grid and sweep windows are imported when first opened: nothing of them is needed for the first picture.
def _open_grid_view(win):
    from .grid_view import open_grid_view

    return open_grid_view(win)


def _open_sweep_dialog(win):
    from .sweep_dialog import open_sweep_dialog

    return open_sweep_dialog(win)
