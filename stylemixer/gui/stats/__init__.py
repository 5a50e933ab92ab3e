"""The live statistics views: per-layer statistics, the across-layers chart and the feature-map montage.

What they show comes from the model family's StatsSpec (`G.stats_spec`: the quantities, their labels and the
A-vs-B distance); nothing here names a family or its quantities.

`install_stats_views(window)` adds them to the main window as two side panels and wires them to the window's
hooks (result_ready, layer_selected, model_changed, controller.set_capture). Everything here only draws what
core.stats_views computes from the small arrays the worker sends.

What the worker is asked for follows what is on screen: statistics (a few floats per channel, reduced on the
device) while any of these views is visible, and the feature maps of one layer only while the feature view is.

The views are built after the app's first picture (their plots, and importing pyqtgraph, cost more than the rest
of the window), or as soon as anything asks for them: `install_stats_views` returns a stand-in that builds them
on first use.
"""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

# The views redraw at most every REFRESH_MS: a slider drag on a fast model delivers results faster than plots
# are worth repainting, and the GUI thread must stay free for the slider and the picture. Where drawing is slow
# (software rendering, a busy machine) the interval grows so that drawing takes at most 1/BUSY_SHARE of the
# GUI thread. The newest result is always the one drawn last.
#
# A redraw is split into steps (the text; each statistics plot; the across-layers chart; the feature montage), one
# per event-loop turn, and what a step changes is painted before the next one runs: the GUI thread is away for
# one step and its paint at a time, not for the whole redraw (at 1024 px, 60-70 ms of plot updates and as much
# painting). A redraw runs to its end before the next result is taken, so every view ends on the same result.
# Views behind another tab draw nothing until they come to the front.
REFRESH_MS = 60
MAX_REFRESH_MS = 400
BUSY_SHARE = 4

STATS_TITLE = "Statistics"
FEATURES_TITLE = "Feature maps"


