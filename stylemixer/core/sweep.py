"""Sweeps: one control animated between two values over N frames, rendered to a GIF (Pillow) or an MP4 (PyAV).

A sweep is a base recipe plus what moves; frame i is an ordinary recipe (`Sweep.frame(i)`), rendered through the
renderer and its cache, so a sweep of w index k resumes every frame at AdaIN k. Controls:

- `weights`: the weights of some w indices (one index, a group, a range) from `start` to `end` (0 = A, 1 = B);
- `psi`: truncation psi from `start` to `end`;
- `seed_a` / `seed_b`: A's (or B's) seed from `start` to `end` as a continuous seed, so w moves through the
  integer seeds in between, interpolated between neighbours (w, not z, as the field does); the mix stays;
- `walk`: the picture walks through w from seed to seed of `seeds` (s0 -> s1 -> ...): frame recipes take A and B
  from consecutive seeds with every weight at the position between them.

`pingpong` plays the frames forward and back again (without repeating the end frames), so the video loops.
The exported file carries the sweep's JSON (GIF: its comment; MP4: the `comment` metadata tag), and
`sweep_from_file` reads it back to render the same frames again.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .errors import RecipeError, read_error_text, write_error_text
from .export import ExportError
from .families import GROUPS
from .images import enlarge
from .latents import MAX_SEED
from .mixing import Recipe, document_fields, document_json, seed_source
from .safeio import open_regular

if TYPE_CHECKING:
    from av.video.stream import VideoStream
    from PIL import Image

    from .families.api import LayerInfo
    from .render import Renderer, RenderResult

SWEEP_FORMAT = "stylemixer.sweep"
SWEEP_VERSION = 1
CONTROLS = ("weights", "psi", "seed_a", "seed_b", "walk")
FORMATS = ("gif", "mp4")
MAX_FRAMES = 10_000
GIF_BUDGET = 2 * 2**30  # a GIF is written from frames held in memory (Pillow compares neighbours)


class SweepError(RecipeError):
    pass


class SweepCancelled(Exception):
    """Raised inside an export when its `cancelled()` turned true; the partial file is already gone."""


@dataclass(frozen=True)
class Sweep:
    recipe: Recipe
    control: str = "weights"
    start: float = 0.0
    end: float = 1.0
    frames: int = 30  # frames from start to end (ping-pong adds the way back)
    indices: tuple = ()  # control "weights": the w indices that move
    seeds: tuple = ()  # control "walk": the seeds visited in order
    pingpong: bool = False
    fps: float = 25.0

    def __post_init__(self) -> None:
        # Only the control's own list is kept, so a sweep equals its JSON round trip.
        object.__setattr__(self, "indices", tuple(int(i) for i in self.indices) if self.control == "weights" else ())
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds) if self.control == "walk" else ())
        n = len(self.recipe.weights)
        if self.control not in CONTROLS:
            raise SweepError(f"control: expected one of {', '.join(CONTROLS)}, got {self.control!r}")
        if isinstance(self.frames, bool) or not isinstance(self.frames, int) or not 2 <= self.frames <= MAX_FRAMES:
            raise SweepError(f"frames: expected an integer from 2 to {MAX_FRAMES}, got {self.frames!r}")
        for k in ("start", "end", "fps"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise SweepError(f"{k}: expected a number, got {v!r}")
            object.__setattr__(self, k, float(v))
        if not 0.1 <= self.fps <= 120:
            raise SweepError(f"fps: expected 0.1 to 120, got {self.fps}")
        if self.control == "weights":
            if not self.indices:
                raise SweepError("indices: name the w indices that move")
            bad = [i for i in self.indices if not 0 <= i < n]
            if bad:
                raise SweepError(f"indices: {bad[0]} is outside 0-{n - 1}")
            for k in ("start", "end"):
                if not 0 <= getattr(self, k) <= 1:
                    raise SweepError(f"{k}: a weight is in [0, 1], got {getattr(self, k)}")
        if self.control in ("seed_a", "seed_b"):
            for k in ("start", "end"):
                if not 0 <= getattr(self, k) <= MAX_SEED:
                    raise SweepError(f"{k}: a seed is between 0 and {MAX_SEED}, got {getattr(self, k)}")
        if self.control == "walk":
            if len(self.seeds) < 2:
                raise SweepError("seeds: a walk needs at least two seeds")
            bad = [s for s in self.seeds if not 0 <= s <= MAX_SEED]
            if bad:
                raise SweepError(f"seeds: {bad[0]} is not a seed")
        if self.control == "psi":
            for k in ("start", "end"):
                if not -2 <= getattr(self, k) <= 2:
                    raise SweepError(f"{k}: psi is between -2 and 2 here, got {getattr(self, k)}")

    @property
    def frame_count(self) -> int:
        return 2 * self.frames - 2 if self.pingpong else self.frames

    def position(self, i: int) -> float:
        """0 at the first frame, 1 at the last frame before the way back."""
        if not 0 <= i < self.frame_count:
            raise IndexError(f"frame {i} of {self.frame_count}")
        j = i if i < self.frames else 2 * self.frames - 2 - i
        return j / (self.frames - 1)

    def value(self, i: int) -> float:
        t = self.position(i)
        return self.start + (self.end - self.start) * t

    def frame(self, i: int) -> Recipe:
        """Frame i's recipe: an ordinary recipe, rendered like any other."""
        r, v = self.recipe, self.value(i)
        if self.control == "weights":
            w = list(r.weights)
            for k in self.indices:
                w[k] = min(1.0, max(0.0, v))
            return r.with_weights(w)
        if self.control == "psi":
            return replace(r, psi=round(v, 6))
        if self.control in ("seed_a", "seed_b"):
            return r.with_source(self.control[-1], seed_source(v))
        # walk: segment k of the path joins seeds[k] and seeds[k + 1]
        t = self.position(i) * (len(self.seeds) - 1)
        k = min(int(math.floor(t)), len(self.seeds) - 2)
        u = min(1.0, max(0.0, round(t - k, 6)))
        return replace(
            r.with_source("a", self.seeds[k]).with_source("b", self.seeds[k + 1]), weights=(u,) * len(r.weights)
        )

    def label(self) -> str:
        what = {
            "weights": f"w {_ranges(self.indices)}",
            "psi": "psi",
            "seed_a": "seed A",
            "seed_b": "seed B",
            "walk": "walk " + " → ".join(str(s) for s in self.seeds),
        }[self.control]
        span = "" if self.control == "walk" else f" {self.start:g} → {self.end:g}"
        return f"{what}{span}, {self.frame_count} frames{' ping-pong' if self.pingpong else ''}"

    # ---- JSON ------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {
            "format": SWEEP_FORMAT,
            "version": SWEEP_VERSION,
            "control": self.control,
            "start": self.start,
            "end": self.end,
            "frames": self.frames,
            "pingpong": self.pingpong,
            "fps": self.fps,
            "recipe": self.recipe.to_dict(),
        }
        if self.control == "weights":
            d["indices"] = list(self.indices)
        if self.control == "walk":
            d["seeds"] = list(self.seeds)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: object) -> Sweep:
        d = document_fields(d, "sweep", SWEEP_FORMAT, SWEEP_VERSION, cls.__dataclass_fields__, SweepError)
        for k in ("indices", "seeds"):
            v = d.get(k, [])
            if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                raise SweepError(f"{k}: expected a list of integers")
        if not isinstance(d.get("pingpong", False), bool):
            raise SweepError("pingpong: expected true or false")
        d["recipe"] = Recipe.from_dict(d.get("recipe"))
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> Sweep:
        return cls.from_dict(document_json(text, "sweep", SweepError))


