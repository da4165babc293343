"""Background work: one sync job per shop and the ship-confirmation outbox.

An APScheduler ``BackgroundScheduler`` runs the jobs in its thread pool:

- ``sync:<shop id>`` every ``sync.interval_minutes`` (default 10). ``max_instances=1`` (runs
  never overlap), ``coalesce=True`` and ``misfire_grace_time`` of a whole interval (a late run
  happens late, once, instead of being silently dropped). Several terminals on one database:
  each pass first takes the shop's lease (``core.platform.sync``); the others skip.
- ``outbox`` every ``sync.outbox_interval_seconds`` (default 60): the ship confirmations, then
  the managed SKUs' stock pushed to the platform (:mod:`dadan.core.goods.push_sender`).
- ``backup`` every day at ``[backup] daily_at`` (local time) while ``daily`` is on: a copy of the
  database and retention (:func:`dadan.core.backup.daily_backup`); not on PostgreSQL (the server is
  backed up with its own tools). A desk that was off at that time (switched off for the night)
  makes the day's copy :data:`BACKUP_CATCH_UP` after it starts (``backup-catch-up``), when it
  is due (:func:`dadan.core.backup_state.copy_due`).
- ``tidy``, after each sync run and each outbox run, as a job of its own: the free-text index's
  segments merged (:func:`dadan.core.orders.fulltext.tidy`, a short write transaction a step, up
  to a second): the writers leave that merging out of their own transactions. Not inside the
  sync's job: "sync now" pressed as a sync reports done would find that job still running
  (``max_instances=1``) and be skipped.

"Sync now" moves the job's ``next_run_time`` to now; it never calls the function beside the
scheduler. ``on_event(kind, payload)`` (if given) is called from the worker thread after each
run: ``("sync", SyncReport)``, ``("outbox", OutboxReport)``, ``("stock_push", PushReport)``,
``("backup", DailyOutcome)``, ``("error", message)``; the TUI
posts it to the app as a message.

    sched = Scheduler(ctx, on_event=...)
    sched.start(); sched.sync_now(); sched.status(); sched.stop()
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Callable

from dadan.core.db import connection
from dadan.core.errors import ConfigError, DadanError
from dadan.core.i18n import tr
from dadan.core.models import Shop, SyncRun, utcnow
from dadan.core.postgres import is_postgres_url

log = logging.getLogger("dadan.scheduler")


def _in_words(exc: Exception) -> str:
    """A failed job's reason: a DadanError's message, anything else as its repr."""
    return exc.message if isinstance(exc, DadanError) else repr(exc)


@dataclass
class ShopSyncStatus:
    shop_id: int
    shop: str
    auth_state: str
    running: bool
    last_sync_at: dt.datetime | None  # UTC
    last_sync_ok: bool | None
    last_sync_error: str
    next_run_at: dt.datetime | None  # UTC
    last_run: SyncRun | None

    def text(self) -> str:
        if self.auth_state == "reauthorize":
            return tr("{s}: re-authorise this shop", "{s}：请重新授权店铺", s=self.shop)
        if self.running:
            return tr("{s}: syncing…", "{s}：同步中…", s=self.shop)
        if self.last_sync_at is None:
            return tr("{s}: never synced", "{s}：尚未同步", s=self.shop)
        if self.last_sync_ok:
            return tr("{s}: synced", "{s}：已同步", s=self.shop)
        return tr("{s}: last sync failed: {e}", "{s}：上次同步失败：{e}", s=self.shop, e=self.last_sync_error)


# after a start, when the day's copy is due (core.backup_state.copy_due: the desk was off at daily_at;
# a desk switched off for the night never makes its 02:30 copy); not at once, beside the shift's
# first sync
BACKUP_CATCH_UP = dt.timedelta(minutes=5)


class Scheduler:
    def __init__(self, ctx, *, factory: Callable | None = None,
                 on_event: Callable[[str, object], None] | None = None, holder: str | None = None,
                 outbox: bool = True):
        from dadan.core.platform.shops import ClientFactory
        from dadan.core.platform.sync import HOLDER

        self.ctx = ctx
        self.settings = ctx.settings.sync
        self.factory = factory or ClientFactory(paths=ctx.paths, settings=ctx.settings)
        self.on_event = on_event
        self.holder = holder or HOLDER
        self.outbox = outbox
        self._sched = None
        self._running: set[int] = set()  # shops syncing now (the status line's "syncing…")
        self._in_job: set[int] = set()  # shops whose sync job runs (its sync, or one more after it)
        self._again: set[int] = set()  # shops asked to sync now while their job ran: once more after it
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- life cycle
    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        if self._sched is not None:
            return
        self._stop.clear()
        self._sched = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": max(60, self.settings.interval_minutes * 60)},
            executors={"default": {"type": "threadpool", "max_workers": 4}},
        )
        self._sched.start()
        self.refresh_jobs(first_run_in=dt.timedelta(seconds=1))
        if self.outbox:
            self._sched.add_job(self._run_outbox, "interval", seconds=self.settings.outbox_interval_seconds,
                                id="outbox", next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
                                misfire_grace_time=max(30, self.settings.outbox_interval_seconds))
        # a PostgreSQL server is backed up with its own tools (pg_dump): no daily copy of a file
        if self.ctx.settings.backup.daily and not is_postgres_url(self.ctx.database_url):
            from dadan.core.backup import daily_time
            from dadan.core.backup_state import copy_due

            try:
                hour, minute = daily_time(self.ctx.settings)
            except DadanError as exc:
                self._emit("error", exc.message)
            else:
                self._sched.add_job(self._run_backup, "cron", hour=hour, minute=minute, id="backup",
                                    timezone=self.ctx.settings.timezone, misfire_grace_time=3 * 3600)
                if copy_due(self.ctx.paths):
                    self._sched.add_job(self._run_backup, "date", id="backup-catch-up",
                                        run_date=dt.datetime.now(dt.UTC) + BACKUP_CATCH_UP,
                                        misfire_grace_time=3 * 3600)

    def stop(self) -> None:
        self._stop.set()
        if self._sched is not None:
            self._sched.shutdown(wait=False)
            self._sched = None

    @property
    def started(self) -> bool:
        return self._sched is not None

    def refresh_jobs(self, first_run_in: dt.timedelta = dt.timedelta(seconds=1)) -> None:
        """One job per shop that has credentials (call after adding or removing a shop)."""
        if self._sched is None:
            return
        from dadan.core.platform.shops import shops_with_credentials

        # only shops with credentials: a demo or import-only shop has nothing to sync
        try:
            with connection():
                shop_ids = [s.id for s in shops_with_credentials(self.ctx.paths)]
        except ConfigError:  # an unreadable store is reported by `dadan shops check` and "sync now"
            shop_ids = []
        existing = {j.id for j in self._sched.get_jobs() if j.id.startswith("sync:")}
        for sid in shop_ids:
            jid = f"sync:{sid}"
            if jid in existing:
                continue
            self._sched.add_job(self._run_sync, "interval", args=[sid], id=jid,
                                minutes=self.settings.interval_minutes,
                                next_run_time=dt.datetime.now(dt.UTC) + first_run_in)
        for jid in existing - {f"sync:{sid}" for sid in shop_ids}:
            self._sched.remove_job(jid)

    # -- controls
    def sync_now(self, shop_id: int | None = None) -> int:
        """Move the next run of one shop's (or every shop's) job to now; a shop whose job is
        running syncs once more when its sync ends (APScheduler would skip a run asked for while
        one runs: ``max_instances=1``). Returns jobs moved."""
        if self._sched is None:
            return 0
        self.refresh_jobs()
        now = dt.datetime.now(dt.UTC)
        n = 0
        for job in self._sched.get_jobs():
            if job.id.startswith("sync:") and (shop_id is None or job.id == f"sync:{shop_id}"):
                with self._lock:
                    if job.args[0] in self._in_job:
                        self._again.add(job.args[0])
                job.modify(next_run_time=now)
                n += 1
        return n

    def outbox_now(self) -> None:
        if self._sched is not None and self._sched.get_job("outbox"):
            self._sched.modify_job("outbox", next_run_time=dt.datetime.now(dt.UTC))

    def status(self) -> list[ShopSyncStatus]:
        out = []
        with connection():
            for shop in Shop.select().where(Shop.platform == "pdd").order_by(Shop.name):
                nxt = None
                if self._sched is not None:
                    job = self._sched.get_job(f"sync:{shop.id}")
                    if job is not None and job.next_run_time is not None:
                        nxt = job.next_run_time.astimezone(dt.UTC).replace(tzinfo=None)
                last = SyncRun.select().where(SyncRun.shop == shop.id).order_by(SyncRun.id.desc()).first()
                out.append(ShopSyncStatus(
                    shop_id=shop.id, shop=shop.name, auth_state=shop.auth_state,
                    running=shop.id in self._running, last_sync_at=shop.last_sync_at,
                    last_sync_ok=shop.last_sync_ok, last_sync_error=shop.last_sync_error,
                    next_run_at=nxt, last_run=last))
        return out

    # -- jobs (worker threads)
    def _emit(self, kind: str, payload) -> None:
        if self.on_event is not None:
            try:
                self.on_event(kind, payload)
            except Exception:  # noqa: BLE001 - a UI callback must not kill the job
                log.exception("on_event callback failed")

    def _run_sync(self, shop_id: int):
        """One shop's sync (again while "sync now" was asked for during it), then the free-text
        index's merge asked for (:meth:`_tidy_soon`)."""
        with self._lock:
            self._in_job.add(shop_id)
            self._again.discard(shop_id)
        try:
            while True:
                report = self._sync(shop_id)
                with self._lock:  # (decided with the set sync_now reads: no request falls between)
                    if report is None or shop_id not in self._again:
                        self._in_job.discard(shop_id)
                        break
                    self._again.discard(shop_id)
        finally:
            with self._lock:
                self._in_job.discard(shop_id)
        if report is not None:
            self._tidy_soon()
        return report

    def _sync(self, shop_id: int):
        from dadan.core.platform.sync import sync_shop

        if self._stop.is_set():
            return None
        with self._lock:
            self._running.add(shop_id)
        try:
            with connection():
                shop = Shop.get_or_none(Shop.id == shop_id)
                if shop is None:
                    return None
                try:
                    client = self.factory(shop)
                except DadanError as exc:
                    from dadan.core.platform.shops import ShopNotConfigured

                    self._emit("error", exc.message)
                    if isinstance(exc, ShopNotConfigured):  # its credentials were removed: its job goes
                        self.refresh_jobs()  # (said once, not every interval)
                    return None
                with client:
                    report = sync_shop(shop, client, self.settings, holder=self.holder)
                    self._refresh_balances(shop, client)
                    self._refresh_couriers(shop, client)
            self._emit("sync", report)
            return report
        except Exception as exc:  # noqa: BLE001 - logged and shown; the job stays scheduled
            log.exception("sync job failed")
            self._emit("error", tr("sync failed: {e}", "同步失败：{e}", e=_in_words(exc)))
            return None
        finally:
            with self._lock:
                self._running.discard(shop_id)

    @staticmethod
    def _refresh_couriers(shop: Shop, client) -> None:
        """The platform's courier list (the tracking entry's choices, the courier names of
        files) read again through a synced shop when it is empty or a day old. A failure only
        leaves the last one."""
        from dadan.core.shipping.outbox import courier_list_stale, refresh_couriers

        if not courier_list_stale():
            return
        try:
            refresh_couriers(client)
        except DadanError as exc:
            log.info("shop %s: courier list not refreshed: %s", shop.name, type(exc).__name__)

    @staticmethod
    def _refresh_balances(shop: Shop, client) -> None:
        """A shop with e-waybill accounts: its branches' balances read again with each sync (the
        status line and the print dialog show them). A failure only leaves the last ones."""
        from dadan.core.waybills import accounts

        if not accounts.accounts(shop.id):
            return
        try:
            accounts.refresh(shop, client)
        except DadanError as exc:
            log.info("shop %s: waybill balances not refreshed: %s", shop.name, type(exc).__name__)

    def _run_outbox(self):
        """The ship confirmations, then the managed SKUs' stock (each failure on its own)."""
        from dadan.core.shipping.outbox import process_outbox

        if self._stop.is_set():
            return None
        report = None
        try:
            with connection():
                report = process_outbox(self.factory, now=utcnow())
            if report.sent or report.errors:
                self._emit("outbox", report)
        except Exception as exc:  # noqa: BLE001
            log.exception("outbox job failed")
            self._emit("error", tr("ship confirmation failed: {e}", "发货回传失败：{e}", e=_in_words(exc)))
        self._run_stock_push()
        self._run_recycle()
        self._tidy_soon()
        return report

    def _tidy_soon(self) -> None:
        """The ``tidy`` job (:meth:`_run_tidy`) to run now, once, in a worker of its own: the job
        that asks for it ends at once. One already waiting is replaced; one running merges what
        there is (the next sync or outbox run asks again)."""
        sched = self._sched
        if self._stop.is_set():
            return
        if sched is None:  # (a job's function called without the scheduler: the merge here)
            self._run_tidy()
            return
        try:
            sched.add_job(self._run_tidy, id="tidy", replace_existing=True)
        except Exception:  # noqa: BLE001 - the scheduler stopping meanwhile: nothing to merge for
            log.debug("free-text merge not scheduled", exc_info=True)

    def _run_tidy(self) -> int:
        """The free-text index's segments merged, off the writers' transactions (see
        :func:`dadan.core.orders.fulltext.tidy`); a failure is only logged: the index answers
        the same unmerged, and the next run tries again."""
        from dadan.core.orders.fulltext import tidy

        if self._stop.is_set():
            return 0
        try:
            with connection():
                return tidy()
        except Exception:  # noqa: BLE001 - housekeeping: never a job's failure
            log.exception("merging the free-text index failed")
            return 0

    def _run_recycle(self):
        """Numbers of parcels that orders left (合单) go back to the platform."""
        from dadan.core.waybills.merge import recycle_marked

        if self._stop.is_set():
            return None
        try:
            with connection():
                report = recycle_marked(self.factory)
            if report is not None and report.failed:
                self._emit("error", tr("recycling a number failed: {e}", "回收单号失败：{e}",
                                       e=f"{report.failed[0][0]}: {report.failed[0][1]}"))
            return report
        except Exception as exc:  # noqa: BLE001
            log.exception("recycle job failed")
            self._emit("error", tr("recycling numbers failed: {e}", "回收单号失败：{e}", e=_in_words(exc)))
            return None

    def _run_backup(self):
        """The daily backup and its retention; an error is recorded for the desk and shown."""
        from dadan.core.backup import daily_backup

        if self._stop.is_set():
            return None
        try:
            outcome = daily_backup(self.ctx.settings, self.ctx.paths)
        except Exception as exc:  # noqa: BLE001
            log.exception("backup job failed")
            self._emit("error", tr("backup failed: {e}", "备份失败：{e}", e=_in_words(exc)))
            return None
        if outcome.error:
            self._emit("error", tr("backup failed: {e}", "备份失败：{e}", e=outcome.error))
        elif outcome.result is not None:
            self._emit("backup", outcome)
        return outcome

    def _run_stock_push(self):
        from dadan.core.goods.push_sender import process_pushes

        if self._stop.is_set():
            return None
        try:
            with connection():
                report = process_pushes(self.factory, now=utcnow())
            if report.sent or report.errors:
                self._emit("stock_push", report)
            return report
        except Exception as exc:  # noqa: BLE001
            log.exception("stock push job failed")
            self._emit("error", tr("stock push to the platform failed: {e}", "库存同步到平台失败：{e}",
                                   e=_in_words(exc)))
            return None


_default: Scheduler | None = None


def start(ctx, **kw) -> Scheduler:
    """Start the process-wide scheduler (idempotent) and return it."""
    global _default
    if _default is None:
        _default = Scheduler(ctx, **kw)
    _default.start()
    return _default


def stop() -> None:
    global _default
    if _default is not None:
        _default.stop()
        _default = None


def sync_now(shop_id: int | None = None) -> int:
    return _default.sync_now(shop_id) if _default is not None else 0


def status() -> list[ShopSyncStatus]:
    if _default is not None:
        return _default.status()
    return []
