"""The rejects file: an import's rejected rows as an .xlsx with the original columns and an
error column, to fix and import again."""

from __future__ import annotations

from pathlib import Path

from dadan.core.i18n import tr
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.plan import ImportPlan
from dadan.core.spreadsheets.writers import neutralize


def write_rejects(plan: ImportPlan, out: str | Path | None = None) -> Path | None:
    """Rejected rows -> an .xlsx with the original columns and an error column (none -> None).
    Default name: ``<file>.rejects.xlsx`` beside the imported file."""
    if not plan.rejects:
        return None
    from openpyxl import Workbook

    p = plan.layout.path
    out = Path(out) if out else p.with_name(p.stem + ".rejects.xlsx")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(tr("rejected", "被拒绝"))
    ws.append([tr("row", "行号"), tr("error", "错误"), tr("column", "列")] + [neutralize(h) for h in plan.layout.headers])
    for r in plan.rejects:
        ws.append([r.row, neutralize(r.message), neutralize(r.column)] + [neutralize(c) for c in r.cells])
    try:
        wb.save(out)
    except OSError as exc:
        raise SpreadsheetError(tr("cannot write {p}: {e}", "无法写入 {p}：{e}", p=out, e=exc.strerror or exc)) from None
    return out