def _ranges(indices: Iterable[int]) -> str:
    idx = sorted(indices)
    parts, i = [], 0
    while i < len(idx):
        j = i
        while j + 1 < len(idx) and idx[j + 1] == idx[j] + 1:
            j += 1
        parts.append(str(idx[i]) if i == j else f"{idx[i]}-{idx[j]}")
        i = j + 1
    return ",".join(parts)


def parse_control(text: str, layers: list[LayerInfo]) -> tuple[str, tuple]:
    """'w4' or '4' (one w index), '0-3', 'coarse' / 'middle' / 'fine' / 'all', 'psi', 'seed-a', 'seed-b', 'walk'
    -> (control, indices)."""
    t = text.strip().lower().replace("seed-", "seed_")
    if t in ("psi", "seed_a", "seed_b", "walk"):
        return t, ()
    n = len(layers)
    if t in GROUPS:
        return "weights", tuple(l.index for l in layers if l.group == t)
    if t == "all":
        return "weights", tuple(range(n))
    body = t.removeprefix("w")
    lo, sep, hi = body.partition("-")
    try:
        a, b = int(lo), int(hi) if sep else int(lo)
    except ValueError:
        raise SweepError(
            f"control: {text!r} is not w<k>, a range like 0-3, coarse, middle, fine, all, psi, seed-a, seed-b or walk"
        ) from None
    if not 0 <= a <= b < n:
        raise SweepError(f"control: w indices {text!r} are outside 0-{n - 1}")
    return "weights", tuple(range(a, b + 1))


