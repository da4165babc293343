"""Report figures per day / week / month, counted by SQL aggregates over indexes.

Each figure, per period of the warehouse's local time (:mod:`.periods`):

- **orders**: orders paid in the period (``pay_time``).
- **parcels**: e-waybill parcels whose label first printed in the period (``Waybill.printed_at``,
  cancelled/recycled ones left out), plus orders first printed in the period that have no
  e-waybill parcel at all (a label of the shop's own numbers: one parcel each).
- **printed**: orders whose first label printed in the period (``first_printed_at``).
- **shipped**: orders dadan shipped in the period (``Order.shipped_at``: a tracking number
  assigned and its confirmation queued); orders the platform shows shipped elsewhere are not.
- **exceptions by kind**: orders paid in the period carrying each exception flag now
  (:class:`dadan.core.orders.rules.Flag`); an order with two flags counts under both, and once
  in ``exception_orders``.
- **overdue rate**: of the orders due in the period (``last_ship_time``), those dadan shipped
  after the deadline, or still awaiting shipment (``order_status`` 1, state new/printed) with
  the deadline passed; ``due`` counts them all (deadlines still ahead are not late yet).
- **average pay -> ship**: hours from payment to dadan's ship time, over the orders shipped in
  the period.
- **money** (only with ``include_money``; the caller checks the "finance reports" permission):
  the paid amount of the orders paid in the period, in fen.

Over the whole range: orders shipped per courier (``logistics_id`` named by
:class:`~dadan.core.orders.couriers.CourierBook`) with their share; per shop (orders paid,
printed, shipped, money); per operator: labels sent to a printer in their print jobs
(``PrintJob.requested_by``, reprints included), parcels they packed (``PackRecord.actor``),
orders they shipped (audit action ``ship``, distinct orders).

Every query reads an index alone, a range per period or one GROUP BY over the range (the report indexes of
:mod:`dadan.core.models`, migration step 18); no order is loaded into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dadan.core.db import database
from dadan.core.dialect import as_integer, indexed_by, seconds_between
from dadan.core.i18n import tr
from dadan.core.models import AuditEvent, Order, PrintItem, PrintJob, Shop, Waybill, WaybillOrder, utcnow
from dadan.core.order_indexes import PAY_TIME_INDEX_NAME
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.rules import FLAG_KEYS, Flag
from dadan.core.packing.models import PackRecord
from dadan.core.reports.periods import Bucket, buckets, default_range, next_start
from dadan.core.timeutil import DEFAULT_TZ

FEW_SHOPS = 6  # up to this many shops, each one's orders are summed in the per-period pass


@dataclass
class PeriodFigures:
    bucket: Bucket | None  # None: the whole range
    orders: int = 0
    parcels: int = 0
    printed: int = 0
    shipped: int = 0
    exception_orders: int = 0
    exceptions: dict[str, int] = field(default_factory=dict)  # flag key -> orders
    due: int = 0
    overdue: int = 0
    ship_seconds: float = 0.0  # summed pay -> ship times of ``ship_timed`` orders
    ship_timed: int = 0
    money_fen: int | None = None

    @property
    def overdue_rate(self) -> float | None:
        """Percent of the orders due that were (or are) late; None when none was due."""
        return 100.0 * self.overdue / self.due if self.due else None

    @property
    def avg_ship_hours(self) -> float | None:
        return self.ship_seconds / self.ship_timed / 3600 if self.ship_timed else None

    def add(self, other: "PeriodFigures") -> None:
        for name in ("orders", "parcels", "printed", "shipped", "exception_orders", "due", "overdue",
                     "ship_seconds", "ship_timed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, n in other.exceptions.items():
            self.exceptions[k] = self.exceptions.get(k, 0) + n
        if other.money_fen is not None:
            self.money_fen = (self.money_fen or 0) + other.money_fen


@dataclass
class CourierShare:
    logistics_id: int | None
    name: str
    shipped: int
    share: float  # percent of all shipped in the range


@dataclass
class ShopFigures:
    shop_id: int
    name: str
    orders: int = 0
    printed: int = 0
    shipped: int = 0
    money_fen: int | None = None


@dataclass
class OperatorFigures:
    actor: str
    printed: int = 0  # labels
    packed: int = 0  # parcels
    shipped: int = 0  # orders


@dataclass
class Report:
    period: str
    first: dt.date
    last: dt.date
    tz: str
    now: dt.datetime
    include_money: bool
    rows: list[PeriodFigures]
    total: PeriodFigures
    couriers: list[CourierShare]
    shops: list[ShopFigures]
    operators: list[OperatorFigures]

    @property
    def exception_kinds(self) -> list[str]:
        """Flag keys seen in the range, in flag order."""
        return [FLAG_KEYS[f] for f in Flag if self.total.exceptions.get(FLAG_KEYS[f])]


def _ts(t: dt.datetime) -> str:
    return t.isoformat(" ")


def _bucket_sql(col: str, bs: list[Bucket]) -> tuple[str, list[str]]:
    """A CASE giving the bucket index of ``col`` (already known to be inside the range)."""
    return "CASE " + " ".join(f"WHEN {col} < ? THEN {i}" for i in range(len(bs))) + " END", [_ts(b.hi) for b in bs]


def _each(bs: list[Bucket], sql: str, extra: list | None = None) -> list[tuple]:
    """``sql`` (ending in ``col >= ? AND col < ?``, then ``extra`` parameters) once per period: the
    first row of each. A range of an index per period adds up without sorting; a CASE over every
    row to group them costs ten times more at a million orders."""
    db = database()
    return [db.execute_sql(sql, [_ts(b.lo), _ts(b.hi), *(extra or [])]).fetchone() for b in bs]


def _q(sql: str, params: list) -> list[tuple]:
    return database().execute_sql(sql, params).fetchall()


def build_report(period: str = "day", first: dt.date | None = None, last: dt.date | None = None, *,
                 tz: str = DEFAULT_TZ, now: dt.datetime | None = None, include_money: bool = False,
                 offset: int = 0, actor: str = "") -> Report:
    """The report over local dates ``first``..``last`` (both included; default: the last 14 days,
    8 weeks or 6 months, moved back ``offset`` spans). Call with a connection open. Amounts
    (``include_money``) need the "finance reports" permission of ``actor``."""
    if include_money:
        from dadan.core.operators import require

        require(actor, "finance", what="report")
    now = now or utcnow()
    if first is None or last is None:
        d_first, d_last = default_range(period, now, tz, offset=offset)
        first, last = first or d_first, last or d_last
    bs = buckets(period, first, last, tz)
    first, last = bs[0].start, next_start(bs[-1].start, period) - dt.timedelta(days=1)  # whole periods
    lo, hi = _ts(bs[0].lo), _ts(bs[-1].hi)
    rows = [PeriodFigures(b, money_fen=0 if include_money else None) for b in bs]
    o = f'"{Order._meta.table_name}"'
    shops: dict[int, ShopFigures] = {}

    def shop(sid: int) -> ShopFigures:
        if sid not in shops:
            shops[sid] = ShopFigures(sid, "", money_fen=0 if include_money else None)
        return shops[sid]

    # orders paid: counted and summed a period at a time (a range of the pay-time index each: no
    # sorting), with each shop's share as sums when the shops are few (GROUP BY sorts every row);
    # the exception bits of the few flagged orders grouped
    shop_ids = [sid for (sid,) in _q(f'SELECT id FROM "{Shop._meta.table_name}" ORDER BY id', [])]
    few = shop_ids if len(shop_ids) <= FEW_SHOPS else []
    sums = "".join(f", SUM({as_integer(f'shop_id = {int(sid)}')}), SUM(CASE WHEN shop_id = {int(sid)} THEN pay_amount_fen END)"
                   if include_money else f", SUM({as_integer(f'shop_id = {int(sid)}')})" for sid in few)
    paid, shipped = indexed_by(PAY_TIME_INDEX_NAME), indexed_by("order_report_shipped")
    for r, got in zip(rows, _each(bs, f"SELECT COUNT(*), SUM(pay_amount_fen){sums} FROM {o} "
                                      f"{paid}WHERE pay_time >= ? AND pay_time < ?")):
        r.orders = got[0]
        if include_money:
            r.money_fen = got[1] or 0
        step = 2 if include_money else 1
        for i, sid in enumerate(few):
            n = got[2 + i * step] or 0
            if n:
                s = shop(sid)
                s.orders += n
                if include_money:
                    s.money_fen += got[3 + i * step] or 0
    if not few:
        for sid, n, money in _q(f"SELECT shop_id, COUNT(*), SUM(pay_amount_fen) FROM {o} {paid}"
                                f"WHERE pay_time >= ? AND pay_time < ? GROUP BY 1", [lo, hi]):
            s = shop(sid)
            s.orders = n
            if include_money:
                s.money_fen = money or 0
    case, cp = _bucket_sql("pay_time", bs)
    for b, flags, n in _q(f"SELECT {case} AS b, exception_flags, COUNT(*) FROM {o} {paid}"
                          f"WHERE pay_time >= ? AND pay_time < ? AND exception_flags != 0 GROUP BY 1, 2", cp + [lo, hi]):
        r = rows[b]
        r.exception_orders += n
        for f in Flag:
            if flags & f:
                r.exceptions[FLAG_KEYS[f]] = r.exceptions.get(FLAG_KEYS[f], 0) + n

    # shipped by dadan (order_report_shipped): per period with pay -> ship times; by shop and courier
    for r, (n, secs, timed) in zip(rows, _each(bs, f"SELECT COUNT(*), "
                                                   f"SUM({seconds_between('shipped_at', 'pay_time')}), "
                                                   f"COUNT(pay_time) FROM {o} WHERE shipped_at >= ? AND shipped_at < ?")):
        r.shipped, r.ship_seconds, r.ship_timed = n, secs or 0.0, timed
    by_courier: dict[int | None, int] = {}
    for sid, lid, n in _q(f"SELECT shop_id, logistics_id, COUNT(*) FROM {o} WHERE shipped_at >= ? AND shipped_at < ? "
                          f"GROUP BY 1, 2", [lo, hi]):
        shop(sid).shipped += n
        by_courier[lid] = by_courier.get(lid, 0) + n

    # printed (first label; order_report_printed)
    for r, (n,) in zip(rows, _each(bs, f"SELECT COUNT(*) FROM {o} WHERE first_printed_at >= ? AND first_printed_at < ?")):
        r.printed = n
    for sid, n in _q(f"SELECT shop_id, COUNT(*) FROM {o} WHERE first_printed_at >= ? AND first_printed_at < ? "
                     f"GROUP BY 1", [lo, hi]):
        shop(sid).printed = n

    # parcels: printed e-waybill parcels, and printed orders without any
    w, wo = f'"{Waybill._meta.table_name}"', f'"{WaybillOrder._meta.table_name}"'
    for r, (n,) in zip(rows, _each(bs, f"SELECT COUNT(*) FROM {w} WHERE printed_at >= ? AND printed_at < ? "
                                       f"AND state != 'cancelled'")):
        r.parcels = n
    for r, (n,) in zip(rows, _each(bs, f"SELECT COUNT(*) FROM {o} AS o WHERE o.first_printed_at >= ? "
                                       f"AND o.first_printed_at < ? AND NOT EXISTS (SELECT 1 FROM {wo} AS wo "
                                       f"WHERE wo.order_id = o.id)")):
        r.parcels += n

    # overdue: due in the period; shipped after the deadline; awaiting shipment past it
    for r, (n,) in zip(rows, _each(bs, f"SELECT COUNT(*) FROM {o} WHERE last_ship_time >= ? AND last_ship_time < ?")):
        r.due = n
    case, cp = _bucket_sql("last_ship_time", bs)
    for b, n in _q(f"SELECT {case} AS b, COUNT(*) FROM {o} {shipped}"
                   f"WHERE shipped_at >= ? AND last_ship_time >= ? AND last_ship_time < ? "
                   f"AND shipped_at > last_ship_time GROUP BY 1", cp + [lo, lo, hi]):
        rows[b].overdue += n
    passed = _ts(now)
    for r, (n,) in zip(rows, _each(bs, f"SELECT COUNT(*) FROM {o} WHERE order_status = 1 AND state IN ('new', 'printed') "
                                       f"AND last_ship_time >= ? AND last_ship_time < ? AND last_ship_time < ?",
                                   [passed])):
        r.overdue += n

    total = PeriodFigures(None, money_fen=0 if include_money else None)
    for r in rows:
        total.add(r)

    names = dict(_q(f'SELECT id, name FROM "{Shop._meta.table_name}"', []))
    for s in shops.values():
        s.name = names.get(s.shop_id, str(s.shop_id))
    shop_list = sorted(shops.values(), key=lambda s: (-s.orders, -s.shipped, s.name))

    book = CourierBook.from_database()
    all_shipped = sum(by_courier.values())
    couriers = [CourierShare(lid, book.display_name(lid) if lid is not None else tr("(no courier)", "（无快递）"),
                             n, 100.0 * n / all_shipped)
                for lid, n in sorted(by_courier.items(), key=lambda kv: (-kv[1], kv[0] or 0))]

    return Report(period, first, last, tz, now, include_money, rows, total, couriers, shop_list,
                  _operators(lo, hi))


def _operators(lo: str, hi: str) -> list[OperatorFigures]:
    ops: dict[str, OperatorFigures] = {}

    def op(actor: str) -> OperatorFigures:
        return ops.setdefault(actor or "", OperatorFigures(actor or ""))

    pi, pj = f'"{PrintItem._meta.table_name}"', f'"{PrintJob._meta.table_name}"'
    for actor, n in _q(f"SELECT j.requested_by, COUNT(*) FROM {pi} AS i JOIN {pj} AS j ON j.id = i.job_id "
                       f"WHERE i.state = 'sent' AND i.sent_at >= ? AND i.sent_at < ? AND i.order_id IS NOT NULL "
                       f"GROUP BY 1", [lo, hi]):
        op(actor).printed += n
    for actor, n in _q(f'SELECT actor, COUNT(*) FROM "{PackRecord._meta.table_name}" '
                       f"WHERE packed_at >= ? AND packed_at < ? GROUP BY 1", [lo, hi]):
        op(actor).packed += n
    for actor, n in _q(f'SELECT actor, COUNT(DISTINCT order_id) FROM "{AuditEvent._meta.table_name}" '
                       f"WHERE action = 'ship' AND at >= ? AND at < ? GROUP BY 1", [lo, hi]):
        op(actor).shipped += n
    return sorted(ops.values(), key=lambda x: (-(x.printed + x.packed + x.shipped), x.actor))
