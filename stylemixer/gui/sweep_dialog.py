"""The sweep dialog: animate one control of the current mix, preview it, export it as a GIF or an MP4.

Frames are rendered by the main window's worker (core/sweep.py), as tasks: the preview collects the frames and
plays them in a loop; an export writes the file frame by frame with a progress bar and a Cancel button (Cancel
closes the export on the worker, which removes its partial file). The sweep starts from the main window's mix as
it is when Preview or Export is pressed.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
)

from ..core.errors import StyleMixerError
from ..core.sweep import Sweep, iter_export, iter_frames
from .imaging import fit_pixmap, to_qimage
from .windows import open_once

PREVIEW, EXPORT = "sweep-preview", "sweep-export"
PREVIEW_SIDE = 256
PREVIEW_BUDGET = 512 * 2**20


class SweepDialog(QDialog):
    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.setWindowTitle("Sweep to GIF / MP4")
        self.setModal(False)
        self.frames: list = []
        self.preview_id = self.export_id = None
        self.export_path = None
        self.play_index = 0
        self.last_status = ""

        self.control = QComboBox()
        self.control.setToolTip("What moves from the first value to the last")
        self.control.currentIndexChanged.connect(self._control_changed)
        self.start = QDoubleSpinBox()
        self.end = QDoubleSpinBox()
        for s in (self.start, self.end):
            s.setDecimals(2)
            s.setSingleStep(0.05)
        self.seeds = QLineEdit()
        self.seeds.setToolTip("The seeds the walk visits, in order (w is interpolated between them)")
        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(2, 10_000)
        self.frames_spin.setValue(30)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(25)
        self.pingpong = QCheckBox("Ping-pong (forward, then back: loops smoothly)")
        self.scale = QSpinBox()
        self.scale.setRange(1, 16)
        self.scale.setPrefix("×")
        self.scale.setToolTip("Enlargement of the exported frames (whole pixels)")

        form = QFormLayout()
        form.addRow("Animate", self.control)
        span = QHBoxLayout()
        span.addWidget(self.start)
        span.addWidget(QLabel("→"))
        span.addWidget(self.end)
        self.span_label = QLabel("From")
        form.addRow(self.span_label, span)
        self.seeds_label = QLabel("Seeds")
        form.addRow(self.seeds_label, self.seeds)
        form.addRow("Frames", self.frames_spin)
        form.addRow("Frames per second", self.fps)
        form.addRow("", self.pingpong)
        form.addRow("Enlarge", self.scale)

        self.view = QLabel("Preview renders the frames and plays them here.")
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view.setMinimumSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = {}
        row = QHBoxLayout()
        for key, text, fn in (
            ("preview", "Preview", self.preview),
            ("gif", "Export GIF…", lambda: self.export_dialog("gif")),
            ("mp4", "Export MP4…", lambda: self.export_dialog("mp4")),
            ("cancel", "Cancel", self.cancel),
        ):
            b = QPushButton(text)
            b.clicked.connect(fn)
            self.buttons[key] = b
            row.addWidget(b)
        self.buttons["cancel"].setEnabled(False)
        self.buttons["cancel"].setToolTip("Stop the export; nothing is written")
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addLayout(row)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self._next_frame)
        w = win.worker
        w.task_item.connect(self._on_item)
        w.task_finished.connect(self._on_finished)
        win.model_changed.connect(lambda _: self._fill_controls())
        self._fill_controls()

    # ---- controls ---------------------------------------------------------------------------------------------
    def _fill_controls(self):
        m = self.win.model
        self.control.blockSignals(True)
        self.control.clear()
        if m is not None:
            self.control.addItem("All w indices (A → B)", ("weights", tuple(range(m.num_ws))))
            for g in ("coarse", "middle", "fine"):
                idx = tuple(l.index for l in m.layers if l.group == g)
                if idx:
                    self.control.addItem(f"{g.capitalize()} weights (w {idx[0]}-{idx[-1]})", ("weights", idx))
            for l in m.layers:
                self.control.addItem(f"w {l.index} ({l.resolution} px, {l.group})", ("weights", (l.index,)))
            self.control.addItem("Truncation psi", ("psi", ()))
            self.control.addItem("Seed A (continuous)", ("seed_a", ()))
            self.control.addItem("Seed B (continuous)", ("seed_b", ()))
            self.control.addItem("Walk through seeds (w, not z)", ("walk", ()))
        self.control.blockSignals(False)
        self._control_changed()

    def _control_changed(self, *_):
        control = self.current_control()[0]
        r = self.win.controller.recipe
        seeds = control in ("seed_a", "seed_b")
        lo, hi = (-2, 2) if control == "psi" else (0, 2**31 - 2) if seeds else (0, 1)
        for s in (self.start, self.end):
            s.setRange(lo, hi)
        if control == "weights":
            self.start.setValue(0)
            self.end.setValue(1)
        elif control == "psi":
            self.start.setValue(1 if r is None else r.psi)
            self.end.setValue(0)
        elif seeds and r is not None:
            w = control[-1]
            v = getattr(r, f"seed_{w}") + getattr(r, f"frac_{w}")
            self.start.setValue(v)
            self.end.setValue(v + 3)
        if r is not None and not self.seeds.text():
            self.seeds.setText(f"{r.seed_a},{r.seed_b}")
        walk = control == "walk"
        for widget in (self.start, self.end, self.span_label):
            widget.setEnabled(not walk)
        self.seeds.setEnabled(walk)
        self.seeds_label.setEnabled(walk)

    def current_control(self):
        return self.control.currentData() or ("weights", ())

    def set_control(self, control: str, indices=()):
        """Select a control by name (and w indices for 'weights'), as the combo box lists it."""
        for i in range(self.control.count()):
            if self.control.itemData(i) == (control, tuple(indices)):
                self.control.setCurrentIndex(i)
                return
        raise ValueError(f"no control {control!r} {indices}")

    def sweep(self) -> Sweep:
        """The sweep the controls describe, over the main window's current mix."""
        r = self.win.controller.recipe
        if r is None:
            raise StyleMixerError("no model is loaded")
        control, indices = self.current_control()
        seeds = ()
        if control == "walk":
            try:
                seeds = tuple(int(s) for s in self.seeds.text().replace(" ", "").split(",") if s)
            except ValueError:
                raise StyleMixerError("seeds: give whole seeds separated by commas, e.g. 1,7,42") from None
        return Sweep(
            r,
            control,
            self.start.value(),
            self.end.value(),
            self.frames_spin.value(),
            indices,
            seeds,
            self.pingpong.isChecked(),
            self.fps.value(),
        )

    # ---- preview ----------------------------------------------------------------------------------------------
    def preview(self):
        try:
            sweep = self.sweep()
        except StyleMixerError as e:
            self.win.show_message("error", f"No preview: {e}")
            return
        m = self.win.model
        per = m.resolution * m.resolution * 4  # a QImage per frame, kept to loop over
        if sweep.frame_count * per > PREVIEW_BUDGET:
            self.win.show_message(
                "error",
                f"No preview: {sweep.frame_count} frames of this model need "
                f"{sweep.frame_count * per / 2**20:.0f} MB; the preview holds at most "
                f"{PREVIEW_BUDGET // per} (an export streams any number).",
            )
            return
        self.timer.stop()
        self.frames = []
        self.preview_sweep = sweep
        self.progress.setRange(0, sweep.frame_count)
        self.progress.setValue(0)
        self.status.setText(f"Rendering {sweep.label()}…")
        self.preview_id = self.win.worker.submit_task(
            PREVIEW, lambda renderer, s=sweep: ((i, res.mix) for i, res in iter_frames(renderer, s))
        )

    def _next_frame(self):
        if not self.frames:
            return
        self.play_index = (self.play_index + 1) % len(self.frames)
        self._show(self.frames[self.play_index])

    def _show(self, img):
        self.view.setPixmap(fit_pixmap(img, min(self.view.width(), self.view.height()) - 4))

    # ---- export -----------------------------------------------------------------------------------------------
    def export_dialog(self, fmt: str):
        r = self.win.controller.recipe
        if r is None:
            return
        name = f"sweep-{r.seed_a}-{r.seed_b}.{fmt}"
        filt = "GIF animation (*.gif)" if fmt == "gif" else "MP4 video (*.mp4)"

        def export_as(path: str):
            self.export(path if path.lower().endswith(f".{fmt}") else f"{path}.{fmt}")

        self.win.save_chosen(f"Export Sweep as {fmt.upper()}", "exports", name, filt, export_as)

    def export(self, path: str) -> int | None:
        """Start writing the sweep to `path` (.gif or .mp4) on the worker; progress and Cancel in the dialog."""
        try:
            sweep = self.sweep()
        except StyleMixerError as e:
            self.win.show_message("error", f"Nothing was exported: {e}")
            return None
        scale = self.scale.value()
        self.export_path = path
        self.progress.setRange(0, sweep.frame_count)
        self.progress.setValue(0)
        self.status.setText(f"Writing {os.path.basename(path)}: {sweep.label()}…")
        self.buttons["cancel"].setEnabled(True)
        for k in ("gif", "mp4"):
            self.buttons[k].setEnabled(False)
        self.export_id = self.win.worker.submit_task(
            EXPORT, lambda renderer, s=sweep: iter_export(renderer, s, path, scale=scale)
        )
        return self.export_id

    def cancel(self):
        if self.export_id is not None:
            self.win.worker.cancel_task(EXPORT, self.export_id)

    def _export_ended(self):
        self.export_id = None
        self.buttons["cancel"].setEnabled(False)
        for k in ("gif", "mp4"):
            self.buttons[k].setEnabled(True)

    # ---- worker signals ---------------------------------------------------------------------------------------
    def _on_item(self, name, tid, item):
        if name == PREVIEW and tid == self.preview_id:
            _i, mix = item
            self.frames.append(to_qimage(mix))
            self.progress.setValue(len(self.frames))
            self._show(self.frames[-1])
        elif name == EXPORT and tid == self.export_id:
            done, _total = item
            self.progress.setValue(done)

    def _on_finished(self, name, tid, status, message):
        if name == PREVIEW and tid == self.preview_id:
            if status == "done" and self.frames:
                self.play_index = 0
                self.timer.start(max(10, round(1000 / self.preview_sweep.fps)))
                self.status.setText(f"Preview: {self.preview_sweep.label()}")
            elif status == "failed":
                self.win.show_message("error", f"The preview failed: {message}")
        elif name == EXPORT and tid == self.export_id:
            path = self.export_path
            self._export_ended()
            if status == "done":
                self.last_status = "done"
                self.status.setText(f"Wrote {path}")
                self.win.statusBar().showMessage(f"Exported {path}", 4000)
            elif status == "cancelled":
                self.last_status = "cancelled"
                self.status.setText("Export cancelled; nothing was written.")
                self.progress.setValue(0)
            else:
                self.last_status = "failed"
                self.status.setText("Export failed; nothing was written.")
                self.win.show_message("error", f"Nothing was exported: {message}")

    def closeEvent(self, e):
        self.timer.stop()
        super().closeEvent(e)


def open_sweep_dialog(win) -> SweepDialog:
    """The main window's sweep dialog (made on first use)."""
    return open_once(win, "sweep_dialog", SweepDialog)
