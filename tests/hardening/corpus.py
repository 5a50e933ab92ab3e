"""A corpus of broken and hostile files in the real formats, written by the tests themselves.

Every entry is (label, file name, writer, expected): the writer puts the file at the path it is given (bytes,
a FIFO, a folder); expected is "ok" (it must load or parse) or a regular expression the one-line error must
match. Models are .safetensors files built from a real tiny generator; recipes are JSON and PNG files laid
out chunk by chunk, so damage can be placed exactly where it matters. Pickles are covered elsewhere
(tests/checkpoints).
"""

from __future__ import annotations

import functools
import json
import os
import struct
import zlib

import numpy as np
import torch
from safetensors.torch import save

from stylemixer.core.checkpoints.native import FORMAT, VERSION
from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training
from stylemixer.core.mixing import Recipe

TINY = GeneratorConfig(z_dim=32, w_dim=32, mapping_layers=3, mapping_fmaps=32, resolution=32, channels=(32, 32, 16, 8))
OFFICIAL_1024 = dict(
    z_dim=512,
    w_dim=512,
    mapping_fmaps=512,
    mapping_layers=8,
    resolution=1024,
    channels=[512, 512, 512, 512, 256, 128, 64, 32, 16],
)
HUGE_INT = "9" * 5000  # beyond Python's 4,300-digit limit for int <-> str conversion
DEEP = "[" * 100_000 + "]" * 100_000
ANSI = "\x1b[2J\x1b[1;1Hforged\nstylemixer: model verified - safe\x1b[0m"


def tiny_state(cfg=TINY, seed=0) -> dict:
    return {k: v.contiguous() for k, v in init_for_training(Generator(cfg), seed).state_dict().items()}


def model_bytes(config=None, state=None, metadata=None, config_text=None) -> bytes:
    """A StyleMixer .safetensors file; config_text replaces the JSON of the config verbatim."""
    state = tiny_state() if state is None else state
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": config_text if config_text is not None else json.dumps(config or TINY.to_dict()),
    }
    meta.update(metadata or {})
    return save(state, metadata=meta)


def with_config(**changes) -> bytes:
    d = TINY.to_dict()
    d.update(changes)
    return model_bytes(config_text=json.dumps(d))


def raw_header(header, data: bytes = b"", length: int | None = None) -> bytes:
    """A safetensors file from a header given as a dict (dumped as JSON) or as raw text."""
    text = header if isinstance(header, (str, bytes)) else json.dumps(header)
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def edit_header(edit) -> bytes:
    """The tiny model's file with its header (a dict) changed by edit(header) -> header, data unchanged."""
    good = model_bytes()
    n = struct.unpack("<Q", good[:8])[0]
    header = json.loads(good[8 : 8 + n])
    header = edit(header)
    return raw_header(header, good[8 + n :])


def _first_tensor(h):
    return next(k for k in h if k != "__metadata__")


def _set(h, key, field, value):
    h[key][field] = value
    return h


