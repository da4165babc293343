"""A generated corpus of hostile spreadsheets for tests/test_spreadsheet_fuzz.py: one good
export (csv in several encodings, and xlsx) mangled every way a fault hunt found — control
characters in cells, truncations at random offsets, rows cut short, wrong encodings, huge
sheet dimensions, cells far out, zip bombs and lying zip directories. Deterministic (seeded)."""

from __future__ import annotations

import io
import random
import re
import zipfile
from dataclasses import dataclass

import openpyxl

from tests.test_import_core import HEADERS, SN2, SN3, csv_text, line

BASE_ROWS = [line(), line(goods="盖子", count=2, outer="B07", spec="黑色"), line(SN2, pay="9.90", 区="思明区"),
             line(SN3, pay="74.00", after="无售后或售后取消")]
CONTROLS = ["\x1b]0;pwned\x07", "\x1b[2J", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x9b2J", "\u202e", "\x7f",
            "[red]markup[/red]"]


@dataclass(frozen=True)
class Case:
    name: str
    suffix: str  # .csv | .xlsx
    data: bytes


def base_csv(encoding: str = "utf-8", sep: str = ",") -> bytes:
    bom = {"utf-8-sig": b"", "utf-16": b""}.get(encoding, b"")
    return bom + csv_text(BASE_ROWS, sep=sep).encode(encoding)


def base_xlsx(rows=None, headers=HEADERS) -> bytes:
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows if rows is not None else BASE_ROWS:
        ws.append(r)
    wb.save(buf)
    return buf.getvalue()


def _rewrite_zip(data: bytes, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                body = edit(body)
            z.writestr(info.filename, body)
    return out.getvalue()


def _controls(rng: random.Random, n: int) -> list[Case]:
    out = []
    for i in range(n):
        rows = [list(r) for r in BASE_ROWS]
        for _ in range(rng.randint(1, 4)):
            r, c = rng.randrange(len(rows)), rng.randrange(len(HEADERS))
            rows[r][c] = f"{rows[r][c]}{rng.choice(CONTROLS)}"
        if i % 2:
            out.append(Case(f"controls-csv-{i}", ".csv", csv_text(rows).encode("utf-8")))
        else:  # as Excel stores them: _x001B_ escapes, which the reader turns back into controls
            esc = [[re.sub("[\x00-\x1f\x7f-\x9f]", lambda m: f"_x{ord(m.group()):04X}_", v) if isinstance(v, str)
                    else v for v in r] for r in rows]
            out.append(Case(f"controls-xlsx-{i}", ".xlsx", base_xlsx(esc)))
    return out


def _truncations(rng: random.Random, n: int) -> list[Case]:
    out = []
    sources = [("utf-8", base_csv("utf-8")), ("utf-8-sig", base_csv("utf-8-sig")), ("gb18030", base_csv("gb18030")),
               ("utf-16", base_csv("utf-16", "\t")), ("xlsx", base_xlsx())]
    for i in range(n):
        name, data = sources[i % len(sources)]
        cut = rng.randrange(1, len(data))
        out.append(Case(f"cut-{name}-{cut}", ".xlsx" if name == "xlsx" else ".csv", data[:cut]))
    return out


def _short_rows(rng: random.Random, n: int) -> list[Case]:
    out = []
    for i in range(n):
        rows = [list(r) for r in BASE_ROWS]
        k = rng.randrange(len(rows))
        text = csv_text(rows).splitlines(keepends=True)
        cells = text[k + 1].rstrip("\r\n").split(",")
        text[k + 1] = ",".join(cells[: rng.randint(1, len(cells) - 1)]) + "\r\n"
        out.append(Case(f"short-row-{i}", ".csv", "".join(text).encode("utf-8")))
    return out


def _wrong_encodings(rng: random.Random) -> list[Case]:
    text = csv_text(BASE_ROWS)
    out = [Case("utf-32", ".csv", text.encode("utf-32")), Case("big5", ".csv", text.encode("big5", errors="replace")),
           Case("shift-jis", ".csv", text.encode("shift_jis", errors="replace")),
           Case("latin-1-mojibake", ".csv", text.encode("utf-8").decode("latin-1").encode("utf-8")),
           Case("utf-8-then-gbk", ".csv", text.encode("utf-8") + "补一行,张三\r\n".encode("gbk")),
           Case("utf-16-odd", ".csv", b"\xff\xfe" + text.encode("utf-16-le")[:-1])]
    data = bytearray(text.encode("utf-8"))
    for _ in range(6):
        flipped = bytearray(data)
        at = rng.randrange(len(flipped))
        flipped[at] = rng.choice([0x80, 0xC3, 0xE8, 0xFF, 0xFE])
        out.append(Case(f"bad-byte-{at}", ".csv", bytes(flipped)))
    return out


def _huge_sheets() -> list[Case]:
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    return [
        Case("dimension-XFD1048576", ".xlsx", _rewrite_zip(
            base_xlsx(), lambda b: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', b))),
        Case("far-cell", ".xlsx", _rewrite_zip(base_xlsx(), lambda b: b.replace(b"</sheetData>", far))),
        Case("far-row", ".xlsx", _rewrite_zip(base_xlsx(), lambda b: b.replace(
            b"</sheetData>", b'<row r="1048576"><c r="AD1048576"><v>1</v></c></row></sheetData>'))),
        Case("far-column", ".xlsx", _rewrite_zip(base_xlsx(), lambda b: b.replace(
            b"</sheetData>", b'<row r="9"><c r="XFD9"><v>1</v></c></row></sheetData>'))),
        # XML's other spellings of the same attribute: blanks around "=", single quotes
        Case("far-cell-spaced", ".xlsx", _rewrite_zip(base_xlsx(), lambda b: b.replace(
            b"</sheetData>", b"<row r = '1048576'>\n<c\tr\n=\t'XFD1048576'><v>1</v></c></row></sheetData>"))),
        Case("far-row-spaced", ".xlsx", _rewrite_zip(base_xlsx(), lambda b: b.replace(
            b"</sheetData>", b"<row\nr= '1048576'><c\nr ='AD1048576'><v>1</v></c></row></sheetData>"))),
    ]


def zip_bomb(inflated_mb: int = 520) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b"\x20" * (1 << 20)
            for _ in range(inflated_mb):
                fh.write(chunk)
    return out.getvalue()


def lying_zip() -> bytes:
    """A workbook whose sheet unpacks to more than its zip directory and local header say."""
    data = base_xlsx()
    src = zipfile.ZipFile(io.BytesIO(data))
    info = src.getinfo("xl/worksheets/sheet1.xml")
    raw = bytearray(data)
    size = info.file_size.to_bytes(4, "little")
    for m in re.finditer(re.escape(size), bytes(raw)):
        raw[m.start():m.start() + 4] = (16).to_bytes(4, "little")
    return bytes(raw)


def corpus(seed: int = 14) -> list[Case]:
    rng = random.Random(seed)
    return (_controls(rng, 24) + _truncations(rng, 120) + _short_rows(rng, 12) + _wrong_encodings(rng)
            + _huge_sheets() + [Case("lying-zip", ".xlsx", lying_zip())])
