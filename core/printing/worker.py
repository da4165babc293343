"""The print worker: one thread per printer, draining that printer's jobs.

For each job it opens a printer session (status check first, where the printer can answer),
then for each label: claim (re-check the order) -> take the label rendered ahead (or render it
now) -> start rendering the next one -> send -> mark sent only once the transport accepted the
bytes. A failed send pauses the job with the reason in words (plus the printer's own status,
asked on a fresh connection); a printer that took the bytes but never confirmed leaves the
label ``uncertain``.

Only the holder of the printer's lease prints to it, so several terminals on one database never
print the same job twice; the holder runs start-up recovery when it takes the lease.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from dadan.core import leases
from dadan.core.db import connection
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.models import Order, PrintItem, PrintJob, Shop, Waybill
from dadan.core.printing import queue as printing
from dadan.core.printing.plan import PrintRefused
from dadan.core.waybills import merge, split

log = logging.getLogger(__name__)

LEASE_RENEW_S = 15.0


@dataclass
class WorkerEvent:
    """Posted to ``on_event`` (from the worker thread): kind is one of ``job-started``,
    ``label-sent``, ``job-paused``, ``job-finished``, ``printer-error``, ``idle``."""

    kind: str
    printer: str
    job_id: int | None = None
    seq: int = 0
    sent: int = 0
    total: int = 0
    message: str = ""


class LabelRenderer:
    """Order -> label image -> printer bytes, for one printer profile and template."""

    DECRYPT_AHEAD = 100

    def __init__(self, profile, *, settings=None, font_path: str | None = None,
                 receivers: Callable | None = None):
        self.profile = profile
        self.settings = settings
        self.font_path = font_path or (settings.fonts.cjk if settings is not None and settings.fonts.cjk else None)
        self._templates: dict[str, object] = {}
        # receiver decryption at print time (plain text in memory only), 100 orders at a time
        self._receivers_fn = receivers
        self._receivers: dict[int, dict[str, str]] = {}
        self._receiver_errors: dict[int, str] = {}

    @staticmethod
    def _encrypted(order: Order) -> bool:
        return bool(order.receiver_name_enc or order.receiver_phone_enc or order.receiver_address_enc)

    def _receiver(self, order: Order, item: PrintItem) -> dict | None:
        if not self._encrypted(order):
            return None
        if order.id not in self._receivers and order.id not in self._receiver_errors:
            fn_ = self._receivers_fn
            if fn_ is None:
                from dadan.core.platform.decrypt import receivers_for_print as fn_
            batch = [order] + [o for o in (Order.select().join(PrintItem, on=(PrintItem.order == Order.id))
                                          .where(PrintItem.job == item.job_id, PrintItem.state == "queued",
                                                 PrintItem.seq > item.seq)
                                          .order_by(PrintItem.seq).limit(self.DECRYPT_AHEAD - 1))
                               if self._encrypted(o) and o.id not in self._receivers]
            if len(self._receivers) > 5 * self.DECRYPT_AHEAD:
                self._receivers.clear()
            errors: dict[int, str] = {}
            self._receivers.update(fn_(batch, errors=errors))
            self._receiver_errors.update(errors)
        if order.id in self._receivers:
            return self._receivers.pop(order.id)
        why = self._receiver_errors.pop(order.id, "") or tr("receiver not decrypted", "收件人信息未解密")
        raise DadanError(tr("order {sn}: {w}", "订单 {sn}：{w}", sn=order.order_sn, w=why))

    def template(self, name: str):
        if name not in self._templates:
            from dadan.printers.layout import load_template

            self._templates[name] = load_template(name)
        return self._templates[name]

    def fields(self, order: Order | None, item: PrintItem, job: PrintJob) -> dict:
        """Built in the worker thread (database reads); rendering may run elsewhere."""
        from dadan.core.printing.labels import order_label_fields, packing_fields, wave_label
        from dadan.core.waybills.merge import label_orders

        if order is None and job.kind == "handover" and job.handover_id:
            from dadan.core.packing.handover_print import handover_list_fields

            return handover_list_fields(job, self.settings)
        if order is None and job.kind == "picklist" and job.wave_job_id:
            from dadan.core.packing.wave_print import pick_list_fields

            return pick_list_fields(job, self.settings)
        if order is None:
            return {"batch_seq": item.seq, "batch_total": job.total, "batch_label": f"{item.seq}/{job.total}"}
        s = self.settings
        wb = Waybill.get_or_none(Waybill.id == item.waybill_id) if item.waybill_id else None
        number = wb.code if wb is not None else order.tracking_number
        if self.template(job.template).kind == "waybill" and not number:
            raise DadanError(tr("order {sn} has no waybill number: a waybill is never printed without one",
                                "订单 {sn} 没有面单号：没有单号的面单不会打印", sn=order.order_sn))
        mate_ids = label_orders(item.waybill_id, order.id)[1:]  # a merged parcel's other orders
        mates = list(Order.select().where(Order.id.in_(mate_ids)).order_by(Order.id)) if mate_ids else []
        common = {"receiver": self._receiver(order, item), "sender": s.sender if s is not None else None,
                  "tz": s.timezone if s is not None else "Asia/Shanghai", "mates": mates}
        held = split.contents(item.waybill_id)  # one parcel of a split order: its part of the lines
        if held is not None:
            no, of = split.parcel_no(Waybill.get_by_id(item.waybill_id))
            common.update(held=held, part=f"{no}/{of}")
        reprint_no = item.reprint_no if item.is_reprint else 0
        if self.template(job.template).kind == "packing":
            fields = packing_fields(order, **common)
            fields.update(batch_seq=item.seq, batch_total=job.total, batch_label=f"{item.seq}/{job.total}",
                          reprint_mark=f"R{reprint_no}" if reprint_no else "")
        else:
            fields = order_label_fields(order, batch_seq=item.seq, batch_total=job.total, reprint_no=reprint_no,
                                        **common)
        fields["wave_label"] = wave_label(job.id, item.seq, job.total)
        if wb is not None:  # the parcel's own number, courier and sender address (the branch's)
            from dadan.core.orders.couriers import CourierBook
            from dadan.core.waybills import accounts
            from dadan.core.waybills.cloudprint import route_code

            book = CourierBook.from_database()
            fields.update(tracking_number=wb.code, route_code=route_code(wb.print_data),
                          courier_name=book.official_name(book.lookup_id(wb.wp_code)) or wb.wp_code)
            registered = accounts.sender_address(wb.shop_id, wb.wp_code)
            if registered:
                fields["sender_address"] = registered
        return fields

    def render(self, template_name: str, fields: dict):
        from dadan.printers.raster import render_label

        p = self.profile
        return render_label(self.template(template_name), fields, dpi=p.dpi, offset_x_mm=p.offset_x_mm,
                            offset_y_mm=p.offset_y_mm, font_path=self.font_path)


class PrintWorker:
    """``start()`` a thread that prints every job of one printer; ``stop()`` it.
    ``run_pending()`` does the same in the calling thread until nothing is left (CLI)."""

    def __init__(self, profile, *, settings=None, renderer: LabelRenderer | None = None,
                 preview_dir: str | Path | None = None, on_event: Callable[[WorkerEvent], None] | None = None,
                 poll_seconds: float = 1.0, session_factory=None, holder: str | None = None,
                 client_factory: Callable[[Shop], object] | None = None,
                 profile_source: Callable[[], object] | None = None):
        from dadan.printers.profile import profile_from

        self.profile = profile_from(profile)
        self.profile_source = profile_source  # the printer as the settings say now (see _take_profile)
        self.printer = self.profile.name
        self.settings = settings
        if renderer is None and client_factory is not None:  # receivers decrypted with the same clients
            from dadan.core.platform.decrypt import receivers_for_print

            def receivers(orders, *, errors):
                return receivers_for_print(orders, factory=client_factory, errors=errors)

            renderer = LabelRenderer(self.profile, settings=settings, receivers=receivers)
        self.renderer = renderer or LabelRenderer(self.profile, settings=settings)
        self.preview_dir = Path(preview_dir) if preview_dir else None
        self.on_event = on_event
        self.poll_seconds = poll_seconds
        self.session_factory = session_factory
        self.client_factory = client_factory  # platform clients per shop (numbers, standard layout)
        self._clients: dict[int, object] = {}
        self._clients_lock = threading.Lock()
        self.holder = holder or leases.make_holder()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._has_lease = False
        self._lease_at = 0.0
        self.status_text = tr("idle", "空闲")
        self.current_job: int | None = None
        self.first_send_at: float | None = None  # monotonic time of the first label sent (bench)

    # -- control
    def start(self) -> "PrintWorker":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._thread_main, name=f"print-{self.printer}", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _emit(self, kind: str, **kw) -> None:
        if self.on_event is not None:
            try:
                self.on_event(WorkerEvent(kind, self.printer, **kw))
            except Exception:  # noqa: BLE001 - a UI callback must not kill the worker
                log.exception("print worker event handler failed")

    # -- lease
    def _ensure_lease(self) -> bool:
        now = time.monotonic()
        if self._has_lease and now - self._lease_at < LEASE_RENEW_S:
            return True
        got = printing.acquire_lease(self.printer, self.holder)
        if got and not self._has_lease:
            n = printing.recover_uncertain(self.printer, holder=self.holder)
            if n:
                self._emit("job-paused", message=tr("{n} label(s) were being sent when dadan stopped; decide "
                                                    "whether they printed", "{n} 张标签在 dadan 中断时正在发送；"
                                                    "请确认是否已打印", n=n))
        self._has_lease, self._lease_at = got, now
        return got

    def _release(self) -> None:
        if self._has_lease:
            try:
                printing.release_lease(self.printer, self.holder)
            except Exception:  # noqa: BLE001 - shutting down
                pass
            self._has_lease = False

    # -- loops
    def _thread_main(self) -> None:
        with connection():
            try:
                while not self._stop.is_set():
                    try:
                        worked = self._tick()
                    except Exception as exc:  # noqa: BLE001 - keep the worker alive, say why
                        log.exception("print worker %s", self.printer)
                        self.status_text = str(exc)
                        self._emit("printer-error", message=self.status_text)
                        worked = False
                    if not worked:
                        self._wake.wait(self.poll_seconds)
                        self._wake.clear()
            finally:
                self._release()
                self._close_clients()

    def _close_clients(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()

    def _tick(self) -> bool:
        if not self._ensure_lease():
            self.status_text = tr("another dadan is printing to this printer", "另一个 dadan 正在使用此打印机")
            return False
        job = printing.next_job(self.printer)
        if job is None:
            self.status_text = tr("idle", "空闲")
            return False
        self.run_job(job.id)
        return True

    def run_pending(self, job_id: int | None = None) -> None:
        """Print in the calling thread until ``job_id`` (or every job of this printer) is no
        longer queued/printing."""
        try:
            while not self._stop.is_set():
                if not self._ensure_lease():
                    raise PrintRefused(tr("printer '{p}' is in use by another dadan",
                                                   "打印机 '{p}' 正被另一个 dadan 使用", p=self.printer))
                job = printing.get_job(job_id) if job_id else printing.next_job(self.printer)
                if job is None or job.state not in ("queued", "printing"):
                    return
                self.run_job(job.id)
        finally:
            self._release()
            self._close_clients()

    # -- one job
    def _take_profile(self) -> None:
        """The printer's profile as the settings say now (offsets, density, address...), taken as
        each job starts or resumes: a change saved on the settings screen applies from the next
        job without restarting the desk, and a job's labels all come out alike. A printer gone
        from the settings keeps the profile it had."""
        if self.profile_source is None:
            return
        from dadan.printers.profile import profile_from

        try:
            prof = profile_from(self.profile_source())
        except DadanError:
            return
        if prof != self.profile:
            self.profile = self.renderer.profile = prof

    def _open_session(self):
        from dadan.printers.device import PrinterSession

        if self.session_factory is not None:
            return self.session_factory(self.profile)
        return PrinterSession(self.profile, preview_dir=self.preview_dir)

    def run_job(self, job_id: int) -> None:
        from dadan.printers.errors import PrinterStatusError, TransportError

        job = printing.start_job(job_id)
        if job.state != "printing":
            return
        self.current_job = job.id
        self._emit("job-started", job_id=job.id, total=job.total)
        self._take_profile()
        session = self._open_session()
        try:
            session.open()
        except (PrinterStatusError, TransportError) as exc:
            printing.pause_job(job.id, reason=exc.message)
            self.status_text = exc.message
            self._emit("job-paused", job_id=job.id, total=job.total, message=exc.message)
            session.close()
            return
        self.status_text = tr("printing", "打印中")  # (the progress line's "preview: ..." while the job prints)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"render-{self.printer}")
        ahead: dict[int, tuple[Future, object]] = {}  # item id -> (future bytes, order stamp)
        taker = self._start_taker(job)

        def submit(item: PrintItem, order: Order | None) -> Future:
            platform = self._standard_layout(item, order, job)
            if platform is not None:
                return pool.submit(platform)
            fields = self.renderer.fields(order, item, job)
            tpl = job.template
            return pool.submit(lambda: session.encode(self.renderer.render(tpl, fields)))

        try:
            while not self._stop.is_set():
                # renewed long before it expires; lost (this desk stalled past the expiry and
                # another host took over): not one more label from here
                if not self._ensure_lease():
                    self.status_text = tr("another dadan took over this printer", "另一个 dadan 接管了此打印机")
                    break
                if merge.leave_at_head(job.id, actor=job.requested_by):  # its parcel now takes a new number
                    if taker is None:
                        taker = self._start_taker(job)
                    else:
                        taker.nudge()
                if taker is not None:
                    unnumbered = taker.wait_first()
                    if unnumbered is not None:
                        printing.fail_queued(*unnumbered)
                        self._paused(job, unnumbered[1])
                        break
                claim = printing.claim_next(job.id)
                if claim is None:
                    break
                item, order = claim.item, claim.order
                stamp = order.local_updated_at if order is not None else None
                fut_stamp = ahead.pop(item.id, None)
                for stale in ahead.values():
                    stale[0].cancel()
                ahead.clear()
                try:
                    fut = fut_stamp[0] if fut_stamp and fut_stamp[1] == stamp else submit(item, order)
                    nxt = printing.peek_next(job.id, item.seq)
                    if nxt is not None:
                        try:
                            ahead[nxt[0].id] = (submit(*nxt), nxt[1].local_updated_at if nxt[1] is not None else None)
                        except DadanError:
                            pass  # it fails again, with its reason, when it is claimed
                    payload = fut.result()
                except DadanError as exc:  # template, font, receiver: nothing was sent
                    printing.mark_failed(item.id, exc.message)
                    self._paused(job, exc.message)
                    break
                name = f"job{job.id:05d}-{item.seq:04d}"
                if order is not None:
                    from dadan.printers.preview import safe_name

                    name += f"-{safe_name(order.order_sn)}"
                try:
                    status = session.send(payload, name=name)
                except TransportError as exc:
                    from dadan.printers.device import SendUnconfirmed

                    unconfirmed = isinstance(exc, SendUnconfirmed)
                    reason = exc.message
                    diag = session.diagnose()
                    if diag.known:
                        reason += tr(" — printer status: {s}", " — 打印机状态：{s}", s=diag.text())
                    printing.mark_failed(item.id, reason, uncertain=unconfirmed)
                    self._paused(job, reason)
                    break
                if self.first_send_at is None:
                    self.first_send_at = time.monotonic()
                printing.mark_sent(item.id, confirm_ship=self._confirm_on_print)
                if taker is not None:
                    taker.nudge()
                self._emit("label-sent", job_id=job.id, seq=item.seq, total=job.total)
                if status is not None and not status.ready:
                    reason = tr("printer '{p}': {s}", "打印机 '{p}'：{s}", p=self.printer, s=status.text())
                    printing.pause_job(job.id, reason=reason)
                    self._paused(job, reason)
                    break
        finally:
            for f, _ in ahead.values():
                f.cancel()
            if taker is not None:
                taker.stop()
            pool.shutdown(wait=True)
            session.close()
            self.current_job = None
        job = printing.finish_job(job.id)
        if job.state == "done":
            self._write_preview_pdf(job)
            self.status_text = tr("job #{j} done", "任务 #{j} 完成", j=job.id)
            self._emit("job-finished", job_id=job.id, total=job.total, sent=printing.item_counts(job.id).get("sent", 0))
        elif job.state == "paused":
            self._paused(job, job.state_reason)

    @property
    def _confirm_on_print(self) -> bool:
        return self.settings is not None and self.settings.waybills.confirm_on == "print"

    def _client(self, shop_id: int):
        """The shop's platform client, one per shop for the worker's life (the printing, render
        and number-taking threads share it; PddClient is thread-safe)."""
        with self._clients_lock:
            if shop_id not in self._clients:
                factory = self.client_factory
                if factory is None:
                    from dadan.core.platform.shops import ClientFactory

                    factory = self.client_factory = ClientFactory(settings=self.settings)
                self._clients[shop_id] = factory(Shop.get_by_id(shop_id))
            return self._clients[shop_id]

    def _start_taker(self, job: PrintJob):
        """Numbers for the job's parcels, taken ahead of the printer (None: nothing to take)."""
        pending = (PrintItem.select().join(Waybill, on=(PrintItem.waybill == Waybill.id))
                   .where((PrintItem.job == job.id) & (PrintItem.state == "queued") & (Waybill.state == "pending")))
        if not pending.exists():
            return None
        from dadan.core.config import SenderSettings
        from dadan.core.waybills.take import NumberTaker

        s = self.settings
        return NumberTaker(job.id, client_for=self._client,
                           sender=s.sender if s is not None else SenderSettings(), actor=job.requested_by,
                           ahead=s.waybills.take_ahead if s is not None else 30).start()

    def _standard_layout(self, item: PrintItem, order: Order | None, job: PrintJob):
        """For a TSPL printer and a numbered parcel with the platform's print data: a function
        that asks the platform for the courier's standard waybill in TSPL (None: dadan's own
        layout). A parcel still without a number cannot be rendered yet."""
        if not item.waybill_id or self.profile.driver != "tspl":
            return None
        wb = Waybill.get_or_none(Waybill.id == item.waybill_id)
        if wb is None or wb.state == "pending" or not wb.code:
            raise DadanError(tr("no waybill number yet", "尚未取得面单号"))
        from dadan.core.platform.waybill_api import cmdprint_render
        from dadan.core.waybills import accounts, cloudprint

        if not cloudprint.can_render(wb.print_data):
            return None
        acc = accounts.account(wb.shop_id, wb.wp_code)
        sn = goods = None
        if order is not None:  # a merged parcel's or a split order's parcel: its own number text and goods
            from dadan.core.printing.labels import parcel_text

            mate_ids = merge.label_orders(wb.id, order.id)[1:]
            held = split.contents(wb.id)
            if mate_ids or held is not None:
                mates = list(Order.select().where(Order.id.in_(mate_ids)).order_by(Order.id)) if mate_ids else []
                part = "{}/{}".format(*split.parcel_no(wb)) if held is not None else ""
                sn, goods = parcel_text(order, mates, held, part)
        request = cloudprint.render_request(
            wb.print_data, template_url=acc.template_url if acc is not None else "",
            lines=cloudprint.custom_lines(order, seq=item.seq, total=job.total, wave=job.id,
                                          reprint_no=item.reprint_no if item.is_reprint else 0, sn=sn, goods=goods),
            printer_name=self.printer, offset_x_mm=self.profile.offset_x_mm, offset_y_mm=self.profile.offset_y_mm)
        client = self._client(wb.shop_id)
        return lambda: cmdprint_render(client, request)

    def _paused(self, job: PrintJob, reason: str) -> None:
        self.status_text = reason
        self._emit("job-paused", job_id=job.id, total=job.total, message=reason)

    def _write_preview_pdf(self, job: PrintJob) -> None:
        if self.profile.driver != "preview":
            return
        folder = self.preview_dir or Path(self.profile.uri or ".")
        pages = sorted(folder.glob(f"job{job.id:05d}-*.png"))
        if len(pages) > 1:
            from dadan.printers.preview import write_pdf

            try:
                write_pdf(pages, folder / f"job{job.id:05d}.pdf", dpi=self.profile.dpi)
            except Exception:  # noqa: BLE001 - the PNGs are there; a PDF is a convenience
                log.exception("preview PDF")


