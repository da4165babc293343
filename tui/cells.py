"""Fitting text into terminal cells: labels give way (cropped with "…"), numbers never."""

from __future__ import annotations

from rich.cells import cell_len


def crop(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` cells (wide CJK characters count two), "…" where cut."""
    if cell_len(text) <= cells:
        return text
    out = ""
    for ch in text:
        if cell_len(out + ch) > cells - 1:
            break
        out += ch
    return out + "…"


def label_with_count(label: str, count: str, cells: int) -> str:
    """``label count`` in ``cells`` cells: the label is cropped, the count stays whole."""
    return f"{crop(label, max(1, cells - cell_len(count) - 1))} {count}"
