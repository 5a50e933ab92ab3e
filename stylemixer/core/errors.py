"""Errors a user can cause (bad file, bad recipe). Their message is shown as is; no traceback.

Text that comes from a file (a name, a key, a value) is data: `printable` escapes whatever could act on a
terminal or forge a line (control characters, line separators, bidirectional overrides) before it reaches a
message, and `describe` shows any value in a bounded, never-failing form.
"""

from __future__ import annotations

import os
import unicodedata

MESSAGE_LIMIT = 300  # characters of file-supplied text quoted in one message


class StyleMixerError(Exception):
    """Base class: a problem with the user's input, explained in one line."""


class RecipeError(StyleMixerError, ValueError):
    pass


class ModelFileError(StyleMixerError):
    pass


class ConfigError(ValueError):
    """A generator config outside what a family accepts (core/limits.py). A ValueError for library callers;
    the model readers turn it into a ModelFileError that names the file."""


# Categories that never belong in a one-line message: controls (C0, C1, DEL), format characters (bidirectional
# overrides, zero-width joiners), line and paragraph separators, surrogates (undecodable bytes), unassigned.
_UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def printable(text: object, limit: int | None = MESSAGE_LIMIT) -> str:
    """`text` with every unsafe character escaped (\\x1b, \\n, \\u202e ...), cut to `limit` characters."""
    s = text if isinstance(text, str) else _safe_str(text)
    cut = limit is not None and len(s) > limit
    if cut:
        s = s[:limit]
    out = []
    for ch in s:
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) not in _UNSAFE):
            out.append(ch)
        else:
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out) + ("..." if cut else "")


def describe(value: object, limit: int = 60) -> str:
    """A short, safe rendering of any value from a file for an error message; never raises.

    repr() itself can fail (an integer of 5,000 digits exceeds Python's conversion limit) or be huge (a list
    of a million items), so those are summarised instead.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, (list, tuple, dict)) and len(value) > 16:
        return f"a {type(value).__name__} of {len(value)} items"
    return printable(_safe_repr(value), limit)


def write_error_text(path: str | os.PathLike[str], e: OSError) -> str:
    """'could not write NAME: REASON', where a missing folder is named as the reason (not the file)."""
    path = os.fspath(path)
    name = os.path.basename(path) or path
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        what = "does not exist" if not os.path.exists(folder) else "is not a folder"
        return f"could not write {printable(name)}: the folder {printable(folder)} {what}"
    return f"could not write {printable(name)}: {printable(e.strerror or e)}"


def read_error_text(path: str | os.PathLike[str], e: BaseException) -> str:
    """'cannot read NAME: REASON', the reason without the errno prefix an OSError's text carries."""
    path = os.fspath(path)
    return f"cannot read {printable(os.path.basename(path) or path)}: {printable(getattr(e, 'strerror', None) or e)}"


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return _safe_repr(value)
