"""One cell -> one value: order numbers, codes, quantities, whole numbers, money (fen), times (UTC) and
statuses, each rejecting what Excel damaged with a message that says how to export again;
total rows ("合计")."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
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


# a number as text: digits, a point and decimals; a comma (or a full-width one) only between
# groups of exactly three digits ("1,990", "12,345.60"): "19,90" and "1,5" are a decimal comma,
# refused, never read as 1990 and 15
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_SCI_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+")
_GROUPED = {seps: re.compile(rf"[+-]?\d{{1,3}}(?P<sep>[{seps}])\d{{3}}(?:(?P=sep)\d{{3}})*(?:\.\d*)?")
            for seps in (",，", ",， ")}
_COMMAS = ",，"


def _decimal(s: str, seps: str = _COMMAS) -> tuple[Decimal | None, str]:
    """A number written as text -> (its value, ""), or (None, why) when it is none: why is
    "group" (a separator not between groups of three digits), "exponent" (1e2) or "" (no
    number). ``seps``: the thousands separators allowed (a space as well for an amount)."""
    if _PLAIN_NUMBER.fullmatch(s):
        return Decimal(s), ""
    if any(c in s for c in seps):
        if _GROUPED[seps].fullmatch(s):
            return Decimal("".join(c for c in s if c not in seps)), ""
        return None, "group"
    if _SCI_NUMBER.fullmatch(s):
        return None, "exponent"
    return None, ""


def _not_whole(what_en: str, what_zh: str, s: str, why: str) -> CellError:
    """The refusal of a whole-number cell ``s`` that is not a number as :func:`_decimal` says why."""
    w = tr(what_en, what_zh)
    if why == "group":
        return CellError(tr("{w} '{v}' is not a number (a comma separates thousands: 1,234)",
                            "{w}“{v}”不是数字（逗号只用作千位分隔，如 1,234）", w=w, v=s))
    if why == "exponent":
        return CellError(tr("{w} '{v}' is in scientific notation: write the whole number in digits",
                            "{w}“{v}”是科学计数法：请写成完整的整数", w=w, v=s))
    return CellError(tr("{w} '{v}' is not a number", "{w}“{v}”不是数字", w=w, v=s))


def parse_count(v) -> int:
    """A quantity: a whole number from 1 to 100000 (a cell "2.0" or 2.0 is 2; "1.5", "1e2" and
    "1,5" are refused); an empty cell is 1."""
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
        d, why = _decimal(s)
        if d is None:
            raise _not_whole("quantity", "数量", s, why)
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
    empty cell -> None. Text is digits, with commas only between groups of three ("1,000");
    "2.5", "1e2" and "1,5" are refused."""
    if isinstance(v, bool):
        raise CellError(tr("{w} '{v}' is not a number", "{w}“{v}”不是数字", w=tr(what_en, what_zh), v=v))
    if isinstance(v, (int, float)):
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        s = cell_text(v)
    else:
        s = clean_text(v)
        if not s:
            return None
        d, why = _decimal(s)
        if d is None:
            raise _not_whole(what_en, what_zh, s, why)
    if not d.is_finite() or d != d.to_integral_value():
        raise CellError(tr("{w} {v} is not a whole number", "{w} {v} 不是整数", w=tr(what_en, what_zh), v=s))
    n = int(d)
    if n < minimum:
        raise CellError(tr("{w} {v} must be at least {m}", "{w} {v} 不能小于 {m}", w=tr(what_en, what_zh), v=s,
                           m=minimum))
    if n > maximum:
        raise CellError(tr("{w} {v} is implausibly large", "{w} {v} 过大", w=tr(what_en, what_zh), v=s))
    return n


_LOOSE_SPACE = re.compile(r"(?<!\d)\s+|\s+(?!\d)")  # any space but one between two digits
_FEN = Decimal("0.01")


