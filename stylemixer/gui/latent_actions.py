"""Latents in the app: load a W / W+ file into seed A or B (or a grid row), save the current ws.

Files are read on the GUI thread (they are small and read with NumPy, or torch.load with weights_only); the ws
to save come from the worker, which owns the model, as a short task that writes the file (atomically).
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QInputDialog

from ..core.errors import StyleMixerError
from ..core.latent_files import latent_choices, load_latent, save_latents

LATENT_FILTER = "Latents (*.npz *.npy *.pt *.pth);;All files (*)"
SAVE_FILTER = "NumPy latents (*.npz)"
TASK = "save-latents"


def ask_choice(parent, title: str, label: str, items: list[str]) -> str | None:
    item, ok = QInputDialog.getItem(parent, title, label, items, 0, False)
    return item if ok else None


def read_latent_for_model(win, path: str, key: str | None = None, parent=None, choose=ask_choice):
    """A Latent from a file, checked against the loaded model; None (and a message) when it cannot be used. A file
    with several latents asks which one (`choose`)."""
    m = win.model
    if m is None:
        return None
    name = os.path.basename(path)
    try:
        if key is None:
            choices = latent_choices(path)
            if len(choices) > 1 and not any(k in choices for k in ("w", "ws")):
                key = choose(parent or win, "Load Latent", f"{name} holds {len(choices)} latents; which one?", choices)
                if key is None:
                    return None
        return load_latent(path, m.num_ws, m.cfg.w_dim, key=key)
    except StyleMixerError as e:
        win.show_message("error", f"The latent was not loaded: {e}")
        return None


def load_latent_dialog(win, which: str):
    title = f"Load Latent into {which.upper()}"
    win.open_chosen(title, "latents", LATENT_FILTER, lambda path: load_latent_file(win, which, path))


def load_latent_file(win, which: str, path: str, key: str | None = None, choose=ask_choice) -> bool:
    """Seed panel `which` takes its ws from the latent in `path` (recorded in the recipe)."""
    latent = read_latent_for_model(win, path, key, choose=choose)
    if latent is None:
        return False
    win.controller.set_latent(which, latent)
    win.statusBar().showMessage(f"{which.upper()} is now the latent {latent.name} ({latent.kind})", 4000)
    return True


def save_latents_dialog(win):
    r = win.controller.recipe
    if r is None:
        return
    name = f"latents-{r.seed_a}-{r.seed_b}.npz"
    win.save_chosen("Save Latents (A, B, mix)", "latents", name, SAVE_FILTER, lambda path: save_latents_file(win, path))


def save_latents_file(win, path: str) -> int | None:
    """Write the ws of A, B and the mix of the current recipe (keys a, b, mix; all three stacked under w, which
    NVIDIA's generate.py --projected-w renders) with the recipe. Runs on the worker; returns the task id."""
    recipe = win.controller.recipe
    if recipe is None:
        return None
    if not str(path).lower().endswith(".npz"):
        path = f"{path}.npz"

    def task(renderer):
        ws_a, ws_b, ws_mix = (w.float().cpu().numpy()[0] for w in renderer.ws(recipe))
        save_latents(path, {"a": ws_a, "b": ws_b, "mix": ws_mix}, recipe)
        yield path

    def done(name, tid, status, message):
        if name != TASK or tid != task_id:
            return
        win.worker.task_finished.disconnect(done)
        if status == "done":
            win.statusBar().showMessage(f"Saved the latents of A, B and the mix to {path}", 4000)
        elif status == "failed":
            win.show_message("error", f"Nothing was saved: {message}")

    win.worker.task_finished.connect(done)
    task_id = win.worker.submit_task(TASK, task)
    return task_id
