"""The loopback platform's e-waybill and cloud-print APIs, over real HTTP through the signed
client: subscriptions and balances, taking numbers (idempotent per object id and parcel),
cancel/ship rules, look-ups, standard templates, TSPL rendering read back by the loopback TSPL
printer (zbar reads the Code128), faults, and the platform's state file."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat

import pytest

from dadan.core.orders.couriers import by_code, matches_tracking
from dadan.core.platform.loopback.platform import MockPlatform
from dadan.core.platform.loopback.server import MockServer
from dadan.core.platform.loopback.world import encrypt, same_buyer
from dadan.core.platform.pdd import BadRequest, PddClient, PlatformError, TransportError
from dadan.core.platform.waybill_api import (
    cmdprint_render,
    standard_templates,
    waybill_cancel,
    waybill_get,
    waybill_query,
    waybill_search,
)
from tests.fakes import FakeTsplPrinter, decode_barcodes
from tests.test_sync_support import FAST_RETRY, env  # noqa: F401

SENDER = {"name": "仓库小王", "mobile": "13800000000", "phone": "",
          "address": {"province": "浙江省", "city": "杭州市", "district": "西湖区", "town": "",
                      "detail": "文三路 90 号 东部软件园 3 号楼"}}


def dto(order_sns, object_id, package_id=None, *, plain=False):
    name, mobile = "张三", "13912345678"
    address = "浙江省杭州市西湖区文一西路 1 号"
    if not plain:
        name, mobile, address = encrypt(name), encrypt(mobile, "phone"), encrypt(address)
    return {"object_id": object_id,
            "order_info": {"order_channels_type": "PDD", "trade_order_list": list(order_sns)},
            "package_info": {"id": package_id or object_id, "items": [{"name": "T恤", "count": 1}],
                             "weight": 300, "volume": 1000},
            "recipient": {"name": name, "mobile": mobile, "phone": "",
                          "address": {"province": "浙江省", "city": "杭州市", "district": "西湖区", "town": "",
                                      "detail": address}},
            "template_url": "", "user_id": "1"}


def request(dtos, wp_code="ZTO", *, encrypt_data=True, sender=SENDER):
    return {"wp_code": wp_code, "need_encrypt": encrypt_data, "sender": sender, "trade_order_info_dtos": dtos}


@pytest.fixture
def wb(env):  # noqa: F811
    env.platform.subscribe(env.mall, "ZTO", quantity=100)
    made = env.platform.generate_orders(env.mall, 40, spread_hours=5)
    env.orders = [sn for sn in made if env.mall.orders[sn]["order_status"] == 1][:30]  # awaiting shipment
    return env


def test_search_lists_subscriptions_branches_balances_and_addresses(wb):
    wb.platform.subscribe(wb.mall, "SF", branches=[{"branch_code": "SF-1", "branch_name": "顺丰一部", "quantity": 5,
                                                     "addresses": [{"province": "浙江省", "city": "杭州市",
                                                                    "district": "滨江区", "detail": "江南大道 1 号"}]}])
    with wb.client() as c:
        cols = waybill_search(c)
        assert [col["wp_code"] for col in cols] == ["ZTO", "SF"]
        zto = cols[0]
        assert zto["wp_type"] == 1
        (branch,) = zto["branch_account_cols"]
        assert (branch["branch_code"], branch["branch_name"]) == ("ZTO-HZ01", "杭州西湖网点")
        assert (branch["quantity"], branch["allocated_quantity"], branch["cancel_quantity"],
                branch["recycled_quantity"]) == (100, 0, 0, 0)
        assert [a["district"] for a in branch["shipp_address_cols"]] == ["西湖区", "余杭区"]
        assert all(a["country"] == "中国" for a in branch["shipp_address_cols"])
        assert branch["service_info_cols"] == []
        (sf,) = waybill_search(c, "SF")
        assert sf["branch_account_cols"][0]["quantity"] == 5
        assert sf["branch_account_cols"][0]["shipp_address_cols"][0]["detail"] == "江南大道 1 号"


def test_ten_numbers_in_one_call_unique_and_courier_shaped(wb):
    with wb.client() as c:
        modules = waybill_get(c, request([dto([sn], f"obj-{i}") for i, sn in enumerate(wb.orders[:10])]))
    assert [m["object_id"] for m in modules] == [f"obj-{i}" for i in range(10)]
    codes = [m["waybill_code"] for m in modules]
    assert len(set(codes)) == 10
    assert all(matches_tracking(by_code("ZTO"), code) for code in codes)
    assert all(m["parent_waybill_code"] == "" for m in modules)
    assert wb.platform.balance(wb.mall, "ZTO") == {"quantity": 90, "allocated_quantity": 10,
                                                   "cancel_quantity": 0, "recycled_quantity": 0}
    state = wb.platform.waybill_state(wb.mall)
    assert state[codes[3]] == {"wp_code": "ZTO", "branch_code": "ZTO-HZ01", "object_id": "obj-3",
                               "orders": [wb.orders[3]], "package_id": "obj-3", "state": "live"}
    # the encrypted print data: signed with the app's secret, the receiver decrypted inside
    envelope = json.loads(modules[0]["print_data"])
    assert envelope["templateUrl"] == "https://file-link.pinduoduo.com/ZTO_std_76x130" and envelope["ver"] == "1"
    payload = json.loads(base64.b64decode(envelope["encryptedData"]))
    assert payload["waybillCode"] == codes[0] and payload["wpCode"] == "ZTO"
    assert payload["recipient"]["name"] == "张三" and payload["recipient"]["mobile"] == "13912345678"
    assert payload["routingInfo"]["bigShotName"].startswith("杭州 西湖 ")
    assert payload["sender"]["address"]["detail"] == SENDER["address"]["detail"]


def test_plain_print_data_when_not_encrypted(wb):
    with wb.client() as c:
        (m,) = waybill_get(c, request([dto([wb.orders[0]], "p1", plain=True)], encrypt_data=False))
    payload = json.loads(m["print_data"])
    assert payload["waybillCode"] == m["waybill_code"] and payload["recipient"]["name"] == "张三"


def test_eleven_parcels_refused(wb):
    with wb.client() as c, pytest.raises(BadRequest):
        waybill_get(c, request([dto([sn], f"o{i}") for i, sn in enumerate(wb.orders[:11])]))
    assert wb.platform.balance(wb.mall, "ZTO")["quantity"] == 100


def test_repeated_object_id_and_same_parcel_give_the_same_number_once(wb):
    with wb.platform.lock:  # the second order is the same buyer's, to the same address: they may merge
        same_buyer(wb.mall.orders[wb.orders[1]], wb.mall.orders[wb.orders[0]])
    with wb.client() as c:
        (first,) = waybill_get(c, request([dto([wb.orders[0]], "o-1")]))
        (again,) = waybill_get(c, request([dto([wb.orders[0]], "o-1")]))
        assert again == first
        # a new request id for the same orders (in another order) and package: the same number
        (same,) = waybill_get(c, request([dto([wb.orders[1], wb.orders[0]], "o-2", "pkg-9")]))
        (same2,) = waybill_get(c, request([dto([wb.orders[0], wb.orders[1]], "o-3", "pkg-9")]))
        assert same2["waybill_code"] == same["waybill_code"] != first["waybill_code"]
        assert same2["object_id"] == "o-3"
        # another package of the same order: a new number
        (other,) = waybill_get(c, request([dto([wb.orders[0]], "o-4", "pkg-10")]))
        assert other["waybill_code"] not in (first["waybill_code"], same["waybill_code"])
    assert wb.platform.balance(wb.mall, "ZTO")["allocated_quantity"] == 3
    assert wb.platform.balance(wb.mall, "ZTO")["quantity"] == 97


def test_refusals_carry_their_codes(wb):
    wb.platform.subscribe(wb.mall, "SF", quantity=0)
    with wb.client() as c:
        cases = [
            (request([dto(["000000-000000000000000"], "x")]), 30012),
            (request([dto([wb.orders[0]], "x")], sender={**SENDER, "address": {**SENDER["address"], "detail": "别处"}}),
             30011),
            (request([dto([wb.orders[0]], "x")], "YTO"), 30010),
            (request([dto([wb.orders[0]], "x")], "SF"), 30013),
        ]
        for req, code in cases:
            with pytest.raises(PlatformError) as exc:
                waybill_get(c, req)
            assert exc.value.error_code == code, (code, exc.value)
        with pytest.raises(PlatformError) as exc:
            waybill_get(c, request([dto(["000000-000000000000000"], "x")]))
        assert "000000-000000000000000" in exc.value.platform_message
    assert wb.platform.waybill_state(wb.mall) == {}
    assert wb.platform.balance(wb.mall, "ZTO")["quantity"] == 100


def test_empty_balance_midway_takes_nothing(wb):
    wb.platform.subscribe(wb.mall, "YTO", quantity=3)
    with wb.client() as c:
        with pytest.raises(PlatformError) as exc:
            waybill_get(c, request([dto([sn], f"o{i}") for i, sn in enumerate(wb.orders[:4])], "YTO"))
        assert exc.value.error_code == 30013 and "面单余额不足" in exc.value.message
        assert wb.platform.balance(wb.mall, "YTO")["quantity"] == 3
        assert len(waybill_get(c, request([dto([sn], f"o{i}") for i, sn in enumerate(wb.orders[:3])], "YTO"))) == 3
    assert wb.platform.balance(wb.mall, "YTO")["quantity"] == 0


def test_answer_lost_after_allocation_retried_gives_same_number(wb):
    wb.platform.faults.queue.append(("timeout", "pdd.waybill.get"))
    with wb.client() as c:
        (m,) = waybill_get(c, request([dto([wb.orders[0]], "lost-1")]))
    assert wb.platform.requests["pdd.waybill.get"] == 2  # the lost answer, then the retry
    assert wb.platform.faults_injected["timeout"] == 1
    assert list(wb.platform.waybill_state(wb.mall)) == [m["waybill_code"]]
    assert wb.platform.balance(wb.mall, "ZTO")["quantity"] == 99


def test_orders_of_two_receivers_never_share_a_number(wb):
    """A trade_order_list of orders with different open_address_id is refused; an order ships
    only with a number taken for it."""
    a, b = wb.orders[:2]
    assert wb.mall.orders[a]["open_address_id"] != wb.mall.orders[b]["open_address_id"]
    with wb.client() as c:
        with pytest.raises(PlatformError) as exc:
            waybill_get(c, request([dto([a, b], "m-1")]))
        assert exc.value.error_code == 30014
        (only_a,) = waybill_get(c, request([dto([a], "m-2")]))
        with pytest.raises(PlatformError) as exc:
            c.online_send(b, 115, only_a["waybill_code"])
        assert exc.value.error_code == 30004
    assert wb.platform.balance(wb.mall, "ZTO")["allocated_quantity"] == 1


def test_cancel_returns_to_balance_and_ship_rules(wb):
    with wb.client() as c:
        a, b, d = waybill_get(c, request([dto([sn], f"o{i}") for i, sn in enumerate(wb.orders[:3])]))
        assert waybill_cancel(c, "ZTO", a["waybill_code"]) is True
        assert wb.platform.balance(wb.mall, "ZTO") == {"quantity": 98, "allocated_quantity": 3,
                                                       "cancel_quantity": 1, "recycled_quantity": 0}
        assert wb.platform.waybill_state(wb.mall)[a["waybill_code"]]["state"] == "cancelled"
        with pytest.raises(PlatformError) as exc:
            waybill_cancel(c, "ZTO", a["waybill_code"])
        assert exc.value.error_code == 30021
        with pytest.raises(PlatformError) as exc:
            waybill_cancel(c, "ZTO", "780000000000")
        assert exc.value.error_code == 30020
        # ship with a live number: shipped, then it cannot be cancelled
        c.online_send(wb.orders[1], 115, b["waybill_code"])
        assert wb.platform.waybill_state(wb.mall)[b["waybill_code"]]["state"] == "shipped"
        with pytest.raises(PlatformError) as exc:
            waybill_cancel(c, "ZTO", b["waybill_code"])
        assert exc.value.error_code == 30022 and "已发货的面单不能取消" in exc.value.message
        # a cancelled number cannot ship
        with pytest.raises(PlatformError) as exc:
            c.online_send(wb.orders[0], 115, a["waybill_code"])
        assert exc.value.error_code == 30023
        # the same object id after a cancel takes a fresh number
        (fresh,) = waybill_get(c, request([dto([wb.orders[0]], "o0")]))
        assert fresh["waybill_code"] != a["waybill_code"]
        assert d["waybill_code"] in wb.platform.waybill_state(wb.mall)
    assert wb.mall.orders[wb.orders[0]]["order_status"] == 1


def test_query_by_code_and_by_object_id(wb):
    with wb.client() as c:
        a, b = waybill_get(c, request([dto([sn], f"q{i}") for i, sn in enumerate(wb.orders[:2])]))
        waybill_cancel(c, "ZTO", b["waybill_code"])
        got = waybill_query(c, [{"object_id": "", "waybill_code": a["waybill_code"], "wp_code": "ZTO"},
                                {"object_id": "q1", "waybill_code": "", "wp_code": "ZTO"}])
    assert [(m["waybill_code"], m["status"]) for m in got] == [(a["waybill_code"], "live"),
                                                              (b["waybill_code"], "cancelled")]
    assert got[0]["print_data"] == a["print_data"] and got[1]["object_id"] == "q1"
    assert got[0]["wp_code"] == "ZTO"


def test_standard_templates(wb):
    with wb.client() as c:
        (zto,) = standard_templates(c, "ZTO")
        everyone = standard_templates(c)
    assert zto["wp_code"] == "ZTO"
    small, large = zto["standard_templates"]
    assert small["standard_template_url"] == "https://file-link.pinduoduo.com/ZTO_std_76x130"
    assert large["standard_template_url"] == "https://file-link.pinduoduo.com/ZTO_std_100x150"
    assert (small["standard_waybill_type"], large["standard_waybill_type"]) == (1, 3)
    assert small["standard_template_id"] != large["standard_template_id"] and small["standard_template_name"]
    assert {d["wp_code"] for d in everyone} >= {"ZTO", "SF", "YTO", "JTSD"}


def render_request(module, *, dx=0.0, dy=0.0, custom=None, tamper=False, size="76x130"):
    envelope = json.loads(module["print_data"])
    first = {"encrypted_data": envelope["encryptedData"],
             "signature": ("0" * 32) if tamper else envelope["signature"],
             "template_url": f"https://file-link.pinduoduo.com/ZTO_std_{size}", "ver": envelope["ver"]}
    contents = [first]
    if custom is not None:
        contents.append({"template_url": "dadan:custom", "data": {"lines": custom}})
    return {"client_side_id": "desk-1", "client_type": "dadan", "printer_name": "lbl", "print_command_type": "TSPL",
            "cmd_encoding": "gzip",
            "config": {"horizontal_offset": dx, "vertical_offset": dy, "orientation": "normal",
                       "need_top_logo": False, "need_middle_logo": False, "need_bottom_logo": False},
            "document": {"contents": contents}}


def print_raw(printer: FakeTsplPrinter, data: bytes, labels: int) -> None:
    with socket.create_connection((printer.host, printer.port), timeout=5) as s:
        s.sendall(data)
        assert printer.wait_printed(labels, 10)


def barcode_xy(tspl: bytes) -> tuple[int, int]:
    line = next(ln for ln in tspl.decode("gb18030").split("\r\n") if ln.startswith("BARCODE "))
    x, y = line.removeprefix("BARCODE ").split(",")[:2]
    return int(x), int(y)


def test_render_prints_a_scannable_waybill_on_the_loopback_printer(wb):
    with wb.client() as c:
        (m,) = waybill_get(c, request([dto([wb.orders[0]], "r1")]))
        code = m["waybill_code"]
        plain = cmdprint_render(c, render_request(m, custom=['A12 白色 L ×1', '备注 "加急"', "批次 1/3"]))
        moved = cmdprint_render(c, render_request(m, dx=2.0, dy=1.0, custom=[]))
        large = cmdprint_render(c, render_request(m, size="100x150"))
    text = plain.decode("gb18030")
    assert text.startswith("SIZE 76 mm,130 mm\r\nGAP 2 mm,0 mm\r\nDIRECTION 1\r\nCLS\r\n")
    assert text.endswith("PRINT 1,1\r\n") and '\\["]加急\\["]' in text
    assert large.decode("gb18030").startswith("SIZE 100 mm,150 mm\r\n")
    with FakeTsplPrinter() as printer:
        print_raw(printer, plain + moved, 2)
    assert printer.errors == []
    assert printer.size_mm == (76.0, 130.0) and len(printer.labels) == 2
    assert printer.barcodes == [[code], [code]]
    assert decode_barcodes(printer.labels[0]) == [code] and decode_barcodes(printer.labels[1]) == [code]
    texts = printer.texts[0]
    assert "中通快递" in texts and any("张三" in t and "13912345678" in t for t in texts)
    assert any(t.startswith("杭州 西湖 ") for t in texts)
    assert texts[-3:] == ["A12 白色 L ×1", '备注 "加急"', "批次 1/3"]
    assert not any("A12" in t for t in printer.texts[1])
    # offsets: 8 dots per mm, the bars themselves moved on the canvas
    (x0, y0), (x1, y1) = barcode_xy(plain), barcode_xy(moved)
    assert (x1 - x0, y1 - y0) == (16, 8)
    for label, (x, y) in zip(printer.labels, [(x0, y0), (x1, y1)]):
        row = [label.getpixel((i, y + 50)) for i in range(label.width)]
        assert row.index(0) == x
        assert label.getpixel((x, y - 1)) == 255 and label.getpixel((x, y)) == 0


def test_render_refuses_a_tampered_signature_and_other_commands(wb):
    with wb.client() as c:
        (m,) = waybill_get(c, request([dto([wb.orders[0]], "r1")]))
        with pytest.raises(PlatformError) as exc:
            cmdprint_render(c, render_request(m, tamper=True))
        assert exc.value.error_code == 30030
        with pytest.raises(BadRequest):
            cmdprint_render(c, {**render_request(m), "print_command_type": "CPCL"})
        # plain print data renders too, and "origin" comes back as text
        (p,) = waybill_get(c, request([dto([wb.orders[1]], "r2", plain=True)], encrypt_data=False))
        req = {**render_request(m), "cmd_encoding": "origin",
               "document": {"contents": [{"print_data": p["print_data"],
                                          "template_url": "https://file-link.pinduoduo.com/ZTO_std_100x150"}]}}
        data = cmdprint_render(c, req)
    assert data.startswith(b"SIZE 100 mm,150 mm\r\n") and p["waybill_code"].encode() in data


@pytest.mark.parametrize("api", ["pdd.waybill.search", "pdd.waybill.get", "pdd.waybill.cancel",
                                 "pdd.waybill.query.by.waybillcode", "pdd.cloudprint.stdtemplates.get",
                                 "pdd.cloudprint.cmdprint.render"])
def test_faults_on_every_waybill_api_are_retried_or_typed(wb, api):
    with wb.client() as c:
        a, b = waybill_get(c, request([dto([sn], f"f{i}") for i, sn in enumerate(wb.orders[:2])]))
        calls = {
            "pdd.waybill.search": lambda: waybill_search(c),
            "pdd.waybill.get": lambda: waybill_get(c, request([dto([wb.orders[5]], "f5")])),
            "pdd.waybill.cancel": lambda: waybill_cancel(c, "ZTO", a["waybill_code"]),
            "pdd.waybill.query.by.waybillcode": lambda: waybill_query(c, [{"waybill_code": b["waybill_code"]}]),
            "pdd.cloudprint.stdtemplates.get": lambda: standard_templates(c, "ZTO"),
            "pdd.cloudprint.cmdprint.render": lambda: cmdprint_render(c, render_request(b)),
        }
        # faults before the work are retried; answers lost after it too, except a cancel's (below)
        after_work = [] if api == "pdd.waybill.cancel" else [("truncated", api), ("reset", api)]
        wb.platform.faults.queue.extend([("busy", api), ("http500", api), *after_work])
        before = wb.platform.requests[api]
        assert calls[api]()
        assert wb.platform.requests[api] - before == 3 + len(after_work)
        if api == "pdd.waybill.cancel":
            # a cancel whose answer was lost: the retry hears "already cancelled" (30021)
            wb.platform.faults.queue.append(("truncated", api))
            with pytest.raises(PlatformError) as exc:
                waybill_cancel(c, "ZTO", b["waybill_code"])
            assert exc.value.error_code == 30021
            assert wb.platform.waybill_state(wb.mall)[b["waybill_code"]]["state"] == "cancelled"
        c.retry = type(FAST_RETRY)(attempts=1)
        wb.platform.faults.queue.append(("http500", api))
        with pytest.raises(TransportError):
            calls[api]()
    assert wb.platform.balance(wb.mall, "ZTO")["allocated_quantity"] == (3 if api == "pdd.waybill.get" else 2)


def test_save_and_load_keep_shops_tokens_balances_and_numbers(wb, tmp_path):
    with wb.client() as c:
        modules = waybill_get(c, request([dto([sn], f"s{i}") for i, sn in enumerate(wb.orders[:4])]))
        waybill_cancel(c, "ZTO", modules[0]["waybill_code"])
    path = tmp_path / "platform.json"
    wb.platform.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = MockPlatform.load(path, seed=5)
    mall = loaded.malls[wb.mall.mall_id]
    assert (mall.name, mall.access_token, mall.refresh_token) == (wb.mall.name, wb.mall.access_token,
                                                                 wb.mall.refresh_token)
    assert loaded.truth(mall) == wb.platform.truth(wb.mall)
    assert loaded.tokens[mall.access_token] == wb.platform.tokens[wb.mall.access_token]
    assert loaded.refresh_tokens == wb.platform.refresh_tokens
    assert loaded.balance(mall, "ZTO") == wb.platform.balance(wb.mall, "ZTO")
    assert loaded.waybill_state(mall) == wb.platform.waybill_state(wb.mall)
    # the loaded platform serves the same shop: the old token works, numbers continue uniquely
    with MockServer(loaded) as server, PddClient(client_id=loaded.client_id, client_secret=loaded.client_secret,
                                                 access_token=mall.access_token, gateway_url=server.url,
                                                 retry=FAST_RETRY, timeout=2) as c:
        (again,) = waybill_get(c, request([dto([wb.orders[1]], "s1")]))
        (new,) = waybill_get(c, request([dto([wb.orders[9]], "s9")]))
        (same_parcel,) = waybill_get(c, request([dto([wb.orders[2]], "another-id", "s2")]))
    assert again == modules[1]
    assert same_parcel["waybill_code"] == modules[2]["waybill_code"]
    assert new["waybill_code"] not in {m["waybill_code"] for m in modules}
    assert loaded.balance(mall, "ZTO")["quantity"] == 96
