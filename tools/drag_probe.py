"""Drag a layer slider in the real StyleMixer window and measure what the user would feel.

Opens the real MainWindow (offscreen unless QT_QPA_PLATFORM says otherwise), loads a model, then for
`--seconds` sends real mouse events to one w index's slider: press on its handle, moves at `--move-hz` sweeping
the groove left to right and back, release. Meanwhile a 1 ms heartbeat timer on the GUI thread records how long
the event loop was away (the longest GUI stall) and every result the window shows is counted (pictures per
second). Prints a JSON report.

    python tools/drag_probe.py [--model builtin] [--index 8] [--seconds 5] [--stats] [--json out.json]
    python tools/drag_probe.py --random stylegan2 [--resolution 1024] ...   # a random official-shape model

--random builds a random-weight model of a family's published shape (StyleGAN2 config F, StyleGAN3-T/-R, as
`stylemixer bench --family` times them) and saves it as a StyleMixer .safetensors (1024 px StyleGAN2: ~120 MB)
under --save-dir, reusing a file already there, then opens it like any model file.

With the side panels open (the default) it also times the statistics views' own work on the GUI thread: each
update of their plot data (`stats_update_ms`) and each paint of their plot widgets (`stats_paint_ms`), less
sensitive to the machine's load than the stalls, and lists which of them fell inside the longest stalls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _percentile(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else None


def random_model_file(family: str, resolution: int, folder: str) -> str:
    """A StyleMixer model file with random weights of the family's published shape (made once, then reused)."""
    path = os.path.join(folder, f"random-{family}-{resolution}px.safetensors")
    if os.path.isfile(path):
        return path
    from stylemixer.benchmarks.families import stylegan2_generator, stylegan3_generator
    from stylemixer.core.checkpoints.native import save_model

    if family == "stylegan2":
        G = stylegan2_generator(resolution)
    else:
        G = stylegan3_generator(family[-1].upper(), resolution)
    save_model(G, path)
    return path


def _summary(ms) -> dict:
    if not ms:
        return {"count": 0}
    return {
        "count": len(ms),
        "median": round(_percentile(ms, 0.5), 1),
        "p95": round(_percentile(ms, 0.95), 1),
        "max": round(max(ms), 1),
    }


def _time_stats_views() -> list:
    """Time the statistics views' GUI-thread work: [(kind, end time, ms)], kind "update" (their plot data set
    from one result: StatsViews' flush and any later steps it schedules) or "paint" (one paint of a plot widget).
    Patched on the classes before the views are built, so the views' own timers call the timed methods."""
    import pyqtgraph as pg

    from stylemixer.gui.stats import StatsViews

    log: list = []

    def timed(cls, name, kind):
        f = getattr(cls, name)

        def wrapper(self, *a, **k):
            t = time.perf_counter()
            try:
                return f(self, *a, **k)
            finally:
                end = time.perf_counter()
                log.append((kind, end, (end - t) * 1000))

        setattr(cls, name, wrapper)

    for name in ("_flush", "_step"):
        if hasattr(StatsViews, name):
            timed(StatsViews, name, "update")
    timed(pg.GraphicsView, "paintEvent", "paint")
    return log


