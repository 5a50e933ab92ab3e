"""The StyleMixer main window: seeds and the layer mixer on the left, the mixed image in the centre, side panels right.

The window is layout and wiring. What is mixed, what is selected and when to render live in a Qt-free
`core.session.Session` (`window.session`); the render worker thread is its executor. Widgets call the session's
edit methods, and the session's events update the widgets.

Hooks for panels that are not part of this file (the statistics views):

- ``window.add_side_panel(title, widget) -> QDockWidget`` puts a widget in the right-hand dock area; panels
  added this way are tabbed together, can be floated, and get a toggle in View > Panels.
- ``window.result_ready(RenderResult)``: emitted on the GUI thread for every fresh result that is shown
  (stale results are dropped before this). ``result.request`` carries the recipe and capture settings.
- ``window.layer_selected(int)``: the selected w index (a click on a mixer row, a touch of its slider).
- ``window.model_changed(ModelInfo)``: a model finished loading (``info.layers`` is the layer table).
- ``window.controller.set_capture(stats=True, feature_layer=k, feature_source='mix')``: from now on every
  render also returns per-layer statistics (``result.stats``) and/or the feature maps of layer k
  (``result.features``); arguments left out keep their value. Changing it triggers a fresh render.
  (``window.controller`` is the session.)
- ``window.last_result``: the result currently shown (None before the first).
"""

from __future__ import annotations

import gc
import html
import os
import time

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import printable
from ..core.mixing import BUILTIN_MODEL
from ..core.session import FrameRate, Session, frame_time_text
from . import geometry, latent_actions, undo_keys
from . import help as help_pages
from .controls_panel import ControlsPanel
from .files import FileActions
from .image_view import FIT, ImageView
from .imaging import from_qimage, to_qimage
from .layer_mixer import LayerMixer
from .menus import build_menus
from .palette import apply_palette
from .panel_scroll import PanelScroll
from .seed_panel import SeedPanel
from .settings import open_settings
from .settings_panel import SettingsPanel
from .stats import install_stats_views
from .worker import RENDER_NICE, RenderWorker

SIDE_PANEL_WIDTH = 400
SIDE_PANEL_MIN_WIDTH = 200
LEFT_MIN_WIDTH = 360
REPEAT_QUIET_S = 3.0  # the same message again within this time goes to the status bar only
BUSY_AFTER_MS = 200  # a frame slower than this shows "Rendering…"
ZOOMS = (("Fit", FIT), ("1:1", 1), ("2×", 2), ("4×", 4), ("8×", 8))


class LeftColumn(QWidget):
    """Seeds, truncation and the mixer. The seed thumbnails (and the mixer's title line) are shown only while every
    mixer row fits below them, so a short screen (1280x720) keeps all of a 1024 px model's 18 rows in view."""

    def __init__(self, seeds, title, mixer_scroll, mixer, parent=None):
        super().__init__(parent)
        self.seeds = seeds
        self.title = title
        self.mixer_scroll = mixer_scroll
        self.mixer = mixer

    def resizeEvent(self, e):
        super().resizeEvent(e)
        self.fit_thumbnails()

    @property
    def roomy(self) -> bool:
        return not self.seeds[0].thumb.isHidden()

    def fit_thumbnails(self):
        # a group just collapsed: bring the nested layouts' size hints up to date before measuring
        for lay in [w.layout() for w in self.mixer.findChildren(QWidget) if w.layout()] + [self.mixer.layout()]:
            lay.activate()
        spacing = self.layout().spacing() if self.layout() else 0
        block = (
            self.seeds[0].thumb.height() + self.seeds[0].layout().spacing() + self.title.sizeHint().height() + spacing
        )
        spare = self.mixer_scroll.viewport().height() - self.mixer.sizeHint().height()
        # with the thumbnails shown, the mixer has `spare` pixels left; without them, `spare + block`
        want = spare >= 0 if self.roomy else spare - block >= 0
        if want != self.roomy:
            for s in self.seeds:
                s.set_thumbnail_visible(want)
            self.title.setVisible(want)


