"""Text from a file or the platform made safe to show: control characters (C0, DEL, C1,
ESC) and bidi overrides become visible marks, so a cell cannot retitle, clear or reorder the
terminal it is shown on (:func:`visible`), nor break an .xlsx writer (:func:`xlsx_safe`)."""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "]")
# what openpyxl refuses in a cell (XML 1.0 forbids them); tab, LF and CR are allowed
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _mark(m: re.Match) -> str:
    c = m.group()
    o = ord(c)
    if o < 0x20:
        return chr(0x2400 + o)  # the Unicode control pictures: ␀ … ␛ …
    if o == 0x7F:
        return "\u2421"  # ␡
    if o <= 0x9F:
        return f"\\x{o:02x}"
    return f"<U+{o:04X}>"


def visible(text) -> str:
    """``text`` with every control character and bidi override shown as a visible mark
    (``\\x1b`` -> ``␛``, ``\\n`` -> ``␊``, ``\\x9b`` -> ``\\x9b``, U+202E -> ``<U+202E>``)."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    return _CONTROLS.sub(_mark, s) if _CONTROLS.search(s) else s


def xlsx_safe(v):
    """A cell value an .xlsx can hold: text's characters that XML forbids shown as marks."""
    if isinstance(v, str) and _XLSX_ILLEGAL.search(v):
        return _XLSX_ILLEGAL.sub(_mark, v)
    return v
