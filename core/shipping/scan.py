"""Barcode scans at the packing desk: find the order behind a scanned code, and "scan to ship".

A USB scanner types a code and Enter. The code is an order number (packing slip) or a
tracking number (the waybill barcode). :func:`lookup` finds the order; :func:`ship_scan`
marks the parcel shipped and queues its ship confirmation (``core.shipping.outbox.assign_tracking``: a
pending :class:`Shipment`), in one write transaction, or changes nothing and says why (:class:`ScanOutcome` with ``ok=False``):

- ``unknown``          no order has this code: wrong parcel (or not synced yet; archived: says when)
- ``mismatch``         the waybill belongs to another order than the slip scanned before it
- ``blocked``          the order has an exception (refund, risk review, ...): do not ship
- ``already_shipped``  shipped before (by dadan or elsewhere); not a further parcel of a split
                       order that shipped with its first parcel's number (that one is ``recorded``)
- ``no_tracking``      an order number was scanned where a waybill was expected and the order
                       has no tracking number yet
- ``no_courier``       the order has a tracking number but no courier
- ``recycled``         the waybill's number was recycled (cancelled): it must not ship
- ``checked``          (``confirm=False``, setting ``waybills.confirm_on = "manual"``) the parcel
                       may ship; nothing is confirmed until one-key ship or ``dadan ship``
- ``refused``          the shipping rules refused it (``core.shipping.tracking_rules``: a number
                       not shaped like the courier's, or already on another order)

A split order (拆单) ships once, with its first parcel's number, whichever of its parcels is
scanned first; a parcel of it scanned once the order has shipped that way is ``recorded``
(``ok=True``: it leaves with its order, nothing is confirmed again). Its order shipped
elsewhere or with another number, or the parcel's number recycled, still alarms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dadan.core.archive.lookup import archived_note
from dadan.core.db import write
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.models import Order, Shipment, Waybill, utcnow
from dadan.core.operators import require
from dadan.core.order_indexes import has_tracking
from dadan.core.orders.rules import blocked_reason, has_shipped
from dadan.core.timeutil import DEFAULT_TZ
from dadan.core.waybills.parcels import by_code, orders_of


def normalise(code: str) -> str:
    """What a scanner typed -> the code (trim, drop control characters and inner spaces)."""
    return "".join(ch for ch in (code or "") if ch.isprintable() and not ch.isspace())


@dataclass(frozen=True)
class Found:
    order: Order
    by: str  # "order_sn" | "tracking" | "parcel" (a split order's further parcel)


def lookup(code: str) -> Found | None:
    """The order a scanned code names: exact order number first, then tracking number (on the
    order or on one of its shipments). None if no order has it."""
    code = normalise(code)
    if not code:
        return None
    o = Order.select().where(Order.order_sn == code).order_by(Order.id).first()
    if o is not None:
        return Found(o, "order_sn")
    o = Order.select().where(has_tracking() & (Order.tracking_number == code)).order_by(Order.id.desc()).first()
    if o is not None:
        return Found(o, "tracking")
    sh = (Shipment.select().where(Shipment.tracking_number == code)
          .order_by(Shipment.id.desc()).first())
    if sh is not None:
        return Found(Order.get_by_id(sh.order_id), "tracking")
    w = by_code(code)  # a split order's further parcel (拆单): its own number, the order's shipment
    if w is not None and w.state in ("live", "printed", "shipped"):
        mates = orders_of(w.id)
        if len(mates) == 1:
            return Found(mates[0], "parcel")
    upper = code.upper()  # some scanners send lower case
    if upper != code:
        return lookup(upper)
    return None


@dataclass(frozen=True)
class ScanOutcome:
    ok: bool
    kind: str  # shipped | recorded | slip | unknown | mismatch | blocked | already_shipped | no_tracking | ...
    message: str
    order_id: int | None = None
    order_sn: str = ""
    tracking_number: str = ""

    @property
    def warn(self) -> bool:
        """A loud warning (colour and bell): the parcel must not leave."""
        return not self.ok and self.kind != "slip"


def _refusal(o: Order) -> ScanOutcome | None:
    why = blocked_reason(o)
    if why:
        return ScanOutcome(False, "blocked", tr("DO NOT SHIP {sn}: {why}", "禁止发货 {sn}：{why}", sn=o.order_sn,
                                                why=why), o.id, o.order_sn, o.tracking_number)
    if has_shipped(o):
        return ScanOutcome(False, "already_shipped", tr("{sn} was already shipped", "{sn} 已经发过货", sn=o.order_sn),
                           o.id, o.order_sn, o.tracking_number)
    return None


def _parcel_mates(o: Order, code: str) -> list[Order]:
    """The other orders of the merged parcel whose waybill ``code`` names (none for a parcel of
    one order)."""
    w = by_code(code)
    if w is None or w.state not in ("live", "printed", "shipped"):
        return []
    return [x for x in orders_of(w.id) if x.id != o.id]


def shipped_by_split(o: Order) -> bool:
    """``o`` is a split order (拆单) shipped with its first parcel's number: its other parcels
    follow it (and it is no "already shipped" alarm)."""
    from dadan.core.waybills.split import first_parcel

    if not has_shipped(o):
        return False
    first = first_parcel(o.id)
    return first is not None and bool(first.code) and o.tracking_number == first.code


def _split_parcel_of(o: Order, code: str) -> Waybill | None:
    """The parcel of split order ``o`` (拆单) whose number ``code`` is, not recycled; None when
    ``code`` names no such parcel (a plain or merged parcel, another order's, a recycled one)."""
    from dadan.core.waybills.split import is_split

    w = by_code(code) or by_code(code.upper())
    if w is None or w.state not in ("live", "printed", "shipped") or not is_split(w.id):
        return None
    return w if any(x.id == o.id for x in orders_of(w.id)) else None


def _ship_split_parcel(o: Order, w: Waybill, *, actor: str, confirm: bool = True) -> ScanOutcome:
    """A parcel ``w`` of split order ``o`` scanned: the order ships with its first parcel's
    number (if it has not yet), and this parcel is recorded with it. An order shipped already
    with that number only records the parcel (``recorded``); one shipped otherwise (elsewhere,
    with another number) is ``already_shipped``."""
    from dadan.core.waybills.shipping import note_parcel_shipped, ship_parcel
    from dadan.core.waybills.split import parcel_no

    code = w.code
    why = blocked_reason(o)
    if why:
        return ScanOutcome(False, "blocked", tr("DO NOT SHIP {sn}: {why}", "禁止发货 {sn}：{why}", sn=o.order_sn,
                                                why=why), o.id, o.order_sn, code)
    no, of = parcel_no(w)
    if has_shipped(o):
        if not shipped_by_split(o):
            return ScanOutcome(False, "already_shipped", tr(
                "{sn} was already shipped with {t}, not with its parcel {c}", "{sn} 已以 {t} 发货，不是以其包裹 {c}",
                sn=o.order_sn, t=o.tracking_number or "?", c=code), o.id, o.order_sn, code)
        if not confirm:
            return ScanOutcome(True, "checked", tr(
                "CHECKED parcel {no}/{of} of {sn} ({c}): the order shipped with {t}",
                "已核对 {sn} 的第 {no}/{of} 个包裹（{c}）：订单已以 {t} 发货", no=no, of=of, sn=o.order_sn, c=code,
                t=o.tracking_number), o.id, o.order_sn, code)
        if w.state != "shipped":
            with write():
                note_parcel_shipped(w, o.id, actor=actor)
        return ScanOutcome(True, "recorded", tr(
            "parcel {no}/{of} of {sn} recorded ({c}), the order shipped with {t}",
            "已记录 {sn} 的第 {no}/{of} 个包裹（{c}），订单已以 {t} 发货", no=no, of=of, sn=o.order_sn, c=code,
            t=o.tracking_number), o.id, o.order_sn, code)
    if not confirm:
        return ScanOutcome(True, "checked", tr(
            "CHECKED {sn} · parcel {no}/{of} {c}: confirm shipment with one-key ship",
            "已核对 {sn} · 第 {no}/{of} 个包裹 {c}：请用一键发货回传", sn=o.order_sn, no=no, of=of, c=code),
            o.id, o.order_sn, code)
    try:
        with write():
            ship_parcel(o, w, actor=actor)
    except DadanError as exc:
        return ScanOutcome(False, "refused", tr("NOT SHIPPED {sn}: {why}", "未发货 {sn}：{why}", sn=o.order_sn,
                                                why=exc.message), o.id, o.order_sn, code)
    o = Order.get_by_id(o.id)
    return ScanOutcome(True, "shipped", tr("SHIPPED {sn} · parcel {no}/{of} {c} (the order ships with {t})",
                                           "已发货 {sn} · 第 {no}/{of} 个包裹 {c}（订单以 {t} 发货）", sn=o.order_sn,
                                           no=no, of=of, c=code, t=o.tracking_number), o.id, o.order_sn, code)


def ship_scan(code: str, *, actor: str, expect_order_id: int | None = None,
              now: dt.datetime | None = None, confirm: bool = True, tz: str = DEFAULT_TZ) -> ScanOutcome:
    """One scan in "scan to ship" mode.

    A tracking number ships its order (if the order may ship). An order number (packing slip)
    ships nothing: it becomes the *expected* order (``kind="slip"``), and the caller passes its id
    as ``expect_order_id`` with the next scan so that a waybill stuck on the wrong parcel is
    caught (``mismatch``)."""
    require(actor, "ship", what=f"scan {code}")
    code = normalise(code)
    now = now or utcnow()
    with write():
        found = lookup(code)
        recycled = by_code(code) if found is None else None
        if recycled is not None and recycled.state == "cancelled":
            return ScanOutcome(False, "recycled", tr("DO NOT SHIP: waybill {c} was recycled (cancelled); print the "
                                                     "order again", "禁止发货：面单 {c} 已回收（取消）；请重新打印",
                                                     c=code), tracking_number=code)
        if found is None:
            note = archived_note(code, tz)
            return ScanOutcome(False, "unknown", tr("WRONG PARCEL: no order has the code {c}",
                                                    "错误包裹：没有订单的单号是 {c}", c=code or "∅")
                               + (f"; {note}" if note else ""), tracking_number=code)
        o = found.order
        if found.by == "order_sn":
            refusal = _refusal(o)
            if refusal is not None and not (refusal.kind == "already_shipped" and shipped_by_split(o)):
                return refusal  # (a split order's slip: its further parcels still come)
            if not o.tracking_number:
                return ScanOutcome(False, "no_tracking", tr(
                    "{sn} has no tracking number yet: enter it first", "{sn} 还没有运单号：请先录入", sn=o.order_sn),
                    o.id, o.order_sn)
            return ScanOutcome(False, "slip", tr("{sn}: now scan its waybill", "{sn}：请扫描它的面单", sn=o.order_sn),
                               o.id, o.order_sn, o.tracking_number)
        if expect_order_id is not None and o.id != expect_order_id:
            exp = Order.get_or_none(Order.id == expect_order_id)
            return ScanOutcome(False, "mismatch", tr(
                "WRONG PARCEL: waybill {t} is for order {sn}, not {exp}",
                "错误包裹：面单 {t} 属于订单 {sn}，不是 {exp}",
                t=code, sn=o.order_sn, exp=exp.order_sn if exp else expect_order_id), o.id, o.order_sn, code)
        # a split order's further parcel, or its first once the order shipped (by another of its
        # parcels): the order ships once, each parcel is recorded with it
        parcel = ((by_code(code) or by_code(code.upper())) if found.by == "parcel"
                  else _split_parcel_of(o, code) if has_shipped(o) else None)
        if parcel is not None:
            return _ship_split_parcel(o, parcel, actor=actor, confirm=confirm)
        refusal = _refusal(o)
        if refusal is not None:
            return refusal
        others = _parcel_mates(o, code)
        for other in others:  # a merged parcel leaves whole or not at all
            refusal = _refusal(other)
            if refusal is not None and refusal.kind == "blocked":
                return refusal
        if not o.logistics_id:
            return ScanOutcome(False, "no_courier", tr("{sn} has no courier: enter the tracking number with its courier",
                                                       "{sn} 没有快递公司：请连同快递公司录入运单号", sn=o.order_sn),
                               o.id, o.order_sn, code)
        from dadan.core.shipping.outbox import assign_tracking

        tracking = o.tracking_number or code
        if not confirm:
            return ScanOutcome(True, "checked", tr("CHECKED {sn} · {t}: confirm shipment with one-key ship",
                                                   "已核对 {sn} · {t}：请用一键发货回传", sn=o.order_sn, t=tracking),
                               o.id, o.order_sn, tracking)
        shipping = [o] + [x for x in others if not has_shipped(x)]
        try:
            with write():  # the parcel's orders ship together or not at all
                for x in shipping:
                    assign_tracking(x.id, tracking, o.logistics_id, actor=actor, now=now)
        except DadanError as exc:
            return ScanOutcome(False, "refused", tr("NOT SHIPPED {sn}: {why}", "未发货 {sn}：{why}", sn=o.order_sn,
                                                    why=exc.message), o.id, o.order_sn, tracking)
        if len(shipping) > 1:
            return ScanOutcome(True, "shipped", tr("SHIPPED {n} orders of one parcel ({sns}) · {t}",
                                                   "已发货 合单 {n} 单（{sns}）· {t}", n=len(shipping),
                                                   sns=", ".join(x.order_sn for x in shipping), t=tracking),
                               o.id, o.order_sn, tracking)
        return ScanOutcome(True, "shipped", tr("SHIPPED {sn} · {t}", "已发货 {sn} · {t}", sn=o.order_sn, t=tracking),
                           o.id, o.order_sn, tracking)