# ---- frames ------------------------------------------------------------------------------------------------------
def iter_frames(renderer: Renderer, sweep: Sweep, start: int = 0) -> Iterator[tuple[int, RenderResult]]:
    """(i, RenderResult) for every frame, through the renderer's cache."""
    from .render import RenderRequest

    for i in range(start, sweep.frame_count):
        yield i, renderer.render(RenderRequest(sweep.frame(i)))


def format_of(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    fmt = (fmt or os.path.splitext(os.fspath(path))[1].lstrip(".")).lower()
    if fmt not in FORMATS:
        raise SweepError(f"{os.path.basename(os.fspath(path))}: write a .gif or an .mp4")
    return fmt


def check_memory(sweep: Sweep, height: int, width: int, scale: int, fmt: str, budget: int = GIF_BUDGET) -> None:
    """A GIF holds every frame until it is written; refuse one that would not fit, saying what would."""
    if fmt != "gif":
        return
    per = height * width * scale * scale * 4  # the RGB frame and Pillow's palette copy
    need = per * sweep.frame_count
    if need > budget:
        raise SweepError(
            f"a GIF of {sweep.frame_count} frames of {width * scale} × {height * scale} needs "
            f"{need / 2**30:.1f} GB in memory while it is written; at most {budget // per} frames fit "
            f"at this size (or write an MP4, which streams)"
        )


def _even(img: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs even sides: repeat the last row / column when one is odd."""
    h, w = img.shape[:2]
    if h % 2:
        img = np.concatenate([img, img[-1:]], axis=0)
    if w % 2:
        img = np.concatenate([img, img[:, -1:]], axis=1)
    return img


class _GifWriter:
    def __init__(self, path: str | os.PathLike[str], sweep: Sweep) -> None:
        self.path, self.sweep = path, sweep
        self.frames: list[Image.Image] = []

    def add(self, img: np.ndarray) -> None:
        from .images import to_pil

        self.frames.append(to_pil(img))

    def close(self) -> None:
        first, rest = self.frames[0], self.frames[1:]
        # Pillow merges a frame identical to the one before into it (adding its duration): the playback is the
        # same, the file has fewer frames.
        first.save(
            self.path,
            format="GIF",
            save_all=True,
            append_images=rest,
            loop=0,
            duration=max(10, int(round(1000 / self.sweep.fps))),
            comment=self.sweep.to_json().encode(),
        )
        self.frames = []

    def abort(self) -> None:
        self.frames = []


class _Mp4Writer:
    def __init__(self, path: str | os.PathLike[str], sweep: Sweep) -> None:
        try:
            import av
        except ImportError:
            raise SweepError("MP4 needs PyAV: pip install 'stylemixer[video]' (or pip install av)") from None
        self.av = av
        self.container = av.open(os.fspath(path), mode="w", format="mp4")
        self.container.metadata["comment"] = sweep.to_json()
        self.container.metadata["title"] = f"StyleMixer sweep: {sweep.label()}"
        self.stream: VideoStream | None = None  # made with the first frame, whose size it takes
        self.rate = Fraction(sweep.fps).limit_denominator(1001)

    def add(self, img: np.ndarray) -> None:
        img = _even(img if img.shape[2] == 3 else np.repeat(img, 3, axis=2))
        if self.stream is None:
            # PyAV's wheels ship FFmpeg with x264; a build without it still has FFmpeg's own MPEG-4 encoder.
            h264 = "libx264" in self.av.codecs_available
            s = self.container.add_stream("libx264" if h264 else "mpeg4", rate=self.rate)
            s.width, s.height = img.shape[1], img.shape[0]
            s.pix_fmt = "yuv420p"
            s.options = {"crf": "16", "preset": "medium"} if h264 else {"qscale": "2"}
            self.stream = s
        frame = self.av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        if self.stream is not None:  # flush the encoder
            for packet in self.stream.encode():
                self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:
            pass


def iter_export(
    renderer: Renderer, sweep: Sweep, path: str | os.PathLike[str], fmt: str | None = None, scale: int = 1
) -> Generator[tuple[int, int], None, None]:
    """Render every frame and write the video, yielding (frames done, frame count) after each frame.

    Written to a temporary file beside `path` and renamed at the end, so stopping the generator (Cancel), a
    render error or a full disk leaves no file. A folder that cannot be written to fails before any rendering.
    """
    fmt = format_of(path, fmt)
    path = os.fspath(path)
    if not isinstance(scale, int) or not 1 <= scale <= 32:
        raise SweepError(f"scale: expected 1 to 32, got {scale!r}")
    cfg = renderer.G.cfg
    crop = getattr(cfg, "crop", None)
    h = (crop[1] - crop[0]) if crop else cfg.resolution
    w = (crop[3] - crop[2]) if crop else cfg.resolution
    check_memory(sweep, h, w, scale, fmt)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".stylemixer-", suffix=f".part.{fmt}", dir=folder)
        os.close(fd)
    except OSError as e:
        raise ExportError(write_error_text(path, e)) from None
    writer = None
    done = False
    try:
        writer = (_GifWriter if fmt == "gif" else _Mp4Writer)(tmp, sweep)
        n = sweep.frame_count
        for i, res in iter_frames(renderer, sweep):
            writer.add(enlarge(res.mix, scale))
            yield i + 1, n
        writer.close()
        writer = None
        os.replace(tmp, path)
        done = True
    except OSError as e:
        raise ExportError(write_error_text(path, e)) from None
    finally:
        if writer is not None:
            writer.abort()
        if not done:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def export_sweep(
    renderer: Renderer,
    sweep: Sweep,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    scale: int = 1,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> str:
    """Write the sweep as a GIF or MP4 (by extension unless `fmt`). `progress(done, total)` after each frame;
    when `cancelled()` turns true the export stops, leaves no file and raises SweepCancelled."""
    gen = iter_export(renderer, sweep, path, fmt, scale)
    try:
        for done, total in gen:
            if progress is not None:
                progress(done, total)
            if cancelled is not None and cancelled():
                gen.close()  # runs the generator's clean-up: the temporary file goes
                raise SweepCancelled(f"cancelled after {done} of {total} frames; nothing was written")
    finally:
        gen.close()
    return os.fspath(path)


# ---- reading a sweep back -----------------------------------------------------------------------------------------
def sweep_from_file(path: str | os.PathLike[str]) -> Sweep:
    """The sweep JSON carried by a GIF or MP4 that StyleMixer wrote, or a sweep JSON file."""
    name = os.path.basename(os.fspath(path))
    try:
        with open_regular(path, SweepError, "sweep file") as f:
            head = f.read(12)
    except OSError as e:
        raise SweepError(read_error_text(path, e)) from None
    text = None
    if head[:6] in (b"GIF87a", b"GIF89a"):
        from PIL import Image

        try:
            with Image.open(path) as im:
                text = im.info.get("comment")
        except OSError as e:
            raise SweepError(read_error_text(path, e)) from None
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
    elif head[4:8] == b"ftyp":
        try:
            import av
        except ImportError:
            raise SweepError("reading an MP4 needs PyAV (pip install av)") from None
        try:
            with av.open(os.fspath(path)) as c:
                text = c.metadata.get("comment")
        except Exception as e:  # PyAV raises its own error types for damaged containers
            raise SweepError(read_error_text(path, e)) from None
    else:
        try:
            with open_regular(path, SweepError, "sweep file") as f:
                text = f.read(64 * 2**20).decode("utf-8", errors="replace")
        except OSError as e:
            raise SweepError(read_error_text(path, e)) from None
    if not text or SWEEP_FORMAT not in text:
        raise SweepError(f"{name} carries no StyleMixer sweep")
    return Sweep.from_json(text)
