"""An .xlsx checked before the xlsx reader sees it: that reader allocates whatever the file
claims, so a 2 KB file naming cell XFD1048576 or a 4 MB zip unpacking to 1.5 GB would exhaust
memory. :func:`check_workbook_zip` refuses such files from the zip directory and one streamed
pass over the parts."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from dadan.core.i18n import tr
from dadan.core.spreadsheets.errors import SpreadsheetError

MAX_INFLATED_BYTES = 512 * 1024 * 1024  # a workbook's parts, unpacked (as the text reader's cap)
MAX_ZIP_MEMBERS = 10_000
MAX_SHEET_CELLS = 12_000_000  # rows x columns a sheet may reach (200,000 order lines x 60 columns)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})?([0-9]{1,7})?(?::([A-Z]{1,3})([0-9]{1,7}))?\"")


def _column_number(letters: bytes) -> int:
    n = 0
    for c in letters:
        n = n * 26 + c - 64
    return n


def _sheet_cells(head: bytes) -> int:
    """The rows x columns a worksheet's ``<dimension ref=...>`` claims (0 when it has none)."""
    m = _DIMENSION.search(head)
    if not m or not m.group(3):
        return 0
    c1, r1, c2, r2 = m.groups()
    rows = int(r2) - int(r1 or 1) + 1
    cols = _column_number(c2) - _column_number(c1 or b"A") + 1
    return max(rows, 1) * max(cols, 1)


# cell references (XML allows blanks around "=" and either quote): the row of each, and the
# columns of two or three letters (a column of one letter cannot make a sheet wide)
_REF_ROW = re.compile(rb'\sr\s*=\s*["\'][A-Z]{0,3}([0-9]{1,7})["\']')
_WIDE_COLUMN = re.compile(rb'\sr\s*=\s*["\']([A-Z]{2,3})[0-9]')
# A reference that could take a sheet past MAX_SHEET_CELLS: a row of six digits or more, or a
# column past DP (the 120th). Without one, a sheet reaches at most 99,999 x 120 cells, under the
# limit, and its references need not be read one by one (which took about a second for a
# 50,000-row export); with one, they are. Any "r=" counts, even in a cell's text: it can only
# send a sheet to the exact reading, never past it.
_SUSPECT = re.compile(rb'r\s*=\s*["\'](?:[A-Z]{0,3}[0-9]{6}|[A-Z]{3}[0-9]|[D-Z][A-Z][0-9])')
_OVERLAP = 32  # bytes a reference may straddle between two chunks


class _CellReach:
    """The furthest row and column a worksheet's cells name, as its XML streams past (the
    xlsx reader allocates the whole rectangle up to them)."""

    def __init__(self):
        self.row = 0
        self.col = 26
        self._tail = b""

    def scan(self, chunk: bytes) -> None:
        data = self._tail + chunk
        self._tail = data[-_OVERLAP:]
        rows = set(_REF_ROW.findall(data))
        if rows:
            self.row = max(self.row, *map(int, rows))
        cols = set(_WIDE_COLUMN.findall(data))
        if cols:
            self.col = max(self.col, *map(_column_number, cols))

    def cells(self) -> int:
        return self.row * self.col


def _reach(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The cells up to the furthest reference of a worksheet, read reference by reference."""
    reach = _CellReach()
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            reach.scan(chunk)
    return reach.cells()


def check_workbook_zip(path: Path) -> None:
    """Refuse, before the xlsx reader sees it, a workbook that would take unbounded memory: parts
    that unpack to more than :data:`MAX_INFLATED_BYTES` (the zip directory's sizes, then the
    bytes actually unpacked: a part longer than it says fails its checksum), or a sheet whose
    dimension or furthest cell reaches more than :data:`MAX_SHEET_CELLS` cells (the reader
    allocates the whole rectangle)."""
    def refuse(en: str, zh: str, **kw) -> SpreadsheetError:
        return SpreadsheetError(tr(en, zh, p=path.name, **kw))

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise refuse("{p} has {n} parts: it is not an Excel export", "{p} 含有 {n} 个部件，不是 Excel 导出文件",
                             n=len(infos))
            declared = sum(i.file_size for i in infos)
            if declared > MAX_INFLATED_BYTES:
                raise refuse("{p} unpacks to {n} MB (more than {m} MB): refused",
                             "{p} 解压后有 {n} MB（超过 {m} MB）：拒绝读取",
                             n=declared // 2**20, m=MAX_INFLATED_BYTES // 2**20)
            for info in infos:
                sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
                with zf.open(info) as fh:  # every part unpacked whole: a lying size fails its checksum
                    head = fh.read(1 << 16)
                    cells = _sheet_cells(head) if sheet else 0
                    suspect, tail, chunk = False, b"", head
                    while chunk:
                        if sheet and not suspect:
                            suspect = _SUSPECT.search(tail + chunk) is not None
                            tail = chunk[-_OVERLAP:]
                        chunk = fh.read(1 << 20)
                if suspect:
                    cells = max(cells, _reach(zf, info))
                if cells > MAX_SHEET_CELLS:
                    raise refuse("{p}: sheet {s} reaches {n:,} cells (more than {m:,}): refused",
                                 "{p}：工作表 {s} 达到 {n:,} 个单元格（超过 {m:,}）：拒绝读取",
                                 s=info.filename.rsplit("/", 1)[-1], n=cells, m=MAX_SHEET_CELLS)
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError,
            RuntimeError, zlib.error) as exc:
        raise refuse("{p} is not a readable Excel workbook ({e}); open it in Excel and save it again as .xlsx",
                     "{p} 不是可读取的 Excel 工作簿（{e}）；请用 Excel 打开后另存为 .xlsx", e=exc) from None