# ------------------------------------------------------------------ for the app
def profile_for(ctx, name: str | None = None):
    """The printers/ profile for a configured printer (the preview printer writes into
    ``ctx.paths.preview_dir`` unless its uri names a folder)."""
    from dadan.printers.profile import profile_from

    ps = ctx.settings.printer(name)
    prof = profile_from(ps)
    if prof.driver == "preview" and not prof.uri:
        import dataclasses

        prof = dataclasses.replace(prof, uri=str(ctx.paths.preview_dir))
    return prof


def desk_printers(settings) -> list[str]:
    """The printers a desk drives: every configured one, else the default (the preview)."""
    return [p.name for p in settings.printers] or [settings.printer().name]


class WorkerPool:
    """One worker per configured printer (the TUI starts this once)."""

    def __init__(self, ctx, on_event: Callable[[WorkerEvent], None] | None = None):
        self.ctx = ctx
        names = desk_printers(ctx.settings)
        from dadan.core.platform.shops import ClientFactory

        factory = ClientFactory(paths=ctx.paths, settings=ctx.settings)
        self.workers = {n: PrintWorker(profile_for(ctx, n), settings=ctx.settings, on_event=on_event,
                                       client_factory=factory, profile_source=functools.partial(profile_for, ctx, n))
                        for n in names}

    def start(self) -> None:
        for w in self.workers.values():
            w.start()

    def wake(self, printer: str | None = None) -> None:
        for n, w in self.workers.items():
            if printer is None or n == printer:
                w.wake()

    def stop(self) -> None:
        for w in self.workers.values():
            w._stop.set()
            w._wake.set()
        for w in self.workers.values():
            w.stop()

    def status(self) -> dict[str, str]:
        return {n: w.status_text for n, w in self.workers.items()}

