"""Start the desktop app: `stylemixer` (built-in model), `stylemixer-gui FILE` (a model, recipe or StyleMixer PNG)."""

from __future__ import annotations

import argparse
import gc
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from ..cli import threads_arg

    p = argparse.ArgumentParser(prog="stylemixer", description="The StyleMixer desktop app.")
    p.add_argument("file", nargs="?", help="a model file, a recipe JSON or a PNG exported by StyleMixer")
    p.add_argument(
        "--model",
        default=None,
        help="model file or 'builtin' (default: the model open last time, else the built-in one)",
    )
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the fastest available)")
    p.add_argument("--settings", default=None, help="use this ini file for remembered settings")
    p.add_argument(
        "--threads",
        type=threads_arg,
        default="auto",
        metavar="N|auto",
        help="CPU threads to render with: a count, or auto (default) to measure while rendering",
    )
    p.add_argument(
        "--dark",
        action="store_true",
        help="the dark palette for this run (View > Dark Palette is the remembered choice)",
    )
    p.add_argument("--version", action="version", version=f"stylemixer {__version__}")
    p.add_argument("--screenshot", metavar="PNG", help="render, save a picture of the window to PNG and quit")
    p.add_argument("--size", default=None, help="window size WxH, e.g. 1400x860")
    p.add_argument(
        "--exit-after-first-image",
        action="store_true",
        help="print a line when the first picture is on screen and quit (`stylemixer bench` times the start so)",
    )
    return p


def main(argv=None) -> int:
    if argv is None:  # `python -m stylemixer.gui`; `stylemixer` has already done both
        gc.disable()  # while importing (see cli.main)
        from ..core.perf import passive_openmp_wait

        passive_openmp_wait()  # before torch is imported (core/perf.py)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from .. import startup
    from . import display

    app = QApplication.instance()
    if app is None:
        problem = startup.missing_display()
        if problem:
            print(problem, file=sys.stderr)
            return display.EXIT_STATUS
        display.install_guard()  # a platform plugin that cannot start: one line and status 2, not abort()
        app = QApplication([sys.argv[0] if sys.argv else "stylemixer"])
        display.remove_guard()

    from ..cli import end_startup_gc
    from ..core.devices import pick_device
    from .main_window import MainWindow
    from .settings import open_settings

    end_startup_gc()
    app.setOrganizationName("StyleMixer")
    app.setApplicationName("StyleMixer")
    app.setStyle("Fusion")
    try:
        device = str(pick_device(args.device))
    except ValueError as e:
        print(f"stylemixer: {e}; using cpu", file=sys.stderr)
        device = "cpu"
    settings = open_settings(args.settings)
    win = MainWindow(
        settings=settings,
        device=device,
        dialogs=not args.screenshot,
        dark=True if args.dark else None,
        threads=args.threads,
    )
    if args.size:
        from PySide6.QtCore import Qt

        w, _, h = args.size.lower().partition("x")
        win.setWindowState(win.windowState() & ~Qt.WindowState.WindowMaximized)
        win.resize(int(w), int(h))
        win.fit_on_show = False
    win.exit_after_first_image = args.exit_after_first_image
    win.show()
    _open_start_files(win, args)
    if args.screenshot:
        return leave(_screenshot(app, win, args.screenshot))
    return leave(app.exec())


def leave(code: int) -> int:
    """The exit status, after making sure a worker abandoned at close (stuck in a load) cannot hold the
    process: Python would otherwise wait for nothing, then Qt aborts when the running thread's object is
    destroyed. Settings are already written (closeEvent); the process ends here without waiting for it."""
    from .worker import abandoned_running

    if abandoned_running():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _open_start_files(win, args):
    """No file: the model (built-in by default). A model file: that model. A recipe or StyleMixer PNG: its
    mix, on --model when given, otherwise on the model the recipe names (the built-in one when the recipe
    cannot be used). Files are read off the GUI thread (gui/files.py)."""
    from .files import _message, read_if_recipe

    if not args.file:
        win.open_model(args.model or last_model(win.settings))
    elif args.model is None:
        win.open_path(args.file, fallback_model="builtin")
    else:

        def then(ok, result):
            if ok and result is None:  # not a recipe: the file is the model
                win.open_model(args.file)
                return
            if ok:
                win.queue_recipe(result[0])
            else:
                win.show_message("error", f"Could not open the recipe: {_message(result)}")
            win.open_model(args.model)

        win._reads().start(read_if_recipe, args.file, then=then)


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
        win.stats_views.flush()  # drawn now, not at the views' next refresh
        app.processEvents()
    win.grab().save(path)
    errors = [t for k, t in win.messages if k == "error"]
    win.close()
    for t in errors:
        print(f"stylemixer: {t}", file=sys.stderr)
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
