"""The loopback platform's e-waybill service (电子面单): each shop's courier subscriptions with
their branches (网点), balances and registered sender addresses, the numbers taken, cancelled and
shipped, and the answers of ``pdd.waybill.search/get/cancel/query.by.waybillcode``.

Taking a number is idempotent as the real service is: a repeated ``object_id`` (same courier)
returns the same module and costs nothing, and so does a new ``object_id`` for the same orders
and package id while that number is live. A cancelled number goes back to the balance at once
(the real platform does it after 15 days without a logistics trace); an ``object_id`` whose
number was cancelled gets a new number. The caller (:class:`.platform.MockPlatform`) holds the
platform's lock; errors are :class:`ApiError`, as for every other API.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter

from dadan.core.orders.couriers import by_code, example_tracking
from dadan.core.platform.loopback.cloudprint import template_url
from dadan.core.platform.loopback.errors import ApiError
from dadan.core.platform.loopback.world import Mall, decrypt

MAX_DTOS = 10
SERIAL_START = 10_000_000
ADDRESS_KEYS = ("province", "city", "district", "detail")


def default_branches(wp_code: str, quantity: int) -> list[dict]:
    return [{"branch_code": f"{wp_code}-HZ01", "branch_name": "杭州西湖网点", "quantity": quantity,
             "addresses": [
                 {"province": "浙江省", "city": "杭州市", "district": "西湖区",
                  "detail": "文三路 90 号 东部软件园 3 号楼"},
                 {"province": "浙江省", "city": "杭州市", "district": "余杭区",
                  "detail": "仓前街道 良睦路 1399 号"}]}]


def _plain(value) -> str:
    """A recipient field as text: the platform's own ciphertext is decrypted."""
    text = "" if value is None else str(value)
    got = decrypt(text)
    return text if got is None else got


