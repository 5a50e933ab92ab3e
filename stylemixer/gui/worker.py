"""The render worker: one long-lived thread that owns the model and its device.

The GUI never touches torch. It hands the worker immutable snapshots (RenderRequest) and jobs (load a
model, move to a device) and gets results back through queued Qt signals. There is a single pending
render slot: a new request overwrites the one still waiting, so at most one render is in flight and one
is pending, however fast a slider moves. Jobs run before renders; a successful model load drops the
pending render because it was made for the previous model.

Longer work (a grid's cells, a sweep's frames) runs as named *tasks*: an iterator made from the renderer and
advanced one item at a time, each item sent back as it comes. Renders and jobs are served between two items,
so the main view stays live; a task replaces a task of the same name (newest wins: a superseded grid stops at
its next cell), and cancelling or replacing one closes its iterator on this thread, which runs its clean-up.

A load or a render cannot be interrupted inside torch or a read. Closing the window therefore waits only a
moment (`shutdown`): a worker still busy after that is abandoned, kept alive here until its step ends (its
results are dropped), and the app leaves the process without waiting for it (`abandoned_running`).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QThread, Signal

from ..core.devices import release_cached_memory
from ..core.errors import StyleMixerError, printable
from ..core.mixing import Recipe
from ..core.perf import lower_thread_priority
from ..core.render import Renderer, RenderRequest

_ABANDONED: list = []  # workers given up on at shutdown; referenced until their thread ends


class LoadCancelled(Exception):
    """Raised from the progress callback of a load that is no longer wanted (the window is closing)."""


def abandoned_running() -> bool:
    """Whether a worker abandoned at shutdown is still inside a load or a render."""
    _ABANDONED[:] = [w for w in _ABANDONED if w.isRunning()]
    return bool(_ABANDONED)


RENDER_NICE = 5  # how many nice steps below the GUI the render thread runs (docs/performance.md)


@dataclass(frozen=True)
class ModelInfo:
    """What the GUI may know about the loaded model (the generator itself stays on the worker)."""

    source: str  # "builtin" or an absolute path, as recipes record it
    name: str
    format: str
    cfg: object  # the family's config (frozen)
    layers: tuple  # LayerInfo per w index
    device: str
    load_ms: float = 0.0
    stats_spec: object = None  # the family's StatsSpec: what the statistics panels show
    family_label: str = ""  # "StyleGAN", "StyleGAN2", ...
    synthesis_controls: tuple = ()  # the family's per-image input controls (recipe options)
    preview_costs: tuple = ()  # (preview resolution, its share of a full frame's work) the family offers

    @property
    def num_ws(self) -> int:
        return len(self.layers)

    @property
    def resolution(self) -> int:
        return self.cfg.resolution


def user_message(e: BaseException) -> str:
    """One readable line: our own errors as they are, anything else with its type; text from files escaped."""
    if isinstance(e, StyleMixerError):
        return printable(str(e), 1000)
    if isinstance(e, MemoryError) or "out of memory" in printable(e).lower():
        return "out of memory on this device; try a smaller model or another device"
    return printable(f"{type(e).__name__}: {printable(e)}", 1000)


@dataclass(eq=False)
class _Task:
    name: str
    id: int
    make: object  # renderer -> iterator
    it: object = None  # the running iterator (None until its first step)
    cancelled: bool = False
    items: int = 0
    started: float = field(default_factory=time.perf_counter)


class RenderWorker(QThread):
    rendered = Signal(object)  # RenderResult
    render_failed = Signal(int, str)  # request id, message
    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str, str)  # path, message
    load_progress = Signal(float)  # 0..1 during long loads
    device_changed = Signal(str)
    device_failed = Signal(str, str)  # device, message
    busy_changed = Signal(bool)
    task_item = Signal(str, int, object)  # task name, task id, an item it yielded
    task_finished = Signal(str, int, str, str)  # name, id, "done" | "cancelled" | "failed", message

    def __init__(self, parent=None, loader=None, threads: int | str = "auto", nice: int = RENDER_NICE):
        super().__init__(parent)
        # Render threads: "auto" measures while rendering; a count forces it (`stylemixer --threads N`).
        self.threads = threads
        # The render thread runs `nice` steps below the GUI thread's priority, so the GUI gets a core as soon as
        # it has work while rendering uses every core otherwise (0: the same priority; tools/drag_probe.py --nice).
        self.nice = nice
        if loader is None:
            from ..core.checkpoints import load_any as loader
        self._load = loader
        self._cond = threading.Condition()
        self._pending: RenderRequest | None = None
        self._jobs: deque = deque()
        self._stop = False
        self._busy = False
        self._renderer: Renderer | None = None
        self._device = "cpu"
        self._tasks: dict[str, _Task] = {}
        self._retired: list[_Task] = []  # replaced or cancelled, to be closed on the worker thread
        self._task_seq = 0
        # counters for the status bar and the tests
        self.renders_done = 0
        self.requests_submitted = 0

    # ---- called from the GUI thread -------------------------------------------------------------
    def submit(self, req: RenderRequest):
        """Queue a render; replaces any render still waiting. Never blocks on torch."""
        with self._cond:
            self._pending = req
            self.requests_submitted += 1
            self._cond.notify()

    def load_model(self, path: str, device: str | None = None):
        with self._cond:
            self._jobs.append(("load", str(path), device))
            self._cond.notify()

    def set_device(self, device: str):
        with self._cond:
            self._jobs.append(("device", str(device)))
            self._cond.notify()

    def submit_task(self, name: str, make) -> int:
        """Run `make(renderer)` (an iterator) here, item by item; replaces a task of the same name. Returns its id."""
        with self._cond:
            self._task_seq += 1
            old = self._tasks.pop(name, None)
            if old is not None:
                old.cancelled = True
                self._retired.append(old)
            self._tasks[name] = _Task(name, self._task_seq, make)
            self._cond.notify()
            return self._task_seq

    def cancel_task(self, name: str, task_id: int | None = None) -> bool:
        """Stop a task at its next item (its iterator is closed, so e.g. a partial export is removed)."""
        with self._cond:
            t = self._tasks.get(name)
            if t is None or (task_id is not None and t.id != task_id):
                return False
            del self._tasks[name]
            t.cancelled = True
            self._retired.append(t)
            self._cond.notify()
            return True

    def has_task(self, name: str) -> bool:
        with self._cond:
            return name in self._tasks

    @property
    def device(self) -> str:
        return self._device

    @property
    def busy(self) -> bool:
        """True while a render or job runs on the worker thread."""
        with self._cond:
            return self._busy

    def thread_info(self) -> dict:
        """The renderer's thread choice so far (for probes and the status tip); {} before a model is loaded."""
        r = self._renderer
        return r.thread_choice if r is not None else {}

    def is_idle(self) -> bool:
        with self._cond:
            return not self._busy and self._pending is None and not self._jobs and not self._tasks and not self._retired

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """For tests and scripts on the GUI thread: process events until every queued job and render is
        done and its signal delivered. Returns False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            QCoreApplication.processEvents()
            if self.is_idle():
                QCoreApplication.processEvents()  # deliver the signals emitted before going idle
                if self.is_idle():
                    return True
            time.sleep(0.002)
        return False

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the thread to finish after the current step and wait for it."""
        with self._cond:
            self._stop = True
            self._pending = None
            self._jobs.clear()
            self._retired += self._tasks.values()  # closed by the thread on its way out
            self._tasks.clear()
            self._cond.notify()
        return self.wait(timeout_ms)

    def shutdown(self, wait_ms: int = 300) -> bool:
        """Stop, waiting at most `wait_ms`; True if the thread ended. Otherwise the worker is abandoned: it is
        kept referenced until its current step returns (a load's progress callback ends it at the next call),
        emits nothing more, and `abandoned_running()` tells the app not to wait for it at exit."""
        if self.stop(wait_ms):
            return True
        _ABANDONED.append(self)
        return False

    # ---- the worker thread ----------------------------------------------------------------------
    def run(self):
        self.setPriority(QThread.Priority.LowPriority)  # Windows and macOS; ignored by Qt on Linux, hence:
        lower_thread_priority(self.nice)
        while True:
            with self._cond:
                while (
                    not self._stop
                    and self._pending is None
                    and not self._jobs
                    and not self._tasks
                    and not self._retired
                ):
                    self._cond.wait()
                if self._stop:
                    retired, self._retired = self._retired, []
                    break
                job = self._jobs.popleft() if self._jobs else None
                req = None if job else self._pending
                if job is None:
                    self._pending = None
                task = retired = None
                if job is None and req is None:
                    if self._retired:
                        retired, self._retired = self._retired, []
                    else:  # round robin: the task served now goes to the back
                        task = next(iter(self._tasks.values()))
                        self._tasks[task.name] = self._tasks.pop(task.name)
                self._busy = True
            self.busy_changed.emit(True)
            try:
                if job is not None:
                    self._run_job(job)
                elif req is not None:
                    self._render(req)
                elif retired:
                    self._close_tasks(retired, "cancelled")
                else:
                    self._step(task)
            finally:
                with self._cond:
                    self._busy = False
                    idle = self._pending is None and not self._jobs and not self._tasks and not self._retired
                if idle:
                    self.busy_changed.emit(False)
        self._close_tasks(retired, None)

    def _step(self, task: _Task):
        """One item of a task; its end, its failure or its removal by a newer task is reported once."""
        try:
            if task.it is None:
                if self._renderer is None:
                    raise RuntimeError("no model is loaded")
                task.it = iter(task.make(self._renderer))
            item = next(task.it)
        except StopIteration:
            self._finish(task, "done", "")
            return
        except Exception as e:  # a failing task (a full disk, out of memory) must not end the worker
            if not isinstance(e, StyleMixerError):
                traceback.print_exc()
            self._after_failure()
            self._finish(task, "failed", user_message(e))
            return
        task.items += 1
        with self._cond:
            current = self._tasks.get(task.name) is task
        if current and not self._stopping():
            self.task_item.emit(task.name, task.id, item)

    def _finish(self, task: _Task, status: str, message: str):
        with self._cond:
            if self._tasks.get(task.name) is task:
                del self._tasks[task.name]
        if not self._stopping():
            self.task_finished.emit(task.name, task.id, status, message)

    def _close_tasks(self, tasks, status):
        for t in tasks or ():
            close = getattr(t.it, "close", None)
            if close is not None:
                try:
                    close()  # GeneratorExit inside the task: its finally blocks remove partial files
                except Exception:
                    traceback.print_exc()
            if status is not None and not self._stopping():
                self.task_finished.emit(t.name, t.id, status, "")

    def _render(self, req: RenderRequest):
        if self._renderer is None:
            self.render_failed.emit(req.id, "no model is loaded")
            return
        try:
            res = self._renderer.render(req)
        except Exception as e:  # a render failure (out of memory, bad recipe) must not end the worker
            self._after_failure()
            if not self._stopping():
                self.render_failed.emit(req.id, user_message(e))
            return
        self.renders_done += 1
        if not self._stopping():
            self.rendered.emit(res)

    def _run_job(self, job):
        if job[0] == "load":
            self._load_job(job[1], job[2] or self._device)
        elif job[0] == "device":
            self._device_job(job[1])

    def _load_job(self, path: str, device: str):
        t0 = time.perf_counter()
        try:
            loaded = self._load(path, device, progress=self._progress)
            check_loaded(loaded)
            if self._stopping():
                return
            renderer = Renderer(loaded.G, device, threads=self.threads)
        except Exception as e:
            if self._stopping():
                return
            if not isinstance(e, (StyleMixerError, LoadCancelled)):
                traceback.print_exc()
            self._after_failure()
            self.model_failed.emit(path, user_message(e))
            return
        if self._stopping():
            return
        with self._cond:
            self._renderer = renderer
            self._device = str(renderer.device)
            self._pending = None  # made for the previous model
            self._retired += self._tasks.values()  # so were the running tasks
            self._tasks.clear()
        G = loaded.G
        info = ModelInfo(
            loaded.source,
            loaded.name,
            loaded.format,
            G.cfg,
            tuple(G.layer_table()),
            self._device,
            (time.perf_counter() - t0) * 1000,
            G.stats_spec,
            G.family_label,
            tuple(getattr(G, "synthesis_controls", ())),
            preview_costs(renderer),
        )
        self.model_loaded.emit(info)

    def _device_job(self, device: str):
        if self._renderer is None:
            self._device = device
            self.device_changed.emit(device)
            return
        old = str(self._renderer.device)
        try:
            self._renderer.to(device)
        except Exception as e:
            try:
                self._renderer.to(old)
            except Exception:
                pass
            self._after_failure()
            self.device_failed.emit(device, user_message(e))
            return
        self._device = str(self._renderer.device)
        self.device_changed.emit(self._device)

    def _progress(self, fraction: float):
        if self._stopping():
            raise LoadCancelled("the load was cancelled")
        self.load_progress.emit(float(fraction))

    def _stopping(self) -> bool:
        with self._cond:
            return self._stop

    def _after_failure(self):
        release_cached_memory()


def preview_costs(renderer) -> tuple:
    """(resolution, share of a full frame's FLOPs) of each progressive preview the model's family offers."""
    return renderer.preview_costs()


def check_loaded(loaded):
    """Everything the window will ask of a model, tried on the worker before it replaces the current one: its
    layer table and a recipe with its own default truncation (a psi, cutoff or crop the window cannot use would
    otherwise surface in a Qt slot or a paint event)."""
    cfg = loaded.G.cfg
    layers = loaded.G.layer_table()
    if len(layers) != loaded.G.num_ws or loaded.G.num_ws < 1:
        raise StyleMixerError(
            f"{printable(loaded.name)}: its layer table does not match its {loaded.G.num_ws} w indices"
        )
    Recipe.for_model(
        loaded.G.num_ws, model=loaded.source, psi=cfg.truncation_psi, cutoff=cfg.truncation_cutoff
    ).check_model(loaded.G.num_ws)
    crop = getattr(cfg, "crop", None)
    if crop is not None:
        top, bottom, left, right = crop
        if not (0 <= top < bottom <= loaded.G.img_resolution and 0 <= left < right <= loaded.G.img_resolution):
            raise StyleMixerError(f"{printable(loaded.name)}: its crop {list(crop)} does not fit the image")
