"""The loopback platform's world: its shops' generated orders and how they change over time
(plain dicts shaped like the platform's order records; ``_upd`` is the update time in seconds)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

from dadan.core.orders.couriers import COURIERS as CATALOGUE
from dadan.core.orders.couriers import by_id, example_tracking

CHINA = dt.timezone(dt.timedelta(hours=8))

# (logistics id, name, code) of the couriers the platform lists: the catalogue's numbered ones
COURIERS = [(c.id, c.name_zh, c.code) for c in CATALOGUE if c.id is not None]

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


def goods_id_of(code: str) -> int:
    """The platform's goods id of one of :data:`GOODS` (by its merchant code)."""
    return 400000000 + [g[0] for g in GOODS].index(code) * 1000


def sku_id_of(code: str, colour: str, size: str) -> int:
    return 1_000_000_000 + int(hashlib.md5(f"{code}{colour}{size}".encode()).hexdigest()[:7], 16)


def listings() -> dict[str, dict[str, str]]:
    """What every shop lists: {goods id: {sku id: merchant code (outer_id)}} (as strings)."""
    return {str(goods_id_of(code)): {str(sku_id_of(code, c, s)): f"{code}-{c}-{s}" for c in colours for s in sizes}
            for code, _name, colours, sizes, _price in GOODS}


@dataclass
class Token:
    """An access token the platform issued to a shop."""

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


def china_time(ts: float) -> str:
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


def public(o: dict) -> dict:
    """An order as served (without the world's own ``_`` keys)."""
    return {k: v for k, v in o.items() if not k.startswith("_")}


MUTATIONS = ("refund", "after_sale", "cancel", "risk", "address", "shipped_elsewhere",
             "remark", "stock_out", "new")


def open_address_id(name: str, phone: str, address: str) -> str:
    """The platform's key for one receiver at one address (same value: the orders may merge)."""
    return "oa" + hashlib.sha1(f"{name}|{phone}|{address}".encode()).hexdigest()[:22]


RECEIVER_KEYS = ("province", "city", "town", "receiver_name", "receiver_phone", "receiver_address", "address",
                 "receiver_name_mask", "receiver_phone_mask", "address_mask", "open_address_id")


def same_buyer(o: dict, earlier: dict) -> None:
    """Make ``o`` an order of ``earlier``'s buyer, to the same address."""
    o.update({k: earlier[k] for k in RECEIVER_KEYS if k in earlier})


class OrderWorld:
    """Makes, ships and changes orders, drawing from the platform's random generator (the
    caller holds the platform's lock)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.serial = 0

    def _order_sn(self, created: float) -> str:
        self.serial += 1
        day = dt.datetime.fromtimestamp(created, CHINA).strftime("%y%m%d")
        return f"{day}-{self.rng.randrange(10**14, 10**15 - 1):015d}"

    def make_order(self, created: float, updated: float) -> dict:
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
                "goods_id": goods_id_of(code),
                "goods_name": gname, "goods_spec": f"{colour},{size}", "goods_count": count,
                "sku_id": sku_id_of(code, colour, size),
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
            "created_time": china_time(created), "confirm_time": china_time(created + 5),
            "pay_time": china_time(created + 3), "updated_at": china_time(updated), "_upd": int(updated),
            "last_ship_time": china_time(ship_by), "shipping_time": "",
            "pay_amount": pay, "goods_amount": round(goods_total, 2), "discount_amount": discount,
            "postage": postage, "province": province, "city": city, "town": town,
            "receiver_name": encrypt(name), "receiver_phone": encrypt(phone, "phone"),
            "receiver_address": encrypt(address), "address": encrypt(address),
            "receiver_name_mask": name[0] + "*" * (len(name) - 1),
            "receiver_phone_mask": phone[:3] + "****" + phone[-4:],
            "address_mask": f"{province}{city}{town}****",
            "open_address_id": open_address_id(name, phone, address),
            "buyer_memo": r.choice(MEMOS), "remark": "", "remark_tag": None,
            "tracking_number": "", "logistics_id": 0, "item_list": items,
        }


    def generate(self, mall: Mall, n: int, *, spread_hours: float, end: float) -> list[str]:
        """Add ``n`` orders paid over ``spread_hours`` before ``end`` (updated up to ``end``).
        A few come already in after-sale/refund/shipped states, and a few are a second or third
        order of a buyer who ordered already (same receiver: same ``open_address_id``)."""
        sns = []
        for _ in range(n):
            created = end - self.rng.uniform(0, spread_hours * 3600)
            updated = min(end, created + self.rng.uniform(5, 1800))
            o = self.make_order(created, updated)
            if sns and self.rng.random() < 0.06:
                same_buyer(o, mall.orders[self.rng.choice(sns[-50:])])
            roll = self.rng.random()
            if roll < 0.04:
                o.update(refund_status=3, after_sales_status=5)
            elif roll < 0.10:
                self.ship_with_any_courier(o, o["_upd"])
            while o["order_sn"] in mall.orders:
                o["order_sn"] = self._order_sn(created)
            mall.orders[o["order_sn"]] = o
            sns.append(o["order_sn"])
        mall.touch()
        return sns

    def ship_with_any_courier(self, o: dict, at: float) -> None:
        """Ship ``o`` (elsewhere) with a courier picked at random and a number of its shape."""
        lid = self.rng.choice(COURIERS)[0]
        self.ship(o, lid, example_tracking(by_id(lid), self.rng.randrange(10**12, 10**13)), at)

    @staticmethod
    def ship(o: dict, logistics_id: int, tracking: str, at: float) -> None:
        o.update(order_status=2, tracking_number=tracking, logistics_id=logistics_id,
                 shipping_time=china_time(at))

    @staticmethod
    def touch(mall: Mall, o: dict, at: float) -> None:
        o["_upd"] = int(at)
        o["updated_at"] = china_time(at)
        mall.touch()

    def mutate(self, mall: Mall, kind: str | None, order_sn: str | None, *, now: float) -> tuple[str, str]:
        """Change one order (or add one) at ``now``; returns (order_sn, kind)."""
        kind = kind or self.rng.choice(MUTATIONS)
        if kind == "new":
            o = self.make_order(now - self.rng.uniform(0, 60), now)
            mall.orders[o["order_sn"]] = o
            self.touch(mall, o, now)
            return o["order_sn"], kind
        if order_sn is None:
            candidates = [sn for sn, o in mall.orders.items() if o["order_status"] == 1]
            if not candidates:
                return self.mutate(mall, "new", None, now=now)
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
            o.update(receiver_address=encrypt(plain), address=encrypt(plain),
                     open_address_id=open_address_id(decrypt(o["receiver_name"]) or "",
                                                     decrypt(o["receiver_phone"]) or "", plain))
        elif kind == "shipped_elsewhere":
            self.ship_with_any_courier(o, now)
        elif kind == "remark":
            o["remark"] = self.rng.choice(["加急", "送小礼品", "核对尺码", "已联系买家"])
        elif kind == "stock_out":
            o.update(is_stock_out=1, stock_out_handle_status=0)
        self.touch(mall, o, now)
        return order_sn, kind
