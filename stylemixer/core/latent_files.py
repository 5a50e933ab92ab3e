"""W and W+ latents in files: read the layouts people pass around, write StyleMixer's own.

Read (by content, not by extension):
- `.npz` (NumPy zip): NVIDIA's projector writes `projected_w.npz` with key `w`, shape [1, num_ws, w_dim];
  others use `ws`, or hold a single array under any name. StyleMixer's own files hold `a`, `b`, `mix` and `w`.
- `.npy`: one array.
- `.pt` / `.pth`: a tensor, or a dict of tensors, read with `torch.load(weights_only=True)` (no code runs).
Accepted shapes: [w_dim] or [1, w_dim] (W), [num_ws, w_dim] or [1, num_ws, w_dim] (W+), and [N, num_ws, w_dim]
with the latent chosen as `KEY[i]`. Which array: `FILE:KEY` (or `FILE:KEY[i]`) names it; otherwise `w`, then
`ws`, then the only array there is.

Nothing is read before its size is known: the file is at most MAX_FILE_BYTES, and an npz member's header
(shape, dtype) is checked before its data is inflated. Only regular files are opened.
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import zipfile
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from .errors import RecipeError, read_error_text
from .mixing import Latent

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .mixing import Recipe

MAX_FILE_BYTES = 256 * 2**20  # a W+ of the largest StyleGAN is 36 KB; projector batches stay far below this
MAX_ARRAY_VALUES = 16 * 2**20
FLOAT_KINDS = "f"
PREFERRED_KEYS = ("w", "ws")
_KEY_RE = re.compile(r"^(?P<key>[^\[\]]*)(\[(?P<index>\d+)\])?$")


class LatentFileError(RecipeError):
    """A latent file that cannot be used; the message names the file and what is wrong."""


def _name(path: str | os.PathLike[str]) -> str:
    return os.path.basename(os.fspath(path)) or os.fspath(path)


def split_spec(spec: str | os.PathLike[str]) -> tuple[str, str | None]:
    """'photo.npz' -> ('photo.npz', None); 'mix.npz:b' -> ('mix.npz', 'b'); 'many.npz:w[2]' -> (..., 'w[2]').

    A path that exists as it is wins, so file names containing ':' still work."""
    spec = os.fspath(spec)
    if os.path.exists(spec) or ":" not in spec:
        return spec, None
    path, _, key = spec.rpartition(":")
    if not path or "/" in key or "\\" in key:
        return spec, None
    return path, key


def _open_regular(path: str | os.PathLike[str]) -> bytes:
    try:
        st = os.stat(path)
    except OSError as e:
        raise LatentFileError(read_error_text(path, e)) from None
    if not stat.S_ISREG(st.st_mode):
        raise LatentFileError(f"{_name(path)} is not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise LatentFileError(
            f"{_name(path)} is {st.st_size / 2**20:.0f} MB; a latent file is at most {MAX_FILE_BYTES // 2**20} MB"
        )
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise LatentFileError(read_error_text(path, e)) from None


def _check_header(where: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if dtype.hasobject or dtype.kind not in FLOAT_KINDS:
        raise LatentFileError(f"{where}: expected floating-point values, got dtype {dtype}")
    if math.prod(shape) > MAX_ARRAY_VALUES:
        raise LatentFileError(f"{where}: shape {list(shape)} is far larger than any latent")


def _npy_header(f: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f"unsupported .npy version {version}")


def _read_npy(data: bytes, where: str) -> np.ndarray:
    f = io.BytesIO(data)
    try:
        shape, _fortran, dtype = _npy_header(f)
    except (ValueError, OSError, SyntaxError) as e:
        raise LatentFileError(f"{where}: not a valid .npy array ({e})") from None
    _check_header(where, shape, dtype)
    f.seek(0)
    try:
        return np.lib.format.read_array(f, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise LatentFileError(f"{where}: the array is damaged ({e})") from None


def _npz_arrays(data: bytes, path: str | os.PathLike[str]) -> dict:
    """{key: lazy loader} of an npz, with every member's header checked first (no inflating of a bomb)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise LatentFileError(f"{_name(path)}: not a valid .npz file ({e})") from None
    if len(infos) > 256:
        raise LatentFileError(f"{_name(path)}: holds {len(infos)} arrays; a latent file holds a few")
    out = {}
    for info in infos:
        if not info.filename.endswith(".npy"):
            continue
        key = info.filename[:-4]
        where = f"{_name(path)}:{key}"
        if info.file_size > 16 + 8 * MAX_ARRAY_VALUES + 65536:
            raise LatentFileError(f"{where}: {info.file_size / 2**20:.0f} MB is far larger than any latent")
        try:
            with zf.open(info) as f:
                head = f.read(65536 + 16)
            shape, _fortran, dtype = _npy_header(io.BytesIO(head))
        except (ValueError, OSError, SyntaxError, zipfile.BadZipFile, EOFError) as e:
            raise LatentFileError(f"{where}: not a valid array ({e})") from None
        if dtype.kind in "US" and not dtype.hasobject:  # text (StyleMixer stores its recipe); not a latent
            continue
        _check_header(where, shape, dtype)

        def load(info: zipfile.ZipInfo = info, where: str = where) -> np.ndarray:
            try:
                return _read_npy(zf.read(info), where)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise LatentFileError(f"{where}: the array is damaged ({e})") from None

        out[key] = (tuple(shape), load)
    return out