def _short(name: str, suffixes: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in suffixes else name


def routing(address: dict) -> dict:
    """The sorting centre's codes for a recipient address (大头笔 and 集包地)."""
    city = _short(str(address.get("city") or ""), "市")
    district = _short(str(address.get("district") or ""), "区县市")
    n = int(hashlib.md5(f"{city}{district}".encode()).hexdigest()[:4], 16)
    return {"bigShotName": f"{city} {district} {'ABCDEF'[n % 6]}{n % 97 + 1:02d}",
            "consolidation": {"name": f"{city}转运中心", "code": f"{n % 9000 + 1000}"}}


class Waybills:
    """Every shop's e-waybill state (keyed by mall id) and the e-waybill APIs."""

    def __init__(self, client_secret: str):
        self.client_secret = client_secret
        self.subscriptions: dict[str, dict[str, list[dict]]] = {}  # mall -> wp_code -> branches
        self.waybills: dict[str, dict[str, dict]] = {}  # mall -> waybill_code -> record
        self.objects: dict[str, dict[str, str]] = {}  # mall -> "wp_code/object_id" -> waybill_code
        self.serials: Counter = Counter()  # wp_code -> numbers made
        self.parcels: dict[str, dict[str, str]] = {}  # mall -> courier/orders/package -> newest code

    def to_json(self) -> dict:
        return {"subscriptions": self.subscriptions, "waybills": self.waybills, "objects": self.objects,
                "serials": dict(self.serials)}

    def restore(self, data: dict) -> None:
        self.subscriptions = data.get("subscriptions") or {}
        self.waybills = data.get("waybills") or {}
        self.objects = data.get("objects") or {}
        self.serials = Counter(data.get("serials") or {})
        self.parcels = {}
        for mall_id, books in self.waybills.items():
            for code, rec in books.items():
                key = _index_key(rec["wp_code"], (tuple(sorted(rec["orders"])), rec["package_id"]))
                self.parcels.setdefault(mall_id, {})[key] = code

    def subscribe(self, mall: Mall, wp_code: str, *, quantity: int = 1000,
                  branches: list[dict] | None = None) -> list[dict]:
        if by_code(wp_code) is None:
            raise ValueError(f"unknown courier code {wp_code!r}")
        made = []
        for b in branches if branches is not None else default_branches(wp_code, quantity):
            made.append({"branch_code": b["branch_code"], "branch_name": b["branch_name"],
                         "quantity": int(b.get("quantity", quantity)), "allocated_quantity": 0,
                         "cancel_quantity": 0, "recycled_quantity": 0,
                         "addresses": [{k: str(a.get(k, "")) for k in ADDRESS_KEYS} for a in b["addresses"]]})
        self.subscriptions.setdefault(mall.mall_id, {})[by_code(wp_code).code] = made
        return [dict(b) for b in made]

    def state(self, mall: Mall) -> dict[str, dict]:
        return {code: {k: (list(v) if isinstance(v, list) else v) for k, v in rec.items() if k != "module"}
                for code, rec in self.waybills.get(mall.mall_id, {}).items()}

    def _branch(self, mall: Mall, wp_code: str, branch_code: str | None) -> dict:
        branches = self.subscriptions.get(mall.mall_id, {}).get(wp_code) or []
        for b in branches:
            if branch_code is None or b["branch_code"] == branch_code:
                return b
        raise KeyError(f"{wp_code}/{branch_code}: not subscribed")

    def balance(self, mall: Mall, wp_code: str, branch_code: str | None = None) -> dict:
        b = self._branch(mall, wp_code, branch_code)
        return {k: b[k] for k in ("quantity", "allocated_quantity", "cancel_quantity", "recycled_quantity")}

    def search(self, mall: Mall, p: dict) -> dict:
        want = p.get("wp_code") or None
        cols = []
        for wp_code, branches in self.subscriptions.get(mall.mall_id, {}).items():
            if want and want != wp_code:
                continue
            cols.append({"wp_code": wp_code, "wp_type": 1, "branch_account_cols": [{
                "branch_code": b["branch_code"], "branch_name": b["branch_name"], "quantity": b["quantity"],
                "allocated_quantity": b["allocated_quantity"], "cancel_quantity": b["cancel_quantity"],
                "recycled_quantity": b["recycled_quantity"],
                "shipp_address_cols": [{**a, "country": "中国"} for a in b["addresses"]],
                "service_info_cols": []} for b in branches]})
        return {"pdd_waybill_search_response": {"waybill_apply_subscription_cols": cols}}

    def get(self, mall: Mall, p: dict) -> dict:
        req = _json_param(p, "param_waybill_cloud_print_apply_new_request", dict)
        wp_code = str(req.get("wp_code") or "")
        branches = self.subscriptions.get(mall.mall_id, {}).get(wp_code)
        if not branches:
            raise ApiError(30010, "未订购该快递电子面单", f"未订购该快递电子面单：{wp_code}")
        dtos = req.get("trade_order_info_dtos")
        if not isinstance(dtos, list) or not 1 <= len(dtos) <= MAX_DTOS or not all(isinstance(d, dict) for d in dtos):
            raise ApiError(10001, "参数错误", f"trade_order_info_dtos 须为 1 到 {MAX_DTOS} 个")
        if not all(isinstance(d.get(k) or {}, dict) for d in [req, *dtos]
                   for k in ("sender", "order_info", "package_info", "recipient")):
            raise ApiError(10001, "参数错误", "sender、order_info、package_info、recipient 须为对象")
        sender = req.get("sender") or {}
        addr = sender.get("address") or {}
        if not isinstance(addr, dict):
            raise ApiError(10001, "参数错误", "sender.address 须为对象")
        key = tuple(str(addr.get(k) or "").strip() for k in ADDRESS_KEYS)
        branch = next((b for b in branches for a in b["addresses"]
                       if tuple(a[k].strip() for k in ADDRESS_KEYS) == key), None)
        if branch is None:
            raise ApiError(30011, "发货地址不是网点已登记的地址", "发货地址不是网点已登记的地址")
        for dto in dtos:
            if not str(dto.get("object_id") or ""):
                raise ApiError(10001, "参数错误", "object_id 不能为空")
            for sn in _orders(dto):
                if sn not in mall.orders:
                    raise ApiError(30012, "订单不存在", f"订单不存在：{sn}")
            if len({mall.orders[sn].get("open_address_id") or sn for sn in _orders(dto)}) > 1:
                raise ApiError(30014, "合单订单的收件人或地址不一致", "合单订单的收件人或地址不一致：" + ",".join(_orders(dto)))
        found = [self._existing(mall, wp_code, dto) for dto in dtos]
        fresh = {_parcel_key(d) for d, f in zip(dtos, found) if f is None}
        if len(fresh) > branch["quantity"]:
            raise ApiError(30013, "面单余额不足", f"面单余额不足：余额 {branch['quantity']}，需要 {len(fresh)}")
        modules = []
        for dto, rec in zip(dtos, found):
            rec = rec or self._existing(mall, wp_code, dto) or self._take(mall, wp_code, branch, req, dto)
            self.objects.setdefault(mall.mall_id, {})[f"{wp_code}/{dto['object_id']}"] = rec["module"]["waybill_code"]
            modules.append({**rec["module"], "object_id": str(dto["object_id"])})
        return {"pdd_waybill_get_response": {"modules": modules}}

    def _existing(self, mall: Mall, wp_code: str, dto: dict) -> dict | None:
        """The live number for this object id, else for these orders and package id."""
        books = self.waybills.get(mall.mall_id, {})
        code = self.objects.get(mall.mall_id, {}).get(f"{wp_code}/{dto['object_id']}")
        if code is not None and books[code]["state"] != "cancelled":
            return books[code]
        rec = books.get(self.parcels.get(mall.mall_id, {}).get(_index_key(wp_code, _parcel_key(dto)), ""))
        return rec if rec is not None and rec["state"] == "live" else None

    def _take(self, mall: Mall, wp_code: str, branch: dict, req: dict, dto: dict) -> dict:
        courier = by_code(wp_code)
        self.serials[wp_code] += 1
        code = example_tracking(courier, SERIAL_START + self.serials[wp_code])
        books = self.waybills.setdefault(mall.mall_id, {})
        assert code not in books, code
        branch["quantity"] -= 1
        branch["allocated_quantity"] += 1
        rcp = dto.get("recipient") or {}
        raddr = rcp.get("address") if isinstance(rcp.get("address"), dict) else {}
        sender = req.get("sender") or {}
        payload = {
            "waybillCode": code, "wpCode": wp_code,
            "routingInfo": routing({k: _plain(raddr.get(k)) for k in ("city", "district")}),
            "recipient": {"name": _plain(rcp.get("name")), "mobile": _plain(rcp.get("mobile")),
                          "phone": _plain(rcp.get("phone")),
                          "address": {k: _plain(raddr.get(k)) for k in ("province", "city", "district", "town", "detail")}},
            "sender": {"name": str(sender.get("name") or ""), "mobile": str(sender.get("mobile") or ""),
                       "phone": str(sender.get("phone") or ""),
                       "address": {k: str((sender.get("address") or {}).get(k) or "")
                                   for k in ("province", "city", "district", "town", "detail")}},
        }
        url = str(dto.get("template_url") or "") or template_url(wp_code, "76x130")
        print_data = self.envelope(payload, url) if req.get("need_encrypt") else payload
        orders, package_id = _parcel_key(dto)
        rec = {"wp_code": wp_code, "branch_code": branch["branch_code"], "object_id": str(dto["object_id"]),
               "orders": list(orders), "package_id": package_id, "state": "live",
               "module": {"object_id": str(dto["object_id"]), "waybill_code": code, "parent_waybill_code": "",
                          "print_data": json.dumps(print_data, ensure_ascii=False)}}
        books[code] = rec
        self.parcels.setdefault(mall.mall_id, {})[_index_key(wp_code, (orders, package_id))] = code
        return rec

    def envelope(self, payload: dict, url: str) -> dict:
        data = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode("utf-8")).decode("ascii")
        return {"encryptedData": data, "signature": self.signature(data), "templateUrl": url, "ver": "1"}

    def signature(self, encrypted_data: str) -> str:
        return hashlib.md5((encrypted_data + self.client_secret).encode("utf-8")).hexdigest()

    def cancel(self, mall: Mall, p: dict) -> dict:
        wp_code, code = p.get("wp_code", ""), p.get("waybill_code", "")
        rec = self.waybills.get(mall.mall_id, {}).get(code)
        if rec is None or rec["wp_code"] != wp_code:
            raise ApiError(30020, "面单号不存在", f"面单号不存在：{code}（{wp_code}）")
        if rec["state"] == "cancelled":
            raise ApiError(30021, "面单已取消", f"面单已取消：{code}")
        if rec["state"] == "shipped":
            raise ApiError(30022, "已发货的面单不能取消", f"已发货的面单不能取消：{code}")
        rec["state"] = "cancelled"
        branch = self._branch(mall, wp_code, rec["branch_code"])
        branch["quantity"] += 1
        branch["cancel_quantity"] += 1
        return {"pdd_waybill_cancel_response": {"cancel_result": True}}

    def query(self, mall: Mall, p: dict) -> dict:
        books = self.waybills.get(mall.mall_id, {})
        out = []
        for item in _json_param(p, "param_list", list):
            item = item if isinstance(item, dict) else {}
            code = str(item.get("waybill_code") or "")
            if code not in books:
                key = f"{item.get('wp_code') or ''}/{item.get('object_id') or ''}"
                code = self.objects.get(mall.mall_id, {}).get(key, "")
            rec = books.get(code)
            if rec is not None:
                out.append({"object_id": str(item.get("object_id") or rec["object_id"]), "waybill_code": code,
                            "wp_code": rec["wp_code"], "print_data": rec["module"]["print_data"],
                            "status": rec["state"]})
        return {"pdd_waybill_query_by_waybillcode_response": {"modules": out}}

    def check_send(self, mall: Mall, tracking: str) -> dict | None:
        """Before ``pdd.logistics.online.send``: a cancelled number is refused; the shop's
        live record for ``tracking`` (to mark shipped once sent), else None."""
        rec = self.waybills.get(mall.mall_id, {}).get(tracking)
        if rec is not None and rec["state"] == "cancelled":
            raise ApiError(30023, "面单已取消，不能发货", f"面单已取消，不能发货：{tracking}")
        return rec


def _orders(dto: dict) -> list[str]:
    info = dto.get("order_info") or {}
    sns = info.get("trade_order_list") or []
    if not isinstance(sns, list) or not sns:
        raise ApiError(10001, "参数错误", "order_info.trade_order_list 须为 1 到 100 个订单")
    return [str(sn) for sn in sns]


def _parcel_key(dto: dict) -> tuple[tuple[str, ...], str]:
    return tuple(sorted(_orders(dto))), str((dto.get("package_info") or {}).get("id") or "")


def _index_key(wp_code: str, parcel: tuple[tuple[str, ...], str]) -> str:
    return json.dumps([wp_code, list(parcel[0]), parcel[1]])


def _json_param(p: dict, name: str, kind: type):
    try:
        value = json.loads(p.get(name) or "")
    except ValueError:
        raise ApiError(10001, "参数错误", f"{name} 不是 JSON") from None
    if not isinstance(value, kind):
        raise ApiError(10001, "参数错误", f"{name} 格式错误")
    return value
