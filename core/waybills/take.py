"""Taking numbers (取号): ``pdd.waybill.get`` for pending parcels, at most 10 a call, ahead of the
printer.

Crash and fault rules: a parcel's row, with its request id (``object_id``), is committed before
its request is sent; an answer that never came (timeout, dropped connection, kill -9) leaves the
row ``pending`` and the next attempt sends the same ``object_id`` and parcel id, which the
platform answers with the number it allocated the first time. A row gets a number once
(``pending`` -> ``live`` in one statement), so a parcel never holds two numbers.

:class:`NumberTaker` runs beside a print job's worker: it keeps the next ``take_ahead`` labels'
parcels numbered while the printer prints, so printing stays printer-bound.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from typing import Callable, Sequence

from dadan.core import audit
from dadan.core.config import SenderSettings
from dadan.core.db import connection, write
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.models import Order, OrderItem, PrintItem, Shop, Waybill, WaybillOrder, utcnow
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.rules import blocked_reason
from dadan.core.platform.waybill_api import waybill_get
from dadan.core.waybills import accounts
from dadan.core.waybills.split import contents, first_parcel

log = logging.getLogger("dadan.waybills")

PER_CALL = 10  # the platform's limit of parcels per pdd.waybill.get


def _recipient(o: Order) -> dict:
    """The receiver as the platform gave it: ciphertext for synced orders (the platform reads
    its own), plain text for imported ones. dadan decrypts nothing here."""
    return {"name": o.receiver_name_enc or o.receiver_name or o.receiver_name_mask,
            "mobile": o.receiver_phone_enc or o.receiver_phone or o.receiver_phone_mask, "phone": "",
            "address": {"province": o.province, "city": o.city, "district": o.town, "town": "",
                        "detail": o.receiver_address_enc or o.receiver_address or o.address_mask}}


def _dto(w: Waybill, orders: list[Order], template_url: str, user_id: str) -> dict:
    held = contents(w.id)  # a split order's parcel holds part of its lines
    if held is not None:
        items = [{"name": it.goods_name, "count": q} for it, q in held]
    else:
        items = [{"name": it.goods_name, "count": it.goods_count}
                 for it in OrderItem.select().where(OrderItem.order.in_([o.id for o in orders]))
                 .order_by(OrderItem.order, OrderItem.position)]
    return {"object_id": w.object_id,
            "order_info": {"order_channels_type": "PDD", "trade_order_list": [o.order_sn for o in orders]},
            "package_info": {"id": w.package_id, "items": items, "weight": 0, "volume": 0},
            "recipient": _recipient(orders[0]), "template_url": template_url, "user_id": user_id}


def _request(wp_code: str, sender: SenderSettings, address: dict, dtos: list[dict]) -> dict:
    return {"wp_code": wp_code, "need_encrypt": True,
            "sender": {"name": sender.name, "mobile": sender.phone, "phone": "",
                       "address": {"province": address.get("province", ""), "city": address.get("city", ""),
                                   "district": address.get("district", ""), "town": "",
                                   "detail": address.get("detail", "")}},
            "trade_order_info_dtos": dtos}


def _fail(ids: Sequence[int], message: str) -> dict[int, str]:
    with write():
        Waybill.update(last_error=message).where(Waybill.id.in_(list(ids)) & (Waybill.state == "pending")).execute()
    return {i: message for i in ids}


def take_numbers(waybill_ids: Sequence[int], *, client, sender: SenderSettings, actor: str = "") -> dict[int, str]:
    """Take numbers for these pending parcels (one shop, one courier, at most 10). Returns
    parcel id -> why it got no number (empty: all numbered). Parcels no longer pending are left
    alone."""
    from dadan.core.platform.pdd import PlatformError

    rows = list(Waybill.select().where(Waybill.id.in_(list(waybill_ids)) & (Waybill.state == "pending"))
                .order_by(Waybill.id))
    if not rows:
        return {}
    if len(rows) > PER_CALL or len({(w.shop_id, w.wp_code) for w in rows}) > 1:
        raise ValueError("take_numbers: at most 10 parcels of one shop and courier")
    shop_id, wp = rows[0].shop_id, rows[0].wp_code
    acc = accounts.account(shop_id, wp)
    if acc is None:
        return _fail([w.id for w in rows], tr("the shop has no {c} e-waybill account", "店铺没有{c}电子面单账号",
                                              c=accounts.courier_name(wp)))
    if not (sender.name.strip() and sender.phone.strip()):
        return _fail([w.id for w in rows], tr("set the sender's name and phone (Settings, [sender]) before taking "
                                              "numbers", "取号前请先设置寄件人姓名和电话（设置，[sender]）"))
    linked: dict[int, list[Order]] = defaultdict(list)
    for link in (WaybillOrder.select(WaybillOrder, Order).join(Order)
                 .where(WaybillOrder.waybill.in_([w.id for w in rows])).order_by(Order.id)):
        linked[link.waybill_id].append(link.order)
    rows = [w for w in rows if linked.get(w.id)]
    shop = Shop.get_by_id(shop_id)
    dtos = [_dto(w, linked[w.id], acc.template_url, shop.mall_id) for w in rows]
    with write():  # the request is on record before it leaves: a lost answer is asked for again
        Waybill.update(attempts=Waybill.attempts + 1, requested_at=utcnow()).where(
            Waybill.id.in_([w.id for w in rows])).execute()
    try:
        modules = waybill_get(client, _request(wp, sender, json.loads(acc.address or "{}"), dtos))
    except PlatformError as exc:
        if exc.retryable or len(rows) == 1:
            return _fail([w.id for w in rows], exc.message)
        errors: dict[int, str] = {}  # a refusal: ask for each alone, so one bad parcel stops only itself
        for w in rows:
            errors.update(take_numbers([w.id], client=client, sender=sender, actor=actor))
        return errors
    return record_numbers(rows, linked, modules, actor)


def record_numbers(rows: list[Waybill], linked: dict[int, list[Order]], modules: list[dict], actor: str) -> dict[int, str]:
    """The platform's answer (``modules``) for these pending parcels: each gets its number, its
    orders the number and courier, in one transaction. Returns parcel id -> why it got none."""
    by_object = {str(m.get("object_id") or ""): m for m in modules}
    errors: dict[int, str] = {}
    now = utcnow()
    book = CourierBook.from_database()
    taken = 0
    with write():
        for w in rows:
            m = by_object.get(w.object_id)
            code = str((m or {}).get("waybill_code") or "").strip()
            if not code:
                errors[w.id] = tr("the platform returned no number for this parcel", "平台没有为此包裹返回单号")
                Waybill.update(last_error=errors[w.id]).where(Waybill.id == w.id).execute()
                continue
            held = _held_elsewhere(code, w)
            if held:  # a number given twice (a platform that lost its own record): never printed twice
                errors[w.id] = held
                Waybill.update(last_error=held).where(Waybill.id == w.id).execute()
                audit.record("waybill-duplicate", actor=actor, target=f"waybill:{code}",
                             detail={"wp_code": w.wp_code, "object_id": w.object_id})
                continue
            print_data = m.get("print_data") or ""
            if not isinstance(print_data, str):
                print_data = json.dumps(print_data, ensure_ascii=False)
            n = Waybill.update(code=code, parent_code=str(m.get("parent_waybill_code") or ""), print_data=print_data,
                               state="live", taken_at=now, taken_by=actor, last_error="").where(
                (Waybill.id == w.id) & (Waybill.state == "pending")).execute()
            if not n:
                continue
            taken += 1
            lid = book.lookup_id(w.wp_code)
            for o in linked[w.id]:
                first = first_parcel(o.id)  # a split order's number is its first parcel's
                if first is None or first.id == w.id:
                    Order.update(tracking_number=code, logistics_id=lid, local_updated_at=now).where(
                        (Order.id == o.id) & Order.state.in_(("new", "printed"))).execute()
                audit.record("waybill-take", actor=actor, order_id=o.id, target=f"waybill:{code}",
                             detail={"wp_code": w.wp_code, "object_id": w.object_id, "attempts": w.attempts + 1})
                audit.order_event(o.id, "waybill", tr("number {n} taken ({c})", "已取号 {n}（{c}）", n=code,
                                                      c=accounts.courier_name(w.wp_code)))
        if taken:
            accounts.note_taken(rows[0].shop_id, rows[0].wp_code, taken)
    return errors


def _held_elsewhere(code: str, w: Waybill) -> str:
    """Why the number ``code`` the platform gave for parcel ``w`` cannot be its own ('' if it can):
    another parcel holds it, or another order ships with it."""
    other = Waybill.get_or_none((Waybill.code == code) & (Waybill.id != w.id))
    if other is not None:
        sns = [o.order_sn for o in Order.select(Order.order_sn).join(WaybillOrder, on=(WaybillOrder.order == Order.id))
               .where(WaybillOrder.waybill == other.id)]
    else:
        sns = [o.order_sn for o in Order.select(Order.order_sn).where(
            (Order.tracking_number == code) & (Order.tracking_number != "") & Order.id.not_in([o.id for o in _orders_of(w)]))]
    if not sns:
        return ""
    return tr("the platform gave number {n}, which order {sn} already holds: not used; ask the courier's branch, "
              "then print again", "平台给出的单号 {n} 已属于订单 {sn}：不使用；请联系快递网点后重新打印", n=code, sn=sns[0])


def _orders_of(w: Waybill) -> list[Order]:
    return list(Order.select(Order.id).join(WaybillOrder, on=(WaybillOrder.order == Order.id))
                .where(WaybillOrder.waybill == w.id))


class NumberTaker:
    """Keeps a print job's next labels numbered while the printer prints them (its own thread).

    ``wait_first()`` blocks until the first queued label of the job needs nothing more from the
    taker, and returns the reason if its number could not be taken."""

    def __init__(self, job_id: int, *, client_for: Callable[[int], object], sender: SenderSettings,
                 actor: str = "", ahead: int = 30, poll_seconds: float = 0.2):
        self.job_id = job_id
        self.client_for = client_for  # shop id -> its platform client (the caller owns and closes them)
        self.sender = sender
        self.actor = actor
        self.ahead = max(PER_CALL, ahead)
        self.poll_seconds = poll_seconds
        self.failed: dict[int, str] = {}
        self.calls = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "NumberTaker":
        self._thread = threading.Thread(target=self._main, name=f"take-{self.job_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(30)

    def nudge(self) -> None:
        """A label went out: the window moved on."""
        with self._cond:
            self._cond.notify_all()

    def _window(self, limit: int) -> list[tuple[PrintItem, Waybill | None, Order | None]]:
        items = list(PrintItem.select().where((PrintItem.job == self.job_id) & (PrintItem.state == "queued"))
                     .order_by(PrintItem.seq).limit(limit))
        wbs = {w.id: w for w in Waybill.select().where(Waybill.id.in_([i.waybill_id for i in items if i.waybill_id]))}
        orders = {o.id: o for o in Order.select().where(Order.id.in_([i.order_id for i in items if i.order_id]))}
        return [(it, wbs.get(it.waybill_id), orders.get(it.order_id)) for it in items]

    def _next_batch(self) -> tuple[int, list[int]] | None:
        """(shop id, up to 10 parcel ids) to take now: when fewer than ``ahead`` labels at the
        head of the queue are ready, in full calls of 10 where the job has that many left."""
        window = self._window(self.ahead + PER_CALL)
        ready = 0
        for _it, wb, o in window:
            if not self._settled(wb, o):
                break
            ready += 1
        todo = [wb for _it, wb, o in window if not self._settled(wb, o) and wb.id not in self.failed]
        if not todo or ready >= self.ahead:
            return None
        first = todo[0]
        batch = [w.id for w in todo if (w.shop_id, w.wp_code) == (first.shop_id, first.wp_code)]
        return first.shop_id, list(dict.fromkeys(batch))[:PER_CALL]

    @staticmethod
    def _settled(wb: Waybill | None, order: Order | None) -> bool:
        return wb is None or wb.state != "pending" or order is None or bool(blocked_reason(order))

    def _main(self) -> None:
        with connection():
            while not self._stop.is_set():
                nxt = self._next_batch()
                if nxt is None:
                    with self._cond:
                        self._cond.wait(self.poll_seconds)
                    continue
                errors = self._take(*nxt)
                with self._cond:
                    self.failed.update(errors)
                    self._cond.notify_all()

    def _take(self, shop_id: int, batch: list[int]) -> dict[int, str]:
        try:
            self.calls += 1
            return take_numbers(batch, client=self.client_for(shop_id), sender=self.sender, actor=self.actor)
        except DadanError as exc:
            return {i: exc.message for i in batch}
        except Exception as exc:  # noqa: BLE001 - the job pauses with the reason; the worker lives on
            log.exception("taking numbers")
            return {i: f"{type(exc).__name__}: {exc}" for i in batch}

    def wait_first(self, timeout: float = 120.0) -> tuple[int, str] | None:
        """(item id, reason) when the first queued label's number could not be taken; None when
        it needs nothing more (numbered, its own number, blocked: the claim skips it) or the job
        has no queued label."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            window = self._window(1)
            if not window:
                return None
            it, wb, order = window[0]
            if self._settled(wb, order):
                return None
            with self._cond:
                if wb.id in self.failed:
                    return it.id, self.failed[wb.id]
                if time.monotonic() >= deadline:
                    return it.id, tr("no number from the platform in {s:.0f} s", "平台 {s:.0f} 秒内未返回单号",
                                     s=timeout)
                self._cond.notify_all()
                self._cond.wait(self.poll_seconds)
