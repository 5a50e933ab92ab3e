"""Open rosinality/stylegan2-pytorch checkpoints (.pt), zip or legacy torch.save, without running anything in them.

Two steps, both of which only parse:
1. A scan. The checkpoint's pickle (`<stem>/data.pkl` in a zip, the object pickle of a legacy stream) goes through a
   restricted Unpickler that builds plain containers and placeholders only: tensors become TensorInfo(shape),
   storages are counted by key (element count x element size) instead of allocated, argparse.Namespace becomes an
   ArgsRecord, and every other global is refused by name. The scan says whether the file is a rosinality StyleGAN2
   checkpoint and checks that the bytes its storages claim are really in the file, before anything large is
   allocated: torch's legacy reader allocates each storage at its declared size before reading it, so a small
   damaged or hostile file could otherwise ask for any amount of memory.
2. The load: torch.load(weights_only=True, map_location='cpu'), memory-mapped for zip files so the discriminator and
   optimiser states are never read into memory. train.py checkpoints hold an argparse.Namespace of the training
   arguments, which weights_only refuses; it is allow-listed for this call only, as ArgsRecord, a stand-in that
   keeps the pickled attributes as a dict of plain values (argparse.Namespace itself is an inert class too, but the
   stand-in also refuses non-plain attribute values and leaves torch's global allow-list unchanged afterwards).
   Never weights_only=False.

Layouts: convert_weight.py's {'g_ema', 'latent_avg'}, train.py's {'g', 'd', 'g_ema', 'g_optim', 'd_optim', 'args',
'ada_aug_p'}, or a bare g_ema state dict. Only g_ema (else g) is used; the family converter
(families/stylegan2/convert.py) infers the configuration from the tensor shapes.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pickle
import struct
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import torch

from ..errors import ModelFileError, read_error_text
from .tf_pickle import RefusedGlobal

if TYPE_CHECKING:
    from . import LoadedModel

FORMAT = "rosinality-stylegan2"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_ITEMSIZE = {
    "DoubleStorage": 8,
    "FloatStorage": 4,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
}
_MARKERS = ("style.1.weight", "conv1.conv.weight", "to_rgb1.conv.weight")
_PLAIN = (str, int, float, bool, type(None))


class ArgsRecord:
    """Stands in for argparse.Namespace: the pickled attributes as a dict of plain values, nothing more."""

    __slots__ = ("values",)

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise pickle.UnpicklingError("the training arguments in the file are not a dict of named values")

        def plain(v: object) -> Any:
            if isinstance(v, _PLAIN):
                return v
            if isinstance(v, (list, tuple)) and all(isinstance(x, _PLAIN) for x in v):
                return list(v)
            return repr(type(v).__name__)  # kept as a description only

        self.values = {k: plain(v) for k, v in state.items()}


class TensorInfo:
    """A tensor seen by the scan: its shape."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


class _StorageType:
    __slots__ = ("itemsize", "name")

    def __init__(self, name: str) -> None:
        self.name, self.itemsize = name, _ITEMSIZE[name]


def _rebuild_tensor(storage: object, offset: object, size: object, stride: object, *rest: object) -> TensorInfo:
    if (
        not isinstance(storage, _StorageRef)
        or not isinstance(size, tuple)
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in size)
    ):
        raise pickle.UnpicklingError("a tensor in the file has an invalid form")
    return TensorInfo(size)


def _rebuild_parameter(data: object, *rest: object) -> TensorInfo:
    if not isinstance(data, TensorInfo):
        raise pickle.UnpicklingError("a parameter in the file has an invalid form")
    return data


class _StorageRef:
    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


