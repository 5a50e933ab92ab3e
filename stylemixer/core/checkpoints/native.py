"""StyleMixer's own model file: one .safetensors file, the generator family and its config as JSON in its metadata.

safetensors is a JSON header plus raw little-endian tensors, so loading never unpickles anything. Files written
before families existed have no "family" entry; they are StyleGAN v1.
"""

from __future__ import annotations

import io
import json
import os
import struct
from typing import TYPE_CHECKING

from safetensors.torch import save as st_save_bytes

from .. import families
from ..atomic import atomic_write_bytes
from ..errors import ModelFileError, describe, printable
from ..safeio import open_regular
from .bounds import file_size, load_checked, read_header

if TYPE_CHECKING:
    from ..families.api import StyleGenerator

FORMAT = "stylemixer.generator"
VERSION = "1"


def save_model(G: StyleGenerator, path: str | os.PathLike[str], extra_metadata: dict | None = None) -> None:
    """Write G (parameters and persistent buffers) to `path` atomically."""
    meta = {"format": FORMAT, "version": VERSION, "family": G.family, "config": json.dumps(G.cfg.to_dict())}
    for k, v in (extra_metadata or {}).items():
        if k in meta:
            raise ValueError(f"metadata key {k!r} is reserved")
        meta[str(k)] = v if isinstance(v, str) else json.dumps(v)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in G.state_dict().items()}
    atomic_write_bytes(path, st_save_bytes(tensors, metadata=meta))


def is_safetensors(head: bytes) -> bool:
    """safetensors starts with a little-endian u64 header size, then a JSON object."""
    return len(head) >= 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < 100_000_000


def load_model(path: str | os.PathLike[str], device: str = "cpu") -> StyleGenerator:
    """Read a StyleMixer model file. Raises ModelFileError with a readable message on any problem."""
    name = printable(os.path.basename(str(path)))
    with open_regular(path, ModelFileError, "model file") as f:
        return load_model_file(f, name, device)


def load_model_bytes(
    data: bytes, name: str = "model", device: str = "cpu", extra: dict | None = None
) -> StyleGenerator:
    return load_model_file(io.BytesIO(data), name, device, extra)


def load_model_file(
    f: io.BufferedIOBase, name: str = "model", device: str = "cpu", extra: dict | None = None
) -> StyleGenerator:
    """From an open binary file. Nothing is allocated before the config and every declared tensor were checked
    against the file's size (bounds.py)."""
    if not is_safetensors(f.read(16)):
        raise ModelFileError(f"{name} is not a safetensors file")
    header = read_header(f, file_size(f), name)
    meta = header.metadata
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{name} is a safetensors file but not a StyleMixer model (no '{FORMAT}' metadata)")
    if meta.get("version") != VERSION:
        raise ModelFileError(
            f"{name} has model format version {describe(meta.get('version'))}; this StyleMixer reads {VERSION}"
        )
    family_name = meta.get("family", families.DEFAULT_FAMILY)
    try:
        fam = families.family(family_name)
    except (KeyError, ImportError, TypeError):
        raise ModelFileError(
            f"{name} is a model of family {describe(family_name)}, which this StyleMixer does not "
            f"know (it knows {', '.join(families.names())})"
        ) from None
    try:
        cfg = fam.Config.from_dict(json.loads(meta["config"]))
    except KeyError:
        raise ModelFileError(f"{name} has no model configuration") from None
    except RecursionError:
        raise ModelFileError(f"{name} has an invalid model configuration: nested too deeply") from None
    except (TypeError, ValueError) as e:  # ConfigError, JSON errors, integers beyond Python's digit limit
        raise ModelFileError(f"{name} has an invalid model configuration: {printable(e)}") from None
    G = load_checked(fam.Generator, cfg, header, f, name)
    if extra is not None:
        extra.update({k: v for k, v in meta.items() if k not in ("format", "version", "family", "config")})
    return G.eval().requires_grad_(False).to(device)
