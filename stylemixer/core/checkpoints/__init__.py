"""Open any supported model file, recognising its format by content rather than by extension."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ConfigError, ModelFileError, printable
from ..families.api import StyleGenerator
from ..resources import builtin_model_path
from ..safeio import open_regular
from .native import is_safetensors, load_model, save_model

BUILTIN = "builtin"


@dataclass
class LoadedModel:
    G: StyleGenerator  # a generator of any family (families/api.py)
    source: str  # "builtin" or the file path, as a recipe records it
    name: str  # for titles and the status bar
    format: str  # "stylemixer" or a foreign format's name
    info: dict = field(default_factory=dict)


def sniff(path: str | os.PathLike[str]) -> str:
    """'stylemixer', 'pickle', 'zip', 'torch-legacy' or 'unknown', from the first bytes. Only a regular file is
    opened (a FIFO or a device raises ModelFileError instead of blocking)."""
    with open_regular(path, ModelFileError, "model file") as f:
        head = f.read(16)
    if is_safetensors(head):
        return "stylemixer"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:2] == b"\x80\x02" and head[2:4] == b"\x8a\x0a":
        return "torch-legacy"
    if head[:1] == b"\x80" and 2 <= head[1] <= 5:
        return "pickle"
    return "unknown"


def load_any(
    path: str | os.PathLike[str], device: str = "cpu", progress: Callable[[float], None] | None = None
) -> LoadedModel:
    """path may be 'builtin'. progress(fraction) is called during long loads (foreign formats)."""
    if str(path) == BUILTIN:
        p = builtin_model_path()
        if not p.exists():
            raise ModelFileError("the built-in model file is missing from this installation")
        return LoadedModel(load_model(p, device), BUILTIN, "built-in model", "stylemixer")
    path = os.fspath(path)
    name = printable(os.path.basename(path))
    if not os.path.exists(path):
        raise ModelFileError(f"{printable(path)}: no such file")
    if os.path.isdir(path):
        raise ModelFileError(f"{printable(path)} is a folder, not a model file")
    try:
        return _load_file(path, name, device, progress)
    except ConfigError as e:  # a foreign file's settings outside what the generator accepts
        raise ModelFileError(f"{name} has an invalid model configuration: {printable(e)}") from None


def _load_file(path: str, name: str, device: str, progress: Callable[[float], None] | None) -> LoadedModel:
    kind = sniff(path)
    if kind == "stylemixer":
        return LoadedModel(load_model(path, device), os.path.abspath(path), name, "stylemixer")
    for loader in _foreign_loaders():
        found = loader(path, kind, device, progress)
        if found is not None:
            return found
    if kind in ("zip", "torch-legacy"):
        raise ModelFileError(f"{name} is a PyTorch checkpoint; StyleMixer does not read this kind yet")
    if kind == "pickle":
        raise ModelFileError(f"{name} is a Python pickle of a kind StyleMixer does not read{_first_global(path)}")
    raise ModelFileError(f"{name} is not a model file StyleMixer can read (unknown format)")


def _foreign_loaders() -> list[Callable[..., LoadedModel | None]]:
    """Each takes (path, kind, device, progress) and returns a LoadedModel, None if not its format, or raises.
    Imported on first use: a native file needs none of them."""
    from .nvidia_pickle import try_load as nvidia_pytorch
    from .rosinality import try_load as rosinality
    from .stylegan1 import try_load as tf_stylegan1
    from .stylegan2_tf import try_load as tf_stylegan2

    # TF StyleGAN2 before v1's reader, which refuses network versions >= 4.
    return [tf_stylegan2, tf_stylegan1, rosinality, nvidia_pytorch]


def _first_global(path: str) -> str:
    """' (it refers to module.name)' for the first global a pickle names, escaped; '' if none is found."""
    from .safe_pickle import escape, scan_globals

    try:
        with open(path, "rb") as f:
            found = scan_globals(f.read(1 << 16), limit=1)
    except OSError:
        return ""
    return f" (it refers to {escape(found[0][0], 80)}.{escape(found[0][1], 80)})" if found else ""


__all__ = ["BUILTIN", "LoadedModel", "load_any", "load_model", "save_model", "sniff"]