def _pt_arrays(data: bytes, path: str | os.PathLike[str]) -> dict:
    import torch

    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # the unpickler refuses anything but tensors and plain containers
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LatentFileError(f"{_name(path)}: not a tensor file that can be read safely ({msg[:200]})") from None
    if isinstance(obj, torch.Tensor):
        obj = {"": obj}
    if not isinstance(obj, dict):
        raise LatentFileError(f"{_name(path)}: expected a tensor or a dict of tensors, got {type(obj).__name__}")
    out = {}
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            where = f"{_name(path)}:{k}" if k else _name(path)
            if not v.is_floating_point():
                raise LatentFileError(f"{where}: expected floating-point values, got {v.dtype}")
            arr = v.detach().to(torch.float32).numpy()
            out[str(k)] = (tuple(arr.shape), lambda arr=arr: arr)
    return out


def _arrays(path: str | os.PathLike[str]) -> dict:
    data = _open_regular(path)
    if data[:4] == b"PK\x03\x04":
        try:  # torch's zip format has a data.pkl; NumPy's npz holds .npy members
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise LatentFileError(f"{_name(path)}: not a valid zip file ({e})") from None
        if any(n.endswith("data.pkl") for n in names):
            return _pt_arrays(data, path)
        return _npz_arrays(data, path)
    if data[:6] == b"\x93NUMPY":
        arr = _read_npy(data, _name(path))
        return {"": (tuple(arr.shape), lambda: arr)}
    if data[:2] == b"\x80\x02" or str(path).lower().endswith((".pt", ".pth")):
        return _pt_arrays(data, path)  # torch's legacy (non-zip) format
    raise LatentFileError(f"{_name(path)} is not a latent file (.npz, .npy or a torch .pt tensor)")


def _count(shape: tuple[int, ...]) -> int:
    """How many latents an array holds: [N, num_ws, w_dim] -> N, anything smaller -> 1."""
    return shape[0] if len(shape) == 3 else 1


def latent_choices(path: str | os.PathLike[str]) -> list[str]:
    """Every latent in a file, as the KEY (or KEY[i]) that `read_latent` takes ('' for a bare array)."""
    out = []
    for key, (shape, _) in _arrays(path).items():
        n = _count(shape)
        out += [key] if n == 1 else [f"{key}[{i}]" for i in range(n)]
    return out


