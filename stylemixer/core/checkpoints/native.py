"""StyleMixer's own model file: one .safetensors file, the generator family and its config as JSON in its metadata.

safetensors is a JSON header plus raw little-endian tensors, so loading never unpickles anything. Files written
before families existed have no "family" entry; they are StyleGAN v1.
"""
from __future__ import annotations

import json
import os
import struct

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load_bytes
from safetensors.torch import save as st_save_bytes

from .. import families
from ..atomic import atomic_write_bytes
from ..errors import ModelFileError

FORMAT = "stylemixer.generator"
VERSION = "1"


def save_model(G, path, extra_metadata: dict | None = None):
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


def read_metadata(data: bytes) -> dict:
    n = struct.unpack("<Q", data[:8])[0]
    if 8 + n > len(data):
        raise ModelFileError("the file is truncated: its header is longer than the file")
    try:
        header = json.loads(data[8:8 + n])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError("the safetensors header is not valid JSON") from None
    return header.get("__metadata__") or {}


def load_model(path, device="cpu"):
    """Read a StyleMixer model file. Raises ModelFileError with a readable message on any problem."""
    name = os.path.basename(str(path))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ModelFileError(f"cannot read {name}: {e.strerror or e}") from None
    return load_model_bytes(data, name, device)


def load_model_bytes(data: bytes, name="model", device="cpu", extra: dict | None = None):
    if not is_safetensors(data[:16]):
        raise ModelFileError(f"{name} is not a safetensors file")
    meta = read_metadata(data)
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{name} is a safetensors file but not a StyleMixer model (no '{FORMAT}' metadata)")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{name} has model format version {meta.get('version')!r}; this StyleMixer reads {VERSION}")
    family_name = meta.get("family", families.DEFAULT_FAMILY)
    try:
        fam = families.family(family_name)
    except (KeyError, ImportError, TypeError):
        raise ModelFileError(f"{name} is a model of family {family_name!r}, which this StyleMixer does not know "
                             f"(it knows {', '.join(families.names())})") from None
    try:
        cfg = fam.Config.from_dict(json.loads(meta["config"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{name} has an invalid model configuration: {e}") from None
    try:
        tensors = st_load_bytes(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise ModelFileError(f"{name} is damaged or truncated ({e})") from None
    G = fam.Generator(cfg)
    check_state(G, tensors, name)
    G.load_state_dict(tensors, strict=True)
    if extra is not None:
        extra.update({k: v for k, v in meta.items() if k not in ("format", "version", "family", "config")})
    return G.eval().requires_grad_(False).to(device)


def check_state(G: torch.nn.Module, tensors: dict, name: str):
    """Refuse missing, unexpected or wrongly shaped tensors, naming them."""
    want = G.state_dict()
    missing = sorted(set(want) - set(tensors))
    extra = sorted(set(tensors) - set(want))
    if missing:
        raise ModelFileError(f"{name} lacks {len(missing)} tensor(s), e.g. {missing[0]}")
    if extra:
        raise ModelFileError(f"{name} has {len(extra)} unexpected tensor(s), e.g. {extra[0]}")
    for k, v in want.items():
        t = tensors[k]
        if tuple(t.shape) != tuple(v.shape):
            raise ModelFileError(f"{name}: tensor {k} has shape {list(t.shape)}, expected {list(v.shape)}")
        if not t.dtype.is_floating_point:
            raise ModelFileError(f"{name}: tensor {k} has dtype {t.dtype}, expected floating point")
        if not torch.isfinite(t).all():
            raise ModelFileError(f"{name}: tensor {k} contains NaN or infinite values")
