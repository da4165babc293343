"""Parcels (:class:`~dadan.core.models.Waybill`) and their orders, and what a waybill print job
needs for each order: the number it already holds, a number to take (and from which courier),
or the reason it cannot print — never a label without a number."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from dadan.core import audit
from dadan.core.i18n import tr
from dadan.core.models import Order, Shop, Waybill, WaybillOrder, utcnow
from dadan.core.waybills import accounts

OPEN_STATES = ("pending", "live", "printed")  # a parcel still on its way to the courier
NUMBERED = ("live", "printed")  # holds a number that is neither shipped nor cancelled
STATES = ("pending", "live", "printed", "shipped", "cancelled")


def state_label(state: str) -> str:
    """A parcel's state in words."""
    return {"pending": tr("no number yet", "待取号"), "live": tr("numbered", "已取号"), "printed": tr("printed", "已打印"),
            "shipped": tr("shipped", "已发货"), "cancelled": tr("recycled", "已回收")}.get(state, state)


def parcels_by_order(order_ids: Sequence[int], states: Iterable[str] | None = None) -> dict[int, list[Waybill]]:
    """order id -> its parcels (oldest first), optionally only those in ``states``."""
    out: dict[int, list[Waybill]] = {}
    ids = list(order_ids)
    wanted = list(states) if states is not None else None
    for start in range(0, len(ids), 500):
        q = (Waybill.select(Waybill, WaybillOrder.order.alias("order_id"))
             .join(WaybillOrder, on=(WaybillOrder.waybill == Waybill.id))
             .where(WaybillOrder.order.in_(ids[start:start + 500])).order_by(Waybill.id))
        if wanted is not None:
            q = q.where(Waybill.state.in_(wanted))
        for w in q.objects():
            out.setdefault(w.order_id, []).append(w)
    return out


def numbered_parcel(order_id: int) -> Waybill | None:
    """The order's parcel holding a live (unshipped, uncancelled) number, if any (a split
    order's first: the one its shipment is confirmed with)."""
    found = parcels_by_order([order_id], NUMBERED).get(order_id)
    return found[0] if found else None


def asked(order_id: int) -> Waybill | None:
    """The order's parcel holding a live number, else its parcel whose number was asked for but
    whose answer never came (the platform may hold a number for it): what recycling acts on."""
    found = numbered_parcel(order_id)
    if found is not None:
        return found
    return (Waybill.select().join(WaybillOrder, on=(WaybillOrder.waybill == Waybill.id))
            .where((WaybillOrder.order == order_id) & (Waybill.state == "pending") & (Waybill.attempts > 0))
            .order_by(Waybill.id.desc()).first())


def by_code(code: str) -> Waybill | None:
    return Waybill.select().where(Waybill.code == code).order_by(Waybill.id.desc()).first() if code else None


def orders_of(waybill_id: int) -> list[Order]:
    return list(Order.select().join(WaybillOrder, on=(WaybillOrder.order == Order.id))
                .where(WaybillOrder.waybill == waybill_id).order_by(Order.id))


@dataclass
class Need:
    """What one order needs to print a waybill: ``waybill`` (an open parcel to reuse, or None:
    one is made), ``wp_code`` (its courier; "" when the order carries its own number) and
    ``take`` (a number must be taken for it)."""

    order: Order
    waybill: Waybill | None
    wp_code: str
    take: bool
    members: list[Order] = field(default_factory=list)  # the parcel's orders (merged: several)
    split: list[Waybill] = field(default_factory=list)  # a split order's parcels (拆单), first first

    @property
    def labels(self) -> int:
        """Labels it prints: one per parcel (a split order's parcels each their own)."""
        return len(self.split) or 1

    @property
    def to_take(self) -> int:
        """Numbers this need takes: one per parcel still without one."""
        if self.split:
            return sum(1 for w in self.split if w.state == "pending")
        return 1 if self.take else 0

    def __post_init__(self) -> None:
        if not self.members:
            self.members = [self.order]


