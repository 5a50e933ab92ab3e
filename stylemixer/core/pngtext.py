"""Reading one text chunk of a PNG without decoding the image.

A PNG is an 8-byte signature and a list of chunks: a 4-byte big-endian length, a 4-byte type, the data and
a CRC-32 of type and data. StyleMixer's recipe is a text chunk (tEXt; zTXt or iTXt when another writer
recompressed it). Walking the chunk list costs a seek per chunk, whatever the image size, so a 9000x9000
picture costs nothing to read its recipe, and a recipe written before truncated image data is still found.
Every size is bounded: the chunk that carries the text, its decompressed length and the number of chunks.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import BinaryIO

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 1 << 20  # bytes of the chunk holding the text (a recipe is ~1 KB)
MAX_TEXT = 1 << 20  # bytes of text after decompression
MAX_CHUNKS = 100_000  # a 50 MB image in 8 KB IDAT chunks has ~6,000
TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")


class PNGTextError(ValueError):
    """The PNG is damaged where it matters, or the text is too large; the message says which."""


def is_png(head: bytes) -> bool:
    return head[:8] == SIGNATURE


def find_text(f: BinaryIO, keyword: str) -> tuple[str | None, str]:
    """(text, why) for the first text chunk of the open binary file `f` named `keyword`.

    text is None when there is none; why then says what ended the search ('end of image', 'the file ends
    early', ...). Raises PNGTextError when that chunk is damaged or too large.
    """
    f.seek(0)
    if f.read(8) != SIGNATURE:
        raise PNGTextError("not a PNG file")
    want = keyword.encode("latin-1")
    for _ in range(MAX_CHUNKS):
        head = f.read(8)
        if len(head) < 8:
            return None, "the file ends early" if head else "the file ends without an IEND chunk"
        length, ctype = struct.unpack(">I4s", head)
        if length > 0x7FFFFFFF or not ctype.isalpha():
            return None, "a damaged chunk"
        if ctype == b"IEND":
            return None, "end of image"
        if ctype in TEXT_TYPES:
            start = f.tell()
            name = f.read(min(length, 80)).split(b"\0", 1)[0]
            if name == want:
                if length > MAX_TEXT_CHUNK:
                    raise PNGTextError(f"its {keyword} chunk is {length:,} bytes; at most {MAX_TEXT_CHUNK:,}")
                f.seek(start)
                data = f.read(length)
                crc = f.read(4)
                if len(data) != length or len(crc) != 4:
                    return None, "the file ends inside its text chunk"
                if struct.unpack(">I", crc)[0] != zlib.crc32(ctype + data):
                    raise PNGTextError(f"its {keyword} chunk is damaged (CRC mismatch)")
                return _decode(ctype, data, keyword), "found"
            f.seek(start)
        f.seek(length + 4, os.SEEK_CUR)  # data and CRC; past the end is fine, the next read comes back short
    return None, f"more than {MAX_CHUNKS:,} chunks"


def _decode(ctype: bytes, data: bytes, keyword: str) -> str:
    rest = data[len(keyword) + 1 :]
    if ctype == b"tEXt":
        return rest.decode("latin-1")
    if ctype == b"zTXt":
        if rest[:1] != b"\0":
            raise PNGTextError(f"its {keyword} chunk uses an unknown compression method")
        return _inflate(rest[1:], keyword).decode("latin-1")
    # iTXt: compression flag, method, language tag \0, translated keyword \0, UTF-8 text
    if len(rest) < 2:
        raise PNGTextError(f"its {keyword} chunk is damaged")
    flag, method = rest[0], rest[1]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3 or flag not in (0, 1) or (flag and method != 0):
        raise PNGTextError(f"its {keyword} chunk is damaged")
    text = _inflate(parts[2], keyword) if flag else parts[2]
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise PNGTextError(f"its {keyword} chunk is not UTF-8 text") from None


def _inflate(data: bytes, keyword: str) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_TEXT)
    except zlib.error:
        raise PNGTextError(f"its {keyword} chunk does not decompress") from None
    if d.unconsumed_tail:
        raise PNGTextError(f"its {keyword} chunk inflates to more than {MAX_TEXT:,} bytes")
    if not d.eof:
        raise PNGTextError(f"its {keyword} chunk is cut short")
    return out
