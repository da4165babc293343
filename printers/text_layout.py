"""Text for a bi-level head: fonts (FreeType mono, cached per thread and size), line breaking
(Latin words, CJK characters, closing punctuation kept with what precedes it) and fitting text
into a box: wrap, shrink down to ``min_size``, then cut with "…" so it never leaves the box."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from PIL import ImageFont

from dadan.printers.errors import PrinterError
from dadan.printers.i18n import tr
from dadan.printers.layout import Text

ELLIPSIS = "…"
# characters that never start a line (they stay with the character before them)
_NO_LINE_START = set("，。、；：！？）》」』】〉”’,.;:!?)]}%…·ー～")


class Face:
    """One font at one pixel size, with a per-character width cache."""

    __slots__ = ("font", "size", "ascent", "height", "_widths")

    def __init__(self, path: str, size: int):
        self.font = ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
        self.size = size
        ascent, descent = self.font.getmetrics()
        self.ascent = ascent
        self.height = ascent + descent
        self._widths: dict[str, float] = {}

    # Measures use mode "1": monochrome hinting rounds advances differently from the
    # anti-aliased outline, and the measure must match what is drawn.
    def char_width(self, ch: str) -> float:
        w = self._widths.get(ch)
        if w is None:
            w = self._widths[ch] = self.font.getlength(ch, mode="1")
        return w

    def extent(self, text: str) -> tuple[int, int]:
        """(width of the ink and advance, shift right needed for a negative left bearing)."""
        if not text:
            return 0, 0
        left, _top, right, _bottom = self.font.getbbox(text, mode="1", anchor="la")
        shift = max(0, -left)
        return max(right, math.ceil(self.font.getlength(text, mode="1"))) + shift, shift

    def width(self, text: str) -> int:
        return self.extent(text)[0]


class _Faces(threading.local):
    """Per-thread cache: FreeType faces must not be shared between threads."""

    def __init__(self) -> None:
        self.faces: dict[tuple[str, int], Face] = {}

    def get(self, path: str, size: int) -> Face:
        face = self.faces.get((path, size))
        if face is None:
            try:
                face = self.faces[(path, size)] = Face(path, size)
            except OSError as exc:
                raise PrinterError(tr("cannot load font {p}: {e}", "无法加载字体 {p}：{e}", p=path, e=exc)) from None
        return face


_FACES = _Faces()


def face(path: str, size: int) -> Face:
    """The font at ``path`` in ``size`` pixels (cached per thread)."""
    return _FACES.get(path, size)


def _tokens(paragraph: str) -> list[str]:
    """Break units: a Latin word (with its trailing spaces) or one CJK character; closing
    punctuation sticks to the unit before it."""
    out: list[str] = []
    word = ""
    for ch in paragraph:
        if ch in _NO_LINE_START and (out or word):
            if word:
                word += ch
            else:
                out[-1] += ch
            continue
        if ch.isascii() and not ch.isspace():
            if word and word[-1].isspace():
                out.append(word)
                word = ""
            word += ch
        elif ch.isspace():
            word += ch
        else:
            if word:
                out.append(word)
                word = ""
            out.append(ch)
    if word:
        out.append(word)
    return out


def wrap(text: str, face: Face, width: int) -> list[str]:
    """Greedy line breaking of ``text`` at ``width`` dots; explicit newlines are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_w = "", 0.0
        for tok in _tokens(paragraph):
            tok_w = sum(face.char_width(c) for c in tok)
            if line and line_w + tok_w - _trailing_space(tok, face) > width:
                lines.append(line.rstrip())
                line, line_w = "", 0.0
                tok = tok.lstrip()
                tok_w = sum(face.char_width(c) for c in tok)
            if tok_w - _trailing_space(tok, face) > width:  # a word wider than the box: split it
                for c in tok:
                    cw = face.char_width(c)
                    if line and line_w + cw > width and not c.isspace():
                        lines.append(line.rstrip())
                        line, line_w = "", 0.0
                    line += c
                    line_w += cw
                continue
            line += tok
            line_w += tok_w
        lines.append(line.rstrip())
    # the per-character sum ignores kerning: check each line with the real measure
    fixed: list[str] = []
    for line in lines:
        while True:
            cut = len(line)
            while cut > 1 and face.width(line[:cut]) > width:
                cut -= 1
            fixed.append(line[:cut])
            line = line[cut:]
            if not line:
                break
    return fixed


def _trailing_space(tok: str, face: Face) -> float:
    stripped = tok.rstrip()
    return sum(face.char_width(c) for c in tok[len(stripped):])


@dataclass
class TextLayout:
    face: Face
    lines: list[str]
    line_h: int

    @property
    def height(self) -> int:
        if not self.lines:
            return 0
        return (len(self.lines) - 1) * self.line_h + self.face.height


def layout_text(el: Text, text: str, width: int, height: int | None, dpi: int, font_path: str) -> TextLayout:
    """Fit ``text`` into ``width`` x ``height`` dots: wrap, shrink to ``min_size``, then cut
    with an ellipsis. ``height`` None (growing text) keeps every line."""
    bold = 1 if el.bold else 0
    width = max(1, width - bold)
    top = max(1, round(el.size * dpi / 72))
    low = max(1, round(el.min_size * dpi / 72)) if el.min_size else top

    def attempt(size: int) -> tuple[TextLayout, int]:
        face = _FACES.get(font_path, size)
        line_h = max(1, round(size * el.line_spacing))
        lines = wrap(text, face, width) if text else []
        fit = len(lines)
        if height is not None:
            fit = 0 if face.height > height else 1 + (height - face.height) // line_h
        if el.max_lines:
            fit = min(fit, el.max_lines)
        return TextLayout(face, lines, line_h), fit

    result, fit = attempt(top)
    if len(result.lines) > fit and low < top:
        lo, hi = low, top - 1  # binary search for the largest size that fits
        best = None
        while lo <= hi:
            mid = (lo + hi) // 2
            trial, trial_fit = attempt(mid)
            if len(trial.lines) <= trial_fit:
                best, lo = (trial, trial_fit), mid + 1
            else:
                hi = mid - 1
        result, fit = best or attempt(low)
    if len(result.lines) > fit:
        result.lines = _truncate(result.lines, fit, result.face, width)
    return result


def _truncate(lines: list[str], n: int, face: Face, width: int) -> list[str]:
    if n <= 0:
        return []
    kept = lines[:n]
    last = kept[-1]
    while last and face.width(last + ELLIPSIS) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + ELLIPSIS
    return kept
