"""A loopback Pinduoduo platform: the same protocol as the real gateway, for the demo and tests.

It verifies signatures, timestamps and tokens exactly as :mod:`core.platform.pdd` produces
them, serves the APIs dadan uses with realistic generated orders, changes orders over time
(refunds, after-sales, cancellations, risk reviews, address changes, shipping elsewhere, new
orders), and can inject faults: timeouts, HTTP 5xx, busy and rate-limit codes, expired tokens,
truncated JSON, dropped connections and slow answers.

    platform = MockPlatform(seed=1)
    mall = platform.add_mall("demo-shop")            # -> Mall with access/refresh tokens
    platform.generate_orders(mall, 500, spread_hours=72)
    with MockServer(platform) as server:             # 127.0.0.1, a free port
        server.url                                   # http://127.0.0.1:PORT/api/router

Platform time is real time plus ``platform.offset`` seconds (:meth:`MockPlatform.advance`),
so tests can move the clock without sleeping. Only loopback addresses are ever bound.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import threading
import time
import urllib.parse
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from dadan.core.platform.pdd import sign

CHINA = dt.timezone(dt.timedelta(hours=8))

COURIERS = [
    (1, "申通快递", "STO"), (3, "百世快递", "HT"), (44, "顺丰速运", "SF"), (85, "圆通快递", "YTO"),
    (115, "中通快递", "ZTO"), (118, "邮政EMS", "EMS"), (120, "京东快递", "JD"), (121, "韵达快递", "YUNDA"),
    (131, "德邦快递", "DB"), (132, "邮政快递包裹", "YZXB"),
]

REGIONS = [
    ("浙江省", "杭州市", ["西湖区", "余杭区", "萧山区", "拱墅区"]),
    ("浙江省", "宁波市", ["鄞州区", "海曙区"]),
    ("江苏省", "南京市", ["玄武区", "江宁区"]),
    ("江苏省", "苏州市", ["姑苏区", "吴中区", "昆山市"]),
    ("广东省", "广州市", ["天河区", "白云区", "番禺区"]),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]),
    ("上海市", "上海市", ["浦东新区", "闵行区", "徐汇区"]),
    ("北京市", "北京市", ["朝阳区", "海淀区", "丰台区"]),
    ("四川省", "成都市", ["武侯区", "锦江区", "双流区"]),
    ("湖北省", "武汉市", ["洪山区", "江汉区"]),
    ("山东省", "青岛市", ["市南区", "黄岛区"]),
    ("河南省", "郑州市", ["金水区", "中原区"]),
    ("福建省", "厦门市", ["思明区", "湖里区"]),
    ("新疆维吾尔自治区", "乌鲁木齐市", ["天山区"]),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "桂英", "建华"]
STREETS = ["文一西路", "人民路", "解放路", "中山路", "建设大道", "学院路", "长江路", "和平街"]
GOODS = [
    ("A12", "纯棉短袖T恤 男女同款", ["白色", "黑色", "灰色"], ["M", "L", "XL", "XXL"], 29.9),
    ("A15", "冰丝防晒衣 UPF50+", ["浅蓝", "粉色", "白色"], ["均码"], 39.9),
    ("B07", "不锈钢保温杯 500ml", ["银色", "黑色", "樱花粉"], ["500ml"], 45.0),
    ("B21", "硅胶折叠水杯", ["绿色", "蓝色"], ["350ml"], 12.8),
    ("C03", "加厚抽纸 10包装", ["原木"], ["3层100抽"], 19.9),
    ("D44", "手机支架 桌面懒人", ["白色", "黑色"], ["标准款", "加长款"], 9.9),
    ("E08", "儿童卡通雨伞", ["恐龙", "独角兽", "小熊"], ["50cm"], 25.5),
    ("F16", "厨房沥水篮", ["灰色", "米白"], ["大号", "小号"], 16.9),
    ("G02", "USB充电台灯", ["白色"], ["触控款", "按键款"], 35.0),
    ("H30", "运动速干袜 5双装", ["黑色", "白色", "混色"], ["38-42", "43-46"], 14.9),
]
MEMOS = ["", "", "", "", "请尽快发货", "不要放快递柜", "送人的，别放发票", "周末不在家，工作日送"]


@dataclass
class Token:
    mall_id: str
    expires_at: int
    expired: bool = False


@dataclass
class Mall:
    mall_id: str
    name: str
    access_token: str
    refresh_token: str
    orders: dict[str, dict] = field(default_factory=dict)
    _index: list[tuple[int, str]] | None = None
    _keys: list[int] | None = None

    def touch(self) -> None:
        self._index = None

    def index(self) -> tuple[list[tuple[int, str]], list[int]]:
        if self._index is None:
            self._index = sorted((o["_upd"], sn) for sn, o in self.orders.items())
            self._keys = [k for k, _ in self._index]
        return self._index, self._keys  # type: ignore[return-value]


FAULT_KINDS = ("timeout", "http500", "busy", "ratelimit", "expire_token", "truncated", "reset", "slow")


@dataclass
class FaultPlan:
    """Which faults to inject. ``queue`` faults are used first, one per request (optionally only
    for one API: ``("busy", "pdd.logistics.online.send")``); then each request fails with
    probability ``rate``, the kind drawn from ``kinds``."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    queue: deque = field(default_factory=deque)
    timeout_sleep: float = 0.4  # longer than the client's timeout in tests
    slow_sleep: float = 0.05
    apis: tuple[str, ...] = ()  # restrict random faults to these APIs (empty: all)