def _overlap(h):
    """The second tensor in the data moved onto the first one's bytes."""
    keys = sorted((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"][0])
    a, b = keys[0], keys[1]
    size = h[b]["data_offsets"][1] - h[b]["data_offsets"][0]
    start = h[a]["data_offsets"][0]
    h[b]["data_offsets"] = [start, start + size]
    return h


# ---------------------------------------------------------------------------------------------- PNG
def chunk(ctype: bytes, data: bytes, crc: int | None = None) -> bytes:
    c = zlib.crc32(ctype + data) if crc is None else crc
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", c)


def png(chunks, width=8, height=8, image=True, end=True) -> bytes:
    """A PNG: IHDR, the given chunks, then (image) one IDAT of a width x height RGB image and IEND."""
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    out += b"".join(chunks)
    if image:
        out += chunk(b"IDAT", zlib.compress(b"\0" * (height * (width * 3 + 1))))
    if end:
        out += chunk(b"IEND", b"")
    return out


@functools.lru_cache(maxsize=2)
def big_idat(width, height) -> bytes:
    """IDAT chunks of an all-black width x height RGB image, compressed as it is produced (~1/1000 size)."""
    comp = zlib.compressobj(9)
    row = b"\0" * (width * 3 + 1)
    parts = [comp.compress(row * 100) for _ in range(height // 100)]
    parts.append(comp.compress(row * (height % 100)))
    parts.append(comp.flush())
    data = b"".join(parts)
    return b"".join(chunk(b"IDAT", data[i : i + 65536]) for i in range(0, len(data), 65536))


def recipe_json(**changes) -> str:
    d = Recipe.for_model(TINY.num_ws, seed_a=3, seed_b=4, model="builtin").to_dict()
    d.update(changes)
    return json.dumps(d)


def text_chunk(text: str, key="stylemixer.recipe") -> bytes:
    return chunk(b"tEXt", key.encode("latin-1") + b"\0" + text.encode("latin-1"))


def ztxt_chunk(data: bytes, key="stylemixer.recipe") -> bytes:
    return chunk(b"zTXt", key.encode() + b"\0\0" + zlib.compress(data, 9))


def itxt_chunk(text: str, compressed: bool, key="stylemixer.recipe") -> bytes:
    body = zlib.compress(text.encode()) if compressed else text.encode()
    return chunk(b"iTXt", key.encode() + b"\0" + bytes([int(compressed), 0]) + b"en\0\0" + body)


# ---------------------------------------------------------------------------------------------- writers
def data(content):
    def write(path):
        with open(path, "wb") as f:
            f.write(content() if callable(content) else content)

    return write


def fifo(path):
    os.mkfifo(path)


def folder(path):
    os.mkdir(path)


def device(target):
    def write(path):
        os.symlink(target, path)

    return write


def model_corpus():
    """(label, file name, writer, expected) for model files."""
    good = model_bytes()
    half = len(good) // 2
    n = struct.unpack("<Q", good[:8])[0]
    k = lambda h: _first_tensor(h)
    return [
        ("good tiny model", "good.safetensors", data(good), "ok"),
        # memory bombs: a small file whose config asks for gigabytes
        (
            "config resolution 16384",
            "res16384.safetensors",
            data(lambda: with_config(resolution=16384, channels=[8] * 13)),
            "resolution must be between",
        ),
        (
            "config channels [8000, 8000, 8]",
            "channels.safetensors",
            data(lambda: with_config(resolution=16, channels=[8000, 8000, 8])),
            r"channels\[0\] must be between",
        ),
        (
            "config mapping_layers 100000",
            "mapping.safetensors",
            data(lambda: with_config(mapping_layers=100000)),
            "mapping_layers must be between",
        ),
        (
            "1024 px config, 54 KB of tensors",
            "official-shape.safetensors",
            data(lambda: with_config(**OFFICIAL_1024)),
            "lacks|shape",
        ),
        # defaults the window cannot use
        ("psi NaN", "psi-nan.safetensors", data(lambda: with_config(truncation_psi=float("nan"))), "truncation_psi"),
        ("psi 1e308", "psi-big.safetensors", data(lambda: with_config(truncation_psi=1e308)), "truncation_psi"),
        ("cutoff -3", "cutoff.safetensors", data(lambda: with_config(truncation_cutoff=-3)), "truncation_cutoff"),
        ("crop [0,0,0,0]", "crop0.safetensors", data(lambda: with_config(crop=[0, 0, 0, 0])), "crop"),
        ("crop of 3 numbers", "crop3.safetensors", data(lambda: with_config(crop=[1, 2, 3])), "crop"),
        # config of the wrong types
        (
            "resolution Infinity",
            "res-inf.safetensors",
            data(
                lambda: model_bytes(
                    config_text=json.dumps(TINY.to_dict()).replace('"resolution": 32', '"resolution": Infinity')
                )
            ),
            "resolution must be an integer",
        ),
        ("resolution [64]", "res-list.safetensors", data(lambda: with_config(resolution=[64])), "resolution"),
        ("channels as text", "ch-text.safetensors", data(lambda: with_config(channels="abc")), "channels"),
        ("zero and negative sizes", "zero.safetensors", data(lambda: with_config(z_dim=0, w_dim=-4)), "z_dim"),
        (
            "5000-digit integer in the config",
            "bigint.safetensors",
            data(
                lambda: model_bytes(
                    config_text=json.dumps(TINY.to_dict()).replace('"z_dim": 32', f'"z_dim": {HUGE_INT}')
                )
            ),
            "invalid model configuration",
        ),
        (
            "config nested 100,000 deep",
            "deep-config.safetensors",
            data(lambda: model_bytes(config_text=DEEP)),
            "invalid model configuration",
        ),
        (
            "config is a JSON array",
            "config-array.safetensors",
            data(lambda: model_bytes(config_text="[1, 2]")),
            "JSON object",
        ),
        (
            "config not JSON",
            "config-text.safetensors",
            data(lambda: model_bytes(config_text="{nope")),
            "invalid model configuration",
        ),
        # header and metadata
        (
            "metadata is a list",
            "meta-list.safetensors",
            data(lambda: edit_header(lambda h: {**h, "__metadata__": [1]})),
            "metadata must map text to text",
        ),
        (
            "metadata value nested",
            "meta-nested.safetensors",
            data(lambda: edit_header(lambda h: {**h, "__metadata__": {**h["__metadata__"], "format": {"a": ["b"]}}})),
            "metadata must map text to text",
        ),
        (
            "metadata value a number",
            "meta-number.safetensors",
            data(lambda: edit_header(lambda h: {**h, "__metadata__": {**h["__metadata__"], "version": 1}})),
            "metadata must map text to text",
        ),
        (
            "header longer than the file",
            "hdr-long.safetensors",
            data(lambda: good[:8] + good[8 : 8 + n // 2]),
            "truncated",
        ),
        (
            "header length 2^63",
            "hdr-huge.safetensors",
            data(lambda: struct.pack("<Q", 2**63) + good[8:]),
            "unknown format",
        ),
        ("header not JSON", "hdr-text.safetensors", data(lambda: raw_header("{" + "x" * 100)), "not valid JSON"),
        ("header a JSON array", "hdr-array.safetensors", data(lambda: raw_header("[1, 2]")), "unknown format"),
        ("header an empty object", "hdr-empty.safetensors", data(lambda: raw_header("{}")), "not a StyleMixer model"),
        (
            "header nested 100,000 deep",
            "hdr-deep.safetensors",
            data(lambda: raw_header('{"a": ' + DEEP + "}")),
            "nested too deeply|not valid JSON",
        ),
        (
            "header with NaN",
            "hdr-nan.safetensors",
            data(lambda: raw_header('{"a": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 4]}}', b"\0" * 4)),
            "not valid JSON",
        ),
        (
            "header with a duplicate key",
            "hdr-dup.safetensors",
            data(
                lambda: raw_header(
                    '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
                    '"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}',
                    b"\0" * 4,
                )
            ),
            "appears twice",
        ),
        (
            "5000-digit offset",
            "hdr-bigint.safetensors",
            data(lambda: raw_header('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, ' + HUGE_INT + "]}}")),
            "not valid JSON",
        ),
        (
            "negative dimension",
            "dim-neg.safetensors",
            data(lambda: edit_header(lambda h: _set(h, k(h), "shape", [-1, 4]))),
            "invalid shape",
        ),
        (
            "huge dimension",
            "dim-huge.safetensors",
            data(lambda: edit_header(lambda h: _set(h, k(h), "shape", [2**40, 2**40]))),
            "invalid shape",
        ),
        (
            "shape and offsets disagree",
            "dim-zero.safetensors",
            data(lambda: edit_header(lambda h: _set(h, k(h), "shape", [0]))),
            "needs 0 bytes",
        ),
        ("two tensors share bytes", "overlap.safetensors", data(lambda: edit_header(_overlap)), "overlaps"),
        (
            "offsets beyond the file",
            "offsets.safetensors",
            data(lambda: edit_header(lambda h: _set(h, k(h), "data_offsets", [10**12, 10**12 + 4]))),
            "outside the file",
        ),
        (
            "bytes after the last tensor",
            "trailing.safetensors",
            data(lambda: good + b"\0" * 64),
            "after its last tensor",
        ),
        (
            "integer dtype",
            "dtype-int.safetensors",
            data(lambda: edit_header(lambda h: _set(h, "mapping_net.w_avg", "dtype", "I32"))),
            "dtype I32",
        ),
        (
            "unknown dtype",
            "dtype-x.safetensors",
            data(lambda: edit_header(lambda h: _set(h, k(h), "dtype", "Q7"))),
            "unknown dtype",
        ),
        (
            "extra field in a tensor entry",
            "entry-extra.safetensors",
            data(lambda: edit_header(lambda h: _set(h, k(h), "exec", "rm -rf /"))),
            "exactly dtype",
        ),
        (
            "NaN in a weight",
            "nan-weight.safetensors",
            data(
                lambda: model_bytes(state={**tiny_state(), "synthesis.const": torch.full((1, 32, 4, 4), float("nan"))})
            ),
            "NaN",
        ),
        (
            "escape codes in the metadata",
            "ansi.safetensors",
            data(lambda: model_bytes(metadata={"version": ANSI})),
            r"\\x1b",
        ),
        ("half a file", "half.safetensors", data(lambda: good[:half]), "truncated"),
        ("empty file", "empty.safetensors", data(b""), "not a model file|unknown format"),
        (
            "random bytes",
            "random.safetensors",
            data(lambda: np.random.default_rng(0).bytes(4000)),
            "not a model file|unknown format|pickle",
        ),
        # special files
        ("a FIFO", "pipe.safetensors", fifo, "FIFO"),
        ("/dev/zero", "zero-device.safetensors", device("/dev/zero"), "character device"),
        ("a folder", "folder.safetensors", folder, "folder"),
    ]


def recipe_corpus():
    """(label, file name, writer, expected) for recipe files (JSON and PNG)."""
    good = recipe_json()
    return [
        ("good recipe JSON", "good.json", data(good.encode()), "ok"),
        (
            "5000-digit seed",
            "bigint.json",
            data(good.replace('"seed_a": 3', f'"seed_a": {HUGE_INT}').encode()),
            "not valid JSON",
        ),
        ("nested 100,000 deep", "deep.json", data(DEEP.encode()), "nested too deeply|not valid JSON"),
        ("psi Infinity", "inf.json", data(good.replace('"psi": 1.0', '"psi": Infinity').encode()), "psi"),
        ("weight NaN", "nan.json", data(good.replace('"weights": [0.0', '"weights": [NaN').encode()), r"weights\[0\]"),
        ("psi an array", "psi-array.json", data(recipe_json(psi=[1, 2]).encode()), "psi"),
        ("seed an array", "seed-array.json", data(recipe_json(seed_a=[1]).encode()), "seed_a"),
        ("psi 1e308", "psi-big.json", data(recipe_json(psi=1e308).encode()), "psi"),
        ("cutoff 10^6", "cutoff.json", data(recipe_json(cutoff=10**6).encode()), "cutoff"),
        ("100,000 weights", "weights.json", data(recipe_json(weights=[0.0] * 100_000).encode()), "weights"),
        ("model path with NUL", "nul.json", data(recipe_json(model="a\0b").encode()), "model"),
        ("escape codes in a field", "ansi.json", data(recipe_json(noise_mode=ANSI).encode()), "noise_mode"),
        ("not UTF-8", "latin.json", data(b"\xff\xfe{}"), "neither a recipe JSON"),
        ("a JSON array", "array.json", data(b"[1, 2, 3]"), "JSON object"),
        ("2 MB file", "big.json", data(b" " * (2 << 20)), "at most"),
        ("empty file", "empty.json", data(b""), "not valid JSON"),
        # PNGs
        ("PNG with a recipe", "good.png", data(lambda: png([text_chunk(good)])), "ok"),
        (
            "9000x9000 PNG (250 KB) with a recipe",
            "bomb.png",
            data(
                lambda: (
                    png([text_chunk(good)], 9000, 9000, image=False, end=False)
                    + big_idat(9000, 9000)
                    + chunk(b"IEND", b"")
                )
            ),
            "ok",
        ),
        ("recipe before truncated image data", "cut.png", data(lambda: png([text_chunk(good)], 64, 64)[:-40]), "ok"),
        (
            "recipe after the image",
            "late.png",
            data(lambda: png([], 64, 64, end=False) + text_chunk(good) + chunk(b"IEND", b"")),
            "ok",
        ),
        ("compressed iTXt recipe", "itxt.png", data(lambda: png([itxt_chunk(good, True)])), "ok"),
        ("zTXt recipe", "ztxt.png", data(lambda: png([ztxt_chunk(good.encode())])), "ok"),
        (
            "zTXt inflating to 100 MB",
            "zbomb.png",
            data(lambda: png([ztxt_chunk(b" " * (100 << 20))])),
            "inflates to more than",
        ),
        (
            "iTXt inflating to 100 MB",
            "ibomb.png",
            data(lambda: png([itxt_chunk(" " * (100 << 20), True)])),
            "inflates to more than",
        ),
        (
            "recipe chunk with a bad CRC",
            "crc.png",
            data(lambda: png([chunk(b"tEXt", b"stylemixer.recipe\0" + good.encode(), crc=1)])),
            "CRC",
        ),
        (
            "recipe chunk of 2 GB declared",
            "len.png",
            data(
                lambda: (
                    png([], image=False, end=False) + struct.pack(">I", 0x7FFFFFF0) + b"tEXt" + b"stylemixer.recipe\0{"
                )
            ),
            "at most",
        ),
        ("no recipe", "plain.png", data(lambda: png([])), "carries no StyleMixer recipe"),
        (
            "200,000 empty chunks",
            "chunks.png",
            data(lambda: png([chunk(b"teXt", b"")] * 200_000, image=False)),
            "more than 100,000 chunks",
        ),
        ("signature only", "sig.png", data(b"\x89PNG\r\n\x1a\n"), "carries no StyleMixer recipe"),
        ("recipe chunk of invalid JSON", "badjson.png", data(lambda: png([text_chunk("{nope")])), "not valid JSON"),
        ("recipe chunk with escape codes", "ansi.png", data(lambda: png([text_chunk(recipe_json(model=ANSI))])), "ok"),
        # special files
        ("a FIFO", "pipe.json", fifo, "FIFO"),
        ("/dev/zero", "zero-device.json", device("/dev/zero"), "character device"),
        ("a folder", "folder.json", folder, "folder|Is a directory"),
    ]


def write_all(corpus, folder_path):
    """Write every entry under folder_path; returns [(label, path, expected)]."""
    out = []
    for label, name, writer, expected in corpus:
        path = os.path.join(folder_path, name)
        writer(path)
        out.append((label, path, expected))
    return out
