"""The status line: last sync (time, result), next sync, pending ship confirmations, printer,
the e-waybill balance of each shop's default courier (bold red when low), and the last backup
(a warning when it failed, or when none was made for a day and a half:
:func:`dadan.core.backup_state.backup_state`).

Read straight from the database (SyncRun, Shipment, PrintJob/PrintItem, WaybillAccount rows) in a thread
worker. The next read is armed only when the previous one has finished (never overlapping),
every ``interval`` seconds; there is no clock on screen, and the line repaints only when its
text changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from rich.text import Text
from textual import work
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from dadan.core.errors import ConfigError
from dadan.core.i18n import language, tr
from dadan.core.models import utcnow
from dadan.core.timeutil import fmt_local, to_local

REFRESH_SECONDS = 15.0
LOW_BALANCE = 50  # a default courier's balance at or below this shows as a warning


@dataclass(frozen=True)
class StatusInfo:
    last_sync_at: dt.datetime | None = None
    last_sync_ok: bool | None = None
    last_sync_text: str = ""
    next_sync_at: dt.datetime | None = None
    ship_pending: int = 0
    ship_failed: int = 0
    printer: str = ""
    print_active: str = ""  # "12/200": done/total of the current job (core.printing.progress)
    print_state: str = "printing"  # the current job's state: printing, queued (waiting), paused
    print_problem: str = ""
    balances: tuple[tuple[str, int], ...] = ()  # (courier wp_code, balance) of each shop's default courier
    backup_at: str = ""  # when the last backup was made (or tried: backup_failed): "02:00" today, else "12-01"
    backup_failed: bool = False
    backup_late: bool = False  # (core.backup_state.BackupState.late)


def _scheduler_next(scheduler) -> tuple[dt.datetime | None, bool]:
    """(next sync time, a sync running now) from the app's core.platform.scheduler.Scheduler, if any."""
    if scheduler is None or not getattr(scheduler, "started", False):
        return None, False
    try:
        shops = scheduler.status()
    except Exception:  # noqa: BLE001 - the line falls back to the SyncRun rows
        return None, False
    times = [s.next_run_at for s in shops if s.next_run_at is not None]
    return (min(times) if times else None), any(s.running for s in shops)


def read_status(settings, scheduler=None, paths=None, *, now: dt.datetime | None = None) -> StatusInfo:
    """One read of everything the status line shows (call inside a DB connection); ``paths``:
    the data folder whose last backup is shown (None: none shown)."""
    from peewee import fn

    from dadan.core.models import PrintItem, Shipment, Shop, SyncRun
    from dadan.core.printing.progress import open_job_id
    from dadan.core.printing.queue import job_view

    last = SyncRun.select().order_by(SyncRun.id.desc()).first()
    last_at = last_ok = None
    text = ""
    if last is not None:
        last_at = last.finished_at or last.started_at
        last_ok = last.ok
        if last.finished_at is None:
            text = tr("syncing…", "同步中…")
        elif last.ok:
            text = tr("ok +{n} new, {c} changed", "成功 新{n} 变{c}", n=last.orders_new, c=last.orders_changed)
        else:
            text = tr("failed", "失败")
    next_at, running = _scheduler_next(scheduler)
    if running:
        text = tr("syncing…", "同步中…")
    if next_at is None and settings.sync.enabled and Shop.select().where(Shop.auth_state == "ok").exists():
        base = last.started_at if last is not None else None
        if base is not None:
            next_at = base + dt.timedelta(minutes=settings.sync.interval_minutes)
    counts = dict(
        Shipment.select(Shipment.state, fn.COUNT(Shipment.id))
        .where(Shipment.state.in_(["pending", "sending", "failed"]))
        .group_by(Shipment.state)
        .tuples()
    )
    active = problem = ""
    state = "printing"
    job_id = open_job_id()  # the current job, by the one rule the progress line uses too
    if job_id is not None:
        job = job_view(job_id)
        active, state = job.progress(), job.state
        if job.state == "paused":
            problem = job.state_reason or tr("paused", "已暂停")
    uncertain = PrintItem.select().where(PrintItem.state == "uncertain").count()
    if uncertain and not problem:
        problem = tr("{n} uncertain", "{n} 张待确认", n=uncertain)
    return StatusInfo(
        balances=_balances(),
        last_sync_at=last_at, last_sync_ok=last_ok, last_sync_text=text, next_sync_at=next_at,
        ship_pending=counts.get("pending", 0) + counts.get("sending", 0), ship_failed=counts.get("failed", 0),
        printer=_printer_name(settings), print_active=active, print_state=state, print_problem=problem,
        **_backup(settings, paths, now),
    )


