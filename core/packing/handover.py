"""Handover to the courier (交接): each parcel scanned into its courier's open handover; per
courier, what was printed, what was scanned and what is MISSING (printed but never scanned: the
lost-parcel alarm); closing a handover writes its list (交接单) and, per setting
``[packing] confirm_on_handover``, confirms every parcel in it shipped with its number.

A parcel is a :class:`~dadan.core.models.Waybill` row; it is scanned by its number (``code``).
A scan is refused, with its reason and nothing changed, when the number is unknown, recycled
(cancelled), not printed yet, already scanned into a handover, or one of its orders is blocked;
a parcel of another courier than the handover's is refused as an alarm (``wrong_courier``).

The pool a courier's counts are read from: its parcels in state ``printed`` (printed, not yet
shipped), and those shipped that were printed since the start of today (local time), so a
parcel confirmed at the packing desk before the van came still has to be handed over. Only the
parcels still on their way are read (the ``state`` index), never the orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from dadan.core import audit
from dadan.core.db import write
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.models import Order, Waybill, WaybillOrder, utcnow
from dadan.core.operators import require
from dadan.core.orders.rules import blocked_reason
from dadan.core.packing.handover_models import Handover, HandoverParcel
from dadan.core.packing.models import PackRecord
from dadan.core.timeutil import DEFAULT_TZ, to_local, to_utc

OK = "added"
REFUSALS = ("wrong_courier", "unknown", "recycled", "not_printed", "twice", "blocked", "empty")
LIST_FORMATS = ("csv", "xlsx")
LIST_HEADERS = ["快递公司", "交接单号", "交接时间", "序号", "运单号", "订单号", "扫描时间", "扫描人"]


@dataclass
class ScanResult:
    kind: str  # "added" or one of REFUSALS
    code: str
    message: str
    wp_code: str = ""  # the parcel's courier (when known)
    handover_id: int | None = None
    scanned: int = 0  # parcels in that handover after this scan

    @property
    def ok(self) -> bool:
        return self.kind == OK

    @property
    def alarm(self) -> bool:
        return self.kind == "wrong_courier"


@dataclass
class CourierStatus:
    wp_code: str
    printed: int = 0
    packed: int = 0  # of those printed, found complete at the pack check
    scanned: int = 0  # in the open handover
    handed: int = 0  # in handovers closed already
    missing: list[str] = field(default_factory=list)  # waybill numbers printed but never scanned
    kept_out: list[str] = field(default_factory=list)  # printed, not scanned, blocked (a refund...): not to ship
    handover_id: int | None = None  # the open handover


@dataclass
class CloseReport:
    handover_id: int
    wp_code: str
    count: int
    path: Path
    shipped: list[tuple[str, str]] = field(default_factory=list)  # (order_sn, number)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (order_sn or number, why)


def open_handover(wp_code: str) -> Handover | None:
    return Handover.get_or_none((Handover.wp_code == wp_code) & Handover.closed_at.is_null(True))


def _start_of_today(now: dt.datetime, tz: str) -> dt.datetime:
    local = to_local(now, tz)
    return to_utc(local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None), tz)


def scan(code: str, *, actor: str, courier: str | None = None, now: dt.datetime | None = None) -> ScanResult:
    """Scan one parcel into the open handover of its courier (opened if there is none). With
    ``courier`` (the handover the screen has chosen), a parcel of another courier is refused as
    an alarm. Every refusal changes nothing."""
    code = (code or "").strip()
    now = now or utcnow()
    if not code:
        return ScanResult("empty", code, tr("nothing scanned", "未扫描到内容"))
    with write():
        w = (Waybill.select().where(Waybill.code == code)
             .order_by((Waybill.state == "cancelled").asc(), Waybill.id.desc()).first())
        if w is None:
            return ScanResult("unknown", code, tr("unknown waybill number {c}", "未知运单号 {c}", c=code))
        if courier and w.wp_code != courier:
            return ScanResult("wrong_courier", code, tr(
                "WRONG COURIER: {c} is {p}, not {h} — keep it out",
                "快递不符：{c} 是 {p} 的包裹，不是 {h} — 请拿出", c=code, p=w.wp_code, h=courier),
                wp_code=w.wp_code)
        if w.state == "cancelled":
            return ScanResult("recycled", code, tr("waybill {c} was recycled (cancelled): it must not ship",
                                                   "面单 {c} 已回收（取消），不能发货", c=code), wp_code=w.wp_code)
        if w.state not in ("printed", "shipped"):
            return ScanResult("not_printed", code, tr("waybill {c} is not printed yet", "面单 {c} 尚未打印", c=code),
                              wp_code=w.wp_code)
        before = (HandoverParcel.select(HandoverParcel.handover).where(HandoverParcel.waybill == w.id).first())
        if before is not None:
            return ScanResult("twice", code, tr("{c} is already scanned (handover #{h})", "{c} 已扫描过（交接单 #{h}）",
                                                c=code, h=before.handover_id), wp_code=w.wp_code,
                              handover_id=before.handover_id)
        for o in (Order.select().join(WaybillOrder, on=(WaybillOrder.order == Order.id))
                  .where(WaybillOrder.waybill == w.id)):
            why = blocked_reason(o)
            if why:
                return ScanResult("blocked", code, tr("{c}: order {sn} is {why} — keep it out",
                                                      "{c}：订单 {sn} {why} — 请拿出", c=code, sn=o.order_sn, why=why),
                                  wp_code=w.wp_code)
        h = open_handover(w.wp_code)
        if h is None:
            h = Handover.create(wp_code=w.wp_code, opened_at=now, opened_by=actor)
            audit.record("handover-open", actor=actor, target=f"handover:{h.id}", detail={"wp_code": w.wp_code})
        HandoverParcel.create(handover=h.id, waybill=w.id, waybill_code=w.code, open_waybill=w.id,
                              scanned_at=now, scanned_by=actor)
        n = HandoverParcel.select().where(HandoverParcel.handover == h.id).count()
    return ScanResult(OK, code, tr("✔ {c} into the {p} handover ({n})", "✔ {c} 已加入 {p} 交接（{n}）",
                                   c=code, p=w.wp_code, n=n), wp_code=w.wp_code, handover_id=h.id, scanned=n)


def _pool(now: dt.datetime, tz: str, wp_code: str | None = None):
    """(waybill id, code, courier) of the parcels a handover is expected for."""
    since = _start_of_today(now, tz)
    q = (Waybill.select(Waybill.id, Waybill.code, Waybill.wp_code)
         .where((Waybill.state == "printed")
                | ((Waybill.state == "shipped") & (Waybill.printed_at >= since))))
    if wp_code:
        q = q.where(Waybill.wp_code == wp_code)
    return q.order_by(Waybill.id).tuples()


def status(*, courier: str | None = None, now: dt.datetime | None = None, tz: str = DEFAULT_TZ) -> list[CourierStatus]:
    """Per courier (the handover's one, or every courier with parcels to hand over or an open
    handover): printed, scanned into the open handover, handed over in closed ones, the missing
    numbers, and the numbers to keep out (printed, an order blocked since: the scan refuses
    them, so they are not missing)."""
    now = now or utcnow()
    out: dict[str, CourierStatus] = {}
    pool = list(_pool(now, tz, courier))
    ids = [i for i, _c, _p in pool]
    where: dict[int, bool] = {}  # waybill id -> in an open handover
    packed: set[int] = set()
    blocked: set[int] = set()  # parcels an order of which is blocked: the scan refuses them
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for wid, closed in (HandoverParcel.select(HandoverParcel.waybill, Handover.closed_at)
                            .join(Handover).where(HandoverParcel.waybill.in_(chunk)).tuples()):
            where[wid] = closed is None
        packed.update(r[0] for r in PackRecord.select(PackRecord.waybill).where(PackRecord.waybill.in_(chunk)).tuples())
        blocked.update(o.wid for o in (Order.select(Order, WaybillOrder.waybill.alias("wid"))
                                       .join(WaybillOrder, on=(WaybillOrder.order == Order.id))
                                       .where(WaybillOrder.waybill.in_(chunk) & (Order.exception_flags != 0))
                                       .objects()) if blocked_reason(o))
    for wid, code, wp in pool:
        s = out.setdefault(wp, CourierStatus(wp))
        s.printed += 1
        s.packed += wid in packed
        if wid not in where:
            (s.kept_out if wid in blocked else s.missing).append(code)
        elif not where[wid]:
            s.handed += 1
    q = Handover.select().where(Handover.closed_at.is_null(True))
    if courier:
        q = q.where(Handover.wp_code == courier)
    for h in q:
        s = out.setdefault(h.wp_code, CourierStatus(h.wp_code))
        s.handover_id = h.id
        s.scanned = HandoverParcel.select().where(HandoverParcel.handover == h.id).count()
    if courier and courier not in out:
        out[courier] = CourierStatus(courier)
    return [out[k] for k in sorted(out)]


def handovers(*, only_open: bool = False, limit: int = 50) -> list[tuple[Handover, int]]:
    """The latest handovers (newest first) with their parcel counts."""
    q = Handover.select().order_by(Handover.id.desc()).limit(limit)
    if only_open:
        q = q.where(Handover.closed_at.is_null(True))
    return [(h, HandoverParcel.select().where(HandoverParcel.handover == h.id).count()) for h in q]


def list_rows(handover_id: int, tz: str = DEFAULT_TZ) -> list[list]:
    """The handover list's rows: one per (parcel, order), in scan order."""
    h = Handover.get_by_id(handover_id)
    when = f"{to_local(h.closed_at or utcnow(), tz):%Y-%m-%d %H:%M}"
    rows: list[list] = []
    parcels = list(HandoverParcel.select().where(HandoverParcel.handover == handover_id).order_by(HandoverParcel.id))
    sns: dict[int, list[str]] = {}
    ids = [p.waybill_id for p in parcels]
    for start in range(0, len(ids), 500):
        for wid, sn in (WaybillOrder.select(WaybillOrder.waybill, Order.order_sn).join(Order)
                        .where(WaybillOrder.waybill.in_(ids[start:start + 500])).order_by(Order.id).tuples()):
            sns.setdefault(wid, []).append(sn)
    for n, p in enumerate(parcels, 1):
        rows.append([h.wp_code, h.id, when, n, p.waybill_code, " ".join(sns.get(p.waybill_id, [])),
                     f"{to_local(p.scanned_at, tz):%Y-%m-%d %H:%M:%S}", p.scanned_by])
    return rows