class StatsViews(QObject):
    """Holds the three views and keeps them consistent: one selected layer, one channel order."""

    def __init__(self, parent=None):
        super().__init__(parent)
        from .across_layers import AcrossLayersChart
        from .feature_view import FeatureView
        from .panel import StatsPanel

        self.panel = StatsPanel()
        self.chart = AcrossLayersChart()
        self.features = FeatureView()
        self.stats_page = QWidget()
        lay = QVBoxLayout(self.stats_page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.chart)
        lay.addWidget(self.panel, 1)
        self.layer: int | None = None
        self.capture = None  # callable(stats=, feature_layer=, feature_source=), e.g. the controller's
        self.select_in_window = None  # callable(index) that selects a layer the way a click on its row does
        self.show_features = None  # callable() that brings the feature view to the front
        self.shown: dict = {}  # page -> seen or not, from the docks' visibilityChanged (see is_shown)
        self.panel.order_changed.connect(self.features.set_order)
        self.panel.channel_clicked.connect(self._open_channel)
        self.features.channel_selected.connect(self.panel.set_selected_channel)
        self.chart.layer_clicked.connect(self._chart_clicked)
        for w in (self.panel, self.chart, self.features):
            w.visibility_changed.connect(self.update_capture)
        self.features.request_changed.connect(self.update_capture)
        self._pending = None  # the newest result not yet drawn
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._flush)
        self._jobs: deque = deque()  # redraws in progress: generators advanced one step per event-loop turn
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.setInterval(0)
        self._step_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._step_timer.timeout.connect(self._step)
        self._cost_ms = 0.0  # GUI-thread time of the redraw in progress: its steps and its paints
        self._paint_mark = 0.0
        self.panel.stepper = self._run
        for w in (self.stats_page, self.features):
            w.destroyed.connect(self._drop_steps)  # (a step queued when the window closes must not run)

    # ---- from the window -----------------------------------------------------------------------------
    def set_layer_table(self, table, spec=None):
        """A model's layer table and statistics spec (kept when None)."""
        table = list(table)
        self.panel.set_layer_table(table, spec)
        self.chart.set_layer_table(table, spec)
        self.features.set_spec(spec)
        if self.layer is not None and self.layer >= len(table):
            self.layer = None
            self.features.set_layer(None)
        self.update_capture()

    def select_layer(self, index: int):
        self.layer = int(index)
        self.panel.set_layer(self.layer)
        self.chart.set_selected(self.layer)
        self.features.set_layer(self.layer)
        self.update_capture()

    def show_result(self, result):
        """Start drawing at once when idle, otherwise once the refresh interval is over and the redraw in progress
        has ended (newest result wins)."""
        self._pending = result
        if not self._timer.isActive():
            self._flush()
            self._timer.start()

    @property
    def drawing(self) -> bool:
        """Whether a redraw is still under way (steps left to run)."""
        return bool(self._jobs)

    @property
    def settled(self) -> bool:
        """Whether every result given has been drawn (no redraw under way, none waiting)."""
        return not self._jobs and self._pending is None

    def _flush(self):
        if self._jobs:
            return  # the redraw in progress ends first; a later tick takes the newest result
        result, self._pending = self._pending, None
        if result is None:
            self._timer.stop()
            return
        # Pace the redraws by what the last one cost the GUI thread: its steps and its paints (all done by now).
        painted = self.panel.plots_view.paint_ms_total
        cost = self._cost_ms + painted - self._paint_mark
        self._timer.setInterval(int(min(MAX_REFRESH_MS, max(REFRESH_MS, BUSY_SHARE * cost))))
        self._cost_ms, self._paint_mark = 0.0, painted
        t0 = time.perf_counter()
        self.panel.set_result(result)  # its text now; its plots a step each (queued through self._run)
        self._run(self._other_steps(result))
        self._cost_ms += (time.perf_counter() - t0) * 1000

    def _other_steps(self, result):
        self.chart.set_result(result)
        yield
        self.features.set_result(result)

    def _run(self, steps):
        """Run a redraw's remaining steps, one per event-loop turn, after those already queued."""
        self._jobs.append(steps)
        if not self._step_timer.isActive():
            self._step_timer.start()

    def _step(self):
        t0 = time.perf_counter()
        try:
            if self._jobs:
                try:
                    next(self._jobs[0])
                except StopIteration:  # (the call that ends a generator may have done its last step's work)
                    self._jobs.popleft()
                except Exception:
                    self._jobs.popleft()  # a redraw that fails must not hold up the ones after it
                    raise
        finally:
            self._cost_ms += (time.perf_counter() - t0) * 1000
            if self._jobs:
                self._step_timer.start()

    def _drop_steps(self, *_):
        self._jobs.clear()
        self._step_timer.stop()
        self._timer.stop()

    def flush(self):
        """Finish the redraw in progress and draw the newest result, now (tests, screenshots)."""
        while self._jobs:
            for _ in self._jobs.popleft():
                pass
        self._step_timer.stop()
        if self._pending is not None:
            self._flush()
            while self._jobs:
                for _ in self._jobs.popleft():
                    pass
            self._step_timer.stop()

    # ---- what to ask the worker for ------------------------------------------------------------------
    def is_shown(self, page: QWidget) -> bool:
        """Whether a page (stats_page or features) can be seen. Tabbed dock widgets all report isVisible()
        while only the front tab shows, so inside the window the docks' visibilityChanged decides."""
        return self.shown.get(page, page.isVisible()) and page.isVisible()

    def set_shown(self, page: QWidget, on: bool):
        self.shown[page] = bool(on)
        # Behind another tab (or closed): nothing drawn there until it is in front again.
        views = (self.panel, self.chart) if page is self.stats_page else (self.features,)
        for view in views:
            view.set_paused(not on)
        self.update_capture()

    def wanted_capture(self) -> dict:
        features = self.is_shown(self.features)
        stats = features or self.is_shown(self.stats_page)
        return dict(stats=stats, feature_layer=self.layer if features else None, feature_source=self.features.source)

    def update_capture(self, *_):
        if self.capture is not None:
            self.capture(**self.wanted_capture())

    # ---- between the views ---------------------------------------------------------------------------
    def _chart_clicked(self, index: int):
        if self.select_in_window is not None:
            self.select_in_window(index)  # the window echoes it back through layer_selected
        else:
            self.select_layer(index)

    def _open_channel(self, channel: int):
        self.features.select_channel(channel)
        if self.show_features is not None and not self.is_shown(self.features):
            self.show_features()