def _backup(settings, paths, now: dt.datetime | None) -> dict:
    """The last backup's fields of :class:`StatusInfo` (:func:`dadan.core.backup_state.backup_state`;
    none without ``paths``)."""
    from dadan.core.backup_state import backup_state

    state = backup_state(settings, paths, now) if paths is not None else None
    if state is None:
        return {}
    when = ""
    if state.at is not None:
        local = to_local(state.at, settings.timezone)
        today = to_local(now or utcnow(), settings.timezone)
        when = f"{local:%H:%M}" if local.date() == today.date() else f"{local:%m-%d}"
    return {"backup_at": when, "backup_failed": state.failed, "backup_late": state.late}


def _balances() -> tuple[tuple[str, int], ...]:
    from dadan.core.models import WaybillAccount
    from dadan.core.waybills import accounts

    out = []
    for acc in WaybillAccount.select().where(WaybillAccount.is_default).order_by(WaybillAccount.shop):
        bal = accounts.balance(acc.shop_id, acc.wp_code)
        if bal is not None:
            out.append((acc.wp_code, bal))
    return tuple(out)


def balance_text(wp_code: str, balance: int) -> str:
    """``ZTO bal 812`` / ``中通 余额 812``; a low one is marked ``!`` (seen without colours too)."""
    from dadan.core.waybills.accounts import courier_name

    name = courier_name(wp_code).removesuffix("快递") if language() == "zh" else wp_code
    mark = "!" if balance <= LOW_BALANCE else ""
    return tr("{m}{c} bal {n}", "{m}{c} 余额 {n}", m=mark, c=name, n=balance)


def low_balances(info: StatusInfo) -> list[str]:
    """The balance parts shown as a warning (at or below :data:`LOW_BALANCE`)."""
    return [balance_text(wp, n) for wp, n in info.balances if n <= LOW_BALANCE]


def _printer_name(settings) -> str:
    try:
        return settings.printer().name
    except ConfigError:  # a misnamed default printer is reported elsewhere
        return settings.default_printer or "?"


KEEP = 99  # a part never dropped: the counts and the job's done/total


