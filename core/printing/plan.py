"""What a print request would do, order by order, before anything is queued: ready, already
printed (the reprint path), blocked, already waiting in a job, and — for waybill templates —
without a number that can be had (:mod:`dadan.core.waybills.parcels`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from dadan.core.errors import DadanError, NotFound
from dadan.core.i18n import Bilingual, tr
from dadan.core.models import Order, PrintItem, PrintJob, WaybillOrder
from dadan.core.orders.rules import blocked_reason, not_printable
from dadan.core.printing.progress import OPEN_JOB_STATES
from dadan.core.waybills.merge import group_orders, merge_count, shared_parcels
from dadan.core.waybills.parcels import NumberPlan, plan_numbers

PENDING_ITEM_STATES = ("queued", "sending", "uncertain", "failed")


class PrintRefused(DadanError):
    TITLE = Bilingual("Cannot print", "无法打印")


# The most orders one print request plans: a thermal printer makes a label or two a second, so a
# busy day's wave is a few thousand; a whole view of a year's orders (750,000 awaiting shipment
# in the 1,000,000-order demo) is a slip of the key, whose plan would load every order (GBs).
MAX_JOB_ORDERS = 10_000


def check_job_size(n: int) -> None:
    """Refuse a print request for more than :data:`MAX_JOB_ORDERS` orders, in one line."""
    if n > MAX_JOB_ORDERS:
        raise PrintRefused(tr("{n:,} orders: one print job takes at most {max:,}; narrow the filter (e.g. due<4h) "
                              "or tick the orders to print", "{n:,} 单：一个打印任务最多 {max:,} 单；请缩小筛选（如 due<4h）或勾选要打印的订单",
                              n=n, max=MAX_JOB_ORDERS))


@dataclass
class PrintPlan:
    """What a print request would do, order by order."""

    ready: list[Order] = field(default_factory=list)
    printed: list[Order] = field(default_factory=list)  # need the reprint path
    blocked: list[tuple[Order, str]] = field(default_factory=list)
    queued: list[tuple[Order, int]] = field(default_factory=list)  # already waiting in job N
    no_number: list[tuple[Order, str]] = field(default_factory=list)  # a waybill without a number: never
    numbers: NumberPlan | None = None  # waybill templates: the number each ready order prints with
    parcels: list[list[Order]] = field(default_factory=list)  # the ready orders as they print: one label each
    mergeable: int = 0  # orders that would ride in another order's parcel if merging (合单)

    @property
    def labels(self) -> int:
        """Labels the job prints: one per parcel (a split order's parcels each their own)."""
        if self.numbers is None:
            return len(self.parcels)
        return sum(n.labels if (n := self.numbers.needs.get(g[0].id)) is not None else 1 for g in self.parcels)

    @property
    def merged(self) -> int:
        """Orders riding in another order's parcel (one label for several orders)."""
        return len(self.ready) - len(self.parcels)

    @property
    def excluded(self) -> int:
        return len(self.printed) + len(self.blocked) + len(self.queued) + len(self.no_number)

    @property
    def to_take(self) -> int:
        return sum(self.numbers.takes().values()) if self.numbers is not None else 0

    def warnings(self) -> list[str]:
        return self.numbers.warnings() if self.numbers is not None else []

    def queued_jobs(self) -> list[int]:
        """The open jobs the already-queued orders wait in, oldest first."""
        return sorted({j for _o, j in self.queued})

    def queued_jobs_text(self) -> str:
        jobs = self.queued_jobs()
        return ", ".join(f"#{j}" for j in jobs[:3]) + (" …" if len(jobs) > 3 else "")

    def summary(self) -> str:
        if self.merged:
            parts = [tr("{n} orders in {p} parcels", "{n} 单合为 {p} 个包裹", n=len(self.ready), p=len(self.parcels))]
        else:
            parts = [tr("{n} to print", "{n} 单可打印", n=len(self.ready))]
        if self.to_take:
            parts.append(tr("{n} numbers to take", "需取号 {n} 个", n=self.to_take))
        if self.printed:
            parts.append(tr("{n} already printed (use reprint)", "{n} 单已打印（请用补打）", n=len(self.printed)))
        if self.blocked:
            parts.append(tr("{n} blocked", "{n} 单被拦截", n=len(self.blocked)))
        if self.queued:
            parts.append(tr("{n} already queued (job {j})", "{n} 单已在队列中（任务 {j}）", n=len(self.queued),
                            j=self.queued_jobs_text()))
        if self.no_number:
            parts.append(tr("{n} without a number: {why}", "{n} 单无单号：{why}", n=len(self.no_number),
                            why=self.no_number[0][1]))
        return tr(", ", "，").join(parts)


def load_orders(order_ids: Sequence[int]) -> list[Order]:
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    found: dict[int, Order] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for o in Order.select().where(Order.id.in_(chunk)):
            found[o.id] = o
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(tr("no order with id {i}", "没有 id 为 {i} 的订单", i=missing[0]))
    return [found[i] for i in ids]


def queued_in(order_ids: Sequence[int]) -> dict[int, int]:
    """order id -> job id, for orders waiting in an open job (not sent yet)."""
    out: dict[int, int] = {}
    ids = list(order_ids)
    for start in range(0, len(ids), 500):
        q = (PrintItem.select(PrintItem.order, PrintItem.job)
             .join(PrintJob)
             .where(PrintItem.order.in_(ids[start:start + 500]),
                    PrintItem.state.in_(PENDING_ITEM_STATES),
                    PrintJob.state.in_(OPEN_JOB_STATES)))
        for it in q:
            out.setdefault(it.order_id, it.job_id)
    return out


def queued_with_parcels(orders: Sequence[Order], shared: dict[int, int] | None = None) -> dict[int, int]:
    """:func:`queued_in`, where an order in a merged parcel counts as queued when any order of
    that parcel is (its label is the parcel's). ``shared``: :func:`shared_parcels` of the
    orders, when the caller read it already."""
    ids = [o.id for o in orders]
    if shared is None:
        shared = shared_parcels(ids)
    members: dict[int, list[int]] = {}
    if shared:
        for link in WaybillOrder.select().where(WaybillOrder.waybill.in_(sorted(set(shared.values())))):
            members.setdefault(link.waybill_id, []).append(link.order_id)
    queued = queued_in(list(dict.fromkeys(ids + [i for m in members.values() for i in m])))
    for oid, wid in shared.items():
        if oid not in queued:
            for other in members.get(wid, ()):
                if other in queued:
                    queued[oid] = queued[other]
                    break
    return queued


def check_courier(courier: str | None) -> None:
    """Refuse a ``--courier`` no courier has as its code (it was ignored where orders held numbers)."""
    from dadan.core.orders.couriers import COURIERS, CourierBook

    if courier is not None and courier.strip() and not CourierBook.from_database().knows_code(courier):
        raise PrintRefused(tr("no courier has the code {c} (e.g. {k})", "没有快递公司的代码是 {c}（如 {k}）",
                              c=courier.strip(), k=", ".join(c.code for c in COURIERS[:6])))


def plan_print(order_ids: Sequence[int], *, reprint: bool = False, waybill: bool = False,
               courier: str | None = None, merge: bool = False) -> PrintPlan:
    """``waybill``: the labels are courier waybills, each needs a number (``courier``: a wp_code
    overriding each shop's default courier for the numbers to take). ``merge``: one buyer's
    orders that may merge print as one parcel (:mod:`dadan.core.waybills.merge`; waybill jobs
    only); orders already sharing a merged parcel always print as one. More than
    :data:`MAX_JOB_ORDERS` orders are refused (:func:`check_job_size`)."""
    check_job_size(len(order_ids))
    orders = load_orders(order_ids)
    shared = shared_parcels([o.id for o in orders])  # read once: the queue check and the parcels
    queued = queued_with_parcels(orders, shared)
    plan = PrintPlan()
    for o in orders:
        why = blocked_reason(o)
        if why:
            plan.blocked.append((o, why))
        elif o.id in queued:
            plan.queued.append((o, queued[o.id]))
        elif o.print_count > 0 and not reprint:
            plan.printed.append(o)
        elif why := not_printable(o, reprint=reprint):  # cancelled, or shipped without a label of ours
            plan.blocked.append((o, why))
        else:
            plan.ready.append(o)
    if waybill:
        check_courier(courier)
        plan.numbers = plan_numbers(plan.ready, courier)
        refused = {o.id for o, _ in plan.numbers.refused}
        plan.no_number = list(plan.numbers.refused)
        plan.ready = [o for o in plan.ready if o.id not in refused]
        keys = plan.numbers.merge_keys()
        plan.mergeable = merge_count(group_orders(plan.ready, merge=True, keys=keys, shared=shared))
        plan.parcels = group_orders(plan.ready, merge=merge and not reprint, keys=keys, shared=shared)
        plan.numbers.combine(plan.parcels)
    else:
        plan.parcels = group_orders(plan.ready, merge=False, shared=shared)
    return plan