class EmptyState(QWidget):
    """What the centre shows without a model: why, and the two ways to get one."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("<h2>No model is open</h2>")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.builtin_button = QPushButton("Open the built-in model")
        self.builtin_button.setToolTip("A small face generator that ships with StyleMixer (64 px, 10 w indices)")
        self.file_button = QPushButton("Open a file…")
        self.file_button.setToolTip(
            "A StyleMixer .safetensors file, an official StyleGAN .pkl, or a StyleMixer PNG or recipe"
        )
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(320)
        self.hint = QLabel("or drop a model file, a StyleMixer PNG or a recipe onto this window")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.builtin_button)
        buttons.addWidget(self.file_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        lay.addWidget(self.title)
        lay.addWidget(self.detail)
        lay.addSpacing(12)
        lay.addLayout(buttons)
        lay.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self.hint)
        lay.addStretch(3)

    def show_loading(self, name: str):
        self.title.setText("<h2>Loading…</h2>")
        self.detail.setText(name)
        self.progress.setRange(0, 0)
        self.progress.show()
        for w in (self.builtin_button, self.file_button, self.hint):
            w.hide()

    def show_error(self, text: str):
        self.title.setText("<h2>No model is open</h2>")
        self.detail.setText(text)
        self.progress.hide()
        for w in (self.builtin_button, self.file_button, self.hint):
            w.show()


class MainWindow(FileActions, QMainWindow):
    result_ready = Signal(object)  # RenderResult, fresh, on the GUI thread
    layer_selected = Signal(int)  # w index
    model_changed = Signal(object)  # ModelInfo
    message_shown = Signal(str, str)  # kind ("error", "warning", "info"), text

    def __init__(
        self,
        settings=None,
        device: str | None = None,
        dialogs: bool = True,
        loader=None,
        dark: bool | None = None,
        threads: int | str = "auto",
        render_nice: int = RENDER_NICE,
    ):
        super().__init__()
        self.settings = settings if settings is not None else open_settings()
        self.dialogs = dialogs  # False in tests: messages are recorded, no message box opens
        self.messages: list[tuple[str, str]] = []
        self._last_box_time = 0.0
        self.model = None  # ModelInfo
        self._recipe_after_load = None
        self._loading_path = None
        self._closing = False
        self._side_docks: list[QDockWidget] = []
        self._installing_panels = False
        self._restored_state = None
        self._frame_rate = FrameRate()
        self.fit_on_show = True  # False: a size chosen on purpose (--size) stays as it is
        self.exit_after_first_image = False  # the launch probe (--exit-after-first-image): quit once a picture shows

        self.setWindowTitle("StyleMixer")
        self.setAcceptDrops(True)

        self.worker = RenderWorker(loader=loader, threads=threads, nice=render_nice)
        self.session = Session(executor=self.worker)
        self.controller = self.session  # the name the side-panel hooks use
        self._build_ui()
        self.actions_ = build_menus(self)
        self._build_status()
        self._connect()

        # --dark applies to this run; the View menu's choice is what is remembered
        remembered = self.settings.value("view/dark", False, type=bool)
        self.dark = remembered if dark is None else bool(dark)
        self.actions_["dark"].blockSignals(True)
        self.actions_["dark"].setChecked(self.dark)
        self.actions_["dark"].blockSignals(False)
        apply_palette(self.dark)
        self._restore_geometry()
        self._set_enabled(False)
        self._installing_panels = True
        self.stats_views = install_stats_views(self)  # statistics and feature-map side panels (gui/stats)
        self._installing_panels = False
        if self._restored_state is not None:
            # once, with every panel in place: restoring for each panel as it came left Qt's tab bars of the
            # intermediate layouts on screen (a lone "Statistics" tab over the menu bar on the second start)
            self.restoreState(self._restored_state)
        self._restore_view()
        if device:
            self.worker.set_device(device)
        self.worker.start()

    # ---- layout --------------------------------------------------------------------------------------
    def _build_ui(self):
        # left: the two seeds side by side, truncation and noise, then the layer mixer; centre: the image
        self.seed_a = SeedPanel("a")
        self.seed_b = SeedPanel("b")
        self.settings_panel = SettingsPanel()
        self.controls_panel = ControlsPanel()  # the model's input controls (StyleGAN3's transform); hidden if none
        self.mixer = LayerMixer()
        mixer_scroll = QScrollArea()
        mixer_scroll.setWidgetResizable(True)
        mixer_scroll.setWidget(self.mixer)
        mixer_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        mixer_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.mixer_scroll = mixer_scroll
        seeds = QHBoxLayout()
        seeds.setSpacing(4)
        seeds.addWidget(self.seed_a)
        seeds.addWidget(self.seed_b)
        title = QLabel("<b>Layer mixer</b> — each w index from A (0) to B (1)")
        title.setToolTip(
            "Every row is one w index; its slider interpolates between A's w and B's w. The statistics "
            "panels show the row you touch."
        )
        left = LeftColumn((self.seed_a, self.seed_b), title, mixer_scroll, self.mixer)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 4, 0, 4)
        lv.setSpacing(4)
        lv.addLayout(seeds)
        lv.addWidget(self.settings_panel)
        lv.addWidget(self.controls_panel)
        lv.addWidget(title)
        lv.addWidget(mixer_scroll, 1)
        left.setMinimumWidth(LEFT_MIN_WIDTH)
        self.left = left

        self.view = ImageView()
        self._shown_sources: tuple | None = None  # the A and B arrays last shown (their pictures are reused)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        self.zoom_combo = QComboBox()
        for text, mode in ZOOMS:
            self.zoom_combo.addItem(text, mode)
        self.zoom_combo.setToolTip(
            "Fit: the largest whole-pixel enlargement that fits (crisp for small models); "
            "1:1 and fixed enlargements scroll"
        )
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
        self.view.scale_changed.connect(self._update_scale_label)
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

        self.empty = EmptyState()
        self.empty.builtin_button.clicked.connect(lambda: self.open_model(BUILTIN_MODEL))
        self.empty.file_button.clicked.connect(self.open_any_dialog)
        self.central = QStackedWidget()
        self.central.addWidget(self.empty)
        self.central.addWidget(self.splitter)
        self.setCentralWidget(self.central)
        self.setDockNestingEnabled(True)

    def _build_status(self):
        sb = self.statusBar()
        self.model_label = QLabel("no model")
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # the name comes from a file: data, not markup
        self.model_label.setToolTip("The loaded model: name, output resolution and number of w indices")
        self.device_label = QLabel("")
        self.device_label.setToolTip("Where the model runs (Device menu to switch)")
        self.timing_label = QLabel("")
        self.timing_label.setToolTip(
            "Time of the last render (mix, A and B together; 'cached': nothing had to be "
            "computed) and pictures per second while you drag"
        )
        self.busy = QProgressBar()
        self.busy.setMaximumWidth(140)
        self.busy.setTextVisible(False)
        self.busy.setRange(0, 0)
        self.busy.hide()
        sb.addPermanentWidget(self.busy)
        sb.addPermanentWidget(self.model_label)
        sb.addPermanentWidget(self.device_label)
        sb.addPermanentWidget(self.timing_label)
        self._slow_frame = QTimer(self)
        self._slow_frame.setSingleShot(True)
        self._slow_frame.setInterval(BUSY_AFTER_MS)
        self._slow_frame.timeout.connect(self._show_rendering)

    def _connect(self):
        s, w = self.session, self.worker
        # session -> widgets
        s.recipe_changed.connect(self._on_recipe)
        s.history_changed.connect(self._on_history)
        s.selection_changed.connect(self._on_selection)
        s.result_ready.connect(self._show_result)
        s.render_failed.connect(self._on_render_failed)
        s.request_sent.connect(self._on_request_sent)
        s.rendering_changed.connect(self._on_rendering_changed)
        # worker -> session and window
        w.rendered.connect(self._on_rendered)
        w.render_failed.connect(s.failed)
        w.model_loaded.connect(self._on_model_loaded)
        w.model_failed.connect(self._on_model_failed)
        w.load_progress.connect(self._on_progress)
        w.device_changed.connect(self._on_device_changed)
        w.device_failed.connect(self._on_device_failed)
        # widgets -> session
        for panel in (self.seed_a, self.seed_b):
            panel.seed_changed.connect(s.set_seed)
            panel.random_requested.connect(s.random_seeds)
            panel.value_changed.connect(s.set_seed_value)
            panel.gesture_started.connect(s.begin_gesture)
            panel.gesture_finished.connect(s.end_gesture)
            panel.latent_requested.connect(lambda w: latent_actions.load_latent_dialog(self, w))
            panel.latent_cleared.connect(lambda w: s.set_latent(w, None))
        m = self.mixer
        m.weight_changed.connect(s.set_weight)
        m.gesture_started.connect(s.begin_gesture)
        m.gesture_finished.connect(s.end_gesture)
        m.preset_requested.connect(s.preset)
        m.layer_selected.connect(s.select)
        m.rows_shown_changed.connect(lambda: QTimer.singleShot(0, self.left.fit_thumbnails))
        p = self.settings_panel
        p.psi_changed.connect(lambda v: s.set_truncation(psi=v))
        p.cutoff_changed.connect(lambda v: s.set_truncation(cutoff=v))
        p.noise_mode_changed.connect(lambda v: s.set_noise(mode=v))
        p.noise_seed_changed.connect(lambda v: s.set_noise(seed=v))
        p.gesture_started.connect(s.begin_gesture)
        p.gesture_finished.connect(s.end_gesture)
        ctl = self.controls_panel
        ctl.option_changed.connect(s.set_option)
        ctl.drag_started.connect(s.begin_gesture)
        ctl.drag_finished.connect(s.end_gesture)
        ctl.reset_requested.connect(s.reset_options)
        boxes = (self.seed_a.spin, self.seed_b.spin, p.psi, p.cutoff, p.noise_seed)
        self._undo_keys = undo_keys.install(boxes, self.actions_["undo"], self.actions_["redo"], self)

    # ---- hooks for other panels ----------------------------------------------------------------------
    def add_side_panel(self, title: str, widget: QWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName("panel:" + title)  # saveState/restoreState key
        # Scrolled, so a panel with a large minimum size never forces the window beyond a small screen; the
        # horizontal bar only where a panel cannot shrink further (panels reflow to their dock's width)
        scroll = PanelScroll()
        scroll.setWidget(widget)
        scroll.setMinimumWidth(SIDE_PANEL_MIN_WIDTH)
        empty = QLabel(f"{title}\n\nOpen a model to see them.")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setWordWrap(True)
        empty.setEnabled(False)
        stack = QStackedWidget()
        stack.addWidget(scroll)
        stack.addWidget(empty)
        stack.setCurrentIndex(0 if self.model is not None else 1)
        dock.setWidget(stack)
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
        if self._restored_state is not None and not self._installing_panels:
            self.restoreState(self._restored_state)  # a panel added later takes its remembered place
        return dock

    @property
    def last_result(self):
        return self.session.last_result

    @property
    def results_shown(self) -> int:
        return self.session.results_shown

    @property
    def results_dropped(self) -> int:
        return self.session.results_dropped

    # ---- rendering -----------------------------------------------------------------------------------
    def schedule_render(self, *_):
        """Render the current state (the session sends it now, or when the request in flight comes back)."""
        self.session.request_render()

    def _on_recipe(self, r):
        self.seed_a.show_recipe(r)
        self.seed_b.show_recipe(r)
        self.mixer.set_weights(r.weights)
        self.settings_panel.show_recipe(r)
        self.controls_panel.show_options(r.synthesis_options())

    def _on_selection(self, index):
        self.mixer.show_selected(index)
        if index is not None:
            self.layer_selected.emit(index)

    def _on_rendered(self, res):
        if not self._closing:
            self.session.finished(res)

    def _show_result(self, res):
        # While a layer is dragged only the mix changes: A and B keep their pictures (and their thumbnails, a
        # smooth downscale of each on the GUI thread), compared by value since each result carries copies.
        shown = self._shown_sources
        same_a = shown is not None and np.array_equal(shown[0], res.a)
        same_b = shown is not None and np.array_equal(shown[1], res.b)
        a = self.view.a if same_a and self.view.a is not None else to_qimage(res.a)
        b = self.view.b if same_b and self.view.b is not None else to_qimage(res.b)
        self.view.set_images(to_qimage(res.mix), a, b)
        if not same_a:
            self.seed_a.set_image(a)
        if not same_b:
            self.seed_b.set_image(b)
        self._shown_sources = (res.a, res.b)
        self._hide_rendering()
        if self.session.results_shown == 1 and self.exit_after_first_image:
            self._exit_after_first_image()
        fps = self._frame_rate.add()
        self.timing_label.setText(frame_time_text(res) + (f" · {fps:.0f} fps" if fps else ""))
        self._update_scale_label()
        self.result_ready.emit(res)

    def _on_request_sent(self, _req):
        if not self._slow_frame.isActive() and not self.view.busy_text:
            self._slow_frame.start()

    def _on_rendering_changed(self, on: bool):
        if not on:
            self._hide_rendering()

    def _show_rendering(self):
        if self.session.rendering and not self._closing:
            self.view.set_busy("Rendering…")
            if self._loading_path is None:
                self.busy.setRange(0, 0)
                self.busy.show()

    def _hide_rendering(self):
        self._slow_frame.stop()
        self.view.set_busy("")
        if self._loading_path is None:
            self.busy.hide()
        if self.session.rendering:
            self._slow_frame.start()  # the next frame is on its way: time it from now

    def _exit_after_first_image(self):
        """For `stylemixer bench` (--exit-after-first-image): it times the app from start to the first picture."""
        self.view.repaint()  # drawn now, not at the next paint event
        print("stylemixer: first image shown", flush=True)
        QTimer.singleShot(0, self.close)

    def _on_render_failed(self, rid, msg):
        self._hide_rendering()
        self.show_message(
            "error",
            f"Rendering failed: {msg}. The previous picture stays; change a setting "
            "or pick another device to try again.",
        )

    def shown_array(self):
        """The mixed image the view shows now, uint8 [H, W, 3] (None before the first result)."""
        return None if self.view.mix is None else from_qimage(self.view.mix)

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Tests and screenshots: let the worker finish and deliver everything, including trailing flushes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.worker.wait_until_idle(max(0.01, end - time.monotonic())):
                return False
            if self.reads_pending() or self._loading_path is not None:
                # a file being read off the GUI thread (files.py), or a load asked for whose answer (loaded or
                # failed) has not arrived yet: let queued signals through and look again
                QCoreApplication.processEvents()
                time.sleep(0.002)
                continue
            if self.session.is_idle():
                return True
            if self.worker.is_idle() and self.session.rendering:
                # the request was superseded inside the worker (a model load or a direct submit): nothing
                # will answer it, so stop waiting for it
                self.session.request_dropped()
        return False

    # ---- model and device ----------------------------------------------------------------------------
    def _on_model_loaded(self, info):
        self._loading_path = None
        self._set_busy(False)
        recipe, self._recipe_after_load = self._recipe_after_load, None
        old = self.model
        self.model = info
        self.mixer.set_layers(info.layers)
        self.settings_panel.set_num_ws(info.num_ws)
        self.controls_panel.set_controls(info.synthesis_controls)
        if old is None:
            layer = self.settings.value("view/layer", None)
            if layer is not None and str(layer).isdigit() and int(layer) < info.num_ws:
                self.session.selected = int(layer)  # picked up by set_model as the layer to show
        try:
            self.session.set_model(info, recipe)
        except Exception as e:  # a recipe that does not fit: keep the model, start from a fresh recipe
            self.show_message("error", f"The recipe does not fit {info.name}: {e}")
            self.session.set_model(info)
        name = printable(info.name)
        self.model_label.setText(
            f"{name} · {info.family_label} · {info.resolution}×{info.resolution} · {info.num_ws} w"
        )
        self.model_label.setToolTip(
            f"<qt>{html.escape(printable(info.source))}<br>format: "
            f"{html.escape(printable(info.format))}, loaded in {info.load_ms:.0f} ms</qt>"
        )
        self.setWindowTitle(f"StyleMixer — {name}")
        self._on_device_changed(info.device, rerender=False)  # set_model has just asked for a render
        self._set_enabled(True)
        self.settings.setValue("session/model", info.source)
        if info.source != BUILTIN_MODEL:
            self.remember_recent(info.source)
        if old is None or old.source != info.source:
            self.statusBar().showMessage(f"Loaded {info.name}", 4000)
        self.model_changed.emit(info)
        self.left.fit_thumbnails()
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
        text = f"Could not open the model: {msg.rstrip('.')}.{keep}"
        if self.model is None:
            self.empty.show_error(text)
            self._set_enabled(False)  # back from "Loading…" to the empty state
        self.show_message("error", text)

    def _on_progress(self, f):
        self.busy.setRange(0, 100)
        self.busy.setValue(int(f * 100))
        self.empty.progress.setRange(0, 100)
        self.empty.progress.setValue(int(f * 100))

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
            self.session.request_render()

    def _on_device_failed(self, device, msg):
        self.show_message("error", f"Could not move the model to {device}: {msg}. It stays on {self.worker.device}.")
        self._on_device_changed(self.worker.device)

    def _set_enabled(self, on: bool):
        for w in (self.seed_a, self.seed_b, self.settings_panel, self.controls_panel, self.mixer):
            w.setEnabled(on)
        for key in (
            "export",
            "export_big",
            "export_strip",
            "copy",
            "save_recipe",
            "random",
            "random_a",
            "random_b",
            "load_latent_a",
            "load_latent_b",
            "save_latents",
            "grid",
            "sweep",
        ):
            self.actions_[key].setEnabled(on)
        for a in self.actions_["preset_actions"]:
            a.setEnabled(on)
        self.central.setCurrentWidget(self.splitter if on else self.empty)
        for dock in self._side_docks:
            dock.widget().setCurrentIndex(0 if on else 1)
        if not on:
            if self._loading_path:
                self.empty.show_loading(os.path.basename(self._loading_path) or self._loading_path)
            self.view.clear("No model loaded")
            self._shown_sources = None

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
        if self.view.mix is None:
            self.scale_label.setText("")
            return
        s = self.view.scale()
        self.scale_label.setText(f"{s:.0f}×" if s >= 1 else f"{s * 100:.0f}%")

    def set_dark(self, on: bool):
        """The View menu's palette choice: applied now and remembered."""
        self.dark = bool(on)
        self.settings.setValue("view/dark", self.dark)
        apply_palette(self.dark)

    def _on_history(self, can_undo, can_redo):
        self.actions_["undo"].setEnabled(can_undo)
        self.actions_["redo"].setEnabled(can_redo)

    # ---- help ----------------------------------------------------------------------------------------
    def show_shortcuts(self):
        return help_pages.show_page(
            self, "shortcuts", "Keyboard Shortcuts", help_pages.shortcuts_html(self.menuBar()), (520, 620)
        )

    def show_panels_help(self):
        return help_pages.show_page(self, "panels", "How to Read the Panels", help_pages.PANELS_HTML, (600, 620))

    def show_about(self):
        return help_pages.show_page(self, "about", "About StyleMixer", help_pages.about_html(), (420, 260))

    # ---- messages ------------------------------------------------------------------------------------
    def show_message(self, kind: str, text: str):
        """Every message to the user goes through here (tests read `messages` or listen to message_shown).
        The box is opened without a nested event loop, so nothing ever waits on it. The text may quote a file:
        control characters are escaped and boxes show plain text, never markup."""
        text = printable(text, 2000)
        repeated = (
            bool(self.messages)
            and self.messages[-1] == (kind, text)
            and time.monotonic() - self._last_box_time < REPEAT_QUIET_S
        )
        self.messages.append((kind, text))
        self.message_shown.emit(kind, text)
        self.statusBar().showMessage(text.split(". ")[0], 6000)
        if self.dialogs and not self._closing and not repeated:  # a failing drag must not stack up boxes
            self._last_box_time = time.monotonic()
            icon = {"error": QMessageBox.Icon.Critical, "warning": QMessageBox.Icon.Warning}.get(
                kind, QMessageBox.Icon.Information
            )
            box = QMessageBox(icon, "StyleMixer", text, QMessageBox.StandardButton.Ok, self)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # ---- geometry, remembered view and closing -------------------------------------------------------
    def _available(self):
        screen = self.screen() or (self.windowHandle() and self.windowHandle().screen())
        from PySide6.QtGui import QGuiApplication

        screen = screen or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def _restore_geometry(self):
        avail = self._available()
        self.setMinimumSize(geometry.minimum_size(avail))
        g = self.settings.value("window/geometry")
        if g is None or not self.restoreGeometry(g):
            # the normal geometry fits the screen with a frame around it; a small screen is filled at once
            self.setGeometry(geometry.centred(geometry.first_size(avail), avail))
            if geometry.opens_maximized(avail):
                self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
        else:
            self.fit_to_screen()
        self._restored_state = self.settings.value("window/state")  # restored once the side panels exist
        sizes = self.settings.value("window/splitter")
        if sizes is not None:
            self.splitter.restoreState(sizes)
        else:
            self.splitter.setSizes([440, 600])

    def showEvent(self, e):
        super().showEvent(e)
        if self.fit_on_show:
            # the frame (title bar, borders) is known only once the window is shown: fit it again with it
            self.fit_on_show = False
            QTimer.singleShot(0, self.fit_to_screen)

    def fit_to_screen(self):
        """A window that does not fit the available screen area (a geometry saved on a larger screen) is moved
        and shrunk onto it."""
        if self.isMaximized() or self.isFullScreen():
            return
        avail = self._available()
        frame, inner = self.frameGeometry(), self.geometry()
        dl, dt = inner.x() - frame.x(), inner.y() - frame.y()
        dw, dh = frame.width() - inner.width(), frame.height() - inner.height()
        fitted = geometry.clamped(frame, avail)
        if fitted != frame:
            self.setGeometry(fitted.x() + dl, fitted.y() + dt, fitted.width() - dw, fitted.height() - dh)

    def _restore_view(self):
        zoom = self.settings.value("view/zoom", "fit")
        if zoom != "fit" and str(zoom).isdigit():
            zoom = int(zoom)
        if zoom in [m for _, m in ZOOMS]:
            self.set_zoom(zoom)
        self.set_triptych(self.settings.value("view/triptych", False, type=bool))
        label = self.settings.value("export/strip_labels", True, type=bool)
        self.actions_["strip_labels"].setChecked(label)

    def closeEvent(self, e):
        self._closing = True
        self.session.close()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("view/zoom", self.view.mode)
        self.settings.setValue("view/triptych", self.view.triptych)
        if self.session.selected is not None:
            self.settings.setValue("view/layer", self.session.selected)
        self.settings.sync()
        for sig in (
            self.worker.rendered,
            self.worker.render_failed,
            self.worker.model_loaded,
            self.worker.model_failed,
            self.worker.load_progress,
            self.worker.device_changed,
            self.worker.device_failed,
        ):
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
