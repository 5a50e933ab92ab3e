"""The live statistics views: per-layer statistics, the across-layers chart and the feature-map montage.

What they show comes from the model family's StatsSpec (`G.stats_spec`: the quantities, their labels and the
A-vs-B distance); nothing here names a family or its quantities.

`install_stats_views(window)` adds them to the main window as two side panels and wires them to the window's
hooks (result_ready, layer_selected, model_changed, controller.set_capture). Everything here only draws what
core.stats_views computes from the small arrays the worker sends.

What the worker is asked for follows what is on screen: statistics (a few floats per channel, reduced on the
device) while any of these views is visible, and the feature maps of one layer only while the feature view is.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .across_layers import AcrossLayersChart
from .feature_view import FeatureView
from .panel import StatsPanel

# The views redraw at most every REFRESH_MS: a slider drag on a fast model delivers results faster than plots
# are worth repainting, and the GUI thread must stay free for the slider and the picture. Where drawing is slow
# (software rendering, a busy machine) the interval grows so that drawing takes at most 1/BUSY_SHARE of the
# GUI thread. The newest result is always the one drawn last.
REFRESH_MS = 60
MAX_REFRESH_MS = 400
BUSY_SHARE = 4

STATS_TITLE = "Statistics"
FEATURES_TITLE = "Feature maps"


class StatsViews(QObject):
    """Holds the three views and keeps them consistent: one selected layer, one channel order."""

    def __init__(self, parent=None):
        super().__init__(parent)
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
        self.capture = None           # callable(stats=, feature_layer=, feature_source=), e.g. the controller's
        self.select_in_window = None  # callable(index) that selects a layer the way a click on its row does
        self.show_features = None     # callable() that brings the feature view to the front
        self.shown: dict = {}         # page -> seen or not, from the docks' visibilityChanged (see is_shown)
        self.panel.order_changed.connect(self.features.set_order)
        self.panel.channel_clicked.connect(self._open_channel)
        self.features.channel_selected.connect(self.panel.set_selected_channel)
        self.chart.layer_clicked.connect(self._chart_clicked)
        for w in (self.panel, self.chart, self.features):
            w.visibility_changed.connect(self.update_capture)
        self.features.request_changed.connect(self.update_capture)
        self._pending = None          # the newest result not yet drawn
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._flush)

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
        """Draw at once when idle, otherwise once the refresh interval is over (newest result wins)."""
        self._pending = result
        if not self._timer.isActive():
            self._flush()
            self._timer.start()

    def _flush(self):
        result, self._pending = self._pending, None
        if result is None:
            self._timer.stop()
            return
        t0 = time.perf_counter()
        self.panel.set_result(result)
        self.chart.set_result(result)
        self.features.set_result(result)
        cost = (time.perf_counter() - t0) * 1000 + self.panel.plots_view.last_paint_ms
        self._timer.setInterval(int(min(MAX_REFRESH_MS, max(REFRESH_MS, BUSY_SHARE * cost))))

    def flush(self):
        """Draw the newest result now (tests, screenshots)."""
        self._flush()

    # ---- what to ask the worker for ------------------------------------------------------------------
    def is_shown(self, page: QWidget) -> bool:
        """Whether a page (stats_page or features) can be seen. Tabbed dock widgets all report isVisible()
        while only the front tab shows, so inside the window the docks' visibilityChanged decides."""
        return self.shown.get(page, page.isVisible()) and page.isVisible()

    def set_shown(self, page: QWidget, on: bool):
        self.shown[page] = bool(on)
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
            self.select_in_window(index)   # the window echoes it back through layer_selected
        else:
            self.select_layer(index)

    def _open_channel(self, channel: int):
        self.features.select_channel(channel)
        if self.show_features is not None and not self.is_shown(self.features):
            self.show_features()


def install_stats_views(window) -> StatsViews:
    """Add the statistics and feature-map panels to a MainWindow and connect them to its hooks."""
    views = StatsViews(window)
    views.capture = window.controller.set_capture
    views.panel.on_error = views.features.on_error = lambda text: window.show_message("error", text)
    mixer = getattr(window, "mixer", None)
    if mixer is not None and hasattr(mixer, "select"):
        views.select_in_window = mixer.select
    stats_dock = window.add_side_panel(STATS_TITLE, views.stats_page)
    feature_dock = window.add_side_panel(FEATURES_TITLE, views.features)
    for dock, page in ((stats_dock, views.stats_page), (feature_dock, views.features)):
        views.shown[page] = False   # until the dock reports that its tab is in front
        dock.visibilityChanged.connect(lambda on, p=page: views.set_shown(p, on))

    def show_features():
        feature_dock.show()
        feature_dock.raise_()
    views.show_features = show_features
    views.docks = (stats_dock, feature_dock)

    window.result_ready.connect(views.show_result)
    window.layer_selected.connect(views.select_layer)

    def on_model(info):
        views.set_layer_table(info.layers, info.stats_spec)
        if views.layer is None and info.layers:
            # Start on the first layer so the panels show something at once.
            (views.select_in_window or views.select_layer)(0)
    window.model_changed.connect(on_model)
    if getattr(window, "model", None) is not None:
        on_model(window.model)
    views.update_capture()
    return views


__all__ = ["StatsViews", "StatsPanel", "AcrossLayersChart", "FeatureView", "install_stats_views"]
