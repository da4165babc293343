"""Writing rows for Excel and friends: JSON Lines, CSV and xlsx, with text cells that cannot run
as formulas (:func:`neutralize`) and digit strings Excel cannot round (:func:`csv_cell`);
money as exact yuan (:func:`yuan`)."""

from __future__ import annotations

import csv
import json
import os
import re
from contextlib import suppress
from decimal import Decimal
from pathlib import Path

from dadan.core.visible import xlsx_safe


def neutralize(v):
    """A text cell starting with = + - @ (or tab/CR) would run as a formula in Excel: prefix it.
    The import strips that prefix again (:func:`core.spreadsheets.cells.clean_text`). Control
    characters an .xlsx cannot hold are shown as marks (:func:`core.visible.xlsx_safe`)."""
    if isinstance(v, str) and v and v[0] in "=+-@\t\r":
        return xlsx_safe("'" + v)
    return xlsx_safe(v)


# digits Excel would turn into a number: 12+ digits (shown rounded, digits lost past 15) or a
# leading zero (dropped)
_EXCEL_NUMBER_DAMAGE = re.compile(r"[0-9]{12,}|0[0-9]+")


def csv_cell(v):
    """One CSV cell: neutralised, and a long digit string tab-prefixed so that Excel keeps it
    as text (the merchant backend's own exports do the same; the import strips the tab)."""
    if v is None:
        return ""
    if isinstance(v, str) and _EXCEL_NUMBER_DAMAGE.fullmatch(v):
        return "\t" + v
    return neutralize(v)


def yuan(fen: int | None) -> Decimal:
    """Fen -> yuan with two decimals, exactly (a number cell in xlsx, "12.50" in CSV)."""
    return Decimal(int(fen or 0)).scaleb(-2)


# the rows an xlsx sheet holds, its header's included (Excel's limit: a longer sheet does not open)
XLSX_SHEET_ROWS = 1_048_576


def sheet_scratch(path: Path, n: int) -> Path:
    """The file where an xlsx written to ``path`` keeps its sheet ``n`` until saved."""
    return path.with_name(f"{path.name}.sheet{n}")


class RowWriter:
    """Rows of one export to JSON Lines, CSV (cells made safe by :func:`csv_cell`) or write-only
    xlsx sheets (money as ``0.00`` number cells): a sheet that reaches Excel's
    :data:`XLSX_SHEET_ROWS` goes on in the next, ``dadan (2)`` and so on, its header repeated
    (a year of orders, one row per item, is more than one sheet holds).

    For xlsx, ``out`` is the file :meth:`save_xlsx` writes. Until then each sheet's rows wait in
    a file beside it (:func:`sheet_scratch`), owner-only, which saving removes: not in the
    system's temp folder, where the xlsx library would put them (a year of orders is over a
    gigabyte of buyers' data, too much for a /tmp held in memory, and left there by a killed desk)."""

    def __init__(self, fmt: str, out, columns: list[str]):
        self.fmt = fmt
        self.columns = columns
        self.out = out
        if fmt == "csv":
            self._csv = csv.writer(out, lineterminator="\r\n")
            self._csv.writerow([csv_cell(c) for c in columns])
        elif fmt == "xlsx":
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell

            self._path = Path(out)
            self._wb = Workbook(write_only=True)
            self._sheets = 0
            self._new_sheet()
            self._money_cell = WriteOnlyCell

    def _new_sheet(self) -> None:
        self._sheets += 1
        self._ws = self._wb.create_sheet("dadan" if self._sheets == 1 else f"dadan ({self._sheets})")
        self._ws._writer = self._sheet_writer(self._ws, sheet_scratch(self._path, self._sheets))
        self._ws.append([neutralize(c) for c in self.columns])
        self._sheet_rows = 1

    @staticmethod
    def _sheet_writer(ws, scratch: Path):
        """The write-only sheet's writer, streaming to ``scratch`` (made owner-only). Left to
        itself, the sheet makes one on its first row, streaming to a file in the system's temp
        folder. The library's list of its temp files takes ``scratch`` too: saving takes it off
        (and removes the file), as the library's exit handler would."""
        from openpyxl.worksheet import _writer

        from dadan.printers.private_files import write_private_bytes

        write_private_bytes(scratch, b"")
        path = os.fspath(scratch)
        _writer.ALL_TEMP_FILES.append(path)
        writer = _writer.WorksheetWriter(ws, out=path)
        writer.write_top()
        return writer

    def __enter__(self) -> "RowWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def discard(self) -> None:
        """Close the sheets and remove their waiting rows: after :meth:`save_xlsx`, or for an
        export that failed before it (``with RowWriter(...)`` does this on the way out). Left
        to the garbage collector, an unsaved sheet's streams close in any order, and the
        last one to close fails writing into the other."""
        if self.fmt != "xlsx":
            return
        for ws in self._wb.worksheets:
            if not ws.closed:
                with suppress(OSError, ValueError):  # (a failed export's disk may be full)
                    ws.close()
        from openpyxl.worksheet import _writer

        for n in range(1, self._sheets + 1):
            path = sheet_scratch(self._path, n)
            path.unlink(missing_ok=True)
            if os.fspath(path) in _writer.ALL_TEMP_FILES:  # (saving took it off)
                _writer.ALL_TEMP_FILES.remove(os.fspath(path))

    def _xlsx_cell(self, v):
        if isinstance(v, Decimal):
            cell = self._money_cell(self._ws, value=v)
            cell.number_format = "0.00"
            return cell
        return neutralize(v)

    def row(self, values: list, record: dict | None = None) -> None:
        if self.fmt == "jsonl":
            rec = record if record is not None else dict(zip(self.columns, values))
            self.out.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        elif self.fmt == "csv":
            self._csv.writerow([csv_cell(v) for v in values])
        else:
            if self._sheet_rows >= XLSX_SHEET_ROWS:
                self._new_sheet()
            self._ws.append([self._xlsx_cell(v) for v in values])
            self._sheet_rows += 1

    def save_xlsx(self) -> None:
        """Write the workbook to ``out`` (the sheets' waiting rows go into it and are removed)."""
        with self:
            self._wb.save(self._path)
