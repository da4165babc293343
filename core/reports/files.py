"""A report as text (aligned tables), CSV (the sections one after another) or xlsx (one sheet
per section, each with native Excel charts that reference its cells: bars of orders and shipped
and a line of the overdue rate per period, stacked bars of exceptions by kind, a pie of the
courier shares, bars per shop and per operator).

Files are written whole under a temporary name, owner-only, then renamed (as exports are)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dadan.core.errors import cells
from dadan.core.reports.figures import Report
from dadan.core.reports.tables import Section, cell_text, report_heading, sections
from dadan.core.spreadsheets.export import make_export_folder, written_whole
from dadan.core.spreadsheets.writers import neutralize

FORMATS = ("text", "csv", "xlsx")


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - cells(text))
    return gap + text if right else text + gap


def section_text(sec: Section) -> str:
    grid = [sec.headers] + [[cell_text(c) for c in row] for row in sec.rows]
    widths = [max(cells(r[i]) for r in grid) for i in range(len(sec.headers))]
    lines = [sec.title]
    for n, row in enumerate(grid):
        lines.append("  ".join(_pad(t, widths[i], right=i > 0) for i, t in enumerate(row)).rstrip())
        if n == 0 or (sec.total_row and n == len(grid) - 2):
            lines.append("  ".join("-" * w for w in widths))
    if not sec.rows:
        lines.append("  (none)")
    return "\n".join(lines)


def report_text(report: Report) -> str:
    return report_heading(report) + "\n\n" + "\n\n".join(section_text(s) for s in sections(report)) + "\n"


def report_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([report_heading(report)])
    for sec in sections(report):
        w.writerow([])
        w.writerow([sec.title])
        w.writerow(sec.headers)
        for row in sec.rows:
            w.writerow(["" if c is None else neutralize(c) if isinstance(c, str) else c for c in row])
    return buf.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    t = "".join(c for c in title if c not in '[]:*?/\\')[:31] or "Sheet"
    while t in used:
        t = t[:28] + f"~{len(used)}"
    used.add(t)
    return t


def _charts(ws, sec: Section) -> None:
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference

    n = len(sec.rows) - (1 if sec.total_row else 0)  # charts leave the total out
    if n <= 0 or len(sec.headers) < 2:
        return
    first, last = 2, 1 + n  # data rows (row 1: headers)
    cats = Reference(ws, min_col=1, min_row=first, max_row=last)
    anchor_col = chr(ord("A") + min(len(sec.headers) + 1, 20))

    def bars(cols: list[int], title: str, *, stacked: bool = False, at: str) -> None:
        ch = BarChart()
        ch.type = "col"
        ch.title = title
        if stacked:
            ch.grouping, ch.overlap = "stacked", 100
        for c in cols:
            ch.add_data(Reference(ws, min_col=c, min_row=1, max_row=last), titles_from_data=True)
        ch.set_categories(cats)
        ch.width, ch.height = 18, 8
        ws.add_chart(ch, at)

    if sec.key == "periods":
        bars([2, 5], sec.headers[1] + " / " + sec.headers[4], at=f"{anchor_col}2")
        line = LineChart()
        line.title = sec.headers[8]
        line.add_data(Reference(ws, min_col=9, min_row=1, max_row=last), titles_from_data=True)
        line.set_categories(cats)
        line.width, line.height = 18, 8
        ws.add_chart(line, f"{anchor_col}20")
    elif sec.key == "exceptions":
        bars(list(range(2, len(sec.headers) + 1)), sec.title, stacked=True, at=f"{anchor_col}2")
    elif sec.key == "couriers":
        pie = PieChart()
        pie.title = sec.title
        pie.add_data(Reference(ws, min_col=2, min_row=1, max_row=last), titles_from_data=True)
        pie.set_categories(cats)
        pie.width, pie.height = 12, 9
        ws.add_chart(pie, f"{anchor_col}2")
    else:  # shops, operators: every count column
        cols = [i + 1 for i in range(1, len(sec.headers)) if not sec.headers[i].endswith("¥")]
        bars(cols, sec.title, at=f"{anchor_col}2")


def report_workbook(report: Report):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for sec in sections(report):
        ws = wb.create_sheet(_sheet_title(sec.title, used))
        ws.append(sec.headers)
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in sec.rows:
            ws.append([neutralize(c) if isinstance(c, str) else c for c in row])
        for i, h in enumerate(sec.headers):
            if h.endswith("¥"):
                for (cell,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                    cell.number_format = "0.00"
        ws.column_dimensions["A"].width = max(12, max((cells(str(r[0])) for r in sec.rows), default=0) + 2)
        ws.freeze_panes = "B2"
        _charts(ws, sec)
    info = wb.create_sheet(_sheet_title("About", used))
    info.append([report_heading(report)])
    return wb


def write_report(report: Report, path: str | Path, fmt: str) -> Path:
    """Write the report to ``path`` (whole, owner-only); returns the path."""
    path = Path(path).expanduser()
    make_export_folder(path)
    with written_whole(path) as tmp:
        if fmt == "xlsx":
            report_workbook(report).save(tmp)
        else:
            text = report_csv(report) if fmt == "csv" else report_text(report)
            tmp.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    return path
