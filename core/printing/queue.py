"""The print queue: jobs, items, claims, states, reprints, start-up recovery.

A print request becomes a :class:`~core.models.PrintJob` with one
:class:`~core.models.PrintItem` per label, committed before anything prints. A worker
(:mod:`core.printing.worker`, one per printer, holding the printer's lease) claims items in
``seq`` order. Item states::

    queued -> sending -> sent                 (the transport accepted the bytes)
                      -> failed               (not delivered: retry re-queues it)
                      -> uncertain            (dadan stopped or the printer went silent after
                                               the bytes left: an operator decides)
    queued -> skipped                         (blocked or already printed at claim time)
    queued/failed -> cancelled

Job states: ``queued`` (waiting for the worker), ``printing``, ``paused`` (``state_reason``
says why: an operator, a printer problem, labels needing a decision), ``done``,
``cancelled``.

Invariants kept here: a label is sent at most once per explicit request (an item is only
re-sent after ``retry``/``resume`` of a *failed* item or an operator's ``resolve(printed=False)``
of an uncertain one); an order blocked at claim time is skipped with the reason; printing an
order that was already printed needs :func:`create_reprint_job` (a reason, an audit event, an
"R2" mark on the label).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Sequence

from peewee import JOIN, fn

from dadan.core import audit, leases
from dadan.core.db import write
from dadan.core.errors import NotFound
from dadan.core.i18n import tr
from dadan.core.models import Order, PrintItem, PrintJob, Waybill, utcnow
from dadan.core.operators import require
from dadan.core.orders.rules import blocked_reason, not_printable
from dadan.core.printing.plan import PrintRefused, check_courier, load_orders, plan_print, queued_with_parcels
from dadan.core.printing.progress import OPEN_JOB_STATES, done_count, progress_label
from dadan.core.waybills.merge import group_orders, label_orders
from dadan.core.waybills.parcels import make_parcels, note_printed, plan_numbers
from dadan.core.waybills.split import is_split
from dadan.printers.template_choice import prints_waybills

ITEM_STATES = ("queued", "sending", "sent", "skipped", "uncertain", "failed", "cancelled")
LEASE_TTL = dt.timedelta(seconds=60)


# ------------------------------------------------------------------ creating jobs
def _labels(groups: Sequence[Sequence[Order]], numbers, parcel: dict[int, int | None]) -> list[tuple[Order, int | None]]:
    """(the label's order, its parcel) per label, in order: one per parcel — a merged parcel's
    orders share one, a split order (拆单) has one per parcel."""
    out: list[tuple[Order, int | None]] = []
    for g in groups:
        need = numbers.needs.get(g[0].id) if numbers is not None else None
        if need is not None and need.split:
            out += [(g[0], w.id) for w in need.split]
        else:
            out.append((g[0], parcel.get(g[0].id)))
    return out


def wave_order(groups: Sequence[Sequence[Order]]) -> list[list[Order]]:
    """The parcels (each a list of orders) in the walk order of their wave: a picker passes
    every shelf once (:func:`dadan.core.packing.waves.plan_parcels`)."""
    from dadan.core.packing.waves import plan_parcels

    by_lead = {g[0].id: list(g) for g in groups}
    return [by_lead[p.order_ids[0]] for p in plan_parcels([[o.id for o in g] for g in groups]).parcels]


def _insert_items(job: PrintJob, rows: list[dict]) -> None:
    for start in range(0, len(rows), 100):
        PrintItem.insert_many(rows[start:start + 100]).execute()


def create_job(order_ids: Sequence[int], *, printer: str, template: str, actor: str = "",
               kind: str = "label", skip_excluded: bool = False, courier: str | None = None,
               merge: bool = False, wave: bool = False) -> PrintJob:
    """Queue one label per parcel, in the given order (a parcel is one order, or one buyer's
    orders merged: ``merge``, :mod:`dadan.core.waybills.merge`). Orders already printed,
    blocked, already queued or (waybill templates) without a number that can be had are refused
    (:class:`PrintRefused`) unless ``skip_excluded``, which leaves them out; a template that does
    not load is refused (its TemplateError) before anything is queued. A waybill label's parcel
    (with the request id its number will be taken with) is committed with the job, before
    anything prints; ``courier`` (a wp_code) overrides each shop's default courier. ``wave``: the
    parcels in pick-walk order (波次, :mod:`dadan.core.packing.waves`) instead of the given one."""
    require(actor, "print", what=f"print {len(order_ids)} order(s)")
    waybill = prints_waybills(template)
    with write():
        plan = plan_print(order_ids, waybill=waybill, courier=courier, merge=merge)
        if plan.excluded and not skip_excluded:
            raise PrintRefused(plan.summary())
        if not plan.ready:
            raise PrintRefused(tr("nothing to print: {s}", "没有可打印的订单：{s}", s=plan.summary()))
        if wave and len(plan.parcels) > 1:
            plan.parcels = wave_order(plan.parcels)
        parcel = make_parcels(plan.numbers.needs.values(), actor=actor) if plan.numbers is not None else {}
        labels = _labels(plan.parcels, plan.numbers, parcel)
        job = PrintJob.create(requested_by=actor, printer=printer, template=template, kind=kind,
                              state="queued", total=len(labels), created_at=utcnow(),
                              courier=(courier or "").strip().upper())
        _insert_items(job, [{"job": job.id, "seq": i, "order": o.id, "state": "queued", "waybill": wid}
                            for i, (o, wid) in enumerate(labels, 1)])
        for g in plan.parcels:
            if len(g) > 1 and parcel.get(g[0].id):
                for o in g:
                    audit.order_event(o.id, "waybill", tr("merged into one parcel with {sns}", "与 {sns} 合为一个包裹",
                                                          sns=", ".join(x.order_sn for x in g if x.id != o.id)))
    return job


def create_reprint_job(order_ids: Sequence[int], *, reason: str, printer: str, template: str,
                       actor: str = "", courier: str | None = None) -> PrintJob:
    """An explicit reprint: needs a reason, writes one audit event per order, and each label
    carries its print number ("R2"). A waybill is reprinted with the number it holds (nothing is
    taken); an order whose number was recycled takes a new one. Orders sharing a merged parcel
    reprint as one label. Blocked orders are still skipped at claim time."""
    reason = (reason or "").strip()
    if not reason:
        raise PrintRefused(tr("a reprint needs a reason", "补打需要填写原因"))
    require(actor, "reprint", what=f"reprint {len(order_ids)} order(s)")
    waybill = prints_waybills(template)
    with write():
        orders = load_orders(order_ids)
        queued = queued_with_parcels(orders)
        if queued:
            oid, jid = next(iter(queued.items()))
            sn = next(o.order_sn for o in orders if o.id == oid)
            raise PrintRefused(tr("order {sn} is still waiting in print job #{j}",
                                  "订单 {sn} 仍在打印任务 #{j} 中等待", sn=sn, j=jid))
        groups = group_orders(orders, merge=False)
        parcel: dict[int, int | None] = {}
        numbers = None
        if waybill:
            check_courier(courier)
            numbers = plan_numbers(orders, courier)
            if numbers.refused:
                o, why = numbers.refused[0]
                raise PrintRefused(tr("order {sn}: {w}", "订单 {sn}：{w}", sn=o.order_sn, w=why))
            numbers.combine(groups)
            parcel = make_parcels(numbers.needs.values(), actor=actor)
        labels = _labels(groups, numbers, parcel)
        job = PrintJob.create(requested_by=actor, printer=printer, template=template, kind="reprint",
                              state="queued", total=len(labels), reprint_reason=reason, created_at=utcnow(),
                              courier=(courier or "").strip().upper())
        rows = []
        members = {g[0].id: g for g in groups}
        for i, (lead, wid) in enumerate(labels, 1):
            g = members[lead.id]
            no = max(o.print_count for o in g) + 1
            rows.append({"job": job.id, "seq": i, "order": lead.id, "state": "queued", "is_reprint": True,
                         "reprint_no": no, "waybill": wid})
        for g in groups:
            no = max(o.print_count for o in g) + 1
            for o in g:
                audit.record("reprint", actor=actor, order_id=o.id, reason=reason,
                             detail={"job": job.id, "printer": printer, "template": template, "print_no": no,
                                     "waybill": o.tracking_number or None})
        _insert_items(job, rows)
    return job


def create_sheet_job(kind: str, *, printer: str, template: str, actor: str = "", **subject) -> PrintJob:
    """A job of one sheet that stands for no order (a wave's pick list, a handover list): kind
    ``kind`` (also the template's kind, checked first), one item without an order; ``subject``
    names what the worker renders it from (``wave_job=``, ``handover_id=``). Inside the caller's
    transaction, or one of its own."""
    from dadan.printers.layout import load_template

    if load_template(template).kind != kind:
        raise PrintRefused(tr("template {t} is not a {k} template", "模板 {t} 不是 {k} 模板", t=template, k=kind))
    with write(join=True):
        job = PrintJob.create(requested_by=actor, printer=printer, template=template, kind=kind, state="queued",
                              total=1, created_at=utcnow(), **subject)
        PrintItem.create(job=job.id, seq=1, order=None, state="queued")
    return job


# ------------------------------------------------------------------ reading
@dataclass
class JobView:
    id: int
    created_at: dt.datetime
    printer: str
    template: str
    kind: str
    state: str
    state_reason: str
    total: int
    counts: dict[str, int]
    requested_by: str = ""
    reprint_reason: str = ""
    finished_at: dt.datetime | None = None

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    @property
    def done(self) -> int:
        """Labels that need nothing more (core.printing.progress)."""
        return done_count(self.counts)

    def progress(self) -> str:
        """done/total; a cancelled job's labels that went out (sent or skipped), over its total:
        its cancelled ones never did (``cancelled 286/286`` read as all printed)."""
        done = self.done - self.counts.get("cancelled", 0) if self.state == "cancelled" else self.done
        return progress_label(done, self.total)


def item_counts(job_id: int) -> dict[str, int]:
    q = (PrintItem.select(PrintItem.state, fn.COUNT(PrintItem.id).alias("n"))
         .where(PrintItem.job == job_id).group_by(PrintItem.state).tuples())
    return {s: n for s, n in q}


def _view(job: PrintJob) -> JobView:
    return JobView(job.id, job.created_at, job.printer, job.template, job.kind, job.state, job.state_reason,
                   job.total, item_counts(job.id), job.requested_by, job.reprint_reason, job.finished_at)


def get_job(job_id: int) -> PrintJob:
    job = PrintJob.get_or_none(PrintJob.id == job_id)
    if job is None:
        raise NotFound(tr("no print job #{j}", "没有打印任务 #{j}", j=job_id))
    return job


def job_view(job_id: int) -> JobView:
    return _view(get_job(job_id))


def list_jobs(*, open_only: bool = False, printer: str | None = None, limit: int = 50) -> list[JobView]:
    q = PrintJob.select().order_by(PrintJob.id.desc()).limit(limit)
    if open_only:
        q = q.where(PrintJob.state.in_(OPEN_JOB_STATES))
    if printer:
        q = q.where(PrintJob.printer == printer)
    return [_view(j) for j in q]


def job_items(job_id: int, states: Iterable[str] | None = None) -> list[PrintItem]:
    q = (PrintItem.select(PrintItem, Order).join(Order, on=(PrintItem.order == Order.id), join_type=JOIN.LEFT_OUTER)
         .where(PrintItem.job == job_id).order_by(PrintItem.seq))
    if states:
        q = q.where(PrintItem.state.in_(list(states)))
    return list(q)


def uncertain_items(printer: str | None = None) -> list[PrintItem]:
    q = (PrintItem.select(PrintItem, PrintJob).join(PrintJob)
         .where(PrintItem.state == "uncertain").order_by(PrintItem.job, PrintItem.seq))
    if printer:
        q = q.where(PrintJob.printer == printer)
    return list(q)


# ------------------------------------------------------------------ operator actions
def pause_job(job_id: int, *, reason: str = "", actor: str = "") -> None:
    with write():
        job = get_job(job_id)
        if job.state in ("queued", "printing"):
            job.state = "paused"
            job.state_reason = reason or tr("paused by {a}", "已由 {a} 暂停", a=actor or "operator")
            job.save()


def resume_job(job_id: int, *, actor: str = "") -> int:
    """Resume a paused job; failed items are queued again (retry from the first unsent item).
    Refused while labels are uncertain. Returns how many items are queued."""
    with write():
        job = get_job(job_id)
        if job.state in ("done", "cancelled"):
            raise PrintRefused(tr("print job #{j} is {s}", "打印任务 #{j} 已{s}", j=job_id,
                                  s=tr(job.state, {"done": "完成", "cancelled": "取消"}[job.state])))
        n_unc = PrintItem.select().where(PrintItem.job == job_id, PrintItem.state == "uncertain").count()
        if n_unc:
            raise PrintRefused(tr(
                "{n} label(s) of job #{j} may or may not have printed; decide first (dadan queue resolve)",
                "任务 #{j} 有 {n} 张标签不确定是否已打印；请先处理（dadan queue resolve）", n=n_unc, j=job_id))
        PrintItem.update(state="queued", reason="").where(PrintItem.job == job_id,
                                                          PrintItem.state == "failed").execute()
        job.state, job.state_reason = "queued", ""
        job.save()
        return PrintItem.select().where(PrintItem.job == job_id, PrintItem.state == "queued").count()


retry_job = resume_job


def cancel_job(job_id: int, *, actor: str = "", reason: str = "") -> int:
    """Cancel what has not been sent (a label being sent right now still completes).
    Uncertain labels stay for a decision. Returns how many items were cancelled."""
    with write():
        job = get_job(job_id)
        if job.state in ("done", "cancelled"):
            return 0
        n = (PrintItem.update(state="cancelled", reason=reason or tr("cancelled", "已取消"))
             .where(PrintItem.job == job_id, PrintItem.state.in_(("queued", "failed"))).execute())
        job.state = "cancelled"
        job.state_reason = reason or tr("cancelled by {a}", "已由 {a} 取消", a=actor or "operator")
        job.finished_at = utcnow()
        job.save()
        return n


def resolve_uncertain(item_id: int, *, printed: bool, actor: str = "", note: str = "") -> None:
    """The operator's decision on an uncertain label: it printed (counted as sent) or it did
    not (queued again to be sent on resume; cancelled if the job was cancelled). Audited."""
    with write():
        item = PrintItem.get_or_none(PrintItem.id == item_id)
        if item is None:
            raise NotFound(tr("no print item {i}", "没有打印项 {i}", i=item_id))
        if item.state != "uncertain":
            raise PrintRefused(tr("print item {i} is {s}, not uncertain", "打印项 {i} 的状态是 {s}，不是待确认",
                                  i=item_id, s=item.state))
        job = item.job
        if printed:
            _mark_sent(item, job)
        else:
            item.state = "cancelled" if job.state == "cancelled" else "queued"
            item.reason = ""
            item.save()
        audit.record("print-resolve", actor=actor, order_id=item.order_id, target=f"job:{job.id}",
                     reason=note, detail={"item": item.id, "seq": item.seq, "printed": printed})
        _settle(job)


# ------------------------------------------------------------------ worker side
@dataclass
class Claim:
    item: PrintItem
    order: Order | None
    job: PrintJob


def next_job(printer: str) -> PrintJob | None:
    return (PrintJob.select().where(PrintJob.printer == printer, PrintJob.state.in_(("queued", "printing")))
            .order_by(PrintJob.id).first())


def start_job(job_id: int) -> PrintJob:
    with write():
        job = get_job(job_id)
        if job.state == "queued":
            job.state, job.state_reason = "printing", ""
            job.save()
        return job


def peek_next(job_id: int, after_seq: int) -> tuple[PrintItem, Order | None] | None:
    """The next queued item after ``after_seq`` (not claimed: for rendering ahead)."""
    item = (PrintItem.select().where(PrintItem.job == job_id, PrintItem.state == "queued",
                                     PrintItem.seq > after_seq).order_by(PrintItem.seq).first())
    if item is None:
        return None
    return item, (Order.get_or_none(Order.id == item.order_id) if item.order_id else None)


def claim_next(job_id: int) -> Claim | None:
    """Claim the first queued item of a printing job (state -> sending), re-checking its
    orders now (every order of its parcel): blocked or (for a first print) already printed ->
    skipped with the reason. None when the job has nothing queued or is no longer printing
    (paused, cancelled)."""
    while True:
        with write():
            job = PrintJob.get_or_none(PrintJob.id == job_id)
            if job is None or job.state != "printing":
                return None
            item = (PrintItem.select().where(PrintItem.job == job_id, PrintItem.state == "queued")
                    .order_by(PrintItem.seq).first())
            if item is None:
                return None
            order = Order.get_or_none(Order.id == item.order_id) if item.order_id else None
            why = ""
            if item.order_id and order is None:
                why = tr("the order was deleted", "订单已删除")
            elif order is not None:
                why = blocked_reason(order)
                split_parcel = is_split(item.waybill_id)
                if split_parcel:  # one of a split order's parcels: its own label printed or not
                    printed = Waybill.select().where((Waybill.id == item.waybill_id) & (Waybill.print_count > 0)).exists()
                else:
                    printed = order.print_count > 0
                if not why and not item.is_reprint and printed:
                    why = tr("already printed (use reprint)", "已打印过（请用补打）")
                if not why and not split_parcel:  # (cancelled, or shipped since it was queued)
                    why = not_printable(order, reprint=item.is_reprint)
                if not why and item.waybill_id:
                    for other in Order.select().where(Order.id.in_(label_orders(item.waybill_id, order.id)[1:])):
                        why = blocked_reason(other)
                        if why:
                            why = tr("{sn} of its parcel: {w}", "同包裹的 {sn}：{w}", sn=other.order_sn, w=why)
                            break
            if not why and item.waybill_id:
                wb = Waybill.get_or_none(Waybill.id == item.waybill_id)
                if wb is None or wb.state == "cancelled":
                    why = tr("its waybill number was recycled (cancelled)", "其面单号已回收（取消）")
                elif wb.recycle_reason:
                    why = tr("its waybill number is being recycled: {r}", "其面单号正在回收：{r}", r=wb.recycle_reason)
                elif wb.state == "pending":
                    reason = wb.last_error or tr("no waybill number yet", "尚未取得面单号")
                    item.state, item.reason = "failed", reason
                    item.save()
                    job.state, job.state_reason = "paused", reason
                    job.save()
                    return None
            if why:
                item.state, item.reason = "skipped", why
                item.save()
                if order is not None:
                    audit.order_event(order.id, "print", tr("label {s}/{t} of job #{j} skipped: {w}",
                                                            "任务 #{j} 第 {s}/{t} 张已跳过：{w}",
                                                            s=item.seq, t=job.total, j=job.id, w=why))
                continue
            item.state, item.claimed_at, item.attempts = "sending", utcnow(), item.attempts + 1
            item.save()
            return Claim(item, order, job)


def _mark_sent(item: PrintItem, job: PrintJob) -> None:
    now = utcnow()
    item.state, item.sent_at, item.reason = "sent", now, ""
    item.save()
    if item.order_id:
        ids = label_orders(item.waybill_id, item.order_id)
        # a split order's parcels are one print of the order per job, however many parcels
        sibling_printed = is_split(item.waybill_id) and PrintItem.select().where(
            (PrintItem.job == item.job_id) & (PrintItem.order == item.order_id) & (PrintItem.id != item.id)
            & (PrintItem.state == "sent")).exists()
        Order.update(print_count=Order.print_count + (0 if sibling_printed else 1), last_printed_at=now,
                     first_printed_at=fn.COALESCE(Order.first_printed_at, now), local_updated_at=now,
                     ).where(Order.id.in_(ids)).execute()
        Order.update(state="printed").where(Order.id.in_(ids), Order.state == "new").execute()
        if item.waybill_id:
            note_printed(item.waybill_id)
        mark = f" R{item.reprint_no}" if item.is_reprint else ""
        for oid in ids:
            audit.order_event(oid, "print", tr("label {s}/{t}{m} sent to {p} (job #{j})",
                                               "第 {s}/{t}{m} 张已发送到 {p}（任务 #{j}）",
                                               s=item.seq, t=job.total, m=mark, p=job.printer, j=job.id))


def mark_sent(item_id: int, *, confirm_ship: bool = False) -> None:
    """The transport accepted the label's bytes: item sent, order's print count + 1, its parcel
    printed. ``confirm_ship`` (setting ``waybills.confirm_on = "print"``): a parcel's first label
    also queues its ship confirmation, in the same transaction."""
    with write():
        item = PrintItem.get_by_id(item_id)
        if item.state not in ("sending", "uncertain"):
            return
        _mark_sent(item, item.job)
        if confirm_ship and item.waybill_id and item.order_id:
            from dadan.core.waybills.shipping import ship_on_print

            ship_on_print(item.waybill_id, actor=item.job.requested_by)


def fail_queued(item_id: int, reason: str) -> None:
    """A queued label cannot be made (its waybill number could not be taken): ``failed`` with
    the reason, and its job pauses; nothing was sent. Resume asks again."""
    with write():
        item = PrintItem.get_by_id(item_id)
        if item.state != "queued":
            return
        item.state, item.reason = "failed", reason
        item.save()
        job = item.job
        if job.state in ("queued", "printing"):
            job.state, job.state_reason = "paused", reason
            job.save()


def mark_failed(item_id: int, reason: str, *, uncertain: bool = False) -> None:
    """The label was not delivered (``failed``: a retry sends it again) or it is unknown
    whether it printed (``uncertain``: an operator decides). The job pauses with the reason."""
    with write():
        item = PrintItem.get_by_id(item_id)
        if item.state != "sending":
            return
        item.state, item.reason = ("uncertain" if uncertain else "failed"), reason
        item.save()
        job = item.job
        if job.state in ("queued", "printing"):
            job.state, job.state_reason = "paused", reason
            job.save()


def _settle(job: PrintJob) -> None:
    counts = item_counts(job.id)
    if job.state == "cancelled":
        return
    if counts.get("queued", 0) or counts.get("sending", 0):
        return
    unc, failed = counts.get("uncertain", 0), counts.get("failed", 0)
    if unc or failed:
        if job.state != "paused":
            job.state = "paused"
            job.state_reason = tr("{n} label(s) need a decision", "{n} 张标签待处理", n=unc + failed)
            job.save()
        return
    job.state, job.state_reason, job.finished_at = "done", "", utcnow()
    job.save()


def finish_job(job_id: int) -> PrintJob:
    """After the worker ran out of items: done, or paused if labels need a decision."""
    with write():
        job = get_job(job_id)
        _settle(job)
        return job


# ------------------------------------------------------------------ leases and recovery
def lease_name(printer: str) -> str:
    return f"print:{printer}"


def acquire_lease(printer: str, holder: str, *, ttl: dt.timedelta = LEASE_TTL) -> bool:
    """Take (or renew) the printer's lease. A lease whose holder died on this host, or that
    expired, is taken over; the taker then runs :func:`recover_uncertain`."""
    return leases.acquire(lease_name(printer), holder, ttl)


def release_lease(printer: str, holder: str) -> None:
    leases.release(lease_name(printer), holder)


def lease_holder(printer: str) -> str | None:
    """Who holds the printer now (None if nobody alive does)."""
    return leases.current_holder(lease_name(printer))


def recover_uncertain(printer: str | None = None, *, holder: str | None = None) -> int:
    """Start-up recovery: items left ``sending`` (dadan stopped while sending them) become
    ``uncertain`` and their jobs pause; nothing is re-sent. Only printers that no live worker
    holds are touched (``holder`` = the caller's own lease). Returns how many items."""
    with write():
        q = (PrintItem.select(PrintItem, PrintJob).join(PrintJob).where(PrintItem.state == "sending"))
        if printer:
            q = q.where(PrintJob.printer == printer)
        n = 0
        for item in list(q):
            job = item.job
            current = lease_holder(job.printer)
            if current is not None and current != holder:
                continue
            item.state = "uncertain"
            item.reason = tr("dadan stopped while sending this label; check whether it printed",
                             "发送此标签时 dadan 中断；请确认是否已打印")
            item.save()
            if job.state in ("queued", "printing"):
                job.state = "paused"
                job.state_reason = tr("interrupted: label {s} may or may not have printed",
                                      "已中断：第 {s} 张标签不确定是否已打印", s=item.seq)
                job.save()
            n += 1
        # a job left "printing" with nothing in flight (stopped between labels) waits again
        for job in PrintJob.select().where(PrintJob.state == "printing"):
            if printer and job.printer != printer:
                continue
            current = lease_holder(job.printer)
            if current is None or current == holder:
                job.state = "queued"
                job.save()
        return n
