"""The rejects file: an import's rejected rows as an .xlsx with the original columns and an
error column, to fix and import again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from dadan.core.i18n import tr
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.writers import neutralize

if TYPE_CHECKING:
    from dadan.core.spreadsheets.plan import ImportPlan
    from dadan.core.spreadsheets.rows import RejectedRow


def write_rejects(plan: ImportPlan, out: str | Path | None = None) -> Path | None:
    """An order or tracking import's rejected rows (none -> None); see :func:`write_rejected_rows`."""
    return write_rejected_rows(plan.rejects, plan.layout.headers, plan.layout.path, out)


def write_rejected_rows(rejects: Sequence[RejectedRow], headers: Sequence[str], source: Path,
                        out: str | Path | None = None) -> Path | None:
    """Rejected rows -> an .xlsx with the original columns and an error column (none -> None).
    Default name: ``<file>.rejects.xlsx`` beside the imported file ``source``."""
    if not rejects:
        return None
    from openpyxl import Workbook

    out = Path(out) if out else source.with_name(source.stem + ".rejects.xlsx")
    if out.resolve() == source.resolve():
        raise SpreadsheetError(tr("the rejects file {p} is the imported file itself: give another name",
                                  "被拒绝行文件 {p} 就是导入的文件本身：请换一个文件名", p=out))
    if out.suffix.lower() != ".xlsx" and not out.is_dir():  # (a folder: refused as such below)
        raise SpreadsheetError(tr("the rejects file {p} is an Excel file: give it a name ending in .xlsx",
                                  "被拒绝行文件 {p} 是 Excel 文件：文件名请以 .xlsx 结尾", p=out))
    from dadan.core.spreadsheets.export import ExportError, written_whole

    try:  # owner-only, as every file dadan writes: the rows carry buyers' names, phones, addresses
        with written_whole(out) as tmp:  # (the workbook made once the target is known good)
            wb = Workbook(write_only=True)
            ws = wb.create_sheet(tr("rejected", "被拒绝"))
            ws.append([tr("row", "行号"), tr("error", "错误"), tr("column", "列")] + [neutralize(h) for h in headers])
            for r in rejects:
                ws.append([r.row, neutralize(r.message), neutralize(r.column)] + [neutralize(c) for c in r.cells])
            wb.save(tmp)
    except ExportError as exc:
        raise SpreadsheetError(exc.message) from None
    return out