class _Call:
    """An allowed function behind a wrapper, so that a BUILD opcode aimed at it cannot modify it."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def __call__(self, *args: Any) -> Any:
        return self._fn(*args)

    def __setstate__(self, state: object) -> NoReturn:
        raise pickle.UnpicklingError("the file tries to modify a built-in helper")


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _Call(_rebuild_tensor),
    ("torch._utils", "_rebuild_tensor"): _Call(_rebuild_tensor),
    ("torch._utils", "_rebuild_parameter"): _Call(_rebuild_parameter),
    ("torch._utils", "_rebuild_parameter_with_state"): _Call(_rebuild_parameter),
    ("argparse", "Namespace"): ArgsRecord,
}
_ALLOWED.update({("torch", n): _StorageType(n) for n in _ITEMSIZE})


class _Scanner(pickle.Unpickler):
    """Unpickles a torch.save object pickle into placeholders; `storages` maps key -> declared bytes."""

    def __init__(self, f: io.BufferedIOBase) -> None:
        super().__init__(f, encoding="utf-8")
        self.storages: dict = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise RefusedGlobal(str(module), str(name)) from None

    def persistent_load(self, pid: Any) -> _StorageRef:
        if (
            not isinstance(pid, tuple)
            or len(pid) not in (5, 6)
            or pid[0] not in ("storage", b"storage")
            or not isinstance(pid[1], _StorageType)
            or not isinstance(pid[4], int)
            or pid[4] < 0
        ):
            raise pickle.UnpicklingError("the file refers to something other than a tensor storage")
        key = str(pid[2])
        nbytes = pid[4] * pid[1].itemsize
        if self.storages.setdefault(key, nbytes) != nbytes:
            raise pickle.UnpicklingError(f"storage {key} is declared with two different sizes")
        return _StorageRef(key)


def _scan_zip(path: str, size: int, name: str) -> tuple[Any, dict[str, int]] | None:
    """(scanned object, {key: declared bytes}) of a torch.save zip; None when the zip is not a torch checkpoint."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = {i.filename: i for i in z.infolist()}
            pkl = [n for n in infos if n.endswith("/data.pkl") and n.count("/") == 1]
            if any(n.endswith("/constants.pkl") or "/code/" in n for n in infos):
                raise ModelFileError(
                    f"{name} is a TorchScript archive, not a checkpoint; StyleMixer reads "
                    f"checkpoints saved with torch.save"
                )
            if len(pkl) != 1:
                return None
            stem = pkl[0][: -len("data.pkl")]
            info = infos[pkl[0]]
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
                raise ModelFileError(f"{name} is damaged: its data.pkl is compressed or larger than the file")
            obj, storages = _scan_pickle(io.BytesIO(z.read(pkl[0])), name)
            for key, nbytes in storages.items():
                member = infos.get(f"{stem}data/{key}")
                if member is None:
                    raise ModelFileError(f"{name} is damaged or truncated: tensor data {key} is missing")
                if member.compress_type != zipfile.ZIP_STORED or member.file_size < nbytes:
                    raise ModelFileError(
                        f"{name} is damaged: tensor data {key} holds {member.file_size} bytes, {nbytes} declared"
                    )
            return obj, storages
    except zipfile.BadZipFile:
        raise ModelFileError(
            f"{name} is truncated or damaged (its zip directory is unreadable); download it again"
        ) from None


def _scan_legacy(path: str, size: int, name: str) -> tuple[Any, dict[str, int]] | None:
    """(scanned object, {key: declared bytes}) of a legacy torch.save stream; checks the data section's length."""
    with open(path, "rb") as f:
        header = _Scanner(f)
        try:
            magic, proto, _sysinfo = header.load(), header.load(), header.load()
        except (pickle.UnpicklingError, EOFError, ValueError, struct.error):
            raise ModelFileError(f"{name} is damaged: not a complete torch.save header") from None
        if magic != LEGACY_MAGIC or proto != 1001:
            return None
        obj, storages = _scan_pickle(f, name)
        try:
            keys = _Scanner(f).load()
        except (pickle.UnpicklingError, EOFError, ValueError, struct.error):
            raise ModelFileError(f"{name} is truncated (it ends before its tensor data); download it again") from None
        if not isinstance(keys, list) or set(map(str, keys)) != set(storages):
            raise ModelFileError(f"{name} is damaged: its tensor list does not match its tensors")
        need = sum(8 + storages[str(k)] for k in keys)
        have = size - f.tell()
        if have < need:
            raise ModelFileError(f"{name} is truncated ({have} bytes of tensor data, {need} needed); download it again")
    return obj, storages