def read_latent(path: str | os.PathLike[str], key: str | None = None) -> tuple[np.ndarray, str, tuple]:
    """(float32 [w_dim] or [num_ws, w_dim], a display name, the array's shape as stored)."""
    path, spec_key = split_spec(path) if key is None else (os.fspath(path), key)
    arrays = _arrays(path)
    if not arrays:
        raise LatentFileError(f"{_name(path)} holds no arrays")
    index = None
    if spec_key is not None:
        m = _KEY_RE.match(spec_key)
        if not m or m.group("key") not in arrays:
            raise LatentFileError(
                f"{_name(path)} has no latent {spec_key!r}; it holds {', '.join(repr(c) for c in latent_choices(path))}"
            )
        key, index = m.group("key"), m.group("index")
    else:
        key = next((k for k in PREFERRED_KEYS if k in arrays), None)
        if key is None:
            if len(arrays) > 1:
                raise LatentFileError(
                    f"{_name(path)} holds several arrays ({', '.join(sorted(arrays))}); name one as {_name(path)}:KEY"
                )
            key = next(iter(arrays))
    shape, load = arrays[key]
    where = f"{_name(path)}:{key}" if key else _name(path)
    arr = np.asarray(load(), dtype=np.float32)
    if len(shape) == 3:
        if index is None and shape[0] != 1:
            choices = latent_choices(path)
            raise LatentFileError(
                f"{_name(path)} holds {len(choices)} latents ({', '.join(choices[:8])}"
                f"{', …' if len(choices) > 8 else ''}); choose one as {_name(path)}:KEY"
            )
        i = int(index or 0)
        if i >= shape[0]:
            raise LatentFileError(f"{where} holds {shape[0]} latents; there is no [{i}]")
        arr, where = arr[i], f"{where}[{i}]" if shape[0] > 1 else where
    elif index is not None and int(index) != 0:
        raise LatentFileError(f"{where} holds one latent; there is no [{index}]")
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]  # [1, w_dim]: one W with a batch axis
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise LatentFileError(
            f"{where}: shape {list(shape)} is not a latent; expected [w_dim], [num_ws, w_dim] or [1, num_ws, w_dim]"
        )
    if not np.isfinite(arr).all():
        raise LatentFileError(f"{where}: contains NaN or infinity")
    stem = os.path.splitext(_name(path))[0]
    if stem == "projected_w":  # NVIDIA's fixed name: the folder says which photo it is
        stem = os.path.basename(os.path.dirname(os.path.abspath(path))) or stem
    name = stem if not key or (key in PREFERRED_KEYS and len(arrays) == 1) else f"{stem}:{key}"
    if index is not None and shape[0] > 1:
        name = f"{name}[{index}]"
    return np.ascontiguousarray(arr), name, shape


def load_latent(
    spec: str | os.PathLike[str], num_ws: int | None = None, w_dim: int | None = None, key: str | None = None
) -> Latent:
    """A latent file (FILE or FILE:KEY) as a Latent for a recipe; with num_ws and w_dim, checked against the
    model with a message that names both shapes."""
    arr, name, stored = read_latent(spec, key)
    latent = Latent.from_array(name, arr)
    if num_ws is not None and w_dim is not None and arr.shape not in ((w_dim,), (num_ws, w_dim)):
        where = _name(split_spec(spec)[0] if key is None else spec)
        raise LatentFileError(
            f"{where}: the latent has shape {list(stored)}, but this model takes "
            f"[1, {num_ws}, {w_dim}] (W+: {num_ws} w indices of {w_dim}) or [{w_dim}] (W)"
        )
    return latent


def save_latents(path: str | os.PathLike[str], arrays: dict, recipe: Recipe | None = None, kind: str = "w+") -> None:
    """Write latents as an .npz, atomically (a failure leaves no file). A recipe is stored as JSON text under
    `recipe`.

    kind "w+": each array ([num_ws, w_dim] or [1, num_ws, w_dim]) under its key as [1, num_ws, w_dim], and all of
    them stacked under `w` ([N, num_ws, w_dim], NVIDIA's layout: `generate.py --projected-w` renders them all).
    kind "w": each as one W ([w_dim]) under its key; refused when an array's rows differ (truncation with a
    cutoff makes a W+ that is not one W)."""
    from .export import write_file

    rows = {k: np.asarray(v, dtype=np.float32).reshape(-1, *np.shape(v)[-2:]) for k, v in arrays.items()}
    if kind == "w":
        out = {}
        for k, v in rows.items():
            if not (v == v[:, :1]).all():
                raise LatentFileError(f"{k}: its w indices differ (truncation with a cutoff), so it is a W+, not a W")
            out[k] = v[0, 0]
    elif kind == "w+":
        out = dict(rows)
        if "w" not in out:
            out["w"] = np.concatenate(list(rows.values()))
    else:
        raise ValueError(f"kind must be 'w' or 'w+', got {kind!r}")
    if recipe is not None:
        out["recipe"] = np.array(recipe.to_json())
    buf = io.BytesIO()
    np.savez(buf, **out)
    write_file(path, buf.getvalue())


def save_latent(path: str | os.PathLike[str], ws: ArrayLike) -> None:
    """One W+ latent in NVIDIA's projector layout: key `w`, [1, num_ws, w_dim]."""
    save_latents(path, {"w": np.asarray(ws, dtype=np.float32).reshape(1, *np.shape(ws)[-2:])})