def install_stats_views(window, defer: bool = True) -> LazyStatsViews:
    """Add the statistics and feature-map panels to a MainWindow and connect them to its hooks.

    defer: build the views (and import pyqtgraph) only once the window has shown a picture and a panel is in
    view, or when something asks for them; until then the panels are empty and no statistics are requested.
    """
    lazy = LazyStatsViews(window)
    if not defer:
        lazy.build()
    return lazy


def _holder() -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    return w


class LazyStatsViews:
    """Stands in for `StatsViews` from the start: the two side panels exist (empty), and the views are built
    into them after the first picture if a panel is in view, when one comes into view later, or on the first
    use of any StatsViews attribute (`lazy.panel`, `lazy.select_layer(...)`)."""

    def __init__(self, window):
        self._window = window
        self._views: StatsViews | None = None
        self._holders = (_holder(), _holder())
        self._front = [False, False]  # what the docks last reported (tabbed docks: only the front one shows)
        self._pictures = False
        self._docks = (
            window.add_side_panel(STATS_TITLE, self._holders[0]),
            window.add_side_panel(FEATURES_TITLE, self._holders[1]),
        )
        for i, dock in enumerate(self._docks):
            dock.visibilityChanged.connect(lambda on, i=i: self._dock_visibility(i, on))
        window.result_ready.connect(self._on_picture)

    @property
    def built(self) -> bool:
        return self._views is not None

    _OWN = ("_window", "_views", "_holders", "_front", "_pictures", "_docks")

    def __getattr__(self, name):
        if name.startswith("__") or name in self._OWN:  # not set yet (during __init__), never the views'
            raise AttributeError(name)
        return getattr(self.build(), name)

    def _on_picture(self, _result):
        if not self._pictures:
            self._pictures = True
            if any(self._front):
                QTimer.singleShot(0, self.build)  # after the picture is drawn

    def _dock_visibility(self, i, on):
        self._front[i] = bool(on)
        if self._views is not None:
            self._views.set_shown(self._views.docked_pages[i], on)
        elif on and self._pictures:
            self.build()

    def build(self) -> StatsViews:
        if self._views is not None:
            return self._views
        window = self._window
        views = StatsViews(window)
        views.capture = window.controller.set_capture
        views.panel.on_error = views.features.on_error = lambda text: window.show_message("error", text)
        views.panel.save_dialog = views.features.save_dialog = getattr(window, "ask_export_path", None)
        mixer = getattr(window, "mixer", None)
        if mixer is not None and hasattr(mixer, "select"):
            views.select_in_window = mixer.select
        views.docked_pages = (views.stats_page, views.features)
        for holder, page, front in zip(self._holders, views.docked_pages, self._front):
            holder.layout().addWidget(page)
            page.show()  # now, not at the next event-loop pass (a layout shows new children late)
            views.shown[page] = front  # the docks' own report of which tab is in front
        feature_dock = self._docks[1]

        def show_features():
            feature_dock.show()
            feature_dock.raise_()

        views.show_features = show_features
        views.docks = self._docks

        window.result_ready.connect(views.show_result)
        window.layer_selected.connect(views.select_layer)

        def on_model(info):
            views.set_layer_table(info.layers, info.stats_spec)
            if views.layer is None and info.layers:
                # The layer the window has selected (restored from the last run), else the first one, so the
                # panels show something at once.
                current = getattr(getattr(window, "session", None), "selected", None)
                if current is not None and 0 <= current < len(info.layers):
                    views.select_layer(current)
                else:
                    (views.select_in_window or views.select_layer)(0)

        window.model_changed.connect(on_model)
        self._views = views
        if getattr(window, "model", None) is not None:
            on_model(window.model)
            current = getattr(getattr(window, "session", None), "selected", None)
            if current is not None and views.layer != current:
                views.select_layer(current)  # the window's selection (selecting it again would not echo)
        if getattr(window, "last_result", None) is not None:
            views.show_result(window.last_result)
        views.update_capture()
        return views


def __getattr__(name):
    # The views' classes import pyqtgraph: only when asked for.
    if name in ("StatsPanel", "AcrossLayersChart", "FeatureView"):
        from .across_layers import AcrossLayersChart
        from .feature_view import FeatureView
        from .panel import StatsPanel

        return {"StatsPanel": StatsPanel, "AcrossLayersChart": AcrossLayersChart, "FeatureView": FeatureView}[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AcrossLayersChart", "FeatureView", "LazyStatsViews", "StatsPanel", "StatsViews", "install_stats_views"]
