"""Export: PNGs that carry their recipe, written atomically; reading a recipe back from such a PNG."""
from __future__ import annotations

import io
import os

import numpy as np

from .atomic import atomic_write_bytes
from .errors import RecipeError, StyleMixerError
from .images import enlarge, to_pil
from .mixing import Recipe

RECIPE_KEY = "stylemixer.recipe"  # PNG tEXt keyword


class ExportError(StyleMixerError):
    pass


def png_bytes(arr: np.ndarray, recipe: Recipe | None = None, scale: int = 1, extra: dict | None = None) -> bytes:
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    if recipe is not None:
        info.add_text(RECIPE_KEY, recipe.to_json())
    for k, v in (extra or {}).items():
        info.add_text(k, str(v))
    info.add_text("Software", "StyleMixer")
    buf = io.BytesIO()
    to_pil(enlarge(arr, scale)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def check_output_path(path):
    """Raise ExportError now if `path` cannot be written (a missing folder, a folder in the way), so a command
    fails before its slow part, not after it."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ExportError(f"could not write {path}: it is a folder")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ExportError(write_error_text(path, FileNotFoundError()))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"could not write {os.path.basename(path)}: the folder {folder} is not writable")


def write_file(path, data: bytes):
    """Write atomically; on any failure raise ExportError (naming what is wrong) and leave no file behind."""
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise ExportError(write_error_text(path, e)) from None


def write_error_text(path, e: OSError) -> str:
    """'could not write NAME: REASON', where a missing folder is named as the reason (not the file)."""
    path = os.fspath(path)
    name = os.path.basename(path) or path
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        what = "does not exist" if not os.path.exists(folder) else "is not a folder"
        return f"could not write {name}: the folder {folder} {what}"
    return f"could not write {name}: {e.strerror or e}"


def save_png(path, arr: np.ndarray, recipe: Recipe | None = None, scale: int = 1, extra: dict | None = None):
    """Write atomically; on any failure raise ExportError and leave no file behind."""
    write_file(path, png_bytes(arr, recipe, scale, extra))


def save_text(path, text: str):
    write_file(path, text.encode("utf-8"))


def recipe_from_png(path) -> Recipe:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            text = im.text.get(RECIPE_KEY) if hasattr(im, "text") else None
    except (OSError, UnidentifiedImageError) as e:
        raise RecipeError(f"cannot read {os.path.basename(os.fspath(path))} as an image: {e}") from None
    if text is None:
        raise RecipeError(f"{os.path.basename(os.fspath(path))} carries no StyleMixer recipe")
    return Recipe.from_json(text)


def load_recipe_file(path) -> Recipe:
    """A .json recipe, or a PNG exported by StyleMixer (recognised by content)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head == b"\x89PNG\r\n\x1a\n":
                return recipe_from_png(path)
            f.seek(0)
            data = f.read(10_000_000)
    except OSError as e:
        raise RecipeError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return Recipe.from_json(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecipeError(f"{os.path.basename(os.fspath(path))} is neither a recipe JSON nor a StyleMixer PNG") from None
