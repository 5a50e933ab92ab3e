"""File actions of the main window: open models and recipes, export PNGs, copy, recent files, drag and drop.

Every dialog goes through `ask_open_path` / `ask_save_path` (the statistics views' through `ask_export_path`) and
every message through `show_message`, so tests can drive these without a modal dialog; each starts in the folder
last chosen for its kind of file. Writes are atomic (core.export): an error leaves no file.
Files are never read on the GUI thread: recipes, PNGs and the sniffing of a dropped file happen on a short-lived
reader thread (`BackgroundReads`), models on the render worker; only regular files are opened (core.safeio).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..core.errors import StyleMixerError, printable
from ..core.export import ExportError, load_recipe_file, save_png, save_text
from ..core.images import enlarge, hstack, labelled_hstack
from ..core.mixing import BUILTIN_MODEL
from ..core.pngtext import is_png
from ..core.safeio import open_regular
from ..core.stats_views import SOURCE_LABELS
from .imaging import to_qimage
from .settings import push_recent, read_list, remove_recent

MODEL_FILTER = "Models (*.safetensors *.pkl *.pt *.pth *.ckpt);;All files (*)"
RECIPE_FILTER = "Recipes and StyleMixer images (*.json *.png);;All files (*)"
PNG_FILTER = "PNG images (*.png)"
JSON_FILTER = "Recipe (*.json)"
ENLARGED_MIN = 512  # an enlarged export is at least this many pixels wide
ANY_FILTER = "Models, recipes and StyleMixer images (*.safetensors *.pkl *.pt *.pth *.ckpt *.json *.png);;All files (*)"
MOVED_KEY = "models/moved"  # {path a recipe names: where the user located that model}
MOVED_MAX = 50


def enlarge_factor(width: int) -> int:
    return max(2, -(-ENLARGED_MIN // width))


class FileActions:
    """Mixed into MainWindow (needs controller, worker, settings, model, last_result, show_message)."""

    # ---- dialogs (patched in tests) ------------------------------------------------------------------
    def ask_open_path(self, title: str, folder_key: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, self._folder(folder_key), filters)
        return path or None

    def ask_save_path(self, title: str, folder_key: str, name: str, filters: str) -> str | None:
        start = os.path.join(self._folder(folder_key), name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        return path or None

    def ask_export_path(self, title: str, name: str, filters: str) -> tuple[str, str]:
        """The statistics views' save dialog: starts in the exports folder, remembers the chosen path's folder.
        -> (path, or "" when cancelled; the filter chosen, which picks the extension of a name typed without)."""
        path, chosen = QFileDialog.getSaveFileName(self, title, os.path.join(self._folder("exports"), name), filters)
        if path:
            self._remember_folder("exports", path)
        return path, chosen

    def _folder(self, key: str) -> str:
        return str(self.settings.value(f"folders/{key}", os.path.expanduser("~")))

    def _remember_folder(self, key: str, path: str):
        self.settings.setValue(f"folders/{key}", os.path.dirname(os.path.abspath(path)))

    def open_chosen(self, title: str, folder_key: str, filters: str, then):
        """Ask for a file to open; a chosen one's folder is where the next dialog of that kind starts."""
        path = self.ask_open_path(title, folder_key, filters)
        if path:
            self._remember_folder(folder_key, path)
            then(path)

    def save_chosen(self, title: str, folder_key: str, name: str, filters: str, then):
        """Ask where to save `name`; a chosen path's folder is where the next dialog of that kind starts."""
        path = self.ask_save_path(title, folder_key, name, filters)
        if path:
            self._remember_folder(folder_key, path)
            then(path)

    # ---- models --------------------------------------------------------------------------------------
    def open_model_dialog(self):
        self.open_chosen("Open Model", "models", MODEL_FILTER, self.open_model)

    def open_any_dialog(self):
        """One dialog for anything StyleMixer opens: a model, a recipe, or a PNG it exported."""
        self.open_chosen("Open", "models", ANY_FILTER, self.open_path)

    def open_model(self, path: str):
        """Load in the background; the current model keeps working until the new one is ready."""
        self._loading_path = str(path)
        self._set_busy(True)
        self.statusBar().showMessage(f"Loading {os.path.basename(str(path)) or path}…")
        if self.model is None:
            self._set_enabled(False)  # the empty state says what is loading
        self.worker.load_model(str(path))

    def queue_recipe(self, recipe):
        """Apply `recipe` once the model now loading is ready (instead of a fresh one)."""
        self._recipe_after_load = recipe

    def remember_recent(self, path: str):
        push_recent(self.settings, "recent_models", path)

    def recent_models(self) -> list[str]:
        return read_list(self.settings, "recent_models")

    def fill_recent_menu(self):
        menu = self.actions_["recent_menu"]
        menu.clear()
        menu.addAction("Built-in Model", lambda: self.open_model(BUILTIN_MODEL))
        recent = self.recent_models()
        if recent:
            menu.addSeparator()
        for p in recent:
            menu.addAction(p, lambda p=p: self._open_recent(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear Recent", lambda: self.settings.setValue("recent_models", []))

    def _open_recent(self, path: str):
        if not os.path.exists(path):
            remove_recent(self.settings, "recent_models", path)
            self.show_message("error", f"{path} no longer exists; it was removed from the recent list.")
            return
        self.open_model(path)

    # ---- recipes -------------------------------------------------------------------------------------
    def open_recipe_dialog(self):
        self.open_chosen("Open Recipe or Image", "recipes", RECIPE_FILTER, self.open_recipe_file)

    def open_recipe_file(self, path: str, fallback_model: str | None = None) -> bool:
        """A recipe JSON or a StyleMixer PNG: restore its mix, loading its model when it is the built-in one
        or its file still exists. A recipe that cannot be used changes nothing; a grid PNG or JSON opens the
        grid. The file is read in the background; `fallback_model` is opened when the recipe cannot be used and no
        model is loaded yet.
        Returns True: the read has started (its outcome shows as a message or a changed mix)."""
        from ..core.grid import is_grid_file

        if is_grid_file(path):
            from .grid_view import open_grid_file

            return open_grid_file(self, path)
        self._reads().start(read_recipe, path, then=lambda ok, result: self._recipe_read(ok, result, fallback_model))
        return True

    def _recipe_read(self, ok: bool, result, fallback_model=None):
        used = ok and self._use_recipe(*result)
        if not ok:
            self.show_message("error", f"Could not open the recipe: {_message(result)}")
        if not used and fallback_model is not None and self.model is None:
            self.open_model(fallback_model)

    def _use_recipe(self, recipe, model_exists: bool) -> bool:
        here = self.model
        if here is not None and recipe.model == here.source:
            return self._apply_recipe(recipe)
        model = recipe.model if model_exists else self.find_model(recipe.model)
        fits_here = here is not None and len(recipe.weights) == here.num_ws
        if model is None:
            answer = self.ask_locate_model(recipe.model, fits_here)
            if answer == "current" and fits_here:
                ok = self._apply_recipe(replace(recipe, model=here.source))
                if ok:
                    self.show_message(
                        "warning",
                        f"The recipe's model ({printable(recipe.model)}) was not found; the mix was "
                        f"applied to {printable(here.name)} instead.",
                    )
                return ok
            if not answer or answer == "current":
                fit = (
                    ""
                    if fits_here
                    else (
                        f", and its {len(recipe.weights)} weights do not fit the current model"
                        if here is not None
                        else ""
                    )
                )
                self.show_message(
                    "error",
                    f"The recipe's model ({printable(recipe.model)}) was not found{fit}; open "
                    f"that model, then the recipe again.",
                )
                return False
            model = answer
            self.remember_moved_model(recipe.model, model)
        if here is not None and model == here.source:
            return self._apply_recipe(replace(recipe, model=model))
        self._recipe_after_load = replace(recipe, model=model)
        self.open_model(model)
        return True

    # ---- models that moved ---------------------------------------------------------------------------
    def moved_models(self) -> dict:
        try:
            d = json.loads(str(self.settings.value(MOVED_KEY, "{}")))
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in d.items()} if isinstance(d, dict) else {}

    def remember_moved_model(self, old: str, new: str):
        d = self.moved_models()
        d.pop(old, None)
        d[old] = new
        self.settings.setValue(MOVED_KEY, json.dumps(dict(list(d.items())[-MOVED_MAX:])))

    def find_model(self, model: str) -> str | None:
        """The model a recipe names: the built-in one, the file at its path, or where the user located it."""
        if model == BUILTIN_MODEL or os.path.isfile(model):
            return model
        moved = self.moved_models().get(model)
        return moved if moved and os.path.isfile(moved) else None

    def ask_locate_model(self, missing: str, fits_current: bool) -> str | None:
        """A recipe's model is not at its path: a path to the model (the user located it), "current" (apply the
        mix to the open model) or None. Without dialogs (tests, scripts): "current" when the mix fits."""
        if not self.dialogs:
            return "current" if fits_current else None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Model not found",
            f"The recipe was made with {os.path.basename(missing)}, which is no longer at\n{missing}",
            parent=self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        locate = box.addButton("Locate Model…", QMessageBox.ButtonRole.AcceptRole)
        current = box.addButton(f"Use {self.model.name}", QMessageBox.ButtonRole.ActionRole) if fits_current else None
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is locate:
            return self.ask_open_path(f"Locate {os.path.basename(missing)}", "models", MODEL_FILTER)
        if current is not None and box.clickedButton() is current:
            return "current"
        return None

    def _apply_recipe(self, recipe) -> bool:
        try:
            self.controller.apply(recipe)
        except StyleMixerError as e:
            self.show_message("error", f"The recipe does not fit {self.model.name}: {e}")
            return False
        return True

    def _reads(self) -> "BackgroundReads":
        if getattr(self, "_background_reads", None) is None:
            self._background_reads = BackgroundReads(self)
        return self._background_reads

    def reads_pending(self) -> int:
        """Files still being read in the background (for wait_until_idle)."""
        reads = getattr(self, "_background_reads", None)
        return 0 if reads is None else reads.pending

    def save_recipe_dialog(self):
        if self.controller.recipe is None:
            return
        self.save_chosen("Save Recipe", "recipes", self._stem() + ".json", JSON_FILTER, self.save_recipe)

    def save_recipe(self, path: str) -> bool:
        try:
            save_text(path, self.controller.recipe.to_json() + "\n")
        except ExportError as e:
            self.show_message("error", f"Nothing was saved: {e}")
            return False
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    # ---- export --------------------------------------------------------------------------------------
    def _stem(self) -> str:
        r = self.controller.recipe
        return f"mix-{r.seed_a}-{r.seed_b}" if r is not None else "mix"

    def export_dialog(self, scale: int | None = 1):
        if self._need_result():
            return
        if scale is None:
            scale = enlarge_factor(self.last_result.mix.shape[1])
        suffix = "" if scale == 1 else f"-x{scale}"
        name = f"{self._stem()}{suffix}.png"
        self.save_chosen("Export PNG", "exports", name, PNG_FILTER, lambda path: self.export_png(path, scale))

    def export_png(self, path: str, scale: int = 1) -> bool:
        """The shown mix with the recipe it was rendered from (not a newer one still rendering)."""
        if self._need_result():
            return False
        res = self.last_result
        return self._write_png(path, res.mix, res.request.recipe, scale)

    def export_strip_dialog(self):
        if self._need_result():
            return
        self.save_chosen("Export A | mix | B", "exports", self._stem() + "-strip.png", PNG_FILTER, self.export_strip)

    def export_strip(self, path: str, scale: int | None = None, labels: bool | None = None) -> bool:
        """A, the mix and B side by side, labelled underneath unless File › Label Strip Exports is off."""
        if self._need_result():
            return False
        res = self.last_result
        scale = scale or enlarge_factor(res.mix.shape[1] * 2)
        images = [enlarge(res.a, scale), enlarge(res.mix, scale), enlarge(res.b, scale)]
        if labels is None:
            labels = self.strip_labels()
        if labels:
            r = res.request.recipe
            a, mix, b = (SOURCE_LABELS[s] for s in ("a", "mix", "b"))
            strip = labelled_hstack(images, [f"{a} · seed {r.seed_a}", mix, f"{b} · seed {r.seed_b}"], gap=4 * scale)
        else:
            strip = hstack(images, gap=4 * scale)
        return self._write_png(path, strip, res.request.recipe, 1, extra={"stylemixer.layout": "A|mix|B"})

    def strip_labels(self) -> bool:
        return self.settings.value("export/strip_labels", True, type=bool)

    def set_strip_labels(self, on: bool):
        self.settings.setValue("export/strip_labels", bool(on))

    def _write_png(self, path, arr, recipe, scale, extra=None) -> bool:
        if not str(path).lower().endswith(".png"):
            path = f"{path}.png"
        try:
            save_png(path, arr, recipe, scale=scale, extra=extra)
        except ExportError as e:
            self.show_message("error", f"Nothing was exported: {e}")
            return False
        self.statusBar().showMessage(f"Exported {path}", 4000)
        return True

    def copy_image(self):
        if self._need_result():
            return
        res = self.last_result
        mime = QMimeData()
        mime.setImageData(to_qimage(enlarge(res.mix, enlarge_factor(res.mix.shape[1]))))
        mime.setText(res.request.recipe.to_json())
        QGuiApplication.clipboard().setMimeData(mime)
        self.statusBar().showMessage("Copied the mixed image (and its recipe as text)", 3000)

    def _need_result(self) -> bool:
        if self.last_result is None:
            self.show_message("info", "There is no image yet: open a model first.")
            return True
        return False

    # ---- drag and drop -------------------------------------------------------------------------------
    def dragEnterEvent(self, e):
        if e.mimeData().hasUrls() and any(u.isLocalFile() for u in e.mimeData().urls()):
            e.acceptProposedAction()

    def dropEvent(self, e):
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if paths:
            e.acceptProposedAction()
            self.open_path(paths[0])

    def open_path(self, path: str, fallback_model: str | None = None):
        """A dropped or command-line file: a StyleMixer PNG or recipe JSON restores a mix, anything else is
        tried as a model. Sniffed on a reader thread, never on the GUI thread."""

        def then(ok, result):
            if ok and result is None:  # not a recipe: the worker loads it as a model (and reports problems)
                self.open_model(path)
            else:
                self._recipe_read(ok, result, fallback_model)

        self._reads().start(read_if_recipe, path, then=then)


def is_recipe_file(path: str) -> bool:
    """A .json file, or a file that starts like a PNG. Reads 8 bytes: call it off the GUI thread."""
    if str(path).lower().endswith(".json"):
        return True
    try:
        with open_regular(path) as f:
            return is_png(f.read(8))
    except (OSError, StyleMixerError):
        return False


def read_recipe(path: str):
    """(recipe, whether its model can be opened): runs on a reader thread."""
    recipe = load_recipe_file(path)
    return recipe, recipe.model == BUILTIN_MODEL or os.path.isfile(recipe.model)


def read_if_recipe(path: str):
    """read_recipe(path) for a recipe file, None for anything else (then it is tried as a model)."""
    return read_recipe(path) if is_recipe_file(path) else None


def _message(e: BaseException) -> str:
    if isinstance(e, StyleMixerError):
        return printable(str(e), 1000)
    if isinstance(e, MemoryError):
        return "out of memory"
    return printable(f"{type(e).__name__}: {e}", 1000)


class BackgroundReads(QObject):
    """Runs a file read on a short-lived daemon thread and calls `then(ok, result_or_exception)` on the GUI
    thread. A read that hangs (a file on a stalled network share) holds only its own thread, never the window
    nor the exit of the app."""

    _done = Signal(object, bool, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pending = 0
        self._done.connect(self._deliver)

    def start(self, fn, *args, then):
        self.pending += 1

        def run():
            try:
                outcome = (True, fn(*args))
            except Exception as e:  # every failure becomes a message on the GUI thread, never a lost traceback
                outcome = (False, e)
            try:
                self._done.emit(then, *outcome)  # queued: delivered on the GUI thread
            except RuntimeError:  # the window was destroyed meanwhile
                pass

        threading.Thread(target=run, name="stylemixer-read", daemon=True).start()

    def _deliver(self, then, ok, result):
        self.pending -= 1
        then(ok, result)
