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


def save_png(path, arr: np.ndarray, recipe: Recipe | None = None, scale: int = 1, extra: dict | None = None):
    """Write atomically; on any failure raise ExportError and leave no file behind."""
    data = png_bytes(arr, recipe, scale, extra)
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise ExportError(f"could not write {os.path.basename(os.fspath(path))}: {e.strerror or e}") from None


def save_text(path, text: str):
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as e:
        raise ExportError(f"could not write {os.path.basename(os.fspath(path))}: {e.strerror or e}") from None


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