@dataclass
class NumberPlan:
    needs: dict[int, Need] = field(default_factory=dict)
    refused: list[tuple[Order, str]] = field(default_factory=list)

    def combine(self, groups: Sequence[Sequence[Order]]) -> None:
        """One need per parcel: a group's first order's need stands for the whole group."""
        for g in groups:
            if len(g) > 1 and g[0].id in self.needs:
                lead = self.needs[g[0].id]
                lead.members = list(g)
                for o in g[1:]:
                    self.needs.pop(o.id, None)

    def merge_keys(self) -> dict[int, tuple]:
        """order id -> (shop, courier, receiver key) for orders that may join a new merged
        parcel: mergeable, taking a number, and holding no parcel but an unasked single one."""
        from dadan.core.waybills.merge import mergeable

        return {oid: (n.order.shop_id, n.wp_code, n.order.open_address_id) for oid, n in self.needs.items()
                if n.take and not n.split and mergeable(n.order)
                and (n.waybill is None or (n.waybill.attempts == 0 and not n.waybill.open_address_id))}

    def takes(self) -> Counter:
        """(shop id, wp_code) -> how many numbers the job will take."""
        out: Counter = Counter()
        for n in self.needs.values():
            if n.to_take:
                out[(n.order.shop_id, n.wp_code)] += n.to_take
        return out

    def warnings(self) -> list[str]:
        """A balance lower than the numbers this job takes, per shop and courier, in words."""
        out = []
        for (shop_id, wp), n in sorted(self.takes().items()):
            bal = accounts.balance(shop_id, wp)
            if bal is not None and bal < n:
                shop = Shop.get_by_id(shop_id)
                out.append(tr("{c} balance of '{s}' is {b}, below the {n} numbers this job takes",
                              "店铺“{s}”的 {c} 面单余额 {b}，少于本次需取号的 {n} 个", c=accounts.courier_name(wp),
                              s=shop.name, b=bal, n=n))
        return out


def plan_numbers(orders: Sequence[Order], courier: str | None = None) -> NumberPlan:
    """What each order of a waybill job prints with. ``courier`` (a wp_code) overrides each shop's
    default courier; an order holding a live number of another courier is refused (recycle it
    first), as is an order without a number whose shop has no account for the courier."""
    wanted = (courier or "").strip().upper() or None
    from dadan.core.waybills.split import split_parcels

    plan = NumberPlan()
    open_ = parcels_by_order([o.id for o in orders], OPEN_STATES)
    splits = split_parcels([o.id for o in orders])
    defaults: dict[int, str | None] = {}
    have_account: dict[tuple[int, str], bool] = {}
    for o in orders:
        mine = open_.get(o.id, [])
        if o.id in splits:  # split (拆单): its parcels, each with its own number
            ps = splits[o.id]
            other = next((w for w in ps if wanted and w.wp_code != wanted), None)
            marked = next((w for w in ps if w.recycle_reason), None)
            if other is not None:
                plan.refused.append((o, tr("split into {c} parcels: print it with {c}", "已按{c}拆单：请用{c}打印",
                                           c=accounts.courier_name(other.wp_code))))
            elif marked is not None:
                plan.refused.append((o, tr("its number {n} is being recycled ({r}); print again once it is",
                                           "其单号 {n} 正在回收（{r}）；回收后再打印", n=marked.code, r=marked.recycle_reason)))
            else:
                plan.needs[o.id] = Need(o, ps[0], ps[0].wp_code, any(w.state == "pending" for w in ps), split=ps)
            continue
        numbered = [w for w in mine if w.state in NUMBERED]
        if numbered:
            w = numbered[-1]
            if w.recycle_reason:
                plan.refused.append((o, tr("its number {n} is being recycled ({r}); print again once it is",
                                           "其单号 {n} 正在回收（{r}）；回收后再打印", n=w.code, r=w.recycle_reason)))
            elif wanted and w.wp_code != wanted:
                plan.refused.append((o, tr("holds {c} number {n}: recycle it before printing with {x}",
                                           "已有{c}单号 {n}：请先回收再用{x}打印", c=accounts.courier_name(w.wp_code),
                                           n=w.code, x=accounts.courier_name(wanted))))
            else:
                plan.needs[o.id] = Need(o, w, w.wp_code, False)
            continue
        if o.tracking_number:  # typed or imported with the order: printed as it is
            plan.needs[o.id] = Need(o, None, "", False)
            continue
        if o.shop_id not in defaults:
            acc = accounts.default_account(o.shop_id)
            defaults[o.shop_id] = acc.wp_code if acc is not None else None
        wp = wanted or defaults[o.shop_id]
        if not wp:
            plan.refused.append((o, tr("no number and no courier account: choose one (dadan waybills use COURIER "
                                       "--branch CODE)", "没有单号也没有面单账号：请先选择（dadan waybills use 快递 "
                                       "--branch 网点编码）")))
            continue
        key = (o.shop_id, wp)
        if key not in have_account:
            have_account[key] = accounts.account(o.shop_id, wp) is not None
        if not have_account[key]:
            plan.refused.append((o, tr("no number, and the shop has no {c} e-waybill account",
                                       "没有单号，且店铺没有{c}电子面单账号", c=accounts.courier_name(wp))))
            continue
        pending = [w for w in mine if w.state == "pending" and w.wp_code == wp]
        plan.needs[o.id] = Need(o, pending[-1] if pending else None, wp, True)
    return plan


