"""Text from a session file made safe to print: no terminal escapes, no forged lines.

A trainee name or a recognized turn is whatever was typed or heard, and a session folder may have been
edited by anyone: printed raw, `\\x1b[2J` clears a trainer's terminal and a newline forges a list row.
Control characters, line separators and bidirectional overrides are shown as visible escapes instead.
"""

from __future__ import annotations

import unicodedata

_BIDI = {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
         "\u2066", "\u2067", "\u2068", "\u2069", "\u061c"}


def printable(text: object) -> str:
    """One line of text, every control or layout character written as an escape (\\x1b, \\n, \\u202e)."""
    return "".join(_escaped(c) for c in str(text))


def _escaped(c: str) -> str:
    if c in _BIDI or unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs"):
        code = ord(c)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return c
