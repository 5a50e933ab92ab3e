"""The StyleMixer main window: seeds and the layer mixer on the left, the mixed image in the centre, side panels right.

Hooks for panels that are not part of this file (the statistics views):

- ``window.add_side_panel(title, widget) -> QDockWidget`` puts a widget in the right-hand dock area; panels
  added this way are tabbed together, can be floated, and get a toggle in View > Panels.
- ``window.result_ready(RenderResult)``: emitted on the GUI thread for every fresh result that is shown
  (stale results are dropped before this). ``result.request`` carries the recipe and capture settings.
- ``window.layer_selected(int)``: the w index whose row was clicked in the layer mixer.
- ``window.model_changed(ModelInfo)``: a model finished loading (``info.layers`` is the layer table).
- ``window.controller.set_capture(stats=True, feature_layer=k, feature_source='mix')``: from now on every
  render also returns per-layer statistics (``result.stats``) and/or the feature maps of layer k
  (``result.features``); arguments left out keep their value. Changing it triggers a fresh render.
- ``window.last_result``: the result currently shown (None before the first).
"""
from __future__ import annotations

import gc
import html
import os
import time
from collections import deque

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from ..core.errors import printable
from . import latent_actions
from .controller import Controller
from .files import FileActions
from .image_view import FIT, ImageView
from .imaging import from_qimage, to_qimage
from .layer_mixer import LayerMixer
from .menus import build_menus
from .palette import apply_palette
from .seed_panel import SeedPanel
from .settings import open_settings
from .settings_panel import SettingsPanel
from .stats import install_stats_views
from .worker import RenderWorker

STREAM_GAP_S = 0.5  # results further apart than this are separate interactions, not one frame rate
FPS_SAMPLES = 30
SIDE_PANEL_WIDTH = 400
SIDE_PANEL_MIN_WIDTH = 240
LEFT_MIN_WIDTH = 400
REPEAT_QUIET_S = 3.0  # the same message again within this time goes to the status bar only
ZOOMS = (("Fit", FIT), ("1:1", 1), ("2×", 2), ("4×", 4), ("8×", 8))


