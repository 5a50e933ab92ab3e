"""Export: PNGs that carry their recipe, written atomically; reading a recipe back from such a PNG."""

from __future__ import annotations

import io
import os
from typing import BinaryIO

import numpy as np

from .atomic import atomic_write_bytes
from .errors import RecipeError, StyleMixerError, describe, printable, write_error_text
from .images import enlarge, to_pil
from .mixing import Recipe
from .pngtext import PNGTextError, find_text, is_png
from .safeio import open_regular

RECIPE_KEY = "stylemixer.recipe"  # PNG tEXt keyword
MAX_RECIPE_BYTES = 1 << 20  # a recipe JSON is ~1 KB
MAX_EXPORT_SIDE = 16384  # pixels a side of an exported PNG (a 1024 px image enlarged 16x)


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
    check_scale(scale, arr.shape[1], arr.shape[0])
    buf = io.BytesIO()
    to_pil(enlarge(arr, scale)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def check_output_path(path: str | os.PathLike[str]) -> None:
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


def write_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write atomically; on any failure raise ExportError (naming what is wrong) and leave no file behind."""
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise ExportError(write_error_text(path, e)) from None


def save_png(
    path: str | os.PathLike[str],
    arr: np.ndarray,
    recipe: Recipe | None = None,
    scale: int = 1,
    extra: dict | None = None,
) -> None:
    """Write atomically; on any failure raise ExportError and leave no file behind."""
    write_file(path, png_bytes(arr, recipe, scale, extra))


def save_text(path: str | os.PathLike[str], text: str) -> None:
    write_file(path, text.encode("utf-8"))


def recipe_from_png(path: str | os.PathLike[str]) -> Recipe:
    """The recipe in a PNG's text chunk, read without decoding the image (pngtext.py)."""
    with open_regular(path, RecipeError, "recipe or StyleMixer PNG") as f:
        return _recipe_from_png_file(f, _name(path))


def _recipe_from_png_file(f: BinaryIO, name: str) -> Recipe:
    try:
        text, why = find_text(f, RECIPE_KEY)
    except PNGTextError as e:
        raise RecipeError(f"{name}: {e}") from None
    except OSError as e:
        raise RecipeError(f"cannot read {name}: {printable(e.strerror or e)}") from None
    if text is None:
        tail = "" if why == "end of image" else f" (stopped at {why})"
        raise RecipeError(f"{name} carries no StyleMixer recipe{tail}")
    return _parse(text, name)


def _parse(text: str, name: str) -> Recipe:
    try:
        return Recipe.from_json(text)
    except RecipeError as e:
        raise RecipeError(f"{name}: {e}") from None


def load_recipe_file(path: str | os.PathLike[str]) -> Recipe:
    """A .json recipe, or a PNG exported by StyleMixer (recognised by content). Only a regular file is read,
    a JSON recipe of at most MAX_RECIPE_BYTES; a PNG's image data is never decoded."""
    name = _name(path)
    with open_regular(path, RecipeError, "recipe or StyleMixer PNG") as f:
        try:
            head = f.read(8)
            if is_png(head):
                return _recipe_from_png_file(f, name)
            size = os.fstat(f.fileno()).st_size
            if size > MAX_RECIPE_BYTES:
                raise RecipeError(f"{name} is {size:,} bytes; a recipe is at most {MAX_RECIPE_BYTES:,}")
            data = head + f.read(MAX_RECIPE_BYTES + 1 - len(head))
        except OSError as e:
            raise RecipeError(f"cannot read {name}: {printable(e.strerror or e)}") from None
    if len(data) > MAX_RECIPE_BYTES:
        raise RecipeError(f"{name} is larger than {MAX_RECIPE_BYTES:,} bytes; a recipe is at most that")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RecipeError(f"{name} is neither a recipe JSON nor a StyleMixer PNG") from None
    return _parse(text, name)


def check_scale(scale: object, width: int, height: int) -> int:
    """An enlargement factor: an integer >= 1 whose result is at most MAX_EXPORT_SIDE pixels a side."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ExportError(f"the scale must be a whole number of at least 1, got {describe(scale)}")
    side = max(width, height) * scale
    if side > MAX_EXPORT_SIDE:
        raise ExportError(
            f"a scale of {scale} makes a {width * scale}x{height * scale} image; at most "
            f"{MAX_EXPORT_SIDE} pixels a side"
        )
    return scale


def _name(path: str | os.PathLike[str]) -> str:
    return printable(os.path.basename(os.fspath(path)) or os.fspath(path))
