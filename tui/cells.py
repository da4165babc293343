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


def fit_columns(table, cells: dict[str, list[str]]) -> None:
    """Give these columns of a DataTable the width of their widest cell (the header's too) at
    once. DataTable measures new rows only when its message queue next idles, and rows that
    arrive while the app is busy can wait for that with their numbers cut."""
    for key, texts in cells.items():
        column = table.columns[key]
        width = max([column.label.cell_len, *map(cell_len, texts)])
        if column.auto_width or column.width != width:
            column.width, column.auto_width = width, False
    table.refresh()
