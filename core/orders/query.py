"""The one filter language, used by the TUI filter bar, saved views and the CLI.

    status:pending province:浙江 sku:A12 printed:no due<2h tag:加急 "free text"

Terms are separated by spaces and all must hold. A term is ``field:value``, ``field<value``,
``field>value`` (also ``<=``, ``>=``, ``=``, ``!=``), a bare word or a quoted phrase (free
text over order number, goods, SKU codes, remarks, region, tracking number). ``-term`` keeps every
order the term does not hold for, one whose tested field is empty included (:func:`selectivity.negation`).
Commas mean "any of": ``province:浙江,江苏``. Field names have Chinese aliases (``省:浙江``).

Times: ``due<2h`` — less than 2 hours left before the ship-by deadline (overdue included);
``paid<30m`` — paid less than 30 minutes ago; ``paid>2026-11-20`` — after that day;
``paid:today`` / ``paid:yesterday`` / ``paid:2026-11-20`` — on that day (warehouse time).
Units: m, h, d.

:mod:`dadan.core.orders.filter_syntax` reads the text into terms; :func:`compile_query` turns
them into a Peewee expression over :class:`core.models.Order`;
a mistake (a value too large to store or a time out of range included) raises
:class:`QuerySyntaxError` pointing at the bad token.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from peewee import SQL, Expression

from dadan.core.dialect import boolean
from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import tr
from dadan.core.models import Order, Shop
from dadan.core.order_indexes import has_exception, has_flag, has_memo, has_remark, has_tracking, is_pending
from dadan.core.orders import couriers, dialect, fulltext, selectivity, sku_index, stock_terms, tag_terms
from dadan.core.orders.filter_syntax import ALIASES, Term, parse
from dadan.core.orders.rules import FLAG_BY_KEY, SEARCH_FIELDS, Flag
from dadan.core.timeutil import DEFAULT_TZ, to_local, to_utc, utcnow

__all__ = ["compile_query", "QuerySyntaxError"]


_DUR_RE = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(m|min|h|d|分钟|小时|天)?$")
_INT_MAX = 2**63 - 1  # SQLite's INTEGER
_INT_MIN = -(2**63)
_FLAG_COLOURS = {"red": 1, "红": 1, "yellow": 2, "黄": 2, "green": 3, "绿": 3, "blue": 4, "蓝": 4,
                 "purple": 5, "紫": 5}
_YES = {"yes", "y", "true", "1", "是", "有"}
_NO = {"no", "n", "false", "0", "否", "无"}


class _Ctx:
    def __init__(self, source: str, now: dt.datetime, tz: str):
        self.source, self.now, self.tz = source, now, tz

    def error(self, term: Term, en: str, zh: str, **kw) -> QuerySyntaxError:
        return QuerySyntaxError(tr(en, zh, **kw), position=term.value_pos, token=term.value, source=self.source)


def compile_query(text: str | None, *, now: dt.datetime | None = None, tz: str = DEFAULT_TZ) -> Expression | None:
    """Filter text -> a Peewee expression over Order (None for an empty filter)."""
    text = (text or "").strip()
    if not text:
        return None
    ctx = _Ctx(text, now or utcnow(), tz)
    expr = None
    for term in parse(text):
        e = _compile_term(term, ctx)
        if term.negate:
            e = selectivity.negation(e)
        expr = e if expr is None else (expr & e)
    return expr


def _any_of(term: Term, ctx: _Ctx, one: Callable[[str], Expression]) -> Expression:
    values = [v for v in term.value.split(",") if v]
    if not values:
        raise ctx.error(term, "empty value", "值为空")
    e = None
    for v in values:
        x = one(v)
        e = x if e is None else (e | x)
    return e


def _yes_no(term: Term, ctx: _Ctx) -> bool:
    v = term.value.lower()
    if v in _YES:
        return term.op != "!="
    if v in _NO:
        return term.op == "!="
    raise ctx.error(term, "'{v}' should be yes or no", "“{v}”应为 yes 或 no", v=term.value)




def _compile_term(term: Term, ctx: _Ctx) -> Expression:
    f = term.field
    if f is None:
        return fulltext.contains(term.value)
    handler = _HANDLERS[f]
    if term.op not in handler.ops:
        raise QuerySyntaxError(
            tr("'{f}' does not take '{op}'", "“{f}”不支持“{op}”", f=f, op=term.op),
            position=term.pos + term.text.index(term.op), token=term.op, source=ctx.source,
        )
    return handler.fn(term, ctx)


@dataclass
class _Handler:
    fn: Callable[[Term, _Ctx], Expression]
    ops: tuple[str, ...] = (":", "=", "!=")


def _eq_op(term: Term, e: Expression) -> Expression:
    return selectivity.negation(e) if term.op == "!=" else e


_STATUS_ZH = {"待发货": "pending", "待打印": "new", "已打印": "printed", "已发货": "shipped",
              "已回传": "confirmed", "已签收": "received", "已取消": "cancelled",
              "done": "confirmed", "cancel": "cancelled"}  # (and the order table's short labels)


def _status_expr(key: str) -> Expression | None:
    return {
        "pending": is_pending(),
        "new": Order.state == "new",
        "printed": Order.state == "printed",
        "shipped": Order.state.in_(["shipped", "confirmed"]) | (Order.order_status == 2),
        "confirmed": Order.state == "confirmed",
        "received": Order.order_status == 3,
        "cancelled": Order.order_status.not_in([1, 2, 3]),
    }.get(key)


def _status(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        v = v.lower()
        expr = _status_expr(_STATUS_ZH.get(v, v))
        if expr is None:
            raise ctx.error(term, "unknown status '{v}' (pending, new, printed, shipped, confirmed, received, cancelled)",
                            "未知状态“{v}”（pending 待发货、new 待打印、printed 已打印、shipped 已发货、confirmed 已回传、received 已签收、cancelled 已取消）", v=v)
        return expr

    return _eq_op(term, _any_of(term, ctx, one))


def _state(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        v = {"done": "confirmed"}.get(v, v)  # (the order table's label)
        if v not in ("new", "printed", "shipped", "confirmed"):
            raise ctx.error(term, "unknown state '{v}' (new, printed, shipped, confirmed)",
                            "未知流程状态“{v}”（new、printed、shipped、confirmed）", v=v)
        return Order.state == v

    return _eq_op(term, _any_of(term, ctx, one))


def _printed(term: Term, ctx: _Ctx) -> Expression:
    return (Order.print_count > 0) if _yes_no(term, ctx) else (Order.print_count == 0)


def _blocked(term: Term, ctx: _Ctx) -> Expression:
    return has_exception() if _yes_no(term, ctx) else (Order.exception_flags == 0)


def _exception(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        v = v.lower()
        if v in ("any", "yes", "all", "有", "是"):
            return has_exception()
        if v in ("none", "no", "无", "否"):
            return Order.exception_flags == 0
        if v in ("overdue", "超时"):
            return _overdue_expr(ctx)
        flag = FLAG_BY_KEY.get(v) or _FLAG_ZH.get(v)
        if flag is None:
            raise ctx.error(term, "unknown exception '{v}' (any, none, {kinds}, overdue)",
                            "未知异常“{v}”（any、none、{kinds}、overdue）", v=v, kinds=", ".join(FLAG_BY_KEY))
        return has_exception() & (Order.exception_flags.bin_and(int(flag)) != 0)

    return _eq_op(term, _any_of(term, ctx, one))


_FLAG_ZH = {"退款": Flag.REFUND, "售后": Flag.AFTER_SALE, "取消": Flag.CANCELLED, "风控": Flag.RISK,
            "地址": Flag.ADDRESS_CHANGED, "缺货": Flag.OUT_OF_STOCK, "回传失败": Flag.SHIP_FAILED,
            "挂起": Flag.HOLD, "别处发货": Flag.SHIPPED_ELSEWHERE, "库存不足": Flag.STOCK_SHORT}


def _overdue_expr(ctx: _Ctx) -> Expression:
    return (Order.last_ship_time < ctx.now) & is_pending()


def _overdue(term: Term, ctx: _Ctx) -> Expression:
    e = _overdue_expr(ctx)
    return e if _yes_no(term, ctx) else selectivity.negation(e)


def _prefix(col):
    assert col.name in SEARCH_FIELDS, col.name  # (narrowed through the free-text index)

    def handler(term: Term, ctx: _Ctx) -> Expression:
        return _eq_op(term, _any_of(term, ctx, lambda v: _narrowed(dialect.prefix(col, v), v)))

    return handler


_CONTEXT_CASED = frozenset("Σσς")  # lower-cased by their neighbours (a final sigma): the search text may differ


def _narrowed(holds: Expression, v: str) -> Expression:
    """``holds`` (a text field of the order holds ``v``), found through the free-text index: every
    such field is in the order's search text (:data:`dadan.core.orders.rules.SEARCH_FIELDS`,
    lower-cased), so the orders whose search text holds ``v`` lower-cased are the only ones to
    test -- a few, not every order's row (``town:西湖`` at 1,000,000 orders: 344 -> 21 ms)."""
    return holds if _CONTEXT_CASED.intersection(v) else fulltext.contains(v) & holds


