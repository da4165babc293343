"""Incremental order sync, per shop, by the platform's update time.

One pass (:func:`sync_shop`):

1. Ask the platform for its time; the pass ends ``safety_margin_minutes`` behind it (the
   platform's advice: recent updates may not be listed yet).
2. Walk windows of at most ``window_minutes`` (<= 30, the API's limit). The first window starts
   at the shop's cursor minus ``overlap_minutes`` (or ``backfill_days`` back on the first run);
   each next window starts ``overlap_minutes`` before the previous one ended.
3. Page through each window completely. Pages are read from the last to the first (after a
   first look at page 1 for the total): an order that changes while we page leaves the window
   and shifts the rest *forward*, into pages not yet read, so nothing is skipped; the order that
   left is picked up by a later window. If the total grew meanwhile, the window is read again.
4. Orders stored with a *newer* update time are skipped (an equal one is not: times have whole
   seconds, so two changes in one second look alike). List entries that carry the full
   order are used as they are; bare entries get ``pdd.order.information.get`` (a small pool of
   ``detail_concurrency`` threads).
5. The window's orders are upserted (:func:`dadan.core.orders.upsert.upsert_orders`: change detection and
   exception flags live there) and the shop's cursor moves to the window's end **in the same
   transaction**. A failure anywhere leaves the cursor where it was: nothing lost, and re-running
   duplicates nothing (upsert by shop + order_sn).

Only the holder of the shop's lease (``sync:<shop id>``) syncs, so several terminals on one
database never sync the same shop at once. Every pass is recorded as a :class:`SyncRun`.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from dadan.core import leases
from dadan.core.config import SyncSettings
from dadan.core.db import write
from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr
from dadan.core.models import Order, Shop, SyncRun, utcnow
from dadan.core.orders.upsert import upsert_orders
from dadan.core.platform.pdd import PddClient, PlatformError, ReauthorizeRequired

log = logging.getLogger("dadan.sync")

HOLDER = leases.make_holder()
PAGE_SIZE = 100
_CHINA_OFFSET = dt.timedelta(hours=8)  # platform times are China time (no DST since 1991)
_EPOCH = dt.datetime(1970, 1, 1)


class SyncBusy(DadanError):
    TITLE = Bilingual("Sync busy", "同步进行中")


class LeaseLost(DadanError):
    TITLE = Bilingual("Sync lease lost", "同步租约已丢失")


def sync_lease_name(shop_id: int) -> str:
    return f"sync:{shop_id}"


def china_to_utc(text) -> dt.datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` China time -> naive UTC (fast path; ``None`` for empty)."""
    if not text or not isinstance(text, str):
        return None
    try:
        t = dt.datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]),
                        int(text[14:16]), int(text[17:19]) if len(text) >= 19 else 0)
    except ValueError:
        return None
    return t - _CHINA_OFFSET


def to_fen(v) -> int:
    if v is None or v == "":
        return 0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(round(v * 100))
    from dadan.core.timeutil import yuan_to_fen

    try:
        return yuan_to_fen(v)
    except Exception:  # noqa: BLE001 - an unreadable amount is not worth failing a sync
        return 0


