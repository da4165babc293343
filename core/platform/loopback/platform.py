"""The loopback platform's API logic: tokens, signatures and timestamps checked as the real
gateway does, the answers of the APIs dadan uses, and faults drawn per request (no HTTP here;
see :mod:`.server`)."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from typing import Callable

from dadan.core.platform.loopback import cloudprint
from dadan.core.platform.loopback.errors import ApiError
from dadan.core.platform.loopback.faults import AFTER_WORK, FaultPlan
from dadan.core.platform.loopback.goods_stock import GoodsStock
from dadan.core.platform.loopback.state_file import load_platform, save_platform
from dadan.core.platform.loopback.waybills import Waybills
from dadan.core.platform.loopback.world import COURIERS, Mall, OrderWorld, Token, china_time, decrypt, public
from dadan.core.platform.pdd import sign


class MockPlatform:
    """The platform's state and API logic (no HTTP here; see :class:`MockServer`)."""

    def __init__(self, *, client_id: str = "dadan-demo-client", client_secret: str = "dadan-demo-secret",
                 seed: int | None = 0, list_details: bool = True, token_lifetime: int = 86400):
        self.client_id = client_id
        self.client_secret = client_secret
        self.rng = random.Random(seed)
        self.list_details = list_details  # increment list carries full orders (like the real one)
        self.token_lifetime = token_lifetime
        self.offset = 0.0
        self.lock = threading.RLock()
        self.malls: dict[str, Mall] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.faults = FaultPlan()
        self.requests: Counter = Counter()
        self.after_numbers = None  # called after numbers were given, before the answer is sent (demo: save)
        self.faults_injected: Counter = Counter()
        self.on_request: Callable[[str, dict], None] | None = None  # hook: change orders between pages
        self.decrypt_limit: int | None = None
        self.sends: list[dict] = []
        self.world = OrderWorld(self.rng)
        self.waybills = Waybills(client_secret)
        self.stock = GoodsStock()

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    def _new_token(self, prefix: str) -> str:
        return prefix + hashlib.sha1(f"{self.rng.random()}{time.time()}".encode()).hexdigest()[:24]

    def add_mall(self, name: str = "demo-shop") -> Mall:
        with self.lock:
            mall_id = str(100000 + len(self.malls) + 1)
            mall = Mall(mall_id, name, self._new_token("at"), self._new_token("rt"))
            self.malls[mall_id] = mall
            self.tokens[mall.access_token] = Token(mall_id, int(time.time()) + self.token_lifetime)
            self.refresh_tokens[mall.refresh_token] = mall_id
            return mall

    def expire_token(self, token: str) -> None:
        with self.lock:
            if token in self.tokens:
                self.tokens[token].expired = True

    def revoke_refresh(self, mall: Mall) -> None:
        with self.lock:
            self.refresh_tokens.pop(mall.refresh_token, None)

    def generate_orders(self, mall: Mall, n: int, *, spread_hours: float = 72.0,
                        end: float | None = None) -> list[str]:
        """Add ``n`` orders paid over the last ``spread_hours`` (updated up to ``end``, default
        now minus ten minutes). A few come already in after-sale/refund/shipped states."""
        with self.lock:
            end = self.now() - 600 if end is None else end
            return self.world.generate(mall, n, spread_hours=spread_hours, end=end)

    def mutate(self, mall: Mall, kind: str | None = None, order_sn: str | None = None) -> tuple[str, str]:
        """Change one order (or add one) now; returns (order_sn, kind)."""
        with self.lock:
            return self.world.mutate(mall, kind, order_sn, now=self.now())

    def truth(self, mall: Mall) -> dict[str, dict]:
        """The platform's current orders (as served), for comparisons in tests."""
        with self.lock:
            return {sn: public(o) for sn, o in mall.orders.items()}

    def subscribe(self, mall: Mall, wp_code: str, *, quantity: int = 1000,
                  branches: list[dict] | None = None) -> list[dict]:
        """Subscribe ``mall`` to ``wp_code``'s e-waybills: by default one branch holding
        ``quantity`` numbers with two registered sender addresses; ``branches`` gives a list of
        ``{"branch_code", "branch_name", "quantity", "addresses": [{province, city, district,
        detail}]}`` instead. Returns the branches."""
        with self.lock:
            return self.waybills.subscribe(mall, wp_code, quantity=quantity, branches=branches)

    def subscribed(self, mall: Mall) -> list[str]:
        """The couriers (wp_code) ``mall`` subscribed to."""
        with self.lock:
            return sorted(self.waybills.subscriptions.get(mall.mall_id, {}))

    def waybill_state(self, mall: Mall) -> dict[str, dict]:
        """waybill_code -> {wp_code, branch_code, object_id, orders, package_id, state}."""
        with self.lock:
            return self.waybills.state(mall)

    def balance(self, mall: Mall, wp_code: str, branch_code: str | None = None) -> dict:
        """A branch's (the first one if None) quantity, allocated, cancel and recycled counts."""
        with self.lock:
            return self.waybills.balance(mall, wp_code, branch_code)

    def stock_quantity(self, mall: Mall, goods_id, sku_id) -> int | None:
        """The platform's stock of one SKU as pushed (None: never set)."""
        with self.lock:
            return self.stock.quantity(mall, goods_id, sku_id)

    def save(self, path) -> None:
        """The whole platform state as JSON, owner-only (see :mod:`.state_file`)."""
        with self.lock:
            save_platform(self, path)

    @classmethod
    def load(cls, path, **kw) -> "MockPlatform":
        """A platform with the state :meth:`save` wrote; ``kw`` as for the constructor."""
        return load_platform(cls, path, **kw)

    def handle(self, params: dict[str, str]) -> tuple[int, bytes, str | None]:
        """Process one request -> (http status, body, fault applied after processing)."""
        api = params.get("type", "")
        with self.lock:
            self.requests[api] += 1
            fault = self.faults.draw(api, self.rng)
        if fault:
            self.faults_injected[fault] += 1
        if fault == "http500":
            return 500, b"<html><body>502 Bad Gateway</body></html>", None
        if fault == "busy":
            return 200, _error(52001, "服务繁忙", "系统繁忙，请稍后重试"), None
        if fault == "ratelimit":
            return 200, _error(52101, "调用过于频繁", "当前接口调用次数超限，请稍后再试"), None
        if fault == "expire_token":
            self.expire_token(params.get("access_token", ""))
        hook = self.on_request
        if hook is not None:
            hook(api, params)
        try:
            with self.lock:
                self._check(api, params)
                result = self._dispatch(api, params)
            body = json.dumps(result, ensure_ascii=False).encode("utf-8")
        except ApiError as e:
            body = _error(e.code, e.msg, e.sub_msg, e.sub_code)
        else:
            if api == "pdd.waybill.get" and self.after_numbers is not None:
                self.after_numbers()  # (on disk before the answer leaves: a number is never given twice)
        return 200, body, fault if fault in AFTER_WORK else None

    def _check(self, api: str, p: dict[str, str]) -> None:
        for k in ("type", "client_id", "timestamp", "sign"):
            if not p.get(k):
                raise ApiError(10001, "缺少公共参数", f"missing parameter {k}")
        if p["client_id"] != self.client_id:
            raise ApiError(10016, "client_id 不存在", "client_id is unknown")
        if sign(p, self.client_secret) != p["sign"]:
            raise ApiError(20004, "签名错误", "sign is invalid")
        try:
            ts = int(p["timestamp"])
        except ValueError:
            raise ApiError(10001, "timestamp 非法", "timestamp is not a number") from None
        if abs(ts - time.time()) > 600:
            raise ApiError(10001, "timestamp 已过期", "timestamp must be within 10 minutes of platform time")
        if api in ("pdd.time.get", "pdd.pop.auth.token.refresh"):
            return
        tok = self.tokens.get(p.get("access_token", ""))
        if tok is None:
            raise ApiError(20032, "access_token 不存在", "access_token is invalid")
        if tok.expired or tok.expires_at < time.time():
            raise ApiError(10019, "access_token 已过期", "access_token expired, refresh it")

    def _mall(self, p: dict) -> Mall:
        return self.malls[self.tokens[p["access_token"]].mall_id]

    def _dispatch(self, api: str, p: dict[str, str]) -> dict:
        fn = {
            "pdd.time.get": self._api_time,
            "pdd.order.number.list.increment.get": self._api_increment,
            "pdd.order.information.get": self._api_info,
            "pdd.open.decrypt.batch": self._api_decrypt,
            "pdd.logistics.companies.get": self._api_companies,
            "pdd.logistics.online.send": self._api_send,
            "pdd.pop.auth.token.refresh": self._api_refresh,
            "pdd.waybill.search": lambda p: self.waybills.search(self._mall(p), p),
            "pdd.waybill.get": lambda p: self.waybills.get(self._mall(p), p),
            "pdd.waybill.cancel": lambda p: self.waybills.cancel(self._mall(p), p),
            "pdd.waybill.query.by.waybillcode": lambda p: self.waybills.query(self._mall(p), p),
            "pdd.goods.quantity.update": lambda p: self.stock.update(self._mall(p), p),
            "pdd.cloudprint.stdtemplates.get": cloudprint.stdtemplates,
            "pdd.cloudprint.cmdprint.render": lambda p: cloudprint.render(p, self.waybills.signature),
        }.get(api)
        if fn is None:
            raise ApiError(10000, "接口不存在", f"unknown api {api}")
        return fn(p)

    def _api_time(self, p) -> dict:
        return {"time_get_response": {"time": china_time(self.now())}}

    def _api_increment(self, p) -> dict:
        try:
            start, end = int(p["start_updated_at"]), int(p["end_updated_at"])
            page = int(p.get("page", "1"))
            size = int(p.get("page_size", "100"))
        except (KeyError, ValueError):
            raise ApiError(10001, "参数错误", "start_updated_at, end_updated_at and page are required") from None
        if end < start or end - start > 1800:
            raise ApiError(10001, "参数错误", "开始时间和结束时间间隔不能超过30分钟")
        if not 1 <= size <= 100 or page < 1:
            raise ApiError(10001, "参数错误", "page_size must be 1..100")
        if end > self.now() + 60:
            raise ApiError(10001, "参数错误", "end_updated_at is in the future")
        mall = self._mall(p)
        index, keys = mall.index()
        lo, hi = bisect_left(keys, start), bisect_right(keys, end)
        total = hi - lo
        chunk = index[lo + (page - 1) * size : min(hi, lo + page * size)]
        if self.list_details:
            lst = [public(mall.orders[sn]) for _, sn in chunk]
        else:
            lst = [{"order_sn": sn, "updated_at": mall.orders[sn]["updated_at"],
                    "order_status": mall.orders[sn]["order_status"],
                    "refund_status": mall.orders[sn]["refund_status"]} for _, sn in chunk]
        return {"order_sn_increment_get_response": {
            "total_count": total, "has_next": lo + page * size < hi, "order_sn_list": lst}}

    def _api_info(self, p) -> dict:
        o = self._mall(p).orders.get(p.get("order_sn", ""))
        if o is None:
            raise ApiError(10000, "订单不存在", "order not found")
        return {"order_info_get_response": {"order_info": public(o)}}

    def _api_decrypt(self, p) -> dict:
        try:
            items = json.loads(p.get("data_list", "[]"))
        except ValueError:
            raise ApiError(10001, "参数错误", "data_list is not JSON") from None
        if not isinstance(items, list) or not 1 <= len(items) <= 100:
            raise ApiError(10001, "参数错误", "data_list must hold 1 to 100 entries")
        if self.decrypt_limit is not None:
            if self.decrypt_limit < len(items):
                raise ApiError(70031, "解密次数超限", "今日解密次数已达上限")
            self.decrypt_limit -= len(items)
        mall = self._mall(p)
        out = []
        for it in items:
            tag, enc = str(it.get("data_tag", "")), str(it.get("encrypted_data", ""))
            plain = decrypt(enc) if tag in mall.orders else None
            out.append({"data_tag": tag, "encrypted_data": enc, "data_type": 1,
                        "decrypted_data": plain or "", "error_code": 0 if plain is not None else 1001,
                        "error_msg": "" if plain is not None else "解密失败"})
        return {"open_kms_decrypt_batch_response": {"data_decrypt_list": out}}

    def _api_companies(self, p) -> dict:
        return {"logistics_companies_get_response": {"logistics_companies": [
            {"id": i, "logistics_company": name, "code": code, "available": 1} for i, name, code in COURIERS]}}

    def _api_send(self, p) -> dict:
        mall = self._mall(p)
        o = mall.orders.get(p.get("order_sn", ""))
        if o is None:
            raise ApiError(10000, "订单不存在", "order not found")
        try:
            lid = int(p.get("logistics_id", ""))
        except ValueError:
            raise ApiError(21002, "参数错误", "logistics_id is required") from None
        tracking = p.get("tracking_number", "")
        if lid not in {c[0] for c in COURIERS}:
            raise ApiError(21002, "参数错误", "物流公司不存在")
        if not tracking:
            raise ApiError(21002, "参数错误", "运单号不能为空")
        waybill = self.waybills.check_send(mall, tracking)
        if waybill is not None and o["order_sn"] not in waybill["orders"]:
            raise ApiError(30004, "业务错误", f"运单号 {tracking} 不属于订单 {o['order_sn']}", "isv.waybill.order")
        if o["order_status"] in (2, 3):
            if o["tracking_number"] == tracking:
                raise ApiError(30001, "业务错误", "订单已发货，请勿重复发货", "isv.order.shipped")
            raise ApiError(30001, "业务错误", "订单已发货，运单号不一致", "isv.order.shipped")
        if o["order_status"] != 1 or o["refund_status"] in (3, 4):
            raise ApiError(30002, "业务错误", "订单已取消或退款中，不能发货", "isv.order.cancelled")
        if o["risk_control_status"] == 1:
            raise ApiError(30003, "业务错误", "订单风控审核中，暂不能发货", "isv.order.risk")
        now = self.now()
        self.world.ship(o, lid, tracking, now)
        self.world.touch(mall, o, now)
        self.sends.append({"order_sn": o["order_sn"], "tracking_number": tracking, "logistics_id": lid})
        if waybill is not None:
            waybill["state"] = "shipped"
        return {"logistics_online_send_response": {"is_success": True}}

    def _api_refresh(self, p) -> dict:
        rt = p.get("refresh_token", "")
        mall_id = self.refresh_tokens.get(rt)
        if mall_id is None:
            raise ApiError(20032, "refresh_token 无效", "refresh_token is invalid or expired")
        mall = self.malls[mall_id]
        old = self.tokens.get(mall.access_token)
        if old:
            old.expired = True
        # the previous refresh token stays valid (only the one before it is dropped), so an
        # answer lost on the way does not lock the shop out
        for stale in [k for k, v in self.refresh_tokens.items() if v == mall_id and k not in (rt, mall.refresh_token)]:
            del self.refresh_tokens[stale]
        mall.access_token, mall.refresh_token = self._new_token("at"), self._new_token("rt")
        exp = int(time.time()) + self.token_lifetime
        self.tokens[mall.access_token] = Token(mall_id, exp)
        self.refresh_tokens[mall.refresh_token] = mall_id
        return {"pop_auth_token_refresh_response": {
            "access_token": mall.access_token, "refresh_token": mall.refresh_token,
            "expires_at": exp, "expires_in": self.token_lifetime,
            "refresh_token_expires_at": exp + 30 * 86400, "owner_id": mall_id, "owner_name": mall.name}}


def _error(code: int, msg: str, sub_msg: str = "", sub_code: str = "") -> bytes:
    rid = hashlib.md5(f"{time.time()}{code}".encode()).hexdigest()[:20]
    return json.dumps({"error_response": {"error_code": code, "error_msg": msg, "sub_code": sub_code,
                                          "sub_msg": sub_msg, "request_id": rid}},
                      ensure_ascii=False).encode("utf-8")