class MainWindow(FileActions, QMainWindow):
    result_ready = Signal(object)     # RenderResult, fresh, on the GUI thread
    layer_selected = Signal(int)      # w index
    model_changed = Signal(object)    # ModelInfo
    message_shown = Signal(str, str)  # kind ("error", "warning", "info"), text

    def __init__(self, settings=None, device: str | None = None, dialogs: bool = True, loader=None):
        super().__init__()
        self.settings = settings if settings is not None else open_settings()
        self.dialogs = dialogs            # False in tests: messages are recorded, no message box opens
        self.messages: list[tuple[str, str]] = []
        self._last_box_time = 0.0
        self.model = None                 # ModelInfo
        self.last_result = None
        self.results_shown = 0
        self.results_dropped = 0
        self._accept_from = 0             # results of requests older than this id belong to a previous model
        self._shown_id = 0
        self._shown_times = deque()
        self._dirty = False               # the recipe changed while a request was in flight
        self._in_flight = None            # id of the request sent and not yet answered
        self._recipe_after_load = None
        self._loading_path = None
        self._closing = False
        self._side_docks: list[QDockWidget] = []

        self.setWindowTitle("StyleMixer")
        self.setMinimumSize(960, 600)
        self.setAcceptDrops(True)

        self.controller = Controller(self)
        self.worker = RenderWorker(loader=loader)
        self._build_ui()
        self.actions_ = build_menus(self)
        self._build_status()
        self._connect()

        self.dark = self.settings.value("view/dark", False, type=bool)
        self.actions_["dark"].setChecked(self.dark)
        apply_palette(self.dark)
        self._restore_geometry()
        self._set_enabled(False)
        self.stats_views = install_stats_views(self)  # statistics and feature-map side panels (gui/stats)
        if device:
            self.worker.set_device(device)
        self.worker.start()

    # ---- layout --------------------------------------------------------------------------------------
    def _build_ui(self):
        # left: the two seeds side by side, truncation and noise, then the layer mixer; centre: the image
        self.seed_a = SeedPanel("a")
        self.seed_b = SeedPanel("b")
        self.settings_panel = SettingsPanel()
        self.mixer = LayerMixer()
        mixer_scroll = QScrollArea()
        mixer_scroll.setWidgetResizable(True)
        mixer_scroll.setWidget(self.mixer)
        mixer_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        mixer_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        seeds = QHBoxLayout()
        seeds.addWidget(self.seed_a)
        seeds.addWidget(self.seed_b)
        title = QLabel("<b>Layer mixer</b> — each w index from A (0) to B (1)")
        title.setToolTip("Every row is one w index; its slider interpolates between A's w and B's w")
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 6, 0, 6)
        lv.addLayout(seeds)
        lv.addWidget(self.settings_panel)
        lv.addSpacing(4)
        lv.addWidget(title)
        lv.addWidget(mixer_scroll, 1)
        left.setMinimumWidth(LEFT_MIN_WIDTH)

        self.view = ImageView()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        self.zoom_combo = QComboBox()
        for text, mode in ZOOMS:
            self.zoom_combo.addItem(text, mode)
        self.zoom_combo.setToolTip("Fit: the largest whole-pixel enlargement that fits (crisp for small models); "
                                   "1:1 and fixed enlargements scroll")
        self.zoom_combo.currentIndexChanged.connect(lambda i: self.set_zoom(self.zoom_combo.itemData(i)))
        zoom_label = QLabel("Zoom")
        zoom_label.setBuddy(self.zoom_combo)
        bar.addWidget(zoom_label)
        bar.addWidget(self.zoom_combo)
        bar.addSpacing(12)
        self.triptych_box = QCheckBox("A | mix | B")
        self.triptych_box.setToolTip("Show A, the mix and B side by side")
        self.triptych_box.toggled.connect(self.set_triptych)
        bar.addWidget(self.triptych_box)
        bar.addStretch(1)
        self.scale_label = QLabel("")
        self.scale_label.setToolTip("Current enlargement of the image")
        bar.addWidget(self.scale_label)
        self.view_scroll = QScrollArea()
        self.view_scroll.setWidgetResizable(True)
        self.view_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.view_scroll.setWidget(self.view)
        centre = QWidget()
        cv = QVBoxLayout(centre)
        cv.setContentsMargins(0, 6, 6, 6)
        cv.addLayout(bar)
        cv.addWidget(self.view_scroll, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.setDockNestingEnabled(True)

    def _build_status(self):
        sb = self.statusBar()
        self.model_label = QLabel("no model")
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # the name comes from a file: data, not markup
        self.model_label.setToolTip("The loaded model: name, output resolution and number of w indices")
        self.device_label = QLabel("")
        self.device_label.setToolTip("Where the model runs (Device menu to switch)")
        self.timing_label = QLabel("")
        self.timing_label.setToolTip("Time of the last render (mix, A and B in one batch) and results per second")
        self.busy = QProgressBar()
        self.busy.setMaximumWidth(140)
        self.busy.setTextVisible(False)
        self.busy.setRange(0, 0)
        self.busy.hide()
        sb.addPermanentWidget(self.busy)
        sb.addPermanentWidget(self.model_label)
        sb.addPermanentWidget(self.device_label)
        sb.addPermanentWidget(self.timing_label)

    def _connect(self):
        c, w = self.controller, self.worker
        c.recipe_changed.connect(self._on_recipe)
        c.capture_changed.connect(self.schedule_render)
        c.history_changed.connect(self._on_history)
        w.rendered.connect(self._on_rendered)
        w.render_failed.connect(self._on_render_failed)
        w.model_loaded.connect(self._on_model_loaded)
        w.model_failed.connect(self._on_model_failed)
        w.load_progress.connect(self._on_progress)
        w.device_changed.connect(self._on_device_changed)
        w.device_failed.connect(self._on_device_failed)
        for panel in (self.seed_a, self.seed_b):
            panel.seed_changed.connect(c.set_seed)
            panel.random_requested.connect(c.random_seeds)
            panel.value_changed.connect(c.set_seed_value)
            panel.gesture_started.connect(c.begin_gesture)
            panel.gesture_finished.connect(c.end_gesture)
            panel.latent_requested.connect(lambda w: latent_actions.load_latent_dialog(self, w))
            panel.latent_cleared.connect(lambda w: c.set_latent(w, None))
        m = self.mixer
        m.weight_changed.connect(c.set_weight)
        m.gesture_started.connect(c.begin_gesture)
        m.gesture_finished.connect(c.end_gesture)
        m.preset_requested.connect(c.preset)
        m.layer_selected.connect(self.layer_selected)
        s = self.settings_panel
        s.psi_changed.connect(lambda v: c.set_truncation(psi=v))
        s.cutoff_changed.connect(lambda v: c.set_truncation(cutoff=v))
        s.noise_mode_changed.connect(lambda v: c.set_noise(mode=v))
        s.noise_seed_changed.connect(lambda v: c.set_noise(seed=v))
        s.gesture_started.connect(c.begin_gesture)
        s.gesture_finished.connect(c.end_gesture)

    # ---- hooks for other panels ----------------------------------------------------------------------
    def add_side_panel(self, title: str, widget: QWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName("panel:" + title)  # saveState/restoreState key
        # Scrolled, so a panel with a large minimum size never forces the window beyond a small screen
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(widget)
        scroll.setMinimumWidth(SIDE_PANEL_MIN_WIDTH)
        dock.setWidget(scroll)
        dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        self.addDockWidget(area, dock)
        if self._side_docks:
            self.tabifyDockWidget(self._side_docks[-1], dock)
            self._side_docks[0].raise_()  # the first panel stays the front tab
        else:
            self.resizeDocks([dock], [SIDE_PANEL_WIDTH], Qt.Orientation.Horizontal)
        self._side_docks.append(dock)
        self.actions_["panels_menu"].addAction(dock.toggleViewAction())
        self.actions_["panels_menu"].menuAction().setVisible(True)
        if self._restored_state is not None:
            self.restoreState(self._restored_state)
        return dock

    # ---- rendering -----------------------------------------------------------------------------------
    def schedule_render(self, *_):
        """Flow control at the GUI edge: the first change is sent at once (leading edge); while that request is
        rendering, later changes only mark the recipe dirty, and the newest state is sent as soon as the result
        comes back (trailing flush). So the render rate follows what the worker and the display can keep up
        with, and a burst of slider moves costs a handful of renders. The worker's single pending slot still
        guards against anyone else submitting faster."""
        if self.model is None or self._closing:
            return
        if self._in_flight is not None:
            self._dirty = True
            return
        self._submit()

    def _submit(self):
        self._dirty = False
        if self.controller.recipe is not None and not self._closing:
            req = self.controller.make_request()
            self._in_flight = req.id
            self.worker.submit(req)

    def _request_done(self, rid: int):
        """A result or failure for request `rid` arrived; send the newest state if it changed meanwhile."""
        if self._in_flight is not None and rid >= self._in_flight:
            self._in_flight = None
            if self._dirty:
                self._submit()

    def _on_recipe(self, r):
        self.seed_a.show_recipe(r)
        self.seed_b.show_recipe(r)
        self.mixer.set_weights(r.weights)
        self.settings_panel.show_recipe(r)
        self.schedule_render()

    def _on_rendered(self, res):
        rid = res.request.id
        self._request_done(rid)  # first, so the worker renders the next state while this one is drawn
        if rid < self._accept_from or rid <= self._shown_id or self._closing:
            self.results_dropped += 1
            return
        self._shown_id = rid
        self.last_result = res
        mix, a, b = to_qimage(res.mix), to_qimage(res.a), to_qimage(res.b)
        self.view.set_images(mix, a, b)
        self.seed_a.set_image(a)
        self.seed_b.set_image(b)
        self.results_shown += 1
        if self.results_shown == 1 and os.environ.get("STYLEMIXER_EXIT_AFTER_FIRST_IMAGE"):
            self._exit_after_first_image()
        now = time.monotonic()
        if self._shown_times and now - self._shown_times[-1] > STREAM_GAP_S:
            self._shown_times.clear()  # a new burst of changes: the rate of the previous one no longer applies
        self._shown_times.append(now)
        while len(self._shown_times) > FPS_SAMPLES:
            self._shown_times.popleft()
        n = len(self._shown_times)
        span = now - self._shown_times[0]
        fps = f" · {(n - 1) / span:.0f} fps" if n >= 5 and span > 0 else ""
        self.timing_label.setText(f"{res.ms:.0f} ms{fps}")
        self._update_scale_label()
        self.result_ready.emit(res)

    def _exit_after_first_image(self):
        """For `stylemixer bench` (issue 7): it times the app from start to the first picture on screen."""
        self.view.repaint()  # drawn now, not at the next paint event
        print("stylemixer: first image shown", flush=True)
        QTimer.singleShot(0, self.close)

    def _on_render_failed(self, rid, msg):
        self._request_done(rid)
        if rid >= self._accept_from:
            self.show_message("error", f"Rendering failed: {msg}. The previous picture stays; change a setting "
                                       "or pick another device to try again.")

    def shown_array(self):
        """The mixed image the view shows now, uint8 [H, W, 3] (None before the first result)."""
        return None if self.view.mix is None else from_qimage(self.view.mix)

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Tests and screenshots: let the worker finish and deliver everything, including trailing flushes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.worker.wait_until_idle(max(0.01, end - time.monotonic())):
                return False
            if self.reads_pending():  # a file being read off the GUI thread (files.py)
                time.sleep(0.002)
                continue
            if self._in_flight is None and not self._dirty:
                return True
            if self.worker.is_idle() and self._in_flight is not None:
                # the request was superseded inside the worker (a model load or a direct submit): nothing
                # will answer it, so stop waiting for it
                self._request_done(self._in_flight)
        return False

    # ---- model and device ----------------------------------------------------------------------------
    def _on_model_loaded(self, info):
        self._loading_path = None
        self._set_busy(False)
        recipe, self._recipe_after_load = self._recipe_after_load, None
        old = self.model
        self.model = info
        self._accept_from = self.controller.last_request_id + 1
        self._in_flight = None  # the worker dropped what was pending for the previous model
        self.mixer.set_layers(info.layers)
        self.settings_panel.set_num_ws(info.num_ws)
        try:
            self.controller.set_model(info, recipe)
        except Exception as e:  # a recipe that does not fit: keep the model, start from a fresh recipe
            self.show_message("error", f"The recipe does not fit {info.name}: {e}")
            self.controller.set_model(info)
        name = printable(info.name)
        self.model_label.setText(f"{name} · {info.family_label} · {info.resolution}×{info.resolution} · "
                                 f"{info.num_ws} w")
        self.model_label.setToolTip(f"<qt>{html.escape(printable(info.source))}<br>format: "
                                    f"{html.escape(printable(info.format))}, loaded in {info.load_ms:.0f} ms</qt>")
        self.setWindowTitle(f"StyleMixer — {name}")
        self._on_device_changed(info.device, rerender=False)  # set_model has just asked for a render
        self._set_enabled(True)
        if info.source != "builtin":
            self.remember_recent(info.source)
        if old is None or old.source != info.source:
            self.statusBar().showMessage(f"Loaded {info.name}", 4000)
        self.model_changed.emit(info)
        # What is alive now (widgets, their wrappers, the model's Python objects) lives as long as the window.
        # Freezing it keeps it out of the cyclic collector's full passes, which were timed at 46-84 ms on the
        # GUI thread while a slider was dragged.
        gc.collect()
        gc.freeze()

    def _on_model_failed(self, path, msg):
        self._loading_path = None
        self._recipe_after_load = None
        self._set_busy(False)
        keep = f" {self.model.name} stays open." if self.model is not None else ""
        if self.model is None:
            self._set_enabled(False)  # back from "Loading…" to the empty-state hint
        self.show_message("error", f"Could not open the model: {msg.rstrip('.')}.{keep}")

    def _on_progress(self, f):
        self.busy.setRange(0, 100)
        self.busy.setValue(int(f * 100))

    def _set_busy(self, on: bool):
        self.busy.setRange(0, 0)
        self.busy.setVisible(on)

    def set_device(self, device: str):
        self.worker.set_device(device)

    def _on_device_changed(self, device, rerender=True):
        self.device_label.setText(f"on {device}")
        for a in self.actions_["device_group"].actions():
            a.setChecked(a.data() == device)
        if rerender:
            self.schedule_render()

    def _on_device_failed(self, device, msg):
        self.show_message("error", f"Could not move the model to {device}: {msg}. It stays on {self.worker.device}.")
        self._on_device_changed(self.worker.device)

    def _set_enabled(self, on: bool):
        for w in (self.seed_a, self.seed_b, self.settings_panel, self.mixer):
            w.setEnabled(on)
        for key in ("export", "export_big", "export_strip", "copy", "save_recipe", "random", "random_a", "random_b",
                    "load_latent_a", "load_latent_b", "save_latents", "grid", "sweep"):
            self.actions_[key].setEnabled(on)
        for a in self.actions_["preset_actions"]:
            a.setEnabled(on)
        if not on:
            self.view.clear("Loading the model…" if self._loading_path else "No model loaded.\n"
                            "File › Open Model… or drop a model file here.")

    # ---- view ----------------------------------------------------------------------------------------
    def set_zoom(self, mode):
        """FIT or a whole-number enlargement (1 = one image pixel per screen pixel)."""
        self.view.set_mode(mode)
        i = self.zoom_combo.findData(self.view.mode)
        if i >= 0 and i != self.zoom_combo.currentIndex():
            self.zoom_combo.blockSignals(True)
            self.zoom_combo.setCurrentIndex(i)
            self.zoom_combo.blockSignals(False)
        self._update_scale_label()

    def set_triptych(self, on):
        self.view.set_triptych(on)
        if self.triptych_box.isChecked() != bool(on):
            self.triptych_box.setChecked(bool(on))
        self.actions_["triptych"].setChecked(bool(on))
        self._update_scale_label()

    def _update_scale_label(self):
        s = self.view.scale()
        self.scale_label.setText(f"{s:.0f}×" if s >= 1 else f"{s * 100:.0f}%")

    def resizeEvent(self, e):
        super().resizeEvent(e)
        self._update_scale_label()

    def set_dark(self, on: bool):
        self.dark = bool(on)
        self.settings.setValue("view/dark", self.dark)
        apply_palette(self.dark)

    def _on_history(self, can_undo, can_redo):
        self.actions_["undo"].setEnabled(can_undo)
        self.actions_["redo"].setEnabled(can_redo)

    # ---- messages ------------------------------------------------------------------------------------
    def show_message(self, kind: str, text: str):
        """Every message to the user goes through here (tests read `messages` or listen to message_shown).
        The box is opened without a nested event loop, so nothing ever waits on it. The text may quote a file:
        control characters are escaped and boxes show plain text, never markup."""
        text = printable(text, 2000)
        repeated = bool(self.messages) and self.messages[-1] == (kind, text) and \
            time.monotonic() - self._last_box_time < REPEAT_QUIET_S
        self.messages.append((kind, text))
        self.message_shown.emit(kind, text)
        self.statusBar().showMessage(text.split(". ")[0], 6000)
        if self.dialogs and not self._closing and not repeated:  # a failing drag must not stack up boxes
            self._last_box_time = time.monotonic()
            icon = {"error": QMessageBox.Icon.Critical, "warning": QMessageBox.Icon.Warning}.get(
                kind, QMessageBox.Icon.Information)
            box = QMessageBox(icon, "StyleMixer", text, QMessageBox.StandardButton.Ok, self)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # ---- geometry and closing ------------------------------------------------------------------------
    def _restore_geometry(self):
        g = self.settings.value("window/geometry")
        if g is not None:
            self.restoreGeometry(g)
        else:
            self.resize(1480, 900)
        self._restored_state = self.settings.value("window/state")
        if self._restored_state is not None:
            self.restoreState(self._restored_state)
        sizes = self.settings.value("window/splitter")
        if sizes is not None:
            self.splitter.restoreState(sizes)
        else:
            self.splitter.setSizes([440, 600])

    def closeEvent(self, e):
        self._closing = True
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.sync()
        for sig in (self.worker.rendered, self.worker.render_failed, self.worker.model_loaded,
                    self.worker.model_failed, self.worker.load_progress, self.worker.device_changed,
                    self.worker.device_failed):
            try:
                sig.disconnect()
            except (RuntimeError, TypeError):
                pass
        # A render or a model load cannot be interrupted inside torch or a read: the window goes away at once,
        # the worker gets a moment to finish its step and is otherwise abandoned (worker.shutdown); the app then
        # exits without waiting for it.
        self.hide()
        self.worker.shutdown(wait_ms=300)
        super().closeEvent(e)
