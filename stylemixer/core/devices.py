"""Device choice: CUDA, then Apple MPS, then CPU, unless the user names one."""

from __future__ import annotations

import torch


def available_devices() -> list[str]:
    out = ["cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def pick_device(name: str | None = None) -> torch.device:
    if name in (None, "", "auto"):
        devs = available_devices()
        return torch.device(devs[1] if len(devs) > 1 else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; available: {', '.join(available_devices())}") from None
    if dev.type == "cuda" and (not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"device {name!r} is not available; available: {', '.join(available_devices())}")
    if dev.type == "mps" and "mps" not in available_devices():
        raise ValueError(f"device 'mps' is not available; available: {', '.join(available_devices())}")
    return dev


def release_cached_memory() -> None:
    """Hand the CUDA caching allocator's unused blocks back to the driver (after a failed render or load).

    Never raises: it is a clean-up step on an error path.
    """
    try:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:
        pass
