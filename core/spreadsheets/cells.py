"""One cell -> one value: order numbers, codes, quantities, whole numbers, money (fen), times (UTC) and
statuses, each rejecting what Excel damaged with a message that says how to export again;
total rows ("合计")."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Callable, Sequence

from dadan.core.i18n import tr
from dadan.core.spreadsheets.errors import CellError
from dadan.core.spreadsheets.reading import cell_text
from dadan.core.timeutil import to_utc, zone

_EXPORT_HINT_EN = ("export the file again from the merchant backend and import it as it is, without "
                   "opening and saving it in Excel (or import the column as Text in Excel)")
_EXPORT_HINT_ZH = "请从商家后台重新导出后直接导入，不要用 Excel 打开再保存（或在 Excel 中把该列设为“文本”格式）"
_SCI = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_SN = re.compile(r"^\d{6}-\d{15}$", re.ASCII)
_CURRENCY = re.compile(r"^(¥|￥|rmb|cny|人民币)|(元|rmb|cny)$", re.IGNORECASE)
_OTHER_CURRENCY = re.compile(r"[$€£]|usd|eur", re.IGNORECASE)


def clean_text(v) -> str:
    """A text cell without the guards exports put before digits and formulas (``="..."``, ``'``)."""
    s = cell_text(v)
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
        raise _damaged(cell_text(v) if isinstance(v, int) else f"{v:.6g}", "order number", "订单号")
    s = clean_text(v)
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
    s = clean_text(v)
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
        s = clean_text(v).removesuffix("件").strip()
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


def parse_whole(v, what_en: str, what_zh: str, *, minimum: int = 0, maximum: int = 10**9) -> int | None:
    """A whole number from ``minimum`` to ``maximum`` (stock, grams, a received quantity); an
    empty cell -> None."""
    if isinstance(v, bool):
        raise CellError(tr("{w} '{v}' is not a number", "{w}“{v}”不是数字", w=tr(what_en, what_zh), v=v))
    if isinstance(v, (int, float)):
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        s = cell_text(v)
    else:
        s = clean_text(v).replace(",", "").replace("，", "")
        if not s:
            return None
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise CellError(tr("{w} '{v}' is not a number", "{w}“{v}”不是数字", w=tr(what_en, what_zh), v=s)) from None
    if not d.is_finite() or d != d.to_integral_value():
        raise CellError(tr("{w} {v} is not a whole number", "{w} {v} 不是整数", w=tr(what_en, what_zh), v=s))
    n = int(d)
    if n < minimum:
        raise CellError(tr("{w} {v} must be at least {m}", "{w} {v} 不能小于 {m}", w=tr(what_en, what_zh), v=s,
                           m=minimum))
    if n > maximum:
        raise CellError(tr("{w} {v} is implausibly large", "{w} {v} 过大", w=tr(what_en, what_zh), v=s))
    return n


def parse_money(v, *, allow_negative: bool = False) -> int | None:
    """Yuan (number or text with ¥/￥/元/RMB and thousands separators) -> fen."""
    if isinstance(v, bool):
        raise CellError(tr("'{v}' is not an amount", "“{v}”不是金额", v=v))
    if isinstance(v, (int, float)):
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        s = str(v)
    else:
        s = clean_text(v)
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
        s = clean_text(v)
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



def time_parser(tz: str = "Asia/Shanghai") -> Callable[[object], dt.datetime | None]:
    """:func:`parse_time` for one zone, as a column of times calls it once a cell: the export's
    own "YYYY-MM-DD HH:MM:SS" converted inline (the zone and the parsers looked up once), any
    other cell handed to :func:`parse_time`."""
    offset = zone(tz).utcoffset
    iso = dt.datetime.fromisoformat

    def parse(v) -> dt.datetime | None:
        # 19 characters with "-- ::" at 4, 7, 10, 13 and 16, which fromisoformat reads: the
        # other 14 are ASCII digits (it reads no other), so this is _PLAIN_TIME without the regex
        if type(v) is str and len(s := v.strip()) == 19 and s[4:17:3] == "-- ::":
            try:
                t = iso(s)
            except ValueError:  # an impossible date or not digits: parse_time says which
                return parse_time(v, tz)
            if 2000 <= t.year <= 2100:
                return t - offset(t)  # naive: as to_utc
        return parse_time(v, tz)

    return parse

_ORDER_STATUS = {
    "待发货": 1, "待发货(已成团)": 1, "已成团待发货": 1, "待成团": 1, "未发货": 1, "awaitingshipment": 1, "pending": 1,
    "已发货": 2, "待收货": 2, "已发货待签收": 2, "已发货,待收货": 2, "已发货，待收货": 2, "待签收": 2, "shipped": 2,
    "已签收": 3, "已收货": 3, "交易成功": 3, "已完成": 3, "received": 3, "completed": 3,
    "已取消": 0, "交易关闭": 0, "已关闭": 0, "订单取消": 0, "cancelled": 0, "canceled": 0, "closed": 0,
}


def parse_order_status(v) -> int | None:
    s = clean_text(v)
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


_NO_AFTER_SALE = ("无售后或售后取消", "无售后", "售后取消", "售后关闭", "无", "none", "-", "退款关闭", "售后已取消")


def parse_refund_status(v) -> int | None:
    """An after-sale status cell -> 1 none, 2 after-sale, 3 refunding, 4 refunded. The start of
    a "none" text that stops short (a cut file) is refused, never read as a refund."""
    s = clean_text(v)
    if not s:
        return None
    if s in ("1", "2", "3", "4"):
        return int(s)
    key = s.replace(" ", "").lower()
    if key in _NO_AFTER_SALE:
        return 1
    if len(key) >= 2 and any(w.startswith(key) for w in _NO_AFTER_SALE):  # "无售后或售后" is no refund
        raise CellError(tr("after-sale status '{v}' looks cut short (expected e.g. 无售后或售后取消)",
                           "售后状态“{v}”似乎不完整（应为 无售后或售后取消 等）", v=s))
    if "退款成功" in key or "已退款" in key or key == "refunded":
        return 4
    if "退款中" in key or "待退款" in key or key == "refunding":
        return 3
    if "售后" in key or "退货" in key or "退款" in key or "换货" in key or "补寄" in key or key == "aftersale":
        return 2
    raise CellError(tr("unknown after-sale status '{v}' (expected e.g. 无售后或售后取消, 退款中, 退款成功)",
                       "未知售后状态“{v}”（应为 无售后或售后取消、退款中、退款成功 等）", v=s))


TOTAL_ROW = re.compile(r"^(合计|总计|小计|汇总|total|sum|共\s*\d+)", re.IGNORECASE)


def is_total_row(row: Sequence) -> bool:
    for v in row:
        s = cell_text(v)
        if s:
            return bool(TOTAL_ROW.match(s))
    return False