def _int(v, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _str(v) -> str:
    return "" if v is None else str(v)


def order_record(o: dict) -> dict:
    """One order as the API sends it -> a record for :func:`dadan.core.orders.upsert.upsert_orders`.
    Unknown fields are ignored; missing optional ones are left out (kept as stored)."""
    rec: dict = {"order_sn": _str(o.get("order_sn")).strip()}
    for f in ("order_status", "refund_status", "after_sales_status", "risk_control_status", "is_stock_out",
              "stock_out_handle_status", "trade_type"):
        if f in o and o[f] is not None:
            rec[f] = _int(o[f])
    for f in ("created_time", "confirm_time", "pay_time", "updated_at", "last_ship_time", "shipping_time"):
        if f in o:
            rec[f] = china_to_utc(o[f])
    for api_f, f in (("pay_amount", "pay_amount_fen"), ("goods_amount", "goods_amount_fen"),
                     ("discount_amount", "discount_amount_fen"), ("postage", "postage_fen")):
        if api_f in o:
            rec[f] = to_fen(o[api_f])
    for f in ("province", "city", "town", "buyer_memo", "remark", "receiver_name_mask", "receiver_phone_mask",
              "address_mask"):
        if f in o:
            rec[f] = _str(o[f])
    if "receiver_name" in o or "receiver_phone" in o or "receiver_address" in o:
        rec["receiver_name_enc"] = _str(o.get("receiver_name"))
        rec["receiver_phone_enc"] = _str(o.get("receiver_phone") or o.get("contact_mobile"))
        rec["receiver_address_enc"] = _str(o.get("receiver_address") or o.get("address"))
    if o.get("open_address_id"):
        rec["open_address_id"] = _str(o["open_address_id"])
    if "remark_tag" in o:
        tag = _int(o["remark_tag"], 0)
        rec["remark_tag"] = tag if 1 <= tag <= 5 else None
    if o.get("tracking_number"):
        rec["tracking_number"] = _str(o["tracking_number"])
    if _int(o.get("logistics_id")):
        rec["logistics_id"] = _int(o["logistics_id"])
    items = o.get("item_list")
    if isinstance(items, list):
        rec["items"] = [{
            "goods_id": _str(it.get("goods_id")), "goods_name": _str(it.get("goods_name")),
            "goods_spec": _str(it.get("goods_spec")), "goods_count": _int(it.get("goods_count"), 1),
            "sku_id": _str(it.get("sku_id")), "outer_id": _str(it.get("outer_id")),
            "outer_goods_id": _str(it.get("outer_goods_id")), "goods_price_fen": to_fen(it.get("goods_price")),
            "goods_img": _str(it.get("goods_img")),
        } for it in items if isinstance(it, dict)]
    return rec


def _is_full(entry: dict) -> bool:
    return isinstance(entry.get("item_list"), list) and "order_status" in entry


@dataclass
class SyncReport:
    shop: str
    shop_id: int
    ok: bool = False
    windows: int = 0
    orders_seen: int = 0
    orders_new: int = 0
    orders_changed: int = 0
    flagged: int = 0
    details_fetched: int = 0
    api_calls: int = 0
    error: str = ""
    reauthorize: bool = False
    skipped: bool = False  # another terminal holds the lease
    no_credentials: bool = False  # the shop has no platform credentials (e.g. made for imports)
    run_id: int | None = None
    started_at: dt.datetime = field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    cursor: dt.datetime | None = None

    def summary(self) -> str:
        if self.skipped or self.no_credentials:
            return tr("{s}: skipped ({e})", "{s}：跳过（{e}）", s=self.shop, e=self.error)
        secs = max(0.0, ((self.finished_at or utcnow()) - self.started_at).total_seconds())
        base = tr("{s}: {w} windows, {n} orders seen, {new} new, {ch} changed, {fl} flagged in {t:.1f}s",
                  "{s}：{w} 个时间窗，{n} 单，新增 {new}，变更 {ch}，新异常 {fl}，用时 {t:.1f} 秒",
                  s=self.shop, w=self.windows, n=self.orders_seen, new=self.orders_new, ch=self.orders_changed,
                  fl=self.flagged, t=secs)
        if not self.ok:
            base += tr(" — FAILED: {e}", " —— 失败：{e}", e=self.error)
        return base


def _epoch(t: dt.datetime) -> int:
    return int((t - _EPOCH).total_seconds())


def _from_epoch(s: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=s)


def plan_windows(cursor: int | None, target_end: int, s: SyncSettings) -> Iterable[tuple[int, int]]:
    """The windows (start, end) in Unix seconds that a pass walks, given the cursor."""
    window = max(60, min(30, s.window_minutes) * 60)
    overlap = min(max(0, s.overlap_minutes) * 60, window // 2)
    pos = cursor
    if pos is None:
        start = target_end - max(s.backfill_days * 86400, window)
    else:
        start = pos - overlap
    while True:
        if pos is not None and pos >= target_end:
            return
        end = min(start + window, target_end)
        yield start, end
        pos = end
        start = end - overlap


def fetch_window(client: PddClient, start: int, end: int, *, page_size: int = PAGE_SIZE,
                 max_rereads: int = 3) -> dict[str, dict]:
    """Every order listed in [start, end], by order_sn (see the module doc for the order of
    pages)."""
    entries: dict[str, dict] = {}

    def add(resp: dict) -> list:
        lst = resp.get("order_sn_list") or []
        for e in lst:
            if isinstance(e, dict) and e.get("order_sn"):
                entries[str(e["order_sn"])] = e
            elif isinstance(e, str):
                entries[e] = {"order_sn": e}
        return lst

    for _ in range(max_rereads):
        first = client.increment_orders(start, end, 1, page_size)
        add(first)
        total = first.get("total_count")
        if total is None:  # no total: page forward while has_next says so
            page = 1
            while first.get("has_next") and page < 10_000:
                page += 1
                first = client.increment_orders(start, end, page, page_size)
                if not add(first):
                    break
            return entries
        total = _int(total)
        pages = -(-total // page_size)
        if pages <= 1 and not first.get("has_next"):
            return entries
        for page in range(max(pages, 2), 1, -1):
            add(client.increment_orders(start, end, page, page_size))
        again = client.increment_orders(start, end, 1, page_size)
        add(again)
        if _int(again.get("total_count"), total) <= total:
            return entries
        log.info("window %s-%s grew while paging (%s -> %s); reading it again", start, end, total,
                 again.get("total_count"))
    return entries


def _stored_updates(shop_id: int, sns: list[str]) -> dict[str, dt.datetime | None]:
    out: dict[str, dt.datetime | None] = {}
    for i in range(0, len(sns), 500):
        q = Order.select(Order.order_sn, Order.updated_at).where(
            (Order.shop == shop_id) & (Order.order_sn.in_(sns[i : i + 500]))).tuples()
        out.update(dict(q))
    return out


def _fetch_details(client: PddClient, sns: list[str], concurrency: int) -> list[dict]:
    if not sns:
        return []
    if concurrency <= 1 or len(sns) == 1:
        return [client.order_info(sn) for sn in sns]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(sns)), thread_name_prefix="dadan-detail") as ex:
        return list(ex.map(client.order_info, sns))


def sync_window(shop_id: int, client: PddClient, start: int, end: int, settings: SyncSettings,
                report: SyncReport, *, holder: str = HOLDER, lease_ttl: float = 300) -> None:
    entries = fetch_window(client, start, end)
    stored = _stored_updates(shop_id, list(entries))
    full: list[dict] = []
    bare: list[str] = []
    for sn, e in entries.items():
        upd = china_to_utc(e.get("updated_at"))
        have = stored.get(sn)
        if have is not None and upd is not None and have > upd:
            continue  # we already hold a newer version (times have whole seconds: equal may differ)
        if _is_full(e):
            full.append(e)
        else:
            bare.append(sn)
    details = _fetch_details(client, bare, settings.detail_concurrency)
    records = [order_record(o) for o in full + [d for d in details if d]]
    records = [r for r in records if r["order_sn"]]
    with write():
        if not leases.acquire(sync_lease_name(shop_id), holder, dt.timedelta(seconds=lease_ttl)):
            raise LeaseLost(tr("another terminal took over this shop's sync", "另一终端接管了该店铺的同步"))
        res = upsert_orders(shop_id, records, source="api") if records else None
        Shop.update(sync_cursor=_from_epoch(end)).where(Shop.id == shop_id).execute()
    report.windows += 1
    report.orders_seen += len(entries)
    report.details_fetched += len(bare)
    if res is not None:
        report.orders_new += res.new
        report.orders_changed += res.changed
        report.flagged += res.flagged
    report.cursor = _from_epoch(end)


def sync_shop(shop: Shop, client: PddClient, settings: SyncSettings, *, holder: str = HOLDER,
              lease_ttl: float | None = None,
              progress: Callable[[SyncReport], None] | None = None) -> SyncReport:
    """One sync pass for ``shop``. Never raises for platform/network/auth failures: the report
    says what happened (and the :class:`SyncRun` row records it)."""
    ttl = lease_ttl if lease_ttl is not None else float(settings.lease_seconds)
    report = SyncReport(shop=shop.name, shop_id=shop.id)
    lease = sync_lease_name(shop.id)
    if not leases.acquire(lease, holder, dt.timedelta(seconds=ttl)):
        report.skipped = True
        report.error = tr("another terminal is syncing this shop ({h})", "另一终端正在同步该店铺（{h}）",
                          h=leases.current_holder(lease) or "?")
        report.finished_at = utcnow()
        return report
    calls0 = client.calls
    with write():
        run = SyncRun.create(shop=shop.id, started_at=report.started_at, holder=holder)
    report.run_id = run.id
    try:
        shop = Shop.get_by_id(shop.id)  # the cursor as committed now
        now = client.platform_time()
        target_end = now - settings.safety_margin_minutes * 60
        cursor = _epoch(shop.sync_cursor) if shop.sync_cursor else None
        for start, end in plan_windows(cursor, target_end, settings):
            sync_window(shop.id, client, start, end, settings, report, holder=holder, lease_ttl=ttl)
            if progress is not None:
                progress(report)
        report.ok = True
        if shop.auth_state != "ok":
            with write():
                Shop.update(auth_state="ok").where(Shop.id == shop.id).execute()
    except ReauthorizeRequired as exc:
        report.error, report.reauthorize = exc.message, True
        with write():
            Shop.update(auth_state="reauthorize").where(Shop.id == shop.id).execute()
    except DadanError as exc:  # PlatformError, LeaseLost, DatabaseError...
        report.error = exc.message
        if isinstance(exc, PlatformError):
            log.warning("sync %s failed: %r", shop.name, exc)
    except Exception as exc:  # noqa: BLE001 - recorded for the UI, then re-raised (a bug)
        report.error = tr("internal error: {e}", "内部错误：{e}", e=type(exc).__name__)
        _finish(report, run.id, client.calls - calls0)
        leases.release(lease, holder)
        raise
    _finish(report, run.id, client.calls - calls0)
    leases.release(lease, holder)
    return report


def _finish(report: SyncReport, run_id: int, calls: int) -> None:
    report.finished_at = utcnow()
    report.api_calls = calls
    with write():
        SyncRun.update(finished_at=report.finished_at, ok=report.ok, windows=report.windows,
                       orders_seen=report.orders_seen, orders_new=report.orders_new,
                       orders_changed=report.orders_changed, error=report.error).where(
            SyncRun.id == run_id).execute()
        Shop.update(last_sync_at=report.finished_at, last_sync_ok=report.ok,
                    last_sync_error=report.error).where(Shop.id == report.shop_id).execute()


def sync_shops(factory: Callable[[Shop], PddClient], settings: SyncSettings, *,
               shop_name: str | None = None, holder: str = HOLDER) -> list[SyncReport]:
    """One pass over every shop (or one named shop): what ``dadan sync`` runs. A shop without
    credentials gets a report saying so (``no_credentials``) and is not synced."""
    from dadan.core.platform.shops import ShopNotConfigured, list_shops, resolve_shop

    shops = [resolve_shop(shop_name)] if shop_name else list_shops()
    reports = []
    for shop in shops:
        try:
            client = factory(shop)
        except ShopNotConfigured as exc:
            reports.append(SyncReport(shop=shop.name, shop_id=shop.id, error=exc.message, no_credentials=True,
                                      finished_at=utcnow()))
            continue
        with client:
            reports.append(sync_shop(shop, client, settings, holder=holder))
    return reports


def last_runs(shop_id: int | None = None, limit: int = 20) -> list[SyncRun]:
    q = SyncRun.select().order_by(SyncRun.id.desc()).limit(limit)
    if shop_id is not None:
        q = q.where(SyncRun.shop == shop_id)
    return list(q)