def _scan_pickle(f: io.BufferedIOBase, name: str) -> Any:
    sc = _Scanner(f)
    try:
        obj = sc.load()
    except RefusedGlobal as e:
        raise ModelFileError(f"{name} was not opened: {e}") from None
    except EOFError:
        raise ModelFileError(f"{name} is truncated (the data ends early); download it again") from None
    except (
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        struct.error,
        RecursionError,
        UnicodeDecodeError,
        MemoryError,
    ) as e:
        raise ModelFileError(f"{name} is damaged: {str(e)[:200] or type(e).__name__}") from None
    return obj, sc.storages


def _looks_like_generator(d: object) -> bool:
    return isinstance(d, dict) and all(k in d for k in _MARKERS)


def classify(obj: object, name: str) -> str | None:
    """Which part of a scanned checkpoint holds the generator: 'g_ema', 'g', '' (the top level) or None."""
    if _looks_like_generator(obj):
        return ""
    if not isinstance(obj, dict):
        return None
    for key in ("g_ema", "g"):
        if _looks_like_generator(obj.get(key)):
            return key
    if "d" in obj and isinstance(obj["d"], dict) and not any(k in obj for k in ("g", "g_ema")):
        raise ModelFileError(
            f"{name} holds only a discriminator ('d'); StyleMixer needs the generator, which "
            f"rosinality checkpoints store as 'g_ema'"
        )
    return None


@contextlib.contextmanager
def _namespace_allowed() -> Iterator[None]:
    """argparse.Namespace as ArgsRecord for torch.load(weights_only=True), for this call only."""
    ser = torch.serialization
    if not hasattr(ser, "safe_globals"):
        yield
        return
    try:
        ctx = ser.safe_globals([(ArgsRecord, "argparse.Namespace")])
        ctx.__enter__()
    except (TypeError, ValueError):  # torch without substitutes: the plain class is inert too
        import argparse

        ctx = ser.safe_globals([argparse.Namespace])
        ctx.__enter__()
    try:
        yield
    finally:
        ctx.__exit__(None, None, None)


def try_load(
    path: str | os.PathLike[str], kind: str, device: str = "cpu", progress: Callable[[float], None] | None = None
) -> LoadedModel | None:
    """A LoadedModel for a rosinality StyleGAN2 checkpoint; None for any other file; ModelFileError if it is one
    that cannot be used."""
    if kind not in ("zip", "torch-legacy"):
        return None
    path = os.fspath(path)
    name = os.path.basename(path)
    try:
        size = os.path.getsize(path)
        scanned = _scan_zip(path, size, name) if kind == "zip" else _scan_legacy(path, size, name)
    except OSError as e:
        raise ModelFileError(read_error_text(path, e)) from None
    if scanned is None:
        return None
    obj, storages = scanned
    where = classify(obj, name)
    if where is None:
        return None
    if sum(storages.values()) > size:
        raise ModelFileError(f"{name} is damaged: it declares more tensor data than the file holds")
    if progress is not None:
        progress(0.1)
    try:
        with _namespace_allowed():
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=(kind == "zip"))
    except OSError as e:
        raise ModelFileError(read_error_text(path, e)) from None
    except (
        pickle.UnpicklingError,
        RuntimeError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        struct.error,
        MemoryError,
    ) as e:
        msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ModelFileError(f"{name} could not be read safely ({msg})") from None
    if progress is not None:
        progress(0.7)
    state = data if where == "" else data[where]
    latent_avg = data.get("latent_avg") if where else None
    args = data.get("args") if where else None
    if isinstance(args, ArgsRecord):
        args_values = getattr(args, "values", {})  # unset when the Namespace was pickled without attributes
    else:
        args_values = dict(vars(args)) if args is not None else None
    from ..families.stylegan2.convert import from_rosinality

    info: dict[str, Any] = {"generator": where or "state dict"}
    G = from_rosinality({k: v for k, v in state.items()}, latent_avg, args_values, name, info)
    del data, state
    if args_values:
        info["args"] = {
            k: v
            for k, v in args_values.items()
            if k in ("size", "channel_multiplier", "latent", "n_mlp", "arch", "iter", "start_iter")
        }
    if progress is not None:
        progress(1.0)
    from . import LoadedModel

    return LoadedModel(G.to(device), os.path.abspath(path), name, FORMAT, info)


__all__ = ["FORMAT", "ArgsRecord", "TensorInfo", "classify", "try_load"]