def parse_money(v, *, allow_negative: bool = False) -> int | None:
    """Yuan (number or text with ¥/￥/元/RMB and thousands separators) -> fen.

    Text is refused, never rounded or misread, when a comma (or a space) is not between groups
    of three digits ("19,90"), when it is in scientific notation, and when it has more than two
    decimals that are not zeros ("19.999"; "19.990" is 1999 fen). A number cell (an xlsx one) is
    rounded to the fen: 19.9 is 1990 however the float stores it."""
    if isinstance(v, bool):
        raise CellError(tr("'{v}' is not an amount", "“{v}”不是金额", v=v))
    text = not isinstance(v, (int, float))
    if not text:
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        s = str(v)
    else:
        s = clean_text(v)
        if not s or s in ("-", "--"):
            return None
        if _OTHER_CURRENCY.search(s):
            raise CellError(tr("amount '{v}' is not in yuan", "金额“{v}”不是人民币", v=s))
        t = _LOOSE_SPACE.sub("", s)
        t = re.sub(r"\s", " ", t)  # a space between digits: a thousands separator, checked as one
        neg = t.startswith("-")
        t = t.lstrip("+-")
        t = _CURRENCY.sub("", t)
        t = _CURRENCY.sub("", t).strip()
        d, why = _decimal(t, ",， ")
        if d is None:
            if why == "group" and not any(c in t for c in _COMMAS):
                raise CellError(tr("'{v}' is not an amount in yuan (a space separates thousands only: 1 234.50)",
                                   "“{v}”不是有效的金额（元）（空格只用作千位分隔，如 1 234.50）", v=s))
            if why == "group":
                raise CellError(tr("'{v}' is not an amount in yuan (a comma separates thousands: 1,234.50)",
                                   "“{v}”不是有效的金额（元）（逗号只用作千位分隔，如 1,234.50）", v=s))
            if why == "exponent":
                raise CellError(tr("amount '{v}' is in scientific notation: write it in yuan and fen (12.50)",
                                   "金额“{v}”是科学计数法：请写成元和分（如 12.50）", v=s))
            raise CellError(tr("'{v}' is not an amount in yuan", "“{v}”不是有效的金额（元）", v=s))
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
    if text and d != d.quantize(_FEN):
        raise CellError(tr("amount '{v}' has more than two decimals (the fen is the smallest unit)",
                           "金额“{v}”超过两位小数（最小单位为分）", v=s))
    return int((d * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_PLAIN_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\Z")
_COMPACT_FORMATS = ("%Y%m%d%H%M%S", "%Y%m%d")
_DATE_START = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_HALF_DAY = r"上午|下午|AM|PM"
# a date, and maybe a time with 上午/下午 or AM/PM and a zone (Z, UTC, +08:00, +0800, GMT+8)
_TIME_TEXT = re.compile(rf"""
    (?P<y>\d{{4}})-(?P<mo>\d{{2}})-(?P<d>\d{{2}})
    (?:(?:[T\s]\s*|(?={_HALF_DAY}))
       (?:(?P<ap1>{_HALF_DAY})\s*)?
       (?P<h>\d{{1,2}})(?::(?P<mi>\d{{1,2}})(?::(?P<s>\d{{1,2}})(?:[.,]\d+)?)?)?
       (?:\s*(?P<ap2>{_HALF_DAY}))?
       (?:\s*(?P<tz>Z|(?:UTC|GMT)(?:[+-]\d{{1,2}}(?::?\d{{2}})?)?|[+-]\d{{2}}(?::?\d{{2}})?))?
    )?""", re.VERBOSE | re.IGNORECASE)
_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?")


def _impossible(s: str) -> CellError:
    return CellError(tr("'{v}' is an impossible date", "“{v}”是不存在的日期", v=s))


def _time_text(m: re.Match, s: str) -> dt.datetime:
    """The time :data:`_TIME_TEXT` matched in ``s``: naive (the warehouse's zone) or, with a
    zone written after it, aware. 上午/AM hours are 0-12 (12 is midnight), 下午/PM hours 1-12
    (12 is noon; 13-23, said twice, taken as they are)."""
    h = int(m["h"] or 0)
    half = m["ap1"] or m["ap2"]
    if half:
        if m["ap1"] and m["ap2"]:
            raise _impossible(s)
        if half.upper() in ("PM", "下午"):
            if h == 0:
                raise _impossible(s)
            h = h + 12 if h < 12 else h
        else:
            if h > 12:
                raise _impossible(s)
            h = 0 if h == 12 else h
    try:
        t = dt.datetime(int(m["y"]), int(m["mo"]), int(m["d"]), h, int(m["mi"] or 0), int(m["s"] or 0))
    except ValueError:
        raise _impossible(s) from None
    zone_text = (m["tz"] or "").upper()
    if zone_text:
        off = _OFFSET.search(zone_text)
        offset = dt.timedelta()
        if off:
            hours, minutes = int(off[2]), int(off[3] or 0)
            if hours > 14 or minutes > 59:
                raise CellError(tr("'{v}' has an impossible time-zone offset", "“{v}”的时区偏移不存在", v=s))
            offset = dt.timedelta(hours=hours, minutes=minutes) * (-1 if off[1] == "-" else 1)
        t = t.replace(tzinfo=dt.timezone(offset))
    return t


def parse_time(v, tz: str = "Asia/Shanghai") -> dt.datetime | None:
    """A time in the warehouse zone (text, Excel date cell or Excel serial) -> naive UTC.

    A time written with its zone (``Z``, ``+08:00``, ``+0800``, ``UTC``) is converted from that
    zone, one with 上午/下午 or AM/PM read on the 12-hour clock; text with anything after the
    time this cannot read is refused, never cut off."""
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
        t = v.replace(microsecond=0)  # an aware one (none of the readers gives it) is converted
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
        s2 = re.sub(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*", r"\1-\2-\3 ", s).strip()
        s2 = _DATE_START.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", s2)
        m = _TIME_TEXT.fullmatch(s2)
        if m:
            t = _time_text(m, s)
        else:  # ISO 8601's other forms (20231114T100000, an offset after a fraction...), whole
            t = None
            try:
                t = dt.datetime.fromisoformat(s2)
            except ValueError:
                for fmt in _COMPACT_FORMATS:
                    try:
                        t = dt.datetime.strptime(s2, fmt)
                        break
                    except ValueError:
                        continue
            if t is None:
                m = _TIME_TEXT.match(s2)
                if m is None:
                    raise CellError(tr("'{v}' is not a date (expected YYYY-MM-DD HH:MM:SS)",
                                       "“{v}”不是日期（应为 YYYY-MM-DD HH:MM:SS）", v=s))
                _time_text(m, s)  # an impossible date or time says so
                raise CellError(tr(
                    "'{v}' is not a date: '{rest}' at its end cannot be read (expected YYYY-MM-DD HH:MM:SS, "
                    "maybe followed by a zone such as +08:00 or Z)",
                    "“{v}”不是日期：末尾的“{rest}”无法识别（应为 YYYY-MM-DD HH:MM:SS，可带时区如 +08:00 或 Z）",
                    v=s, rest=s2[m.end():].strip()))
        t = t.replace(microsecond=0)
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


_STATUS_PUNCT = re.compile(r"[\s,，、;；:：/|()（）\[\]【】.。!！~～\-—]+")
_STATUS_BY_KEY = {_STATUS_PUNCT.sub("", k): code for k, code in _ORDER_STATUS.items()}
# the verbs of a status text ("签收成功", "交易成功", "交易完成" as one word); the word before
# each says which way it goes
_STATUS_VERB = re.compile(r"签收成功|交易成功|交易完成|拼单成功|签收|收货|发货|取消|关闭|成功|完成|成团")
_NEGATION = "未待没不"


def _status_words(key: str) -> set[str]:
    """What a status text says, verb by verb: "awaiting" (待发货/未发货), "shipped" (已发货), "not
    received" (未签收/待签收/待收货/未收货, 待确认收货), "received" (已签收/已收货/确认收货/交易成功/
    已完成), "cancelled" (取消/关闭), "unclear" (a verb without 已/未/待 before it: 签收, 买家签收,
    退款成功, 未取消). The words between the previous verb and a verb decide its sense."""
    found: set[str] = set()
    last = 0
    for m in _STATUS_VERB.finditer(key):
        verb, before = m.group(), key[last:m.start()]
        last = m.end()
        marks = [c for c in before if c in _NEGATION or c == "已"]
        negated, done = bool(marks) and marks[-1] in _NEGATION, bool(marks) and marks[-1] == "已"
        if verb in ("签收成功", "交易成功", "交易完成"):
            found.add("received")
        elif verb == "拼单成功" or verb == "成团":
            if negated:  # 待成团: the group is not yet full, nothing to ship yet
                found.add("awaiting")
        elif verb == "发货":
            found.add("awaiting" if negated else "shipped" if done else "unclear")
        elif verb in ("签收", "收货"):
            found.add("not received" if negated else "received" if done or before.endswith("确认") else "unclear")
        elif verb in ("取消", "关闭"):
            found.add("unclear" if negated else "cancelled")
        elif verb == "完成":
            found.add("received" if done and not negated else "unclear")
        else:  # 成功 alone: 退款成功, 支付成功 say nothing of the parcel
            found.add("unclear")
    return found


def parse_order_status(v) -> int | None:
    """An order status cell -> 0 cancelled, 1 awaiting shipment, 2 shipped (awaiting receipt),
    3 received. The platform's texts (待发货, 已发货，待收货, 已签收, 交易成功, 已取消...) are looked up
    whole, without their spaces and punctuation; any other text is read verb by verb, where a
    negation (未签收, 待签收, 待发货，未签收) is never "received". Text that says two things at once
    (待发货，已发货) or nothing this can tell is refused."""
    s = clean_text(v)
    if not s:
        return None
    if s in ("0", "1", "2", "3"):
        return int(s)
    key = _STATUS_PUNCT.sub("", s).lower()
    if key in _STATUS_BY_KEY:
        return _STATUS_BY_KEY[key]
    found = _status_words(key)
    if "cancelled" in found:  # a cancelled or closed order is that, whatever else the text says
        return 0
    if found and "unclear" not in found:
        if "received" in found and not found & {"awaiting", "not received"}:
            return 3
        if "awaiting" in found and not found & {"shipped", "received"}:
            return 1
        if found <= {"shipped", "not received"}:
            return 2
    if found:
        raise CellError(tr("order status '{v}' is ambiguous (expected e.g. 待发货, 已发货，待收货, 已签收, 已取消)",
                           "订单状态“{v}”含义不明确（应为 待发货、已发货，待收货、已签收、已取消 等）", v=s))
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