def default_list_path(folder: Path, wp_code: str, now: dt.datetime, tz: str = DEFAULT_TZ, fmt: str = "xlsx") -> Path:
    safe = "".join(c for c in wp_code if c.isalnum()) or "courier"
    return folder / f"handover_{safe}_{to_local(now, tz):%Y%m%d-%H%M%S}.{fmt}"


def _write_list(path: Path, rows: list[list]) -> None:
    from dadan.core.spreadsheets.export import ExportError, make_export_folder, written_whole
    from dadan.core.spreadsheets.writers import RowWriter

    fmt = path.suffix.lower().lstrip(".")
    if fmt not in LIST_FORMATS:
        raise ExportError(tr("a handover list is csv or xlsx, not '{f}'", "交接单仅支持 csv 或 xlsx，不支持“{f}”", f=fmt))
    make_export_folder(path)
    with written_whole(path) as tmp:
        if fmt == "xlsx":
            with RowWriter("xlsx", tmp, LIST_HEADERS) as w:
                for r in rows:
                    w.row(r)
                w.save_xlsx()
        else:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                w = RowWriter("csv", fh, LIST_HEADERS)
                for r in rows:
                    w.row(r)


def close(wp_code: str, *, actor: str, folder: Path, out: Path | None = None, confirm: bool = False,
          now: dt.datetime | None = None, tz: str = DEFAULT_TZ) -> CloseReport:
    """Close the open handover of ``wp_code``: its list (交接单) is written to ``out`` (default: a
    new xlsx in ``folder``) inside the closing transaction (no scan slips in between; a file that
    cannot be written leaves the handover open), then, with ``confirm``, each parcel's orders are
    confirmed shipped with its number, one transaction per parcel (a refusal of one — blocked
    since, shipped on the platform — is reported and stops nothing: the parcels have left)."""
    if confirm:
        require(actor, "ship", what=f"close handover {wp_code}")
    now = now or utcnow()
    with write():
        h = open_handover(wp_code)
        if h is None:
            raise DadanError(tr("no open handover for {c}", "{c} 没有进行中的交接", c=wp_code))
        n = HandoverParcel.select().where(HandoverParcel.handover == h.id).count()
        if n == 0:
            raise DadanError(tr("the {c} handover is empty: scan its parcels first", "{c} 交接为空：请先扫描包裹",
                                c=wp_code))
        path = Path(out).expanduser() if out else default_list_path(folder, wp_code, now, tz)
        Handover.update(closed_at=now, closed_by=actor, list_path=str(path)).where(Handover.id == h.id).execute()
        HandoverParcel.update(open_waybill=None).where(HandoverParcel.handover == h.id).execute()
        _write_list(path, list_rows(h.id, tz))
        audit.record("handover-close", actor=actor, target=f"handover:{h.id}",
                     detail={"wp_code": wp_code, "count": n, "list": str(path), "confirm": confirm})
    report = CloseReport(h.id, wp_code, n, path)
    if confirm:
        _confirm(h.id, report, actor)
    return report


def _confirm(handover_id: int, report: CloseReport, actor: str) -> None:
    from dadan.core.waybills.parcels import orders_of
    from dadan.core.waybills.shipping import ship_or_skip

    for p in (HandoverParcel.select(HandoverParcel, Waybill).join(Waybill)
              .where(HandoverParcel.handover == handover_id).order_by(HandoverParcel.id)):
        w = p.waybill
        for o in orders_of(w.id):
            if o.state in ("shipped", "confirmed") and o.tracking_number == w.code:
                continue  # shipped with this number already (at the packing desk)
            ship_or_skip(report, o, w, actor=actor, shipped_already=o.order_status in (2, 3))
