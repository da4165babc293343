"""Horizontal bar charts as text: a label, a bar of full and half blocks (``█`` and ``▌``, which
every terminal font has, and which draw in the foreground colour: they show in 16 colours and with
NO_COLOR alike), and the number, whole. Labels give way first (cropped with "…"), then the bar;
the number is never cut. A bar of a figure above zero is at least a half block, so a small
figure never looks like none."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from dadan.tui.cells import crop

FULL, HALF = "█", "▌"
MIN_BAR = 6  # cells a bar keeps however narrow the screen (wider screens get longer bars)


def bar(value: float, top: float, cells: int) -> str:
    """``value`` of ``top`` as a bar at most ``cells`` wide, in half cells."""
    if value <= 0 or top <= 0 or cells <= 0:
        return ""
    halves = max(1, round(2 * cells * value / top))
    return FULL * (halves // 2) + (HALF if halves % 2 else "")


def bar_lines(rows: list[tuple[str, float, str]], width: int, *, style: str = "", label_cells: int | None = None,
              max_label: int = 24) -> list[Text]:
    """One line per (label, value, number text), ``width`` cells in all where it fits: the bars
    of the rows share one scale (the largest value fills the room)."""
    if not rows:
        return []
    lab = label_cells or min(max_label, max(cell_len(r[0]) for r in rows))
    num = max(cell_len(r[2]) for r in rows)
    room = max(MIN_BAR, width - lab - num - 3)
    top = max(r[1] for r in rows)
    out = []
    for label, value, shown in rows:
        name = crop(label, lab)
        line = Text(name + " " * (lab - cell_len(name)) + " ")
        b = bar(value, top, room)
        line.append(b, style=style)
        line.append(" " * (room - cell_len(b)) + " " + " " * (num - cell_len(shown)) + shown)
        out.append(line)
    return out
