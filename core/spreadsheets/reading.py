"""Reading a spreadsheet file: .xlsx/.xls (python-calamine) or CSV/tab-separated text in
UTF-8, UTF-16 or GBK, detected by content; raw cells as text."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import stat
from pathlib import Path
from typing import Sequence

from dadan.core.i18n import tr
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.zip_guard import check_workbook_zip

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"
MAX_TEXT_BYTES = 512 * 1024 * 1024


def _delimiter(text: str) -> str:
    first = next((ln for ln in text[:1 << 16].splitlines() if ln.strip()), "")  # the header is near the top
    return "\t" if first.count("\t") > first.count(",") else ","


def locate(text_before: str) -> tuple[int, str]:
    """Where the text after ``text_before`` starts: (1-based row, the header of its column, or
    its number when the header does not name it)."""
    rows = list(csv.reader(io.StringIO(text_before + "\x00", newline=""), delimiter=_delimiter(text_before)))
    return len(rows), _column_name(rows, len(rows[-1]))


def _column_name(rows: list[list[str]], col: int) -> str:
    """The header of 1-based column ``col`` (the first non-blank row before the last), or its number."""
    header = next((r for r in rows[:-1] if any(c.strip() for c in r)), None)
    name = header[col - 1].strip() if header is not None and 0 < col <= len(header) else ""
    return name or str(col)


def _undecodable(data: bytes, pos: int, enc: str) -> SpreadsheetError:
    """A byte that is not text in the file's encoding: the file is refused, naming the cell."""
    row, col = locate(data[:pos].decode(enc, errors="replace"))
    return SpreadsheetError(tr(
        "row {r}, column {c}: byte {pos} is not valid {enc} text (the file is damaged or cut short); "
        "export it again", "第 {r} 行，{c} 列：第 {pos} 字节不是有效的 {enc} 文本（文件已损坏或不完整）；请重新导出",
        r=row, c=col, pos=pos, enc=enc))


