"""Where the shipped files live: the top-level `resources/` folder, installed as the package
`stylemixer.resources` (see pyproject.toml), or beside the source tree when running from a checkout."""

from __future__ import annotations

from pathlib import Path

BUILTIN_MODEL_FILE = "builtin.safetensors"


def resource_dir() -> Path:
    try:
        import stylemixer.resources as pkg  # the installed wheel maps resources/ here

        return Path(pkg.__file__).parent
    except ImportError:
        return Path(__file__).resolve().parents[2] / "resources"


def resource_path(name: str) -> Path:
    return resource_dir() / name


def builtin_model_path() -> Path:
    return resource_path(BUILTIN_MODEL_FILE)