def make_parcels(needs: Iterable[Need], *, actor: str) -> dict[int, int | None]:
    """Inside the job's transaction: a pending parcel (with its request id) for every order that
    takes a number and has none yet. Returns order id -> parcel id (None: the order's own
    number)."""
    out: dict[int, int | None] = {}
    now = utcnow()
    for n in needs:
        merged = len(n.members) > 1
        if n.waybill is not None and (not merged or n.waybill.open_address_id):
            wid: int | None = n.waybill.id
        elif not n.take:
            wid = None
        else:
            w = Waybill.create(shop=n.order.shop_id, wp_code=n.wp_code, object_id=f"dd{uuid.uuid4().hex}",
                               package_id=uuid.uuid4().hex[:16], state="pending", created_at=now, created_by=actor,
                               open_address_id=n.order.open_address_id if merged else "")
            # the members' parcels no number was asked for give way to the new one (an order is in
            # one open parcel: a merge, or a courier other than the one an unprinted parcel was for)
            old = (WaybillOrder.select(WaybillOrder.waybill).join(Waybill, on=(WaybillOrder.waybill == Waybill.id))
                   .where(WaybillOrder.order.in_([o.id for o in n.members]) & (Waybill.state == "pending")
                          & (Waybill.attempts == 0)))
            old_ids = [link.waybill_id for link in old]
            if old_ids:
                Waybill.update(state="cancelled", cancelled_at=now, cancelled_by=actor,
                               cancel_reason=tr("replaced by parcel #{p}", "已由包裹 #{p} 取代", p=w.id)).where(
                    Waybill.id.in_(old_ids)).execute()
            WaybillOrder.insert_many([{"waybill": w.id, "order": o.id} for o in n.members]).execute()
            wid = w.id
        for o in n.members:
            out[o.id] = wid
    return out


def note_printed(waybill_id: int) -> None:
    """A label of this parcel was sent to the printer (inside the caller's transaction)."""
    now = utcnow()
    Waybill.update(print_count=Waybill.print_count + 1, printed_at=now).where(Waybill.id == waybill_id).execute()
    Waybill.update(state="printed").where((Waybill.id == waybill_id) & (Waybill.state == "live")).execute()


def note_shipped(order_id: int, code: str, *, actor: str) -> None:
    """The order ships with ``code``: its parcel with that number is shipped (inside the caller's
    transaction)."""
    for w in parcels_by_order([order_id], NUMBERED).get(order_id, []):
        if w.code == code:
            Waybill.update(state="shipped", shipped_at=utcnow()).where(Waybill.id == w.id).execute()
            audit.record("waybill-ship", actor=actor, order_id=order_id, target=f"waybill:{w.code}",
                         detail={"wp_code": w.wp_code})


def waybill_problem(order: Order, tracking_number: str, logistics_id: int | None) -> str | None:
    """Why ``order`` cannot ship with ``tracking_number`` as far as its e-waybills go: the number
    was recycled, or the order holds a live waybill with another number (a typed number must
    match it) or of another courier. None when nothing speaks against it."""
    from dadan.core.orders.couriers import CourierBook

    recycled = Waybill.select().where((Waybill.code == tracking_number) & (Waybill.state == "cancelled")).exists()
    live = numbered_parcel(order.id)
    if recycled and (live is None or live.code != tracking_number):
        return tr("waybill {t} was recycled (cancelled): it must not ship", "面单 {t} 已回收（取消），不能发货",
                  t=tracking_number)
    if live is None:
        return None
    if live.recycle_reason and live.code == tracking_number:
        return tr("waybill {t} is being recycled ({r}): it must not ship", "面单 {t} 正在回收（{r}），不能发货",
                  t=tracking_number, r=live.recycle_reason)
    if live.code != tracking_number:
        return tr("order {sn} holds waybill {w}: the number must match it (recycle it first to use another)",
                  "订单 {sn} 已有面单 {w}：单号必须一致（如要改用其他单号，请先回收）", sn=order.order_sn, w=live.code)
    lid = CourierBook.from_database().lookup_id(live.wp_code)
    if lid is not None and logistics_id is not None and int(logistics_id) != lid:
        return tr("waybill {w} is a {c} number", "面单 {w} 是{c}的单号", w=live.code,
                  c=accounts.courier_name(live.wp_code))
    return None
