"""Start the desktop app: `stylemixer` (built-in model), `stylemixer-gui FILE` (a model, recipe or StyleMixer PNG)."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    p = argparse.ArgumentParser(prog="stylemixer", description="The StyleMixer desktop app.")
    p.add_argument("file", nargs="?", help="a model file, a recipe JSON or a PNG exported by StyleMixer")
    p.add_argument("--model", default=None, help="model file or 'builtin' (default: the model open last time, "
                                                 "else the built-in one)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the fastest available)")
    p.add_argument("--settings", default=None, help="use this ini file for remembered settings")
    p.add_argument("--dark", action="store_true", help="the dark palette for this run (View > Dark Palette "
                                                       "is the remembered choice)")
    p.add_argument("--version", action="version", version=f"stylemixer {__version__}")
    p.add_argument("--screenshot", metavar="PNG", help="render, save a picture of the window to PNG and quit")
    p.add_argument("--size", default=None, help="window size WxH, e.g. 1400x860")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)

    from . import display
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        problem = display.missing_display()
        if problem:
            print(problem, file=sys.stderr)
            return display.EXIT_STATUS
        display.install_guard()   # a platform plugin that cannot start: one line and status 2, not abort()
        app = QApplication([sys.argv[0] if sys.argv else "stylemixer"])
        display.remove_guard()

    from ..core.devices import pick_device
    from .main_window import MainWindow
    from .settings import open_settings

    _leave_a_core_for_the_gui()
    app.setOrganizationName("StyleMixer")
    app.setApplicationName("StyleMixer")
    app.setStyle("Fusion")
    try:
        device = str(pick_device(args.device))
    except ValueError as e:
        print(f"stylemixer: {e}; using cpu", file=sys.stderr)
        device = "cpu"
    settings = open_settings(args.settings)
    win = MainWindow(settings=settings, device=device, dialogs=not args.screenshot, dark=True if args.dark else None)
    if args.size:
        from PySide6.QtCore import Qt
        w, _, h = args.size.lower().partition("x")
        win.setWindowState(win.windowState() & ~Qt.WindowState.WindowMaximized)
        win.resize(int(w), int(h))
        win.fit_on_show = False
    win.show()
    _open_start_files(win, args)
    if args.screenshot:
        return _screenshot(app, win, args.screenshot)
    return app.exec()


def _leave_a_core_for_the_gui():
    """torch's intra-op threads spin while they wait for each other; with one per core plus the GUI thread
    drawing, a core is oversubscribed and the slowest thread sets the pace. Dragging a slider on a 64 px model on
    2 busy cores: 2 threads rendered in 275 ms, 1 thread in 7 ms. So the worker gets one core less, unless the
    user chose a thread count."""
    import os

    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS"):
        return
    import torch
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), cores - 1)))


def _open_start_files(win, args):
    """No file: the model (built-in by default). A model file: that model. A recipe or StyleMixer PNG: its
    mix, on --model when given, otherwise on the model the recipe names."""
    from ..core.errors import StyleMixerError
    from ..core.export import load_recipe_file
    from .files import is_recipe_file

    if not args.file:
        win.open_model(args.model or last_model(win.settings))
    elif not is_recipe_file(args.file):
        win.open_model(args.file)
    elif args.model is None:
        if not win.open_recipe_file(args.file):
            win.open_model("builtin")
    else:
        try:
            win.queue_recipe(load_recipe_file(args.file))
        except StyleMixerError as e:
            win.show_message("error", f"Could not open the recipe: {e}")
        win.open_model(args.model)


def last_model(settings) -> str:
    """The model open when the app was last closed, if its file is still there; else the built-in one."""
    import os
    last = str(settings.value("session/model", "builtin") or "builtin")
    return last if last == "builtin" or os.path.isfile(last) else "builtin"


def _screenshot(app, win, path) -> int:
    """Debug aid: wait for the first picture, grab the window, save it."""
    ok = win.wait_until_idle(60)
    app.processEvents()
    if getattr(win, "stats_views", None) is not None:
        win.stats_views.flush()   # drawn now, not at the views' next refresh
        app.processEvents()
    win.grab().save(path)
    errors = [t for k, t in win.messages if k == "error"]
    win.close()
    for t in errors:
        print(f"stylemixer: {t}", file=sys.stderr)
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