def status_parts(info: StatusInfo, tz: str) -> list[list[tuple[int, str]]]:
    """The line's groups (joined by " · "), each a list of (rank, text) parts joined by a space;
    the narrower the line, the more ranks are dropped, lowest first."""
    if info.last_sync_at is None:
        sync = [(4, tr("sync: never", "同步：无"))]
    else:
        mark = "" if info.last_sync_ok is not False else "!"
        sync = [(4, tr("sync {m}{t}", "同步 {m}{t}", m=mark, t=fmt_local(info.last_sync_at, tz, "%H:%M")))]
        if info.last_sync_text:
            sync.append((2, info.last_sync_text))
    groups = [sync]
    if info.next_sync_at is not None:
        groups.append([(1, tr("next {t}", "下次 {t}", t=fmt_local(info.next_sync_at, tz, "%H:%M")))])
    ship = [(KEEP, tr("to confirm {n}", "待回传 {n}", n=info.ship_pending))]
    if info.ship_failed:
        ship.append((KEEP, tr("!failed {n}", "!失败 {n}", n=info.ship_failed)))
    groups.append(ship)
    printer = [(3, tr("printer {p}", "打印机 {p}", p=info.printer))]
    if info.print_active:  # (a job that waits for its printer, or is paused, is not printing)
        printer.append((KEEP, {"queued": tr("waiting {a}", "等待中 {a}", a=info.print_active),
                               "paused": tr("job {a}", "任务 {a}", a=info.print_active)}.get(
            info.print_state, tr("printing {a}", "打印中 {a}", a=info.print_active))))
    if info.print_problem:
        printer.append((5, f"!{info.print_problem}"))
    groups.append(printer)
    if info.balances:  # gives way before the counts: a low balance stays longest
        groups.append([(5 if n <= LOW_BALANCE else 3, balance_text(wp, n)) for wp, n in info.balances])
    if warning := backup_warning(info):
        groups.append([(5, warning)])
    elif info.backup_at:  # all is well: the first part to give way
        groups.append([(1, tr("backup {t}", "备份 {t}", t=info.backup_at))])
    return groups


def backup_warning(info: StatusInfo) -> str:
    """The backup part shown as a warning ("" when the last backup is fine)."""
    if info.backup_failed:
        return tr("!backup failed {t}", "!备份失败 {t}", t=info.backup_at)
    if info.backup_late:
        return tr("!backup {t}", "!备份 {t}", t=info.backup_at) if info.backup_at else tr("!no backup", "!无备份")
    return ""


def fit_status(groups: list[list[tuple[int, str]]], width: int) -> str:
    """The fullest line that fits ``width`` cells: parts of the lowest rank go first."""
    from rich.cells import cell_len

    text = ""
    for drop in range(0, 6):
        kept = [" ".join(t for rank, t in group if rank > drop) for group in groups]
        text = " " + " · ".join(k for k in kept if k)
        if cell_len(text) <= width:
            break
    return text


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; background: $panel; color: $text-muted; }
    """

    def __init__(self, ctx, *, interval: float = REFRESH_SECONDS, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.ctx = ctx
        self.interval = interval
        self.info: StatusInfo | None = None
        self._text = ""
        self._timer = None

    def on_mount(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        """Read now (a running read is left to finish; the next one is armed after it)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="status", description="status line")
    def _read(self) -> StatusInfo:
        from dadan.core.db import connection

        with connection():
            return read_status(self.ctx.settings, getattr(self.app, "scheduler", None), self.ctx.paths)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "status":
            return
        event.stop()  # a failed status read is shown on the line, not in a modal
        if event.state == WorkerState.SUCCESS:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self._set_text(tr("status unavailable: {e}", "状态不可用：{e}", e=event.worker.error))
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self._timer = self.set_timer(self.interval, self._read)

    def set_print_active(self, active: str, state: str = "printing") -> None:
        """The current job's ``done/total`` and state as the progress line just read them (""
        when no job is open)."""
        if self.info is not None and (self.info.print_active, self.info.print_state) != (active, state):
            self.show(replace(self.info, print_active=active, print_state=state))

    def show(self, info: StatusInfo) -> None:
        self.info = info
        groups = status_parts(info, self.ctx.settings.timezone)
        who = getattr(self.app, "operator_text", "")  # the signed-in operator (the desk; "" in open mode)
        if who:
            groups.insert(0, [(KEEP, who)])
        self._set_text(fit_status(groups, self.size.width or 80),
                       low_balances(info) + [w for w in (backup_warning(info),) if w])

    def on_resize(self, event) -> None:
        if self.info is not None:
            self.show(self.info)

    def _set_text(self, text: str, warn: list[str] | None = None) -> None:
        if text != self._text:
            self._text = text
            if not warn:
                self.update(text)
                return
            shown = Text(text)
            shown.highlight_words(warn, style="bold red")
            self.update(shown)
