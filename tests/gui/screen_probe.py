"""Open the real window on an offscreen screen of a given size and report what fits, as JSON on stdout.

Run by tests/gui/test_screens.py in a fresh interpreter, because the screen is chosen when the QApplication
starts: QT_QPA_PLATFORM="offscreen:configfile=screen.json" (Qt's offscreen plugin reads the screen's size and
device pixel ratio from that file). Usage: screen_probe.py MODEL SETTINGS.ini [--shorter PX]
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def inside(widget, area_widget) -> bool:
    """Whether `widget` lies wholly within what `area_widget` shows."""
    from PySide6.QtCore import QRect

    top_left = widget.mapTo(area_widget, widget.rect().topLeft())
    r = QRect(top_left, widget.size())
    return area_widget.rect().contains(r)


def main():
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("settings")
    ap.add_argument(
        "--shorter",
        type=int,
        default=0,
        help="then make the window this much shorter than the screen (a desktop panel and a title bar)",
    )
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication(["screen_probe"])
    app.setStyle("Fusion")
    from stylemixer.gui.main_window import MainWindow
    from stylemixer.gui.settings import open_settings

    win = MainWindow(settings=open_settings(args.settings), device="cpu", dialogs=False)
    win.show()
    win.open_model(args.model)
    assert win.wait_until_idle(120) and win.model is not None, win.messages
    if args.shorter:  # what is left of the screen under a desktop's panel and the window's title bar
        win.showNormal()
        avail = win.screen().availableGeometry()
        frame, inner = win.frameGeometry(), win.geometry()
        dw, dh = frame.width() - inner.width(), frame.height() - inner.height()
        win.setGeometry(
            avail.x() + inner.x() - frame.x(),
            avail.y() + inner.y() - frame.y(),
            avail.width() - dw,
            avail.height() - args.shorter - dh,
        )
    for _ in range(20):
        app.processEvents()
    win.wait_until_idle(30)
    win.stats_views.flush()
    app.processEvents()

    screen = win.screen()
    avail = screen.availableGeometry()
    frame = win.frameGeometry()
    out = {
        "screen": [screen.geometry().width(), screen.geometry().height()],
        "dpr": screen.devicePixelRatio(),
        "available": [avail.x(), avail.y(), avail.width(), avail.height()],
        "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
        "window_on_screen": avail.contains(frame),
        "status_bar_shown": win.statusBar().isVisible() and inside(win.statusBar(), win),
        "rows": len(win.mixer.rows),
        "rows_in_view": sum(inside(r, win.mixer_scroll.viewport()) for r in win.mixer.rows),
        "thumbnails": not win.seed_a.thumb.isHidden(),
    }
    stats_dock, feature_dock = win.stats_views.docks
    panel = win.stats_views.panel
    stats_scroll = stats_dock.widget().widget(0)
    out["stats_dock_size"] = [stats_dock.width(), stats_dock.height()]
    out["stats_summary_in_view"] = inside(panel.summary, stats_scroll.viewport())
    out["stats_export_in_view"] = inside(panel.export_all_button, stats_scroll.viewport())
    out["stats_hscroll"] = stats_scroll.horizontalScrollBar().isVisible()
    feature_dock.raise_()
    for _ in range(20):
        app.processEvents()
    win.wait_until_idle(30)
    win.stats_views.flush()
    app.processEvents()
    fv = win.stats_views.features
    feat_scroll = feature_dock.widget().widget(0)
    out["feature_dock_width"] = feature_dock.width()
    out["feature_hscroll"] = feat_scroll.horizontalScrollBar().isVisible()
    out["feature_save_in_view"] = inside(fv.save_button, feat_scroll.viewport())
    out["feature_controls_in_view"] = all(
        inside(w, feat_scroll.viewport()) for w in (fv.source_box, fv.cmap_box, fv.norm_box)
    )
    out["montage_columns_fit"] = fv.montage is not None and fv.canvas.target().width() <= fv.canvas.width()
    fv.select_channel(0)  # the enlarged channel and its table of numbers
    for _ in range(10):
        app.processEvents()
    out["feature_hscroll_with_channel"] = feat_scroll.horizontalScrollBar().isVisible()
    out["channel_text_in_view"] = inside(fv.channel_text, feat_scroll.widget())
    out["channel_text_clipped"] = fv.channel_text.width() < fv.channel_text.sizeHint().width()
    print("PROBE " + json.dumps(out), flush=True)
    win.close()


if __name__ == "__main__":
    main()
