"""Spreadsheet import: .xlsx (read with python-calamine) and .csv/.txt, header recognition,
saved column mappings, per-row validation, dry runs and all-or-nothing commits.

The flow, shared by ``dadan import`` and the TUI import screen::

    layout = prepare(path, sheet=None, mapping=None)     # NeedsSheet / NeedsMapping if it must ask
    plan = plan_import(layout, shop_id=..., progress=cb)  # parse + validate + dry-run counts
    write_rejects(plan, path)                             # rejected rows, with an error column
    run = commit_import(plan, actor=..., allow_partial=False, progress=cb)

Rules
- One row per order line; rows are grouped into orders (by order number) with their items. If
  any line of an order is rejected, the whole order is rejected.
- A file with rejected rows is not written unless the user accepts a partial import; a refused
  or dry-run import leaves the database exactly as it was (not even an ``ImportRun`` row).
- Merging goes through :func:`core.orders.upsert_orders` with ``source="import"``: an import
  never overwrites data the platform sent, never clears print or ship state, never duplicates.
- Excel damage (order numbers turned into numbers or scientific notation) is rejected per row
  with a message that says how to export correctly. Nothing here raises anything but
  :class:`SpreadsheetError` (a :class:`core.errors.DadanError`) for a bad file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import operator
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable, Sequence

from dadan.core.bulk import gc_paused
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.masking import mask_address, mask_cell, mask_name, mask_phone, mask_phones_in
from dadan.core.orders.upsert import RecordColumns
from dadan.core.timeutil import to_utc

Progress = Callable[[str, int, int], None]  # (phase, done, total); phases: read, check, write


# ====================================================================== errors
class SpreadsheetError(DadanError):
    title = "Import error"


class NeedsSheet(SpreadsheetError):
    """The workbook has several sheets and none (or more than one) is clearly the orders
    sheet: the caller must pick one (``--sheet NAME`` or the TUI's sheet list)."""

    title = "Choose a sheet"

    def __init__(self, message: str, sheets: list[str]):
        super().__init__(message)
        self.sheets = sheets


class NeedsMapping(SpreadsheetError):
    """The columns were not recognised: the caller must map them (the TUI's mapping step, or
    ``--mapping NAME`` with a saved mapping)."""

    title = "Unknown columns"

    def __init__(self, message: str, layout: "Layout"):
        super().__init__(message)
        self.layout = layout


class CellError(Exception):
    """One cell's value is not acceptable (message is user-facing)."""


# ====================================================================== fields
@dataclass(frozen=True)
class FieldSpec:
    key: str
    en: str
    zh: str
    aliases: tuple[str, ...]
    item: bool = False  # belongs to an order line, not the order

    def label(self) -> str:
        return tr(self.en, self.zh)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("order_sn", "Order number", "订单号",
              ("订单号", "订单编号", "订单号码", "订单sn", "order_sn", "ordersn", "order number", "order no",
               "order id", "order_id", "订单id")),
    FieldSpec("order_status", "Order status", "订单状态", ("订单状态", "order_status", "order status", "status")),
    FieldSpec("after_sale", "After-sale status", "售后状态",
              ("售后状态", "退款状态", "after-sale status", "after sale status", "refund_status", "refund status",
               "after_sales_status")),
    FieldSpec("goods_name", "Goods", "商品",
              ("商品", "商品名称", "商品标题", "商品名", "goods_name", "goods", "product", "product name", "item name",
               "item"), item=True),
    FieldSpec("goods_spec", "Spec", "商品规格",
              ("商品规格", "规格", "sku规格", "规格名称", "goods_spec", "spec", "specification", "variant"), item=True),
    FieldSpec("goods_count", "Quantity", "商品数量",
              ("商品数量(件)", "商品数量", "数量", "件数", "购买数量", "goods_count", "quantity", "qty", "count"),
              item=True),
    FieldSpec("goods_id", "Goods ID", "商品id", ("商品id", "商品编号", "goods_id", "goods id", "product id"), item=True),
    FieldSpec("sku_id", "SKU ID", "样式ID", ("样式id", "skuid", "sku_id", "sku id", "规格id"), item=True),
    FieldSpec("outer_id", "Merchant SKU code", "商家编码-规格维度",
              ("商家编码-规格维度", "商家编码", "sku编码", "规格编码", "outer_id", "merchant sku", "sku code",
               "merchant code", "sku"), item=True),
    FieldSpec("outer_goods_id", "Merchant goods code", "商家编码-商品维度",
              ("商家编码-商品维度", "商品编码", "outer_goods_id", "goods code"), item=True),
    FieldSpec("goods_price", "Unit price (yuan)", "商品单价(元)",
              ("商品单价(元)", "商品单价", "单价", "goods_price", "unit price", "price"), item=True),
    FieldSpec("goods_amount", "Goods total (yuan)", "商品总价(元)",
              ("商品总价(元)", "商品总价", "商品金额", "goods_amount", "goods amount", "goods total")),
    FieldSpec("postage", "Postage (yuan)", "邮费(元)", ("邮费(元)", "邮费", "运费", "postage", "shipping fee")),
    FieldSpec("discount_shop", "Shop discount (yuan)", "店铺优惠折扣(元)", ("店铺优惠折扣(元)", "店铺优惠折扣", "店铺优惠")),
    FieldSpec("discount_platform", "Platform discount (yuan)", "平台优惠折扣(元)",
              ("平台优惠折扣(元)", "平台优惠折扣", "平台优惠")),
    FieldSpec("discount_pay", "Payment discount (yuan)", "多多支付立减金额(元)",
              ("多多支付立减金额(元)", "多多支付立减金额", "支付立减")),
    FieldSpec("discount", "Discount (yuan)", "优惠金额(元)", ("优惠金额", "discount_amount", "discount")),
    FieldSpec("pay_amount", "Paid by buyer (yuan)", "用户实付金额(元)",
              ("用户实付金额(元)", "用户实付金额", "实付金额", "买家实付", "pay_amount", "paid amount", "amount paid",
               "amount")),
    FieldSpec("created_time", "Created", "订单创建时间",
              ("订单创建时间", "创建时间", "下单时间", "created_time", "created at", "order time")),
    FieldSpec("pay_time", "Paid", "支付时间", ("支付时间", "付款时间", "pay_time", "paid at", "payment time")),
    FieldSpec("confirm_time", "Deal time", "订单成交时间",
              ("订单成交时间", "拼单成功时间", "成交时间", "confirm_time", "confirmed at", "deal time")),
    FieldSpec("last_ship_time", "Ship by", "承诺发货时间",
              ("承诺发货时间", "最晚发货时间", "last_ship_time", "ship by", "ship-by time")),
    FieldSpec("shipping_time", "Shipped", "发货时间", ("发货时间", "shipping_time", "shipped at", "ship time")),
    FieldSpec("remark", "Merchant note", "商家备注", ("商家备注", "卖家备注", "remark", "merchant note", "seller note")),
    FieldSpec("buyer_memo", "Buyer note", "买家留言",
              ("买家留言", "买家备注", "buyer_memo", "buyer message", "buyer note")),
    FieldSpec("tracking_number", "Tracking number", "快递单号",
              ("快递单号", "运单号", "物流单号", "运单号码", "tracking_number", "tracking number", "tracking no",
               "waybill", "waybill number")),
    FieldSpec("courier", "Courier", "快递公司",
              ("快递公司", "物流公司", "快递", "承运商", "courier", "carrier", "logistics company", "logistics_id")),
    FieldSpec("receiver_name", "Receiver", "收货人",
              ("收货人", "收件人", "收货人姓名", "receiver_name", "receiver", "recipient", "consignee")),
    FieldSpec("receiver_phone", "Phone", "手机",
              ("手机", "手机号", "收货人手机", "收货人电话", "联系电话", "receiver_phone", "phone", "mobile")),
    FieldSpec("receiver_address", "Address", "详细地址",
              ("详细地址", "收货地址", "地址", "receiver_address", "address")),
    FieldSpec("province", "Province", "省", ("省", "省份", "province")),
    FieldSpec("city", "City", "市", ("市", "城市", "city")),
    FieldSpec("town", "District", "区", ("区", "区县", "县区", "town", "district")),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
TRACKING_FIELDS = ("order_sn", "courier", "tracking_number")

_PAREN = str.maketrans({"（": "(", "）": ")", "\u3000": " ", "\ufeff": ""})


def normalize_header(text) -> str:
    s = str(text if text is not None else "").translate(_PAREN).strip().lower()
    return re.sub(r"[\s_]+", "", s)


def _strip_unit(s: str) -> str:
    return re.sub(r"\([^)]*\)$", "", s)


_ALIASES: dict[str, str] = {}
for _f in FIELDS:
    for _a in (_f.key, *_f.aliases):
        for _n in (normalize_header(_a), _strip_unit(normalize_header(_a))):
            _ALIASES.setdefault(_n, _f.key)


def recognise_headers(headers: Sequence) -> dict[str, int]:
    """Header cells -> {field key: column index} for the headers we know (first wins)."""
    out: dict[str, int] = {}
    for i, h in enumerate(headers):
        n = normalize_header(h)
        if not n:
            continue
        key = _ALIASES.get(n) or _ALIASES.get(_strip_unit(n))
        if key and key not in out:
            out[key] = i
    return out


def header_signature(headers: Sequence) -> str:
    names = sorted({normalize_header(h) for h in headers if normalize_header(h)})
    return hashlib.sha1("\x1f".join(names).encode("utf-8")).hexdigest()[:20]


# ====================================================================== reading
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"
MAX_TEXT_BYTES = 512 * 1024 * 1024


def decode_text(data: bytes) -> tuple[str, str]:
    """Bytes of a text export -> (text, encoding name). UTF-8 (with or without BOM), UTF-16
    (Excel's "Unicode text", with or without BOM) and GBK/GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return data[2:].decode(enc, errors="replace"), "utf-16"
    head = data[:4000]
    if len(head) >= 4 and head.count(b"\x00") > len(head) // 4:
        # no BOM but every other byte is NUL: UTF-16 of mostly ASCII/CJK text
        even = head[0::2].count(b"\x00")
        odd = head[1::2].count(b"\x00")
        enc = "utf-16-be" if even > odd else "utf-16-le"
        return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(tr(
            "cannot read the file as text (byte {pos} is neither UTF-8, UTF-16 nor GBK); save it as "
            "CSV UTF-8 or .xlsx",
            "无法识别文件编码（第 {pos} 字节既不是 UTF-8、UTF-16 也不是 GBK）；请另存为 CSV UTF-8 或 .xlsx",
            pos=exc.start)) from None


def parse_text_table(text: str) -> tuple[list[list[str]], str]:
    """CSV or tab-separated text -> (rows, delimiter)."""
    if "\x00" in text:
        raise SpreadsheetError(tr("the file contains NUL bytes: it is not a text export",
                                  "文件中含有空字节，不是文本格式的导出文件"))
    first = next((ln for ln in text[:1 << 16].splitlines() if ln.strip()), "")  # the header is near the top
    delim = "\t" if first.count("\t") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as exc:
        raise SpreadsheetError(tr("the file is not valid CSV: {e}", "CSV 格式错误：{e}", e=exc)) from None
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
        size = path.stat().st_size
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise SpreadsheetError(tr("cannot open {p}: {e}", "无法打开 {p}：{e}", p=path, e=exc.strerror or exc)) from None
    if magic.startswith((_ZIP, _OLE)):
        from python_calamine import CalamineWorkbook

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


def _cell_text(v) -> str:
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


def _blank(row: Sequence) -> bool:
    for v in row:
        if v is not None and v != "" and not (isinstance(v, str) and not v.strip()):
            return False
    return True


def find_header(rows: Sequence[Sequence], limit: int = 15) -> tuple[int, dict[str, int]]:
    """The header row among the first ``limit`` rows: the one with most recognised headers
    (a title row above the table is allowed). Falls back to the first non-blank row."""
    best, best_map = -1, {}
    for i, row in enumerate(rows[:limit]):
        found = recognise_headers(row)
        score = len(found) + (3 if "order_sn" in found else 0)
        if found and score > len(best_map) + (3 if "order_sn" in best_map else 0):
            best, best_map = i, found
    if best < 0:
        best = next((i for i, r in enumerate(rows[:limit]) if not _blank(r)), 0)
    return best, best_map


# ====================================================================== layout
# header words of columns holding a buyer's name, phone or address (masked in previews)
_PRIVATE_HEADER_WORDS = ("收货人", "收件人", "姓名", "联系", "电话", "手机", "地址", "receiver", "consignee", "recipient",
                         "buyer name", "customer name", "phone", "mobile", "address", "contact")


@dataclass
class Layout:
    """A sheet ready to parse: where the header is and which column is which field."""

    path: Path
    source_kind: str  # xlsx | csv
    sheet: str
    sheets: list[str]
    rows: list[list]  # every raw row of the sheet (header included)
    header_index: int
    headers: list[str]
    mapping: dict[str, int]  # field key -> column index
    kind: str = "orders"  # orders | tracking
    mapping_name: str = ""  # the saved mapping used, if any
    encoding: str = ""
    delimiter: str = ""
    sha256: str = ""  # of the file as read, when known

    @property
    def signature(self) -> str:
        return header_signature(self.headers)

    @property
    def data_rows(self) -> int:
        return max(0, len(self.rows) - self.header_index - 1)

    def preview(self, n: int = 5, *, masked: bool = False) -> list[list[str]]:
        """The first ``n`` data rows as text; ``masked``: buyer names, phones and addresses
        masked (columns mapped or named as such, and any mobile number elsewhere)."""
        start = self.header_index + 1
        rows = [[_cell_text(c) for c in r] for r in self.rows[start : start + n]]
        if masked:
            private = self._private_columns()
            rows = [[mask_cell(c) if i in private else mask_phones_in(c) for i, c in enumerate(r)] for r in rows]
        return rows

    def _private_columns(self) -> set[int]:
        cols = {self.mapping[k] for k in ("receiver_name", "receiver_phone", "receiver_address") if k in self.mapping}
        for i, h in enumerate(self.headers):
            if any(w in h.lower() for w in _PRIVATE_HEADER_WORDS):
                cols.add(i)
        return cols

    def missing(self) -> list[str]:
        need = ("order_sn", "tracking_number", "courier") if self.kind == "tracking" else ("order_sn",)
        return [k for k in need if k not in self.mapping]

    def with_mapping(self, mapping: dict[str, int | str], *, kind: str | None = None) -> "Layout":
        """A copy with ``mapping`` ({field: column index or header text}) applied."""
        resolved = resolve_mapping(self.headers, mapping)
        lay = Layout(**{**self.__dict__, "mapping": resolved})
        if kind:
            lay.kind = kind
        return lay


def resolve_mapping(headers: Sequence[str], mapping: dict) -> dict[str, int]:
    """{field: header text or column index} -> {field: column index}; unknown fields/headers
    are errors naming them."""
    norm = [normalize_header(h) for h in headers]
    out: dict[str, int] = {}
    for key, col in mapping.items():
        if key not in FIELD_BY_KEY:
            raise SpreadsheetError(tr("unknown field '{k}' in the column mapping", "列映射中有未知字段“{k}”", k=key))
        if col is None or col == "":
            continue
        if isinstance(col, int) and not isinstance(col, bool):
            if not 0 <= col < len(headers):
                raise SpreadsheetError(tr("column {c} does not exist", "第 {c} 列不存在", c=col + 1))
            out[key] = col
            continue
        n = normalize_header(col)
        if n not in norm:
            raise SpreadsheetError(tr("the file has no column '{h}' (mapped to {f})", "文件中没有“{h}”列（映射到{f}）",
                                      h=col, f=FIELD_BY_KEY[key].label()))
        out[key] = norm.index(n)
    return out


def guess_kind(mapping: dict[str, int]) -> str:
    keys = set(mapping)
    if {"order_sn", "tracking_number", "courier"} <= keys and keys <= set(TRACKING_FIELDS):
        return "tracking"
    return "orders"


def _pick_sheet(src: Source) -> str:
    if len(src.sheet_names) == 1:
        return src.sheet_names[0]
    with_orders, non_empty = [], []
    for name in src.sheet_names:
        head = src.rows(name, nrows=15)
        if any(not _blank(r) for r in head):
            non_empty.append(name)
        _, found = find_header(head)
        if "order_sn" in found:
            with_orders.append(name)
    if len(with_orders) == 1:
        return with_orders[0]
    if not with_orders and len(non_empty) == 1:
        return non_empty[0]
    if not non_empty:
        raise SpreadsheetError(tr("every sheet of the workbook is empty", "工作簿的所有工作表都是空的"))
    raise NeedsSheet(tr("the workbook has several sheets ({s}); choose one with --sheet NAME",
                        "工作簿有多个工作表（{s}），请用 --sheet 名称 选择一个", s=", ".join(src.sheet_names)),
                     sheets=list(src.sheet_names))


@gc_paused
def prepare(path: str | Path, *, sheet: str | None = None, mapping: dict | None = None,
            mapping_name: str | None = None, kind: str = "auto") -> Layout:
    """Open ``path``, pick the sheet, find the header row and the column mapping.

    Order of precedence for the mapping: ``mapping`` (explicit), ``mapping_name`` (a saved one),
    a saved mapping whose header signature matches, then automatic recognition.
    Raises :class:`NeedsSheet` or :class:`NeedsMapping` when it must ask."""
    src = open_source(path)
    if sheet is not None and sheet not in src.sheet_names:
        raise SpreadsheetError(tr("no sheet named '{s}' (sheets: {all})", "没有名为“{s}”的工作表（现有：{all}）",
                                  s=sheet, all=", ".join(src.sheet_names)))
    name = sheet or _pick_sheet(src)
    rows = src.rows(name)
    if not rows or all(_blank(r) for r in rows[:50]) and all(_blank(r) for r in rows):
        raise SpreadsheetError(tr("the sheet '{s}' is empty", "工作表“{s}”是空的", s=name))
    hidx, found = find_header(rows)
    headers = [_cell_text(h).lstrip("\ufeff") for h in rows[hidx]]
    lay = Layout(path=Path(path), source_kind=src.kind, sheet=name, sheets=list(src.sheet_names), rows=rows,
                 header_index=hidx, headers=headers, mapping=found, encoding=src.encoding,
                 delimiter=src.delimiter, sha256=src.sha256)
    chosen: dict | None = None
    if mapping:
        chosen = mapping
    elif mapping_name:
        saved = load_mapping(mapping_name)
        if saved is None:
            raise SpreadsheetError(tr("no saved column mapping named '{n}'", "没有名为“{n}”的已保存列映射",
                                      n=mapping_name))
        chosen = saved
        lay.mapping_name = mapping_name
    else:
        hit = find_saved_mapping(headers)
        if hit:
            lay.mapping_name, chosen = hit
    if chosen is not None:
        lay.mapping = resolve_mapping(headers, chosen)
    lay.kind = guess_kind(lay.mapping) if kind == "auto" else kind
    if lay.missing():
        raise NeedsMapping(tr(
            "the columns of '{s}' were not recognised (missing: {m}); map them in the import screen "
            "or pass --mapping NAME",
            "无法识别“{s}”的列（缺少：{m}）；请在导入界面中设置列映射，或使用 --mapping 名称",
            s=name, m=", ".join(FIELD_BY_KEY[k].label() for k in lay.missing())), layout=lay)
    return lay


# ====================================================================== saved mappings
def _db_ready() -> bool:
    from dadan.core.models import database_proxy

    return database_proxy.obj is not None


def save_mapping(name: str, headers: Sequence[str], mapping: dict[str, int | str]) -> None:
    """Save (or replace) a column mapping under ``name`` for files with these headers."""
    from dadan.core.db import write
    from dadan.core.models import ColumnMapping

    name = name.strip()
    if not name:
        raise SpreadsheetError(tr("a mapping needs a name", "列映射需要一个名称"))
    by_header = {k: headers[v] for k, v in resolve_mapping(headers, mapping).items()}
    sig = header_signature(headers)
    with write():
        ColumnMapping.delete().where(ColumnMapping.name == name).execute()
        ColumnMapping.create(name=name, header_signature=sig, mapping=json.dumps(by_header, ensure_ascii=False))


def load_mapping(name: str) -> dict[str, str] | None:
    from dadan.core.models import ColumnMapping

    if not _db_ready():
        return None
    row = ColumnMapping.get_or_none(ColumnMapping.name == name)
    return json.loads(row.mapping) if row else None


def find_saved_mapping(headers: Sequence[str]) -> tuple[str, dict[str, str]] | None:
    """A saved mapping for files with exactly these headers (in any order), newest first."""
    from dadan.core.models import ColumnMapping

    if not _db_ready():
        return None
    row = (ColumnMapping.select().where(ColumnMapping.header_signature == header_signature(headers))
           .order_by(ColumnMapping.created_at.desc(), ColumnMapping.id.desc()).first())
    return (row.name, json.loads(row.mapping)) if row else None


def list_mappings() -> list[tuple[str, dict[str, str]]]:
    from dadan.core.models import ColumnMapping

    return [(r.name, json.loads(r.mapping)) for r in ColumnMapping.select().order_by(ColumnMapping.name)]


# ====================================================================== cell parsers
_EXPORT_HINT_EN = ("export the file again from the merchant backend and import it as it is, without "
                   "opening and saving it in Excel (or import the column as Text in Excel)")
_EXPORT_HINT_ZH = "请从商家后台重新导出后直接导入，不要用 Excel 打开再保存（或在 Excel 中把该列设为“文本”格式）"
_SCI = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_SN = re.compile(r"^\d{6}-\d{15}$", re.ASCII)
_CURRENCY = re.compile(r"^(¥|￥|rmb|cny|人民币)|(元|rmb|cny)$", re.IGNORECASE)
_OTHER_CURRENCY = re.compile(r"[$€£]|usd|eur", re.IGNORECASE)


def _clean_text(v) -> str:
    s = _cell_text(v)
    if s.startswith('="') and s.endswith('"') and len(s) >= 3:
        s = s[2:-1].strip()
    elif s.startswith("'"):
        s = s[1:].strip()
    return s


def _damaged(shown: str, what_en: str, what_zh: str) -> CellError:
    return CellError(tr(
        "{what} '{v}' was turned into a number by Excel and has lost digits; " + _EXPORT_HINT_EN,
        "{what}“{v}”已被 Excel 转成数字，末尾数字已丢失；" + _EXPORT_HINT_ZH,
        what=tr(what_en, what_zh), v=shown))


def parse_order_sn(v) -> str:
    if type(v) is str:  # the usual cell, tab-prefixed or not: one regex
        s = v.strip()
        if _SN.match(s):
            return s
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        raise _damaged(_cell_text(v) if isinstance(v, int) else f"{v:.6g}", "order number", "订单号")
    s = _clean_text(v)
    if not s:
        raise CellError(tr("the order number is empty", "订单号为空"))
    if _SCI.match(s) or (s.replace(".", "", 1).isdigit() and "." in s):
        raise _damaged(s, "order number", "订单号")
    if not _SN.match(s):
        if s.isdigit() and len(s) >= 15:
            raise _damaged(s, "order number", "订单号")
        raise CellError(tr("'{v}' is not a Pinduoduo order number (expected YYMMDD-15 digits, e.g. "
                           "231114-123456789012345)",
                           "“{v}”不是拼多多订单号（应为 6 位日期-15 位数字，如 231114-123456789012345）", v=s))
    return s


def parse_code(v, what_en: str = "code", what_zh: str = "编码") -> str:
    """Ids and codes kept as text; a number that lost digits in Excel is rejected."""
    if isinstance(v, float) and not isinstance(v, bool):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        if v.is_integer():
            raise _damaged(f"{v:.6g}", what_en, what_zh)
        return repr(v)
    s = _clean_text(v)
    if _SCI.match(s):
        raise _damaged(s, what_en, what_zh)
    return s


def parse_count(v) -> int:
    if isinstance(v, float):
        if not v.is_integer():
            raise CellError(tr("quantity {v} is not a whole number", "数量 {v} 不是整数", v=v))
        n = int(v)
    elif isinstance(v, int) and not isinstance(v, bool):
        n = v
    else:
        s = _clean_text(v).removesuffix("件").strip()
        if not s:
            return 1
        try:
            d = Decimal(s.replace(",", ""))
        except InvalidOperation:
            raise CellError(tr("quantity '{v}' is not a number", "数量“{v}”不是数字", v=s)) from None
        if d != d.to_integral_value():
            raise CellError(tr("quantity {v} is not a whole number", "数量 {v} 不是整数", v=s))
        n = int(d)
    if n < 1:
        raise CellError(tr("quantity {n} must be at least 1", "数量 {n} 必须至少为 1", n=n))
    if n > 100000:
        raise CellError(tr("quantity {n} is implausibly large", "数量 {n} 过大", n=n))
    return n


def parse_money(v, *, allow_negative: bool = False) -> int | None:
    """Yuan (number or text with ¥/￥/元/RMB and thousands separators) -> fen."""
    if isinstance(v, bool):
        raise CellError(tr("'{v}' is not an amount", "“{v}”不是金额", v=v))
    if isinstance(v, (int, float)):
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        s = str(v)
    else:
        s = _clean_text(v)
        if not s or s in ("-", "--"):
            return None
        if _OTHER_CURRENCY.search(s):
            raise CellError(tr("amount '{v}' is not in yuan", "金额“{v}”不是人民币", v=s))
        t = s.replace(",", "").replace("，", "").replace(" ", "")
        neg = t.startswith("-")
        t = t.lstrip("+-")
        t = _CURRENCY.sub("", t)
        t = _CURRENCY.sub("", t).strip()
        try:
            d = Decimal(t)
        except InvalidOperation:
            raise CellError(tr("'{v}' is not an amount in yuan", "“{v}”不是有效的金额（元）", v=s)) from None
        if neg:
            d = -d
    if not d.is_finite():
        raise CellError(tr("'{v}' is not an amount in yuan", "“{v}”不是有效的金额（元）", v=s))
    if d < 0:
        if not allow_negative:
            raise CellError(tr("amount {v} is negative", "金额 {v} 为负数", v=s))
        d = -d
    if d > Decimal("100000000"):
        raise CellError(tr("amount {v} is implausibly large", "金额 {v} 过大", v=s))
    return int((d * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_PLAIN_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\Z")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y%m%d%H%M%S", "%Y%m%d")


def parse_time(v, tz: str = "Asia/Shanghai") -> dt.datetime | None:
    """A time in the warehouse zone (text, Excel date cell or Excel serial) -> naive UTC."""
    if type(v) is str:  # the export's own "YYYY-MM-DD HH:MM:SS": one regex and one C parse
        s = v.strip()
        if _PLAIN_TIME.match(s):
            try:
                t = dt.datetime.fromisoformat(s)
            except ValueError:  # an impossible date: the full path below says so
                pass
            else:
                if 2000 <= t.year <= 2100:
                    return to_utc(t, tz)
    if isinstance(v, dt.datetime):
        t = v.replace(tzinfo=None, microsecond=0)
    elif isinstance(v, dt.date):
        t = dt.datetime(v.year, v.month, v.day)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        if not 20000 < v < 80000:
            raise CellError(tr("'{v}' is not a date", "“{v}”不是日期", v=v))
        t = (_EXCEL_EPOCH + dt.timedelta(days=float(v))).replace(microsecond=0)
    elif isinstance(v, dt.time):
        raise CellError(tr("'{v}' is a time without a date", "“{v}”只有时间没有日期", v=v))
    else:
        s = _clean_text(v)
        if not s:
            return None
        s2 = s.replace("/", "-").replace(".", "-", 2) if "/" in s or s.count(".") == 2 else s
        s2 = re.sub(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*", r"\1-\2-\3 ", s2).strip()
        s2 = re.sub(r"^(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", s2)
        if "T" in s2 and len(s2) >= 19:
            s2 = s2.replace("T", " ", 1)
        t = None
        try:
            t = dt.datetime.fromisoformat(s2[:19])
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    t = dt.datetime.strptime(s2, fmt)
                    break
                except ValueError:
                    continue
        if t is None:
            if re.match(r"^\d{4}-\d{2}-\d{2}", s2):
                raise CellError(tr("'{v}' is an impossible date", "“{v}”是不存在的日期", v=s))
            raise CellError(tr("'{v}' is not a date (expected YYYY-MM-DD HH:MM:SS)",
                               "“{v}”不是日期（应为 YYYY-MM-DD HH:MM:SS）", v=s))
        t = t.replace(tzinfo=None, microsecond=0)
    if not 2000 <= t.year <= 2100:
        raise CellError(tr("'{v}' is out of range for an order date", "“{v}”不是合理的订单日期",
                           v=t.strftime("%Y-%m-%d")))
    return to_utc(t, tz)


_ORDER_STATUS = {
    "待发货": 1, "待发货(已成团)": 1, "已成团待发货": 1, "待成团": 1, "未发货": 1, "awaitingshipment": 1, "pending": 1,
    "已发货": 2, "待收货": 2, "已发货待签收": 2, "已发货,待收货": 2, "已发货，待收货": 2, "待签收": 2, "shipped": 2,
    "已签收": 3, "已收货": 3, "交易成功": 3, "已完成": 3, "received": 3, "completed": 3,
    "已取消": 0, "交易关闭": 0, "已关闭": 0, "订单取消": 0, "cancelled": 0, "canceled": 0, "closed": 0,
}


def parse_order_status(v) -> int | None:
    s = _clean_text(v)
    if not s:
        return None
    if s in ("0", "1", "2", "3"):
        return int(s)
    key = s.replace(" ", "").lower()
    if key in _ORDER_STATUS:
        return _ORDER_STATUS[key]
    for text, code in (("取消", 0), ("关闭", 0), ("签收", 3), ("成功", 3), ("已发货", 2), ("待收货", 2), ("待发货", 1)):
        if text in s:
            return code
    raise CellError(tr("unknown order status '{v}' (expected e.g. 待发货, 已发货, 已签收, 已取消)",
                       "未知订单状态“{v}”（应为 待发货、已发货、已签收、已取消 等）", v=s))


def parse_refund_status(v) -> int | None:
    s = _clean_text(v)
    if not s:
        return None
    if s in ("1", "2", "3", "4"):
        return int(s)
    key = s.replace(" ", "").lower()
    if key in ("无售后或售后取消", "无售后", "售后取消", "售后关闭", "无", "none", "-", "退款关闭", "售后已取消"):
        return 1
    if "退款成功" in key or "已退款" in key or key == "refunded":
        return 4
    if "退款中" in key or "待退款" in key or key == "refunding":
        return 3
    if "售后" in key or "退货" in key or "退款" in key or "换货" in key or "补寄" in key or key == "aftersale":
        return 2
    raise CellError(tr("unknown after-sale status '{v}' (expected e.g. 无售后或售后取消, 退款中, 退款成功)",
                       "未知售后状态“{v}”（应为 无售后或售后取消、退款中、退款成功 等）", v=s))


# couriers: the platform's ids for the common ones, by name and code
BUILTIN_COURIERS: dict[str, int] = {
    "申通": 1, "申通快递": 1, "sto": 1, "百世汇通": 3, "百世快递": 3, "汇通": 3, "百世": 3, "ht": 3, "htky": 3,
    "顺丰": 44, "顺丰速运": 44, "顺丰快递": 44, "sf": 44, "圆通": 85, "圆通速递": 85, "圆通快递": 85, "yto": 85,
    "中通": 115, "中通快递": 115, "zto": 115, "ems": 118, "邮政ems": 118, "京东": 120, "京东快递": 120,
    "京东物流": 120, "jd": 120, "韵达": 121, "韵达快递": 121, "韵达速递": 121, "yunda": 121, "德邦": 131,
    "德邦快递": 131, "德邦物流": 131, "db": 131, "dbl": 131, "邮政快递包裹": 132, "邮政包裹": 132,
    "邮政": 132, "中国邮政": 132, "yzxb": 132,
}


class CourierResolver:
    """Courier text (name, code or id) -> the platform's logistics_id, using the cached courier
    list (one query) and a built-in table of the common couriers."""

    def __init__(self):
        self.names: dict[str, int] = dict(BUILTIN_COURIERS)
        self.ids: set[int] = set(BUILTIN_COURIERS.values())
        if _db_ready():
            from dadan.core.models import Courier

            for c in Courier.select(Courier.id, Courier.name, Courier.code):
                self.ids.add(c.id)
                for n in (c.name, c.code):
                    if n:
                        self.names[n.strip().lower()] = c.id

    def __call__(self, v) -> int | None:
        s = _cell_text(v)
        if not s:
            return None
        if s.isdigit():
            n = int(s)
            if n in self.ids:
                return n
        low = s.lower().replace(" ", "")
        if low in self.names:
            return self.names[low]
        for name, cid in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            if len(name) >= 2 and not name.isascii() and name in low:
                return cid
        return None


_TOTAL = re.compile(r"^(合计|总计|小计|汇总|total|sum|共\s*\d+)", re.IGNORECASE)


def _is_total_row(row: Sequence) -> bool:
    for v in row:
        s = _cell_text(v)
        if s:
            return bool(_TOTAL.match(s))
    return False


# ====================================================================== plan
@dataclass
class RejectedRow:
    row: int  # 1-based row number in the sheet
    cells: list[str]
    column: str  # header of the offending column ("" when not one column)
    message: str
    order_sn: str = ""  # when the order number itself was readable

    def text(self) -> str:
        where = tr("row {r}", "第 {r} 行", r=self.row)
        if self.column:
            where += tr(", column {c}", "，{c} 列", c=self.column)
        return f"{where}: {self.message}"


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rejected rows


@dataclass
class ImportPlan:
    layout: Layout
    shop_id: int | None
    records: RecordColumns | list[dict]  # orders (with items) or tracking rows
    rejects: list[RejectedRow]
    rows_total: int  # data rows (blank/total/footer rows excluded)
    skipped: int = 0  # blank, total and footer rows
    counts: Counts = field(default_factory=Counts)
    file_sha256: str = ""

    @property
    def kind(self) -> str:
        return self.layout.kind

    @property
    def ok(self) -> bool:
        return not self.rejects

    def summary(self, *, done: bool = False) -> str:
        """The counts; ``done``: as written (after the commit)."""
        c = self.counts
        if self.kind == "tracking" and done:
            return tr("{n:,} tracking numbers assigned (ship confirmations queued), {u:,} unchanged, "
                      "{r:,} rows rejected", "已填写 {n:,} 个快递单号（已排队回传发货），{u:,} 个无变化，{r:,} 行被拒绝",
                      n=c.updated, u=c.unchanged, r=c.rejected)
        if self.kind == "tracking":
            return tr("{n:,} tracking numbers to assign, {u:,} unchanged, {r:,} rows rejected",
                      "将填写 {n:,} 个快递单号，{u:,} 个无变化，{r:,} 行被拒绝", n=c.updated, u=c.unchanged, r=c.rejected)
        return tr("{n:,} new, {u:,} updated, {s:,} unchanged orders; {r:,} rows rejected",
                  "新增 {n:,}，更新 {u:,}，无变化 {s:,} 个订单；拒绝 {r:,} 行", n=c.new, u=c.updated, s=c.unchanged,
                  r=c.rejected)


_ORDER_TEXT = ("remark", "buyer_memo", "receiver_name", "receiver_phone", "receiver_address", "province", "city",
               "town")
_ORDER_MONEY = ("goods_amount", "postage", "discount_shop", "discount_platform", "discount_pay", "discount",
                "pay_amount")
_TIMES = ("created_time", "pay_time", "confirm_time", "last_ship_time", "shipping_time")


def _converters(layout: Layout, couriers: CourierResolver | None, tz: str) -> list[tuple[str, int, Callable]]:
    conv: dict[str, Callable] = {"order_sn": parse_order_sn, "order_status": parse_order_status,
                                 "after_sale": parse_refund_status, "goods_count": parse_count,
                                 "tracking_number": lambda v: parse_code(v, "tracking number", "快递单号"),
                                 "goods_id": lambda v: parse_code(v, "goods id", "商品id"),
                                 "sku_id": lambda v: parse_code(v, "SKU id", "样式ID"),
                                 "outer_id": parse_code, "outer_goods_id": parse_code,
                                 "goods_price": parse_money}
    for k in _ORDER_MONEY:
        conv[k] = (lambda v: parse_money(v, allow_negative=True)) if k.startswith("discount") else parse_money
    for k in _TIMES:
        conv[k] = lambda v, _tz=tz: parse_time(v, _tz)
    if couriers is not None:
        def courier(v):
            s = _cell_text(v)
            if not s:
                return None
            cid = couriers(s)
            if cid is None:
                raise CellError(tr("unknown courier '{v}'", "未知快递公司“{v}”", v=s))
            return cid
        conv["courier"] = courier
    out = []
    for key, col in layout.mapping.items():
        out.append((key, col, conv.get(key, _clean_text)))
    out.sort(key=lambda t: t[0] != "order_sn")  # order number first
    return out


def _row_cells(row: Sequence, width: int) -> list[str]:
    return [_cell_text(c) for c in list(row)[:max(width, len(row))]]


def _parse_line(row: Sequence, i: int, convs, headers: Sequence[str], sn_col: int) -> dict | RejectedRow:
    """One data row, cell by cell: its parsed values, or the reject naming the first bad cell."""
    n = len(row)
    line: dict = {"_row": i + 1}
    try:
        for key, col, fn in convs:
            v = row[col] if col < n else None
            if v is None or v == "":
                if key == "order_sn":
                    raise CellError(tr("the order number is empty", "订单号为空"))
                continue
            try:
                pv = fn(v)
            except CellError:
                line["_col"] = headers[col] if col < len(headers) else str(col + 1)
                raise
            except Exception:  # noqa: BLE001 - a parser bug must not stop the import
                line["_col"] = headers[col] if col < len(headers) else str(col + 1)
                raise CellError(tr("unreadable value '{v}'", "无法读取的值“{v}”", v=_cell_text(v))) from None
            if pv is not None and pv != "":
                line[key] = pv
    except CellError as exc:
        col_name = line.get("_col", headers[sn_col] if sn_col < len(headers) else "")
        return RejectedRow(i + 1, _row_cells(row, len(headers)), col_name, str(exc), line.get("order_sn", ""))
    return line


_SN_START = frozenset("0123456789\t")  # an order-number cell starting so is no blank or total row
_TEXT_TYPES = {str, type(None)}


class _Bad:
    """A cell value that failed to parse (the row is then parsed again cell by cell)."""


_BAD = _Bad()


def _cell_key(v):
    """A cell as a key: 1, 1.0 and True are equal as dict keys but are different cells."""
    return v if type(v) in _TEXT_TYPES else (type(v), v)


def _parse_column(values: Sequence, fn: Callable, required: bool, text_only: bool = False) -> tuple[list, bool]:
    """Parse one column: each distinct value once (exports repeat the same amounts, times,
    statuses and codes on thousands of rows). Returns (parsed values, any bad). Empty cells
    parse to None; a bad cell to ``_BAD``. ``text_only``: every cell is known to be str or
    None (a CSV file).

    A column whose values nearly all differ (order numbers, times, phones) is parsed value by
    value instead: sharing would only cost there. A bad cell sends it the shared way, which
    marks the bad ones."""
    sample = values[:256]
    try:
        mostly_distinct = len(sample) >= 64 and len(set(map(_cell_key, sample))) * 4 > len(sample) * 3
    except TypeError:  # an unhashable cell
        mostly_distinct = False
    if mostly_distinct:
        try:
            if fn is _clean_text:
                out = [None if v is None or (r := _clean_text(v)) == "" else r for v in values]
            else:
                out = [None if v is None or v == "" or (r := fn(v)) == "" else r for v in values]
        except Exception:  # noqa: BLE001 - a bad cell: the shared way marks it
            pass
        else:
            if not (required and None in out):
                return out, False
    if text_only or set(map(type, values)) <= _TEXT_TYPES:
        keys = values
    else:
        keys = list(map(_cell_key, values))
    try:
        distinct = dict(zip(keys, values))
    except TypeError:  # an unhashable cell: no sharing
        keys = list(range(len(values)))
        distinct = dict(zip(keys, values))
    results: dict = {}
    bad = False
    if fn is _clean_text and not required:  # plain text, the commonest column: inline
        for k, v in distinct.items():
            if type(v) is str:
                s = v.strip()
                if s[:1] in ("=", "'"):
                    s = _clean_text(v)
                results[k] = s or None
            else:
                results[k] = (_clean_text(v) or None) if v is not None else None
        return list(map(results.__getitem__, keys)), False
    for k, v in distinct.items():
        if v is None or v == "":
            r = _BAD if required else None
        else:
            try:
                r = fn(v)
            except Exception:  # noqa: BLE001 - CellError or a parser bug: the slow path reports it
                r = _BAD
            if r == "":
                r = None
        if r is _BAD:
            bad = True
        results[k] = r
    return list(map(results.__getitem__, keys)), bad


@dataclass
class ParsedRows:
    """Validated data rows, a column at a time: ``cols[key][j]`` is the parsed value of field
    ``key`` in the j-th kept row (None where the cell is empty), ``rows[j]`` that row's number
    in the sheet. Rejected rows are not in it."""

    cols: dict[str, list]
    rows: list[int]

    def line(self, j: int) -> dict:
        """The j-th row as a dict of its parsed values (None where empty)."""
        return {k: c[j] for k, c in self.cols.items()}


def parse_rows(layout: Layout, *, tz: str = "Asia/Shanghai", progress: Progress | None = None,
               strict_courier: bool = False) -> tuple[ParsedRows, list[RejectedRow], int, int]:
    """Validate every data row -> (parsed rows, rejects, rows_total, skipped).

    Cells are parsed a column at a time, each distinct value once; a row with a bad cell is
    parsed again cell by cell so that its reject names the first bad cell."""
    couriers = CourierResolver() if ("courier" in layout.mapping) else None
    convs = _converters(layout, couriers, tz)
    if couriers is not None and not strict_courier:
        convs = [(k, c, (lambda v, _r=couriers: _r(v)) if k == "courier" else f) for k, c, f in convs]
    headers = layout.headers
    sn_col = layout.mapping.get("order_sn")
    rows = layout.rows
    start = layout.header_index + 1
    # trailing rows without an order number (blank, totals, "exported at ..." notes) are footer
    end = len(rows)
    while end > start:
        r = rows[end - 1]
        if sn_col is not None and sn_col < len(r) and _cell_text(r[sn_col]) and not _is_total_row(r):
            break
        end -= 1
    skipped = len(rows) - end
    total = end - start
    if progress:
        progress("check", 0, total)

    width = max([col for _k, col, _f in convs] + [sn_col]) + 1
    block = rows[start:end]
    if block and min(map(len, block)) < width:
        block = [r if len(r) >= width else list(r) + [None] * (width - len(r)) for r in block]
    needed = sorted({col for _k, col, _f in convs} | {sn_col})

    def transpose(rows_: list) -> dict[int, tuple]:
        """The needed columns of ``rows_`` (only those: a sheet may be wide)."""
        if not rows_:
            return {c: () for c in needed}
        if len(needed) == 1:
            return {needed[0]: tuple(r[needed[0]] for r in rows_)}
        if 2 * len(needed) >= max(map(len, rows_)):  # most columns: one pass over every row
            every = list(zip(*rows_))  # as wide as the shortest row, which reaches every needed one
            return {c: every[c] for c in needed}
        return dict(zip(needed, zip(*map(operator.itemgetter(*needed), rows_))))

    by_col = transpose(block)

    # blank rows and total rows in the middle are skipped; a row whose order number cell starts
    # with a digit (or Excel's tab) is neither
    kept = list(range(len(block)))
    sn_vals = by_col[sn_col]
    suspects = [j for j, v in enumerate(sn_vals) if not (type(v) is str and v[:1] in _SN_START)]
    if suspects:
        drop = set()
        for j in suspects:
            sn_cell, row = sn_vals[j], block[j]
            if sn_cell is None or sn_cell == "" or isinstance(sn_cell, str) and not sn_cell.strip():
                if _blank(row) or _is_total_row(row):
                    drop.add(j)
            elif isinstance(sn_cell, str) and _TOTAL.match(sn_cell.strip()):
                drop.add(j)
        if drop:
            skipped += len(drop)
            kept = [j for j in kept if j not in drop]
            block = [block[j] for j in kept]
            by_col = transpose(block)

    columns: list[list] = []
    any_bad = False
    text_only = layout.source_kind == "csv"  # the csv module reads text only (short rows padded with None)
    for n_done, (key, col, fn) in enumerate(convs):
        parsed, bad = _parse_column(by_col[col], fn, key == "order_sn", text_only)
        columns.append(parsed)
        any_bad = any_bad or bad
        if progress:
            progress("check", total * (n_done + 1) // (len(convs) + 1), total)

    keys = [k for k, _c, _f in convs]
    row_numbers = [start + j + 1 for j in kept]
    rejects: list[RejectedRow] = []
    if any_bad:
        bad = sorted({j for col in columns if _BAD in col for j, v in enumerate(col) if v is _BAD})
        drop = set()
        for j in bad:
            i = row_numbers[j] - 1
            got = _parse_line(rows[i], i, convs, headers, sn_col)
            if isinstance(got, RejectedRow):
                rejects.append(got)
                drop.add(j)
            else:  # accepted cell by cell after all: its values as parsed so
                for key, col in zip(keys, columns):
                    col[j] = got.get(key)
        if drop:
            keep = [j for j in range(len(row_numbers)) if j not in drop]
            columns = [[col[j] for j in keep] for col in columns]
            row_numbers = [row_numbers[j] for j in keep]
    if progress:
        progress("check", total, total)
    return ParsedRows(dict(zip(keys, columns)), row_numbers), rejects, total - (skipped - (len(rows) - end)), skipped


def _sum_or_same(values: list[int]) -> int:
    """Order-level money on each line of an order: repeated (take once) or per line (sum)."""
    if len(set(values)) == 1:
        return values[0]
    return sum(values)


_ITEM_KEYS = ("goods_id", "goods_name", "goods_spec", "goods_count", "sku_id", "outer_id", "outer_goods_id")
_DISCOUNTS = ("discount_shop", "discount_platform", "discount_pay", "discount")
_REFUND_RANK = {1: 0, 2: 2, 3: 3, 4: 1}  # which after-sale status of an order's lines wins


# line field -> record field, for fields an order's first non-empty line decides
_FIRST_WINS = tuple((k, k) for k in ("order_status",) + _ORDER_TEXT + _TIMES)
_MONEY_FIELDS = (("goods_amount", "goods_amount_fen"), ("postage", "postage_fen"), ("pay_amount", "pay_amount_fen"))
# a one-line order's record: these line fields as they are, then these renamed
_AS_IS = ("order_sn", "order_status", "tracking_number") + _ORDER_TEXT + _TIMES
_RENAMED = (("after_sale", "refund_status"),) + _MONEY_FIELDS


def _line_item(ln: dict) -> dict | None:
    """The item an order line carries (None if the line names no goods)."""
    get = ln.get
    it = {k: v for k in _ITEM_KEYS if (v := get(k)) is not None}
    v = get("goods_price")
    if v is not None:
        it["goods_price_fen"] = v
    if not it:
        return None
    if "goods_count" not in it:
        it["goods_count"] = 1
    return it


def _order_record(sn: str, lns: list[dict]) -> dict:
    """The record for :func:`core.orders.upsert_orders` from the lines of an order with several."""
    rec: dict = {"order_sn": sn}
    for lk, rk in _FIRST_WINS:
        for ln in lns:
            v = ln.get(lk)
            if v is not None:
                rec[rk] = v
                break
    refunds = [v for ln in lns if (v := ln.get("after_sale")) is not None]
    if refunds:
        rec["refund_status"] = max(refunds, key=lambda s: _REFUND_RANK.get(s, 0))
    money = {}
    for k in _ORDER_MONEY:
        vals = [v for ln in lns if (v := ln.get(k)) is not None]
        if vals:
            money[k] = _sum_or_same(vals)
    for k, rk in _MONEY_FIELDS:
        if k in money:
            rec[rk] = money[k]
    disc = [money[k] for k in _DISCOUNTS if k in money]
    if disc:
        rec["discount_amount_fen"] = sum(disc)
    if "pay_time" not in rec and "confirm_time" in rec:
        rec["pay_time"] = rec["confirm_time"]
    for ln in lns:
        if ln.get("tracking_number"):
            rec["tracking_number"] = ln["tracking_number"]
            if ln.get("courier"):
                rec["logistics_id"] = ln["courier"]
            break
    items = [it for ln in lns if (it := _line_item(ln)) is not None]
    if items:
        rec["items"] = items
    return rec


def _one_line_columns(p: ParsedRows) -> dict[str, list]:
    """Record columns for every row as if each were a one-line order (None where a row gives
    nothing; an item's empty fields included)."""
    cols = p.cols
    out: dict[str, list] = {}
    for k in _AS_IS:
        if k in cols:
            out[k] = cols[k]
    for k, rk in _RENAMED:
        if k in cols:
            out[rk] = cols[k]
    disc = [cols[k] for k in _DISCOUNTS if k in cols]
    if len(disc) == 1:
        out["discount_amount_fen"] = disc[0]
    elif disc:
        nones = (None,) * len(disc)
        out["discount_amount_fen"] = [None if t == nones else sum(filter(None, t)) for t in zip(*disc)]
    if "confirm_time" in cols:  # no pay time: the deal time stands in
        paid = cols.get("pay_time")
        out["pay_time"] = cols["confirm_time"] if paid is None else [
            v if v is not None else c for v, c in zip(paid, cols["confirm_time"])]
    if "tracking_number" in cols and "courier" in cols:
        out["logistics_id"] = [c if t else None for t, c in zip(cols["tracking_number"], cols["courier"])]
    item_keys = [k for k in _ITEM_KEYS if k in cols]
    item_data = [cols[k] for k in item_keys]  # an empty count is 1 (the upsert's rule)
    if "goods_price" in cols:
        item_keys.append("goods_price_fen")
        item_data.append(cols["goods_price"])
    if item_keys:
        nones = (None,) * len(item_keys)
        out["items"] = [None if t == nones else [dict(zip(item_keys, t))] for t in zip(*item_data)]
    return out


def group_orders(p: ParsedRows, rejects: list[RejectedRow], headers: list[str],
                 rows: Sequence[Sequence]) -> RecordColumns:
    """Order lines -> order records for :func:`core.orders.upsert_orders` (held a field at a
    time), in the order their first lines come. An order with a rejected line is rejected as a
    whole."""
    bad_sns: dict[str, int] = {}
    for r in rejects:
        if r.order_sn:
            bad_sns.setdefault(r.order_sn, r.row)
    sns = p.cols["order_sn"]
    first: dict[str, int] = {}
    for j, sn in enumerate(sns):
        first.setdefault(sn, j)
    several: dict[str, list[int]] = {}
    if len(first) < len(sns):
        for j, sn in enumerate(sns):
            if first[sn] != j:
                several.setdefault(sn, [first[sn]]).append(j)
    width = len(headers)
    for sn in bad_sns.keys() & first.keys():
        for k in several.get(sn) or [first[sn]]:
            r = p.rows[k]
            rejects.append(RejectedRow(r, _row_cells(rows[r - 1], width), "", tr(
                "another line of order {sn} (row {r}) was rejected", "订单 {sn} 的另一行（第 {r} 行）被拒绝",
                sn=sn, r=bad_sns[sn])))
    order = [j for sn, j in first.items() if sn not in bad_sns]
    cols = _one_line_columns(p)
    if len(order) < len(sns):
        cols = {k: [c[j] for j in order] for k, c in cols.items()}
    if several:  # orders with several lines: their records replace the first line's values
        pos = {sns[j]: i for i, j in enumerate(order)}
        nones = [None] * len(order)
        for sn, lines in several.items():
            if sn in bad_sns:
                continue
            rec = _order_record(sn, [p.line(k) for k in lines])
            i = pos[sn]
            for k, c in cols.items():
                c[i] = rec.get(k)
            for k in rec.keys() - cols.keys():
                cols[k] = list(nones)
                cols[k][i] = rec[k]
    _add_masks(cols)
    return RecordColumns(cols, len(order))


def _add_masks(cols: dict[str, list]) -> None:
    """Plain receiver text from the file gets the masked forms the screens show by default."""
    for plain, masked, fn in (("receiver_name", "receiver_name_mask", mask_name),
                              ("receiver_phone", "receiver_phone_mask", mask_phone)):
        if plain in cols:
            cols[masked] = [fn(v) if v else None for v in cols[plain]]
    if "receiver_address" in cols:
        addresses = cols["receiver_address"]
        regions = [cols[k] for k in ("province", "city", "town") if k in cols]
        region = ["".join(filter(None, t)) for t in zip(*regions)] if regions else [""] * len(addresses)
        cols["address_mask"] = [mask_address(a, region=r) if a else None for a, r in zip(addresses, region)]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


def _one_assignment_per_order(records: list[dict], layout: Layout, rejects: list[RejectedRow]) -> list[dict]:
    """A tracking file names each order once: a repeated identical row is dropped; an order
    given different tracking numbers or couriers is rejected on each of its rows (which one
    is right cannot be told)."""
    by_sn: dict[str, list[dict]] = {}
    for rec in records:
        by_sn.setdefault(rec["order_sn"], []).append(rec)
    out = []
    for sn, recs in by_sn.items():
        if len({(r["tracking_number"], r["logistics_id"]) for r in recs}) == 1:
            out.append(recs[0])
            continue
        rows = ", ".join(str(r["_row"]) for r in recs)
        for r in recs:
            rejects.append(_tracking_reject(layout, r, "order_sn", tr(
                "order {sn} is given different tracking numbers on rows {rows}", "订单 {sn} 在第 {rows} 行有不同的快递单号",
                sn=sn, rows=rows)))
    out.sort(key=lambda r: r["_row"])
    return out


def _tracking_reject(layout: Layout, rec: dict, field_key: str, message: str) -> RejectedRow:
    """The reject of a tracking file's row, naming the column of ``field_key``."""
    return RejectedRow(rec["_row"], _row_cells(layout.rows[rec["_row"] - 1], len(layout.headers)),
                       layout.headers[layout.mapping[field_key]], message, rec["order_sn"])


@gc_paused
def plan_import(layout: Layout, *, shop_id: int | None, tz: str = "Asia/Shanghai",
                progress: Progress | None = None, dry_run_counts: bool = True) -> ImportPlan:
    """Parse and validate every row, group orders, and (``dry_run_counts``) compute the
    new / updated / unchanged counts by running the upsert in a transaction that is rolled
    back: nothing is written."""
    if layout.missing():
        raise SpreadsheetError(tr("required columns are not mapped: {m}", "必需的列未映射：{m}",
                                  m=", ".join(FIELD_BY_KEY[k].label() for k in layout.missing())))
    parsed, rejects, total, skipped = parse_rows(layout, tz=tz, progress=progress,
                                                 strict_courier=layout.kind == "tracking")
    if layout.kind == "tracking":
        cols = parsed.cols
        records = [{"order_sn": sn, "tracking_number": t, "logistics_id": c, "_row": r} for sn, t, c, r in zip(
            cols["order_sn"], cols["tracking_number"], cols["courier"], parsed.rows)]
        for rec in records:
            if rec["logistics_id"] is None:
                rejects.append(_tracking_reject(layout, rec, "courier", tr("the courier is empty", "快递公司为空")))
            elif not rec["tracking_number"]:
                rejects.append(_tracking_reject(layout, rec, "tracking_number",
                                                tr("the tracking number is empty", "快递单号为空")))
            elif not re.match(r"^[A-Za-z0-9-]{6,40}$", rec["tracking_number"]):
                rejects.append(_tracking_reject(layout, rec, "tracking_number", tr(
                    "'{v}' is not a tracking number", "“{v}”不是有效的快递单号", v=rec["tracking_number"])))
        bad = {r.row for r in rejects}
        records = _one_assignment_per_order([r for r in records if r["_row"] not in bad], layout, rejects)
    else:
        records = group_orders(parsed, rejects, layout.headers, layout.rows)
    rejects.sort(key=lambda r: r.row)
    plan = ImportPlan(layout=layout, shop_id=shop_id, records=records, rejects=rejects, rows_total=total,
                      skipped=skipped, file_sha256=layout.sha256 or _sha256(layout.path))
    plan.counts.rejected = len(rejects)
    if dry_run_counts and _db_ready() and (shop_id is not None or layout.kind == "tracking"):
        _apply(plan, actor="", commit=False, progress=None)
    elif layout.kind == "orders":  # no shop yet: every order would be new
        plan.counts.new = len(records)
    return plan


# ====================================================================== commit
class _Rollback(Exception):
    pass


def _apply(plan: ImportPlan, *, actor: str, commit: bool, progress: Progress | None) -> None:
    """Run the import in ONE write transaction; roll it back unless ``commit``. Updates
    ``plan.counts`` (and, for tracking files, ``plan.rejects``)."""
    from dadan.core.db import database, write

    db = database()
    counts = Counts(rejected=len(plan.rejects))
    try:
        with write(db) as txn:
            if plan.kind == "tracking":
                new_rejects = _apply_tracking(plan, counts, actor, progress)
            else:
                new_rejects = []
                _apply_orders(plan, counts, progress)
            if new_rejects:
                plan.rejects = sorted(plan.rejects + new_rejects, key=lambda r: r.row)
                counts.rejected = len(plan.rejects)
                bad = {r.row for r in new_rejects}
                plan.records = [r for r in plan.records if r["_row"] not in bad]
            if commit and plan.rejects and not getattr(plan, "_allow_partial", False):
                raise _Rollback()
            if not commit:
                txn.rollback()
            else:
                _record_run(plan, counts, actor)
    except _Rollback:
        pass
    plan.counts = counts


def _apply_orders(plan: ImportPlan, counts: Counts, progress: Progress | None) -> None:
    from dadan.core.orders.upsert import upsert_orders

    recs = plan.records
    total = len(recs)
    chunk = 2000
    for i in range(0, total, chunk):
        if progress:
            progress("write", i, total)
        res = upsert_orders(plan.shop_id, recs[i : i + chunk], source="import")
        counts.new += res.new
        counts.updated += res.changed
        counts.unchanged += res.unchanged
    if progress:
        progress("write", total, total)


def _apply_tracking(plan: ImportPlan, counts: Counts, actor: str, progress: Progress | None) -> list[RejectedRow]:
    from dadan.core.db import database
    from dadan.core.models import Order

    from dadan.core.shipping import outbox as shipping

    db = database()
    rejects: list[RejectedRow] = []
    lay = plan.layout
    width = len(lay.headers)
    sns = list({r["order_sn"] for r in plan.records})
    found: dict[str, list] = {}
    for i in range(0, len(sns), 500):
        q = Order.select(Order.id, Order.order_sn, Order.shop, Order.tracking_number, Order.logistics_id).where(
            Order.order_sn.in_(sns[i : i + 500]))
        if plan.shop_id is not None:
            q = q.where(Order.shop == plan.shop_id)
        for o in q:
            found.setdefault(o.order_sn, []).append(o)
    total = len(plan.records)
    for n, rec in enumerate(plan.records):
        if progress and n % 200 == 0:
            progress("write", n, total)
        cells = _row_cells(lay.rows[rec["_row"] - 1], width)
        orders = found.get(rec["order_sn"], [])
        if not orders:
            rejects.append(RejectedRow(rec["_row"], cells, lay.headers[lay.mapping["order_sn"]],
                                       tr("no order {sn} in the database", "数据库中没有订单 {sn}", sn=rec["order_sn"])))
            continue
        if len(orders) > 1:
            rejects.append(RejectedRow(rec["_row"], cells, lay.headers[lay.mapping["order_sn"]], tr(
                "order {sn} exists in several shops; choose the shop with --shop", "订单 {sn} 存在于多个店铺，请用 --shop 指定",
                sn=rec["order_sn"])))
            continue
        o = orders[0]
        norm = shipping.normalize_tracking
        if norm(o.tracking_number) == norm(rec["tracking_number"]) and o.logistics_id == rec["logistics_id"]:
            counts.unchanged += 1
            continue
        try:
            with db.atomic():  # savepoint: a refused row leaves nothing behind
                shipping.assign_tracking(o.id, rec["tracking_number"], rec["logistics_id"], actor=actor or "import")
        except DadanError as exc:
            rejects.append(RejectedRow(rec["_row"], cells, "", exc.message))
            continue
        counts.updated += 1
    if progress:
        progress("write", total, total)
    return rejects


def _record_run(plan: ImportPlan, counts: Counts, actor: str) -> None:
    from dadan.core.models import ImportRun, utcnow

    ImportRun.create(
        started_at=getattr(plan, "_started", None) or utcnow(), finished_at=utcnow(), actor=actor, kind=plan.kind,
        file_name=str(plan.layout.path), file_sha256=plan.file_sha256, shop=plan.shop_id,
        rows_total=plan.rows_total, orders_new=counts.new, orders_updated=counts.updated,
        orders_unchanged=counts.unchanged, rows_rejected=counts.rejected, committed=True,
        message=plan.summary(done=True))


@dataclass
class ImportOutcome:
    committed: bool
    counts: Counts
    message: str
    rejects_file: Path | None = None


@gc_paused
def commit_import(plan: ImportPlan, *, actor: str, allow_partial: bool = False,
                  progress: Progress | None = None) -> ImportOutcome:
    """Write the import in one transaction. With rejected rows and not ``allow_partial`` the
    file is refused and nothing is written."""
    from dadan.core.models import utcnow

    if plan.rejects and not allow_partial:
        return ImportOutcome(False, plan.counts, tr(
            "not imported: {r} rows were rejected; fix them or accept a partial import",
            "未导入：{r} 行被拒绝；请修正后重试，或选择部分导入", r=len(plan.rejects)))
    if plan.kind == "orders" and plan.shop_id is None:
        raise SpreadsheetError(tr("choose the shop to import into (--shop NAME)", "请选择导入到哪个店铺（--shop 店铺名）"))
    plan._started = utcnow()  # type: ignore[attr-defined]
    plan._allow_partial = allow_partial  # type: ignore[attr-defined]
    _apply(plan, actor=actor, commit=True, progress=progress)
    if plan.rejects and not allow_partial:  # tracking rows refused while writing: rolled back
        return ImportOutcome(False, plan.counts, tr(
            "not imported: {r} rows were rejected; fix them or accept a partial import",
            "未导入：{r} 行被拒绝；请修正后重试，或选择部分导入", r=len(plan.rejects)))
    return ImportOutcome(True, plan.counts, tr("imported: ", "已导入：") + plan.summary(done=True))


# ====================================================================== rejects file
def write_rejects(plan: ImportPlan, out: str | Path | None = None) -> Path | None:
    """Rejected rows -> an .xlsx with the original columns and an error column (none -> None).
    Default name: ``<file>.rejects.xlsx`` beside the imported file."""
    if not plan.rejects:
        return None
    from openpyxl import Workbook

    from dadan.core.spreadsheets.export import neutralize

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


def read_rows_safely(path: str | Path) -> list[list]:
    """Every row of the first/orders sheet (used by tests and the fuzzer)."""
    src = open_source(path)
    return src.rows(src.sheet_names[0])


def iter_chunks(seq: Sequence, n: int) -> Iterable[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]
