"""Start the desktop app: `stylemixer` (built-in model), `stylemixer-gui FILE` (a model, recipe or StyleMixer PNG)."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stylemixer", description="The StyleMixer desktop app.")
    p.add_argument("file", nargs="?", help="a model file, a recipe JSON or a PNG exported by StyleMixer")
    p.add_argument("--model", default=None, help="model file or 'builtin' (default)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the fastest available)")
    p.add_argument("--settings", default=None, help="use this ini file for remembered settings")
    p.add_argument("--dark", action="store_true", help="start with the dark palette")
    p.add_argument("--screenshot", metavar="PNG", help="render, save a picture of the window to PNG and quit")
    p.add_argument("--size", default=None, help="window size WxH, e.g. 1400x860")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from ..core.devices import pick_device
    from .main_window import MainWindow
    from .settings import open_settings

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "stylemixer"])
    app.setOrganizationName("StyleMixer")
    app.setApplicationName("StyleMixer")
    app.setStyle("Fusion")
    try:
        device = str(pick_device(args.device))
    except ValueError as e:
        print(f"stylemixer: {e}; using cpu", file=sys.stderr)
        device = "cpu"
    settings = open_settings(args.settings)
    if args.dark:
        settings.setValue("view/dark", True)
    win = MainWindow(settings=settings, device=device, dialogs=not args.screenshot)
    if args.size:
        w, _, h = args.size.lower().partition("x")
        win.resize(int(w), int(h))
    win.show()
    win.open_model(args.model or "builtin")
    if args.file:
        win.open_path(args.file)
    if args.screenshot:
        return _screenshot(app, win, args.screenshot)
    return app.exec()


def _screenshot(app, win, path) -> int:
    """Debug aid: wait for the first picture, grab the window, save it."""
    ok = win.wait_until_idle(60)
    app.processEvents()
    win.grab().save(path)
    errors = [t for k, t in win.messages if k == "error"]
    win.close()
    for t in errors:
        print(f"stylemixer: {t}", file=sys.stderr)
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