def _province(term: Term, ctx: _Ctx) -> Expression:  # a common prefix marked so (core.orders.selectivity)
    common = False

    def one(v: str) -> Expression:
        nonlocal common
        e = dialect.prefix(Order.province, v)
        common = common or selectivity.is_common(e)
        return e

    e = _any_of(term, ctx, one)
    return _eq_op(term, selectivity.marked_common(e) if common else e)


def _sku(term: Term, ctx: _Ctx) -> Expression:
    if term.op == "=":
        return _any_of(term, ctx, lambda v: sku_index.matches(v, exact=True))
    return _eq_op(term, _any_of(term, ctx, sku_index.matches))


def _goods(term: Term, ctx: _Ctx) -> Expression:
    return _eq_op(term, _any_of(term, ctx, fulltext.contains))


def _courier(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        if v.lower() in ("none", "no", "无"):
            return Order.logistics_id.is_null()
        cid = _stored_int(term, ctx, int(v)) if v.strip().isdigit() else couriers.CourierBook.from_database().lookup_id(v)
        if cid is None:
            raise ctx.error(term, "unknown courier '{v}'", "未知快递“{v}”", v=v)
        return Order.logistics_id == cid

    return _eq_op(term, _any_of(term, ctx, one))


def _tag(term: Term, ctx: _Ctx) -> Expression:
    return _eq_op(term, _any_of(term, ctx, tag_terms.matches))


def _stock(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        e = stock_terms.matches(v)
        if e is None:
            raise ctx.error(term, "unknown stock value '{v}' (short, low)", "未知库存条件“{v}”（short、low）", v=v)
        return e

    return _eq_op(term, _any_of(term, ctx, one))


def _shop(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        # (names are unique: the one id, looked up now; a name no shop has matches no order at
        # once, where a shop id no order has would be sought through every order's row)
        shop = Shop.select(Shop.id).where(Shop.name == v).scalar()
        return Order.shop == shop if shop is not None else SQL(boolean(False))

    return _eq_op(term, _any_of(term, ctx, one))


def _sn(term: Term, ctx: _Ctx) -> Expression:
    return _eq_op(term, _any_of(term, ctx, lambda v: dialect.prefix(Order.order_sn, v)))


def _tracking(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        if v.lower() in _YES:
            return has_tracking()
        if v.lower() in _NO:
            return selectivity.negation(has_tracking())
        return has_tracking() & dialect.prefix(Order.tracking_number, v)

    return _eq_op(term, _any_of(term, ctx, one))


def _waybill(term: Term, ctx: _Ctx) -> Expression:
    from dadan.core.waybills.recycle import waybill_condition

    def one(v: str) -> Expression:
        expr = waybill_condition(v)
        if expr is None:
            raise ctx.error(term, "unknown waybill state '{v}' (recycle, none, pending, live, printed, shipped, "
                            "cancelled)", "未知面单状态“{v}”（recycle 待回收、none 无、pending 待取号、live 已取号、"
                            "printed 已打印、shipped 已发货、cancelled 已回收）", v=v)
        return expr

    return _eq_op(term, _any_of(term, ctx, one))


def _text_or_presence(col, present: Callable[[], Expression]):
    """``col`` holds a text (yes), none (no) or this one; ``present``: "holds a text", as the
    field's partial index says it. A text is looked for in that index's entries, which hold it
    (core.order_indexes.NOTE_INDEXES): a few orders in a year carry one, and no row is read."""

    def handler(term: Term, ctx: _Ctx) -> Expression:
        def one(v: str) -> Expression:
            if v.lower() in _YES:
                return present()
            if v.lower() in _NO:
                return selectivity.negation(present())
            return present() & col.contains(v)

        return _eq_op(term, _any_of(term, ctx, one))

    return handler


def _flag(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        low = v.lower()
        if low in _NO or low == "none":
            return selectivity.negation(has_flag())
        if low in _YES or low == "any":
            return has_flag()
        if low.isdigit() and 1 <= int(low) <= 5:
            return Order.remark_tag == int(low)
        if low in _FLAG_COLOURS:
            return Order.remark_tag == _FLAG_COLOURS[low]
        raise ctx.error(term, "unknown flag colour '{v}' (red, yellow, green, blue, purple, 1-5)",
                        "未知旗帜颜色“{v}”（红、黄、绿、蓝、紫 或 1-5）", v=v)

    return _eq_op(term, _any_of(term, ctx, one))


def _source(term: Term, ctx: _Ctx) -> Expression:
    def one(v: str) -> Expression:
        if v not in ("api", "import", "demo"):
            raise ctx.error(term, "unknown source '{v}' (api, import, demo)", "未知来源“{v}”（api、import、demo）", v=v)
        return Order.source == v

    return _eq_op(term, _any_of(term, ctx, one))


def _out_of_range(term: Term, ctx: _Ctx) -> QuerySyntaxError:
    return ctx.error(term, "'{v}' is out of range", "“{v}”超出范围", v=term.value)


def _stored_int(term: Term, ctx: _Ctx, n: int) -> int:
    """``n`` if the database can hold it (a 64-bit integer), else a syntax error at the value."""
    if not _INT_MIN <= n <= _INT_MAX:
        raise _out_of_range(term, ctx)
    return n


def _number(term: Term, ctx: _Ctx, scale: int = 1) -> int:
    from decimal import Decimal, InvalidOperation

    try:
        n = int(Decimal(term.value.lstrip("¥￥")) * scale)
    except (InvalidOperation, ValueError):
        raise ctx.error(term, "'{v}' is not a number", "“{v}”不是数字", v=term.value) from None
    except OverflowError:  # infinity
        raise _out_of_range(term, ctx) from None
    return _stored_int(term, ctx, n)


def _compare(col, term: Term, value) -> Expression:
    return {
        ":": col == value, "=": col == value, "!=": col != value, "<": col < value,
        ">": col > value, "<=": col <= value, ">=": col >= value,
    }[term.op]


def _amount(term: Term, ctx: _Ctx) -> Expression:
    return _compare(Order.pay_amount_fen, term, _number(term, ctx, 100))


def _qty(term: Term, ctx: _Ctx) -> Expression:
    return _compare(Order.item_count, term, _number(term, ctx))


def _reprint(term: Term, ctx: _Ctx) -> Expression:
    return (Order.print_count > 1) if _yes_no(term, ctx) else (Order.print_count <= 1)


def _duration(v: str) -> dt.timedelta | None:
    m = _DUR_RE.match(v.strip().lower())
    if not m:
        return None
    n = float(m.group(1))
    unit = m.group(2) or "h"
    mult = {"m": 60, "min": 60, "分钟": 60, "h": 3600, "小时": 3600, "d": 86400, "天": 86400}[unit]
    return dt.timedelta(seconds=n * mult)


def _day_range(term: Term, ctx: _Ctx) -> tuple[dt.datetime, dt.datetime] | None:
    """A calendar day (or datetime) in warehouse time -> [start, end) in UTC."""
    v = term.value.lower()
    today = to_local(ctx.now, ctx.tz).date()
    if v in ("today", "今天"):
        day = today
    elif v in ("yesterday", "昨天"):
        day = today - dt.timedelta(days=1)
    elif v in ("tomorrow", "明天"):
        day = today + dt.timedelta(days=1)
    else:
        for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
            try:
                day = dt.datetime.strptime(term.value, fmt).date()
                break
            except ValueError:
                continue
        else:
            for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
                try:
                    t = to_utc(dt.datetime.strptime(term.value, fmt), ctx.tz)
                    return t, t
                except ValueError:
                    continue
            return None
    start = to_utc(dt.datetime.combine(day, dt.time()), ctx.tz)
    return start, start + dt.timedelta(days=1)


def _time_field(col, *, future: bool):
    """``future``: durations count time left (due); otherwise age (paid, created)."""

    def handler(term: Term, ctx: _Ctx) -> Expression:
        try:
            return compare(term, ctx)
        except OverflowError:  # due<99999999h: a time before year 1 or after 9999
            raise _out_of_range(term, ctx) from None

    def compare(term: Term, ctx: _Ctx) -> Expression:
        dur = _duration(term.value)
        if dur is not None and term.op in ("<", ">", "<=", ">="):
            if future:  # due<2h: deadline before now+2h
                return _compare(col, term, ctx.now + dur) & col.is_null(False)
            # paid<2h: paid less than 2h ago -> pay_time > now-2h (the comparison flips)
            flipped = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[term.op]
            return _compare(col, Term(term.field, flipped, "", False, 0, "", 0), ctx.now - dur) & col.is_null(False)
        rng = _day_range(term, ctx)
        if rng is None:
            raise ctx.error(term, "'{v}' is not a time: use 2h / 30m / 3d, a date 2026-11-20, today or yesterday",
                            "“{v}”不是时间：可用 2h / 30m / 3d、日期 2026-11-20、today 或 yesterday", v=term.value)
        start, end = rng
        if term.op in (":", "="):
            return (col >= start) & (col < end) if end > start else (col == start)
        if term.op == "!=":
            return (col < start) | (col >= end)
        if term.op == "<":
            return col < start
        if term.op == "<=":
            return col < end
        if term.op == ">":
            return col >= end
        return col >= start  # >=

    return handler


_ALL_OPS = (":", "=", "!=", "<", ">", "<=", ">=")
_HANDLERS: dict[str, _Handler] = {
    "status": _Handler(_status),
    "state": _Handler(_state),
    "printed": _Handler(_printed),
    "exception": _Handler(_exception),
    "blocked": _Handler(_blocked),
    "province": _Handler(_province),
    "city": _Handler(_prefix(Order.city)),
    "town": _Handler(_prefix(Order.town)),
    "sku": _Handler(_sku),
    "goods": _Handler(_goods),
    "courier": _Handler(_courier),
    "tag": _Handler(_tag),
    "due": _Handler(_time_field(Order.last_ship_time, future=True), _ALL_OPS),
    "paid": _Handler(_time_field(Order.pay_time, future=False), _ALL_OPS),
    "created": _Handler(_time_field(Order.created_time, future=False), _ALL_OPS),
    "updated": _Handler(_time_field(Order.updated_at, future=False), _ALL_OPS),
    "remark": _Handler(_text_or_presence(Order.remark, has_remark)),
    "memo": _Handler(_text_or_presence(Order.buyer_memo, has_memo)),
    "flag": _Handler(_flag),
    "shop": _Handler(_shop),
    "sn": _Handler(_sn),
    "tracking": _Handler(_tracking),
    "amount": _Handler(_amount, _ALL_OPS),
    "qty": _Handler(_qty, _ALL_OPS),
    "source": _Handler(_source),
    "overdue": _Handler(_overdue),
    "reprint": _Handler(_reprint),
    "waybill": _Handler(_waybill),
    "stock": _Handler(_stock),
}
assert set(_HANDLERS) == set(ALIASES)