def probe(args) -> dict:
    from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionSlider

    # The app's own thread policy (the worker measures; its thread runs below the GUI's priority) unless told.
    policy = {"threads": args.threads} if args.threads else {}
    if args.nice is not None:
        policy["render_nice"] = args.nice
    app = QApplication.instance() or QApplication(["drag_probe"])
    redraws = _time_stats_views()
    from stylemixer.gui.main_window import MainWindow
    from stylemixer.gui.settings import open_settings

    tmp = tempfile.TemporaryDirectory()
    win = MainWindow(
        settings=open_settings(os.path.join(tmp.name, "settings.ini")), device=args.device, dialogs=False, **policy
    )
    win.resize(1400, 900)
    win._probe_results = []  # every result shown before the drag (time, where each image started)
    win.result_ready.connect(lambda res: win._probe_results.append(res))
    win.show()
    t_open = time.perf_counter()
    win.open_model(args.model)
    if not win.wait_until_idle(120) or win.model is None:
        raise SystemExit(f"drag_probe: the model did not load: {win.messages}")
    load_s = time.perf_counter() - t_open
    if args.no_panels:  # the window alone: the side panels' drawing is theirs to measure
        for dock in getattr(win, "_side_docks", []):
            dock.close()
    else:  # the statistics views are built after the first picture (when their panel shows): before the drag
        getattr(win.stats_views, "build", lambda: None)()
    win.wait_until_idle(30)
    if args.stats:
        win.controller.set_capture(stats=True)
        win.wait_until_idle(30)
    settle = time.perf_counter() + 0.5  # let the window finish drawing what it has (first paints of the panels)
    while time.perf_counter() < settle:
        app.processEvents()
        time.sleep(0.005)
    # The progressive preview's policy reads the last full frame's time: what it holds as the drag starts.
    full_ms_at_start = getattr(win.session, "full_ms", None)
    frames_before = [(r.ms, r.info.get("start")) for r in getattr(win, "_probe_results", [])]
    num_ws = win.model.num_ws
    index = (
        args.index
        if args.index is not None
        else next((l.index for l in win.model.layers if l.group == "fine"), num_ws - 2)
    )
    slider = win.mixer.rows[index].slider
    start_weight = win.controller.recipe.weights[index] if hasattr(win.controller, "recipe") else None

    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    handle = slider.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider
    )
    groove = slider.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, slider
    )
    y = handle.center().y()
    x0, x1 = groove.left() + handle.width() // 2, groove.right() - handle.width() // 2

    def send(kind, x, buttons):
        local = QPointF(x, y)
        button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
        ev = QMouseEvent(
            kind, local, QPointF(slider.mapToGlobal(local.toPoint())), button, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(slider, ev)

    beats, shown, render_ms, handler_ms, render_threads, previews = [], [], [], [], [], []
    state = {"t0": None, "done": False, "x": handle.center().x()}
    heart = QTimer()
    heart.setTimerType(Qt.TimerType.PreciseTimer)
    heart.setInterval(1)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))
    mover = QTimer()
    mover.setTimerType(Qt.TimerType.PreciseTimer)
    mover.setInterval(max(1, int(round(1000 / args.move_hz))))

    def on_result(res):
        if state["t0"] is not None and not state["done"]:
            shown.append(time.perf_counter())
            render_ms.append(res.ms)
            render_threads.append(res.info.get("threads"))
            previews.append(res.info.get("preview"))

    win.result_ready.connect(on_result)

    def move():
        t = time.perf_counter() - state["t0"]
        if t >= args.seconds:
            mover.stop()
            send(QEvent.Type.MouseButtonRelease, state["x"], Qt.MouseButton.NoButton)
            state["done"] = True
            state["t1"] = time.perf_counter()
            return
        phase = (t / args.period) % 1.0  # sweep right, then back left
        frac = 2 * phase if phase < 0.5 else 2 - 2 * phase
        state["x"] = x0 + frac * (x1 - x0)
        h = time.perf_counter()
        send(QEvent.Type.MouseMove, state["x"], Qt.MouseButton.LeftButton)
        handler_ms.append((time.perf_counter() - h) * 1000)

    send(QEvent.Type.MouseButtonPress, state["x"], Qt.MouseButton.LeftButton)
    state["t0"] = time.perf_counter()
    heart.start()
    mover.timeout.connect(move)
    mover.start()
    while not state["done"]:
        app.processEvents()
        time.sleep(0.0005)
    heart.stop()
    win.wait_until_idle(30)
    duration = state["t1"] - state["t0"]
    gaps = [(b - a) * 1000 for a, b in zip(beats, beats[1:])]
    gaps = [(beats[0] - state["t0"]) * 1000] + gaps if beats else gaps
    intervals = [(b - a) * 1000 for a, b in zip(shown, shown[1:])]
    # The longest stalls, and whether a picture was being shown in them (the GUI's own drawing) or not (the GUI
    # thread kept from running: CPU contention, the GIL).
    ends = ([state["t0"]] + beats)[1:]
    starts = [state["t0"]] + beats[:-1]
    worst = sorted(zip(gaps, starts, ends), reverse=True)[:5]
    in_drag = [r for r in redraws if state["t0"] <= r[1] <= state["t1"]]
    stalls = [
        {
            "ms": round(g, 1),
            "at_s": round(a - state["t0"], 3),
            "picture_shown_in_it": any(a <= s <= b for s in shown),
            "stats_work_in_it_ms": {
                kind: round(sum(ms for k, t, ms in in_drag if k == kind and a <= t <= b), 1)
                for kind in ("update", "paint")
            },
        }
        for g, a, b in worst
    ]
    if args.screenshot:
        win.grab().save(args.screenshot)
    end_weight = win.controller.recipe.weights[index] if hasattr(win.controller, "recipe") else None
    report = {
        "model": args.model,
        "model_resolution": win.model.resolution,
        "index": index,
        "stats": args.stats,
        "panels": not args.no_panels,
        "render_threads": {str(n): render_threads.count(n) for n in sorted(set(render_threads), key=str)},
        "render_nice": win.worker.nice,
        # pictures shown per preview size (the progressive preview while dragging; "full": the whole frame)
        "preview_policy_full_ms_at_start": round(full_ms_at_start, 1) if full_ms_at_start else None,
        "frames_before_drag": frames_before,
        "previews_px": {str(p or "full"): previews.count(p) for p in sorted(set(previews), key=lambda p: p or 1 << 20)},
        "thread_policy": getattr(win.worker, "thread_info", lambda: None)(),
        "load_s": round(load_s, 2),
        "seconds": round(duration, 3),
        "mouse_moves": len(handler_ms),
        "move_hz": args.move_hz,
        "pictures_shown": len(shown),
        "fps": round(len(shown) / duration, 1) if duration else 0.0,
        "longest_gui_stall_ms": round(max(gaps), 1) if gaps else None,
        "p95_gui_gap_ms": round(_percentile(gaps, 0.95), 1) if gaps else None,
        "p99_gui_gap_ms": round(_percentile(gaps, 0.99), 1) if gaps else None,
        "stats_update_ms": _summary([ms for k, _t, ms in in_drag if k == "update"]),
        "stats_paint_ms": _summary([ms for k, _t, ms in in_drag if k == "paint"]),
        "longest_picture_interval_ms": round(max(intervals), 1) if intervals else None,
        "render_ms_median": round(_percentile(render_ms, 0.5), 2) if render_ms else None,
        "mouse_handler_ms_max": round(max(handler_ms), 2) if handler_ms else None,
        "longest_stalls": stalls,
        "weight_before": start_weight,
        "weight_after": end_weight,
        "results_dropped": getattr(win, "results_dropped", None),
        "requests_submitted": win.worker.requests_submitted,
        "renders_done": win.worker.renders_done,
    }
    win.close()
    win.worker.wait(5000)
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="builtin")
    p.add_argument(
        "--random",
        choices=("stylegan2", "stylegan3-t", "stylegan3-r"),
        default=None,
        help="open a random-weight model of this family's published shape instead of --model",
    )
    p.add_argument("--resolution", type=int, default=1024, help="size of the --random model")
    p.add_argument("--save-dir", default=tempfile.gettempdir(), help="where the --random model file is kept")
    p.add_argument("--device", default="cpu")
    p.add_argument("--index", type=int, default=None, help="w index to drag (default: the first fine one)")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--move-hz", type=float, default=60.0, help="mouse moves per second (a real drag: ~60-125)")
    p.add_argument("--period", type=float, default=2.0, help="seconds for one sweep right and back")
    p.add_argument("--stats", action="store_true", help="with statistics captured on every render")
    p.add_argument("--no-panels", action="store_true", help="close the side panels (statistics, feature maps) first")
    p.add_argument("--threads", type=int, default=None, help="force the render threads (default: the app's policy)")
    p.add_argument(
        "--nice", type=int, default=None, help="render thread's nice steps below the GUI (default: the app's)"
    )
    p.add_argument("--screenshot", default=None, help="save the window after the drag to this PNG")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.random:
        args.model = random_model_file(args.random, args.resolution, args.save_dir)
    rep = probe(args)
    text = json.dumps(rep, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