def _china(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def encrypt(plain: str, kind: str = "text") -> str:
    """The mock's reversible stand-in for the platform's ciphertext (same outer shape)."""
    b = base64.b64encode(plain.encode("utf-8")).decode("ascii")
    return f"${b}$1$$" if kind == "phone" else f"~{b}~1~~"


def decrypt(cipher: str) -> str | None:
    if len(cipher) > 4 and cipher[0] in "~$" and cipher.endswith(cipher[0] + "1" + cipher[0] * 2):
        try:
            return base64.b64decode(cipher[1:-4].encode("ascii")).decode("utf-8")
        except ValueError:
            return None
    return None


class ApiError(Exception):
    def __init__(self, code: int, msg: str, sub_msg: str = "", sub_code: str = ""):
        super().__init__(msg)
        self.code, self.msg, self.sub_msg, self.sub_code = code, msg, sub_msg, sub_code


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
        self.faults_injected: Counter = Counter()
        self.on_request: Callable[[str, dict], None] | None = None  # hook: change orders between pages
        self.decrypt_limit: int | None = None
        self.sends: list[dict] = []
        self._sn_counter = 0

    # -- clock
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    # -- shops and tokens
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

    # -- orders
    def _order_sn(self, created: float) -> str:
        self._sn_counter += 1
        day = dt.datetime.fromtimestamp(created, CHINA).strftime("%y%m%d")
        return f"{day}-{self.rng.randrange(10**14, 10**15 - 1):015d}"

    def _make_order(self, created: float, updated: float) -> dict:
        r = self.rng
        province, city, towns = r.choice(REGIONS)
        town = r.choice(towns)
        name = r.choice(SURNAMES) + r.choice(GIVEN)
        phone = f"1{r.choice('3578')}{r.randrange(10**8, 10**9):09d}"
        address = f"{province}{city}{town}{r.choice(STREETS)}{r.randint(1, 999)}号{r.randint(1, 30)}幢{r.randint(101, 2808)}室"
        items = []
        goods_total = 0.0
        for _ in range(1 if r.random() < 0.8 else r.randint(2, 3)):
            code, gname, colours, sizes, price = r.choice(GOODS)
            colour, size = r.choice(colours), r.choice(sizes)
            count = 1 if r.random() < 0.85 else r.randint(2, 4)
            goods_total += price * count
            items.append({
                "goods_id": 400000000 + GOODS.index((code, gname, colours, sizes, price)) * 1000,
                "goods_name": gname, "goods_spec": f"{colour},{size}", "goods_count": count,
                "sku_id": 1_000_000_000 + int(hashlib.md5(f"{code}{colour}{size}".encode()).hexdigest()[:7], 16),
                "outer_id": f"{code}-{colour}-{size}", "outer_goods_id": code,
                "goods_price": price, "goods_img": f"https://img.example/{code}.jpg",
            })
        postage = 0.0 if goods_total >= 19 else 3.0
        discount = round(r.choice([0, 0, 0, 1, 2, 3.5]), 2)
        pay = round(goods_total + postage - discount, 2)
        ship_by = created + 48 * 3600
        return {
            "order_sn": self._order_sn(created), "order_status": 1, "refund_status": 1,
            "after_sales_status": 0, "risk_control_status": 0, "is_stock_out": 0,
            "stock_out_handle_status": -1, "trade_type": 0, "is_lucky_flag": 1,
            "created_time": _china(created), "confirm_time": _china(created + 5),
            "pay_time": _china(created + 3), "updated_at": _china(updated), "_upd": int(updated),
            "last_ship_time": _china(ship_by), "shipping_time": "",
            "pay_amount": pay, "goods_amount": round(goods_total, 2), "discount_amount": discount,
            "postage": postage, "province": province, "city": city, "town": town,
            "receiver_name": encrypt(name), "receiver_phone": encrypt(phone, "phone"),
            "receiver_address": encrypt(address), "address": encrypt(address),
            "receiver_name_mask": name[0] + "*" * (len(name) - 1),
            "receiver_phone_mask": phone[:3] + "****" + phone[-4:],
            "address_mask": f"{province}{city}{town}****",
            "buyer_memo": r.choice(MEMOS), "remark": "", "remark_tag": None,
            "tracking_number": "", "logistics_id": 0, "item_list": items,
        }

    def generate_orders(self, mall: Mall, n: int, *, spread_hours: float = 72.0,
                        end: float | None = None) -> list[str]:
        """Add ``n`` orders paid over the last ``spread_hours`` (updated up to ``end``, default
        now minus ten minutes). A few come already in after-sale/refund/shipped states."""
        with self.lock:
            end = self.now() - 600 if end is None else end
            sns = []
            for _ in range(n):
                created = end - self.rng.uniform(0, spread_hours * 3600)
                updated = min(end, created + self.rng.uniform(5, 1800))
                o = self._make_order(created, updated)
                roll = self.rng.random()
                if roll < 0.04:
                    o.update(refund_status=3, after_sales_status=5)
                elif roll < 0.10:
                    self._ship(o, self.rng.choice(COURIERS)[0], self._tracking(), o["_upd"])
                while o["order_sn"] in mall.orders:
                    o["order_sn"] = self._order_sn(created)
                mall.orders[o["order_sn"]] = o
                sns.append(o["order_sn"])
            mall.touch()
            return sns

    def _tracking(self) -> str:
        return f"YT{self.rng.randrange(10**12, 10**13)}"

    def _ship(self, o: dict, logistics_id: int, tracking: str, at: float) -> None:
        o.update(order_status=2, tracking_number=tracking, logistics_id=logistics_id,
                 shipping_time=_china(at))

    def _touch_order(self, mall: Mall, o: dict, at: float | None = None) -> None:
        at = self.now() if at is None else at
        o["_upd"] = int(at)
        o["updated_at"] = _china(at)
        mall.touch()

    MUTATIONS = ("refund", "after_sale", "cancel", "risk", "address", "shipped_elsewhere",
                 "remark", "stock_out", "new")

    def mutate(self, mall: Mall, kind: str | None = None, order_sn: str | None = None) -> tuple[str, str]:
        """Change one order (or add one) now; returns (order_sn, kind)."""
        with self.lock:
            kind = kind or self.rng.choice(self.MUTATIONS)
            now = self.now()
            if kind == "new":
                o = self._make_order(now - self.rng.uniform(0, 60), now)
                mall.orders[o["order_sn"]] = o
                self._touch_order(mall, o, now)
                return o["order_sn"], kind
            if order_sn is None:
                candidates = [sn for sn, o in mall.orders.items() if o["order_status"] == 1]
                if not candidates:
                    return self.mutate(mall, "new")
                order_sn = self.rng.choice(candidates)
            o = mall.orders[order_sn]
            if kind == "refund":
                o.update(refund_status=3, after_sales_status=5)
            elif kind == "after_sale":
                o.update(refund_status=2, after_sales_status=1)
            elif kind == "cancel":
                o.update(order_status=0, refund_status=4, after_sales_status=6)
            elif kind == "risk":
                o["risk_control_status"] = 1
            elif kind == "address":
                plain = (decrypt(o["receiver_address"]) or "") + "（改）"
                o.update(receiver_address=encrypt(plain), address=encrypt(plain))
            elif kind == "shipped_elsewhere":
                self._ship(o, self.rng.choice(COURIERS)[0], self._tracking(), now)
            elif kind == "remark":
                o["remark"] = self.rng.choice(["加急", "送小礼品", "核对尺码", "已联系买家"])
            elif kind == "stock_out":
                o.update(is_stock_out=1, stock_out_handle_status=0)
            self._touch_order(mall, o, now)
            return order_sn, kind

    def truth(self, mall: Mall) -> dict[str, dict]:
        """The platform's current orders (as served), for comparisons in tests."""
        with self.lock:
            return {sn: self._public(o) for sn, o in mall.orders.items()}

    @staticmethod
    def _public(o: dict) -> dict:
        return {k: v for k, v in o.items() if not k.startswith("_")}

    # -- request handling
    def handle(self, params: dict[str, str]) -> tuple[int, bytes, str | None]:
        """Process one request -> (http status, body, fault applied after processing)."""
        api = params.get("type", "")
        with self.lock:
            self.requests[api] += 1
            fault = self._draw_fault(api)
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
        # these faults hit after the platform did the work (the answer is lost on the way)
        return 200, body, fault if fault in ("timeout", "truncated", "reset", "slow") else None

    def _draw_fault(self, api: str) -> str | None:
        f = self.faults
        if f.queue:
            head = f.queue[0]
            kind, only = (head, None) if isinstance(head, str) else head
            if only is None or only == api:
                f.queue.popleft()
                return kind
        if f.rate and (not f.apis or api in f.apis) and self.rng.random() < f.rate:
            return self.rng.choice(f.kinds)
        return None

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
        }.get(api)
        if fn is None:
            raise ApiError(10000, "接口不存在", f"unknown api {api}")
        return fn(p)

    def _api_time(self, p) -> dict:
        return {"time_get_response": {"time": _china(self.now())}}

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
            lst = [self._public(mall.orders[sn]) for _, sn in chunk]
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
        return {"order_info_get_response": {"order_info": self._public(o)}}

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
        if o["order_status"] in (2, 3):
            if o["tracking_number"] == tracking:
                raise ApiError(30001, "业务错误", "订单已发货，请勿重复发货", "isv.order.shipped")
            raise ApiError(30001, "业务错误", "订单已发货，运单号不一致", "isv.order.shipped")
        if o["order_status"] != 1 or o["refund_status"] in (3, 4):
            raise ApiError(30002, "业务错误", "订单已取消或退款中，不能发货", "isv.order.cancelled")
        if o["risk_control_status"] == 1:
            raise ApiError(30003, "业务错误", "订单风控审核中，暂不能发货", "isv.order.risk")
        now = self.now()
        self._ship(o, lid, tracking, now)
        self._touch_order(mall, o, now)
        self.sends.append({"order_sn": o["order_sn"], "tracking_number": tracking, "logistics_id": lid})
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


