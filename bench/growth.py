"""One growth table for the scale goals (#16): every bench that takes ``--json FILE`` appends its
figures there (one JSON object per line), and ``bench/bench_all.py`` prints them side by side at
10k / 100k / 1M, each marked against its goal.

A figure is a median of several runs measured by its own bench; this module only records and
prints them.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path


def _cells(text: str) -> int:
    """Terminal columns of ``text`` (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, *, left: bool) -> str:
    gap = " " * max(0, width - _cells(text))
    return text + gap if left else gap + text


@dataclass
class Figure:
    name: str  # what was measured, e.g. "free text 红色 + Enter -> rows (desk cost)"
    orders: int  # the database's size
    value: float
    unit: str  # "ms", "s", "MB", "orders/s"
    goal: float | None = None  # the goal, in the same unit
    higher_is_better: bool = False  # throughputs
    goal_at: int | None = None  # the goal applies at this size only (None: at every size)
    note: str = ""

    def meets(self) -> bool | None:
        if self.goal is None or (self.goal_at is not None and self.orders != self.goal_at):
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal


def record(path: str | Path | None, figures: list[Figure]) -> None:
    """Append ``figures`` to ``path`` (nothing when ``path`` is None)."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for f in figures:
            fh.write(json.dumps(asdict(f), ensure_ascii=False) + "\n")


def load(path: str | Path) -> list[Figure]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(Figure(**json.loads(line)))
    return out


def _num(value: float, unit: str) -> str:
    if unit == "orders/s":
        return f"{value:,.0f}/s"
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.0f} {unit}".rstrip()


def _goal(f: Figure) -> str:
    if f.goal is None:
        return ""
    sign = "≥" if f.higher_is_better else "≤"
    where = f" at {f.goal_at:,}" if f.goal_at else ""
    return f"{sign} {_num(f.goal, f.unit)}{where}"


def table(figures: list[Figure], *, markdown: bool = False) -> str:
    """The growth table: one row per figure name (in first-seen order), one column per size."""
    sizes = sorted({f.orders for f in figures})
    names: list[str] = []
    cells: dict[tuple[str, int], Figure] = {}
    for f in figures:
        if f.name not in names:
            names.append(f.name)
        cells[(f.name, f.orders)] = f  # a later run of the same figure replaces an earlier one
    head = ["figure"] + [f"{n:,}" for n in sizes] + ["goal"]
    rows = []
    for name in names:
        row = [name]
        goal = ""
        for n in sizes:
            f = cells.get((name, n))
            if f is None:
                row.append("—")
                continue
            ok = f.meets()
            mark = "" if ok is None else (" OK" if ok else " MISS")
            row.append(_num(f.value, f.unit) + mark)
            goal = goal or _goal(f)
        row.append(goal)
        rows.append(row)
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(_cells(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: "  ".join(_pad(c, w, left=i == 0) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(head), *(fmt(r) for r in rows)])


def misses(figures: list[Figure]) -> list[Figure]:
    return [f for f in figures if f.meets() is False]