def decode_text(data: bytes) -> tuple[str, str]:
    """Bytes of a text export -> (text, encoding name). UTF-8 (with or without BOM), UTF-16
    (Excel's "Unicode text", with or without BOM) and GBK/GB18030. A byte that is not text in
    the detected encoding (a damaged or cut file) refuses the file, naming its row and column."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return _strict(data[2:], enc), "utf-16"
    head = data[:4000]
    if len(head) >= 4 and head.count(b"\x00") > len(head) // 4:
        # no BOM but every other byte is NUL: UTF-16 of mostly ASCII/CJK text
        even = head[0::2].count(b"\x00")
        odd = head[1::2].count(b"\x00")
        enc = "utf-16-be" if even > odd else "utf-16-le"
        return _strict(data, enc), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # UTF-8 text up to a bad byte, or a character cut at the end: a damaged UTF-8 file
        if exc.reason == "unexpected end of data" or not data[:exc.start].isascii():
            raise _undecodable(data, exc.start, "utf-8") from None
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        if exc.start > 0 and not data[:exc.start].isascii():
            raise _undecodable(data, exc.start, "gb18030") from None
        raise SpreadsheetError(tr(
            "cannot read the file as text (byte {pos} is neither UTF-8, UTF-16 nor GBK); save it as "
            "CSV UTF-8 or .xlsx",
            "无法识别文件编码（第 {pos} 字节既不是 UTF-8、UTF-16 也不是 GBK）；请另存为 CSV UTF-8 或 .xlsx",
            pos=exc.start)) from None


def _strict(data: bytes, enc: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc.start, enc) from None


_END = "\x00END"  # after the text: an open quote swallows it into its cell


def parse_text_table(text: str) -> tuple[list[list[str]], str]:
    """CSV or tab-separated text -> (rows, delimiter). A quote left open at the end, or a last row
    without its line end (a text cut short), refuses the file; a row cut short is refused by
    :func:`.rows.parse_rows`."""
    if "\x00" in text:
        raise SpreadsheetError(tr("the file contains NUL bytes: it is not a text export",
                                  "文件中含有空字节，不是文本格式的导出文件"))
    delim = _delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text.rstrip("\x1a") + ("" if text.endswith(("\n", "\r")) else "\n")
                                           + _END, newline=""), delimiter=delim))
    except csv.Error as exc:
        raise SpreadsheetError(tr("the file is not valid CSV: {e}", "CSV 格式错误：{e}", e=exc)) from None
    if rows[-1] != [_END]:
        raise SpreadsheetError(tr(
            "row {r}, column {c}: a quoted cell is not closed: the file is cut short or damaged; export it again",
            "第 {r} 行，{c} 列：引号未闭合：文件不完整或已损坏；请重新导出",
            r=len(rows), c=_column_name(rows, len(rows[-1]))))
    rows.pop()
    if text.strip() and not text.rstrip("\x1a").endswith(("\n", "\r")):
        # every exporter ends its last row with a line end: without one, the file may have been
        # cut inside that row's last cell, which no other check can see
        raise SpreadsheetError(tr(
            "row {r}: the file ends in the middle of its last row (no line end): it may be cut short; "
            "export it again", "第 {r} 行：文件在最后一行中间结束（没有换行）：文件可能不完整；请重新导出",
            r=len(rows)))
    return rows, delim


class Source:
    """An opened file: one or more sheets of raw rows."""

    def __init__(self, path: Path, kind: str, sheet_names: list[str], *, book=None,
                 text_rows: list[list[str]] | None = None, encoding: str = "", delimiter: str = "",
                 sha256: str = ""):
        self.path = path
        self.sha256 = sha256  # of the bytes read (text files), else worked out when needed
        self.kind = kind  # xlsx | csv
        self.sheet_names = sheet_names
        self._book = book
        self._text_rows = text_rows
        self.encoding = encoding
        self.delimiter = delimiter

    def rows(self, sheet: str, nrows: int | None = None) -> list[list]:
        if self._text_rows is not None:
            return self._text_rows if nrows is None else self._text_rows[:nrows]
        try:
            sh = self._book.get_sheet_by_name(sheet)
            return sh.to_python(skip_empty_area=False, nrows=nrows) if nrows else sh.to_python(
                skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001 - calamine raises its own zoo
            raise SpreadsheetError(tr("cannot read sheet '{s}': {e}", "无法读取工作表“{s}”：{e}",
                                      s=sheet, e=exc)) from None


def open_source(path: str | Path) -> Source:
    """Open an .xlsx/.xls/.csv/.txt file (detected by content, not by name)."""
    path = Path(path)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a device or pipe has no size to check: it could be endless
            raise SpreadsheetError(tr("cannot open {p}: it is not a file (a folder, device or pipe)",
                                      "无法打开 {p}：它不是文件（而是文件夹、设备或管道）", p=path))
        size = st.st_size
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise SpreadsheetError(tr("cannot open {p}: {e}", "无法打开 {p}：{e}", p=path, e=exc.strerror or exc)) from None
    if magic.startswith((_ZIP, _OLE)):
        from python_calamine import CalamineWorkbook

        if magic.startswith(_ZIP):
            check_workbook_zip(path)  # before the reader: it allocates what the file claims

        try:
            book = CalamineWorkbook.from_path(str(path))
            names = list(book.sheet_names)
        except Exception as exc:  # noqa: BLE001
            raise SpreadsheetError(tr(
                "{p} is not a readable Excel workbook ({e}); open it in Excel and save it again as .xlsx",
                "{p} 不是可读取的 Excel 工作簿（{e}）；请用 Excel 打开后另存为 .xlsx", p=path.name, e=exc)) from None
        if not names:
            raise SpreadsheetError(tr("the workbook has no sheets", "工作簿中没有工作表"))
        return Source(path, "xlsx", names, book=book)
    if size > MAX_TEXT_BYTES:
        raise SpreadsheetError(tr("the file is too large ({n} MB)", "文件过大（{n} MB）", n=size // 2**20))
    data = path.read_bytes()
    text, enc = decode_text(data)
    rows, delim = parse_text_table(text)
    return Source(path, "csv", [path.name], text_rows=rows, encoding=enc, delimiter=delim,
                  sha256=hashlib.sha256(data).hexdigest())


def cell_text(v) -> str:
    """Any raw cell -> stripped text (numbers as Excel would show their digits)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v).strip()


def is_blank(row: Sequence) -> bool:
    for v in row:
        if v is not None and v != "" and not (isinstance(v, str) and not v.strip()):
            return False
    return True