# ------------------------------------------------------------------ HTTP
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    platform: MockPlatform  # set on the subclass

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def _params(self) -> dict[str, str]:
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        query = urllib.parse.urlsplit(self.path).query
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        ctype = (self.headers.get("content-type") or "").lower()
        if "json" in ctype:
            try:
                data = json.loads(raw or b"{}")
            except ValueError:
                data = {}
            for k, v in data.items():
                params[k] = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        else:
            params.update({k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode("utf-8")).items()})
        return params

    def do_POST(self):  # noqa: N802
        status, body, fault = self.platform.handle(self._params())
        if fault == "timeout":
            time.sleep(self.platform.faults.timeout_sleep)
            self.close_connection = True
            return
        if fault == "reset":
            self.close_connection = True
            return
        if fault == "slow":
            time.sleep(self.platform.faults.slow_sleep)
        if fault == "truncated":
            body = body[: max(1, len(body) // 2)]
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json;charset=UTF-8" if status == 200 else "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):  # noqa: N802
        self.do_POST()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class MockServer:
    """Serves a :class:`MockPlatform` on ``127.0.0.1`` (port 0 = a free one) in a thread."""

    def __init__(self, platform: MockPlatform, port: int = 0):
        self.platform = platform
        handler = type("Handler", (_Handler,), {"platform": platform})
        self._server = _Server(("127.0.0.1", port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/router"

    def start(self) -> "MockServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="dadan-mock-platform", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=2)

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ------------------------------------------------------------------ demo
DEMO_SHOP = "拼多多演示店"


class DemoPlatform:
    """A running loopback platform for ``dadan demo --platform``: a server, a demo shop in the
    database pointing at it, and a thread that keeps changing orders (new orders, refunds...)."""

    def __init__(self, platform: MockPlatform, server: MockServer, mall: Mall, shop_name: str,
                 change_every: float):
        self.platform, self.server, self.mall, self.shop_name = platform, server, mall, shop_name
        self.credentials = None  # CredentialStore holding the demo shop's entry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._changer, args=(change_every,), daemon=True,
                                        name="dadan-mock-changes")
        self._thread.start()

    def _changer(self, every: float) -> None:
        while not self._stop.wait(every):
            for _ in range(self.platform.rng.randint(1, 4)):
                kind = self.platform.rng.choice(("new", "new", "new", "remark", "refund", "after_sale",
                                                 "address", "risk", "cancel", "shipped_elsewhere"))
                self.platform.mutate(self.mall, kind)

    def stop(self) -> None:
        """Stop changing orders and serving; the demo shop's credentials are removed (its
        gateway is gone), so a later ``dadan sync`` reports it as not configured."""
        self._stop.set()
        self.server.stop()
        if self.credentials is not None:
            self.credentials.remove(self.shop_name)


def run_demo_platform(ctx, *, orders: int = 400, seed: int | None = None, change_every: float = 20.0,
                      shop_name: str = DEMO_SHOP) -> DemoPlatform:
    """Start a loopback platform with ``orders`` orders over the backfill period, register (or
    re-point) the demo shop at it with working credentials, and return the running handle.
    The caller (``dadan demo --platform``) starts the scheduler as usual and calls ``.stop()``
    on exit. No real credentials or network are involved."""
    from dadan.core.platform.credentials import CredentialStore, ShopCredentials
    from dadan.core.db import write
    from dadan.core.models import Shop

    platform = MockPlatform(seed=seed)
    mall = platform.add_mall(shop_name)
    hours = max(1, ctx.settings.sync.backfill_days) * 24
    platform.generate_orders(mall, orders, spread_hours=hours)
    server = MockServer(platform).start()
    ctx.open_db()
    CredentialStore(ctx.paths.credentials_file).put(shop_name, ShopCredentials(
        client_secret=platform.client_secret, access_token=mall.access_token,
        refresh_token=mall.refresh_token, access_token_expires_at=platform.tokens[mall.access_token].expires_at))
    with write():
        shop = Shop.get_or_none(Shop.name == shop_name)
        if shop is None:
            Shop.create(name=shop_name, client_id=platform.client_id, gateway_url=server.url,
                        mall_id=mall.mall_id, auth_state="ok")
        else:  # a new port, a new mall: start its sync afresh
            Shop.update(client_id=platform.client_id, gateway_url=server.url, mall_id=mall.mall_id,
                        auth_state="ok", sync_cursor=None).where(Shop.id == shop.id).execute()
    demo = DemoPlatform(platform, server, mall, shop_name, change_every)
    demo.credentials = CredentialStore(ctx.paths.credentials_file)
    return demo
