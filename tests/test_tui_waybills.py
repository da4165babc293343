"""The desk's e-waybill parts on a real SQLite file: the print dialog (courier, numbers to take,
balances, the low-balance warning, orders without a number), the status line's balances, the
accounts screen (branch, address, default courier), the "number to recycle" group and one-key
ship (一键发货)."""

import json

import pytest

from dadan.core.db import write
from dadan.core.models import (
    AuditEvent,
    Order,
    PrintJob,
    Shipment,
    Shop,
    Waybill,
    WaybillAccount,
    WaybillBranch,
    WaybillOrder,
)
from dadan.core.waybills import accounts
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio

ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "余杭区", "detail": "仓前街道 1 号"}


def subscribe(shop: Shop, wp: str, branch: str, quantity: int, *, addresses: int = 1, use: bool = True) -> None:
    """A cached branch (as pdd.waybill.search lists it) and, with ``use``, the operator's choice."""
    with write():
        WaybillBranch.create(shop=shop.id, wp_code=wp, branch_code=branch, branch_name=f"{branch} 网点",
                             quantity=quantity, addresses=json.dumps([dict(ADDRESS, detail=f"{i} 号")
                                                                      for i in range(1, addresses + 1)]))
    if use:
        accounts.use(shop, wp, branch, actor="tester")


def unnumbered(shop: Shop, n: int) -> list[int]:
    """``n`` printable orders (pending, unblocked, never printed) without a tracking number."""
    ids = [o.id for o in Order.select().where(Order.shop == shop.id, Order.order_status == 1, Order.exception_flags == 0,
                                              Order.print_count == 0).order_by(Order.id).limit(n)]
    assert len(ids) == n
    with write():
        Order.update(tracking_number="", logistics_id=None).where(Order.id.in_(ids)).execute()
    return ids


def parcel(order: Order, code: str, state: str, wp: str = "ZTO") -> Waybill:
    with write():
        w = Waybill.create(shop=order.shop_id, wp_code=wp, object_id=f"obj-{order.id}", package_id=str(order.id),
                           code=code, state=state)
        WaybillOrder.insert(waybill=w.id, order=order.id).execute()
        Order.update(tracking_number=code, logistics_id=115).where(Order.id == order.id).execute()
    return w


def body(app) -> str:
    return str(app.screen.query_one("#pd-body").content)


async def test_print_dialog_numbers_balance_warning_courier_and_orders_without_a_number(tmp_path):
    from dadan.tui.screens.print_dialog import PrintDialog

    ctx = make_ctx(tmp_path, 80)
    shop = Shop.select().first()
    subscribe(shop, "ZTO", "Z01", 5)  # the shop's first account: its default courier
    subscribe(shop, "YTO", "Y01", 812)
    ids = unnumbered(shop, 8)
    with write():  # two orders of a shop without any e-waybill account
        other = Shop.create(name="没有面单的店", client_id="x")
        Order.update(shop=other.id).where(Order.id.in_(ids[6:])).execute()
    app = harness(ctx)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog(ids), results.append)
        await wait_idle(pilot)
        text = body(app)
        assert "Courier: each shop's default" in text
        assert "Numbers to take: 6" in text and "Will print: 6" in text
        assert f"{shop.name} · ZTO Express balance 5 (takes 6)" in text
        assert f"! ZTO Express balance of '{shop.name}' is 5, below the 6 numbers this job takes" in text
        assert "Without a number (skipped): 2 — no number and no courier account" in text
        assert not PrintJob.select().exists()  # nothing taken, nothing queued before Enter
        await pilot.press("c")  # each shop's default -> YTO (the couriers with an account, sorted)
        await wait_idle(pilot)
        text = body(app)
        assert "Courier: YTO Express (YTO)" in text and "YTO Express balance 812 (takes 6)" in text
        assert "below the" not in text and "Without a number (skipped): 2" in text
        await pilot.press("enter")
        await wait_idle(pilot)
    assert results and results[0]
    job = PrintJob.get_by_id(results[0])
    assert job.courier == "YTO" and job.total == 6


async def test_courier_key_cycles_back_to_each_shops_default(tmp_path):
    from dadan.tui.screens.print_dialog import PrintDialog

    ctx = make_ctx(tmp_path, 40)
    shop = Shop.select().first()
    subscribe(shop, "ZTO", "Z01", 100)
    ids = unnumbered(shop, 2)
    app = harness(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog(ids))
        await wait_idle(pilot)
        seen = []
        for _ in range(2):
            await pilot.press("c")
            await wait_idle(pilot)
            seen.append(app.screen.courier)
        assert seen == ["ZTO", None]
        assert "Numbers to take: 2" in body(app) and "! " not in body(app)


async def test_status_line_shows_default_balances_and_gives_way_before_the_counts(tmp_path):
    from dadan.core.db import connection
    from dadan.tui.app import DadanApp
    from dadan.tui.widgets.status_line import StatusInfo, fit_status, read_status, status_parts
    from tests.desk_helpers import NOW

    ctx = make_ctx(tmp_path, 20)
    shop = Shop.select().first()
    subscribe(shop, "ZTO", "Z01", 30)
    subscribe(shop, "YTO", "Y01", 812)  # not the default: not on the line
    with connection():
        info = read_status(ctx.settings)
    assert info.balances == (("ZTO", 30),)
    crowded = StatusInfo(printer="a-rather-long-printer-name", print_active="1234/5000", ship_pending=12345,
                         ship_failed=67, print_problem="out of paper", balances=(("ZTO", 30), ("YTO", 8120)))
    line = fit_status(status_parts(crowded, ctx.settings.timezone), 80)
    assert "to confirm 12345" in line and "!failed 67" in line and "printing 1234/5000" in line
    assert "!ZTO bal 30" in line and "YTO bal" not in line  # the low one (marked !) stays longest
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot, 5)
        shown = app.screen.query_one("#status-line").render()
        assert "!ZTO bal 30" in str(shown)
        low = [s for s in shown.spans if str(shown)[s.start:s.end] == "!ZTO bal 30"]
        assert low and "red" in str(low[0].style)


async def test_accounts_screen_chooses_branch_address_and_default(tmp_path):
    from dadan.tui.screens.settings import SettingsScreen

    ctx = make_ctx(tmp_path, 10)
    shop = Shop.select().first()
    subscribe(shop, "YTO", "Y01", 812, use=False)
    subscribe(shop, "ZTO", "Z01", 40, addresses=3, use=False)
    subscribe(shop, "ZTO", "Z02", 7, use=False)
    app = harness(ctx, SettingsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert "Y01 Y01 网点 balance 812, 1 address(es)" in str(app.screen.query_one("#set-waybills").content)
        await pilot.press("f9")
        await wait_idle(pilot)
        scr = app.screen
        assert [b.branch_code for b in scr.branches] == ["Y01", "Z01", "Z02"]
        await pilot.press("r")  # no shop has credentials: one line says so, the cache stays
        await wait_idle(pilot)
        assert "failed: no shop has platform credentials" in str(scr.query_one("#wa-status").content)
        assert WaybillBranch.select().count() == 3
        await pilot.press("enter")  # YTO at Y01: one address, chosen at once; the shop's first: default
        await wait_idle(pilot)
        await pilot.press("down", "d")  # ZTO has no chosen branch yet: refused, in words
        await wait_idle(pilot)
        assert "choose a branch for ZTO first" in str(scr.query_one("#wa-status").content)
        await pilot.press("enter")  # Z01 has three addresses: which one?
        await wait_idle(pilot)
        await pilot.press("backspace", "3", "enter")
        await wait_idle(pilot)
        await pilot.press("d")
        await wait_idle(pilot)
        assert "ZTO Express is now the default courier" in str(scr.query_one("#wa-status").content)
        marks = [str(scr.query_one("#wa-table").get_row_at(i)[0]) for i in range(3)]
        assert marks == ["✓", "*", " "]
        await pilot.press("escape")
        await wait_idle(pilot)
    accs = {a.wp_code: a for a in WaybillAccount.select()}
    assert accs["ZTO"].branch_code == "Z01" and accs["ZTO"].address_no == 3 and accs["ZTO"].is_default
    assert accs["YTO"].branch_code == "Y01" and not accs["YTO"].is_default
    assert json.loads(accs["ZTO"].address)["detail"] == "3 号"
    assert AuditEvent.select().where(AuditEvent.action == "waybill-account").count() == 3


async def test_confirm_on_setting_is_saved(tmp_path):
    from dadan.core.config import load_settings
    from dadan.tui.screens.settings import SettingsScreen

    ctx = make_ctx(tmp_path, 5)
    app = harness(ctx, SettingsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.screen.query_one("#set-confirm_on").value = "bogus"
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
        assert ctx.settings.waybills.confirm_on == "scan"  # refused, nothing saved
        app.screen.query_one("#set-confirm_on").value = "print"
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
    assert load_settings(ctx.paths).waybills.confirm_on == "print"


async def test_recycle_group_lists_live_numbers_and_a_failed_cancel_stays_visible(tmp_path):
    from dadan.tui.screens.exceptions import ExceptionScreen

    ctx = make_ctx(tmp_path, 60)
    order = Order.select().where(Order.exception_flags != 0, Order.order_status == 1,
                                 Order.state.in_(("new", "printed"))).order_by(Order.id).first()
    flags = order.exception_flags
    w = parcel(order, "78123456789012", "live")
    app = harness(ctx, lambda: ExceptionScreen("recycle"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot, 5)
        scr = app.screen
        assert [o.id for o in scr.orders] == [order.id]
        row = [str(c) for c in scr.query_one("#exc-table").get_row_at(0)]
        assert row[1].strip() == order.order_sn and row[2].strip() == "78123456789012"
        await pilot.press("tab")  # the orders
        await pilot.press("l")  # release clears nothing here: refused in words
        await wait_idle(pilot)
        assert Order.get_by_id(order.id).exception_flags == flags
        await pilot.press("x")
        await wait_idle(pilot)
        await pilot.press(*"refund", "enter")
        await wait_idle(pilot, 5)
        status = str(scr.query_one("#exc-status").content)
        assert status.startswith("0 recycled, 1 failed: shop") and "has no credentials" in status
        row = [str(c) for c in scr.query_one("#exc-table").get_row_at(0)]
        assert row[2].strip() == "78123456789012" and row[3].strip().startswith("✗ shop")
    w = Waybill.get_by_id(w.id)
    assert w.state == "live" and "has no credentials" in w.cancel_error
    assert Order.get_by_id(order.id).tracking_number == "78123456789012"
    assert AuditEvent.select().where(AuditEvent.action == "waybill-cancel-failed").count() == 1


async def test_one_key_ship_ships_printed_parcels_of_the_view_and_skips_a_blocked_one(tmp_path):
    from dadan.tui.app import DadanApp
    from tests.desk_helpers import NOW

    ctx = make_ctx(tmp_path, 80)
    good = Order.select().where(Order.order_status == 1, Order.exception_flags == 0).order_by(Order.id).first()
    bad = Order.select().where(Order.order_status == 1, Order.exception_flags != 0).order_by(Order.id).first()
    wg = parcel(good, "78123456789011", "printed")
    parcel(bad, "78123456789022", "printed")
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot, 5)
        app.screen.set_filter("waybill:printed")
        await wait_idle(pilot, 5)
        await pilot.press("ctrl+k")
        await wait_idle(pilot)
        assert "Ship 2 printed parcel(s) now?" in str(app.screen.query_one(".confirm-title").content)
        assert not Shipment.select().exists()  # nothing before the answer
        await pilot.press("enter")
        await wait_idle(pilot, 5)
        said = [str(n.message) for n in app._notifications]
        assert any(m.startswith(f"1 shipped, 1 skipped: {bad.order_sn} ") for m in said), said
    ship = Shipment.get(Shipment.order == good.id)
    assert ship.tracking_number == "78123456789011" and ship.state == "pending"
    assert Order.get_by_id(good.id).state == "shipped"
    assert not Shipment.select().where(Shipment.order == bad.id).exists()
    assert Waybill.get_by_id(wg.id).state in ("printed", "shipped")


def one_buyer(ids: list[int]) -> None:
    """These orders become one buyer's, to one address (one receiver key)."""
    with write():
        Order.update(open_address_id="oa-test-buyer").where(Order.id.in_(ids)).execute()


@pytest.mark.parametrize("mode", ["ask", "auto", "never"])
async def test_print_dialog_says_how_many_parcels_and_m_switches_merging(tmp_path, mode):
    from dadan.tui.screens.print_dialog import PrintDialog

    ctx = make_ctx(tmp_path, 80)
    ctx.settings.packing.merge = mode
    shop = Shop.select().first()
    subscribe(shop, "ZTO", "Z01", 500)
    ids = unnumbered(shop, 8)
    with write():
        Order.update(open_address_id="").where(Order.id.in_(ids)).execute()
    one_buyer(ids[:3])
    one_buyer_two = ids[3:5]
    with write():
        Order.update(open_address_id="oa-test-other").where(Order.id.in_(one_buyer_two)).execute()
    app = harness(ctx)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog(ids), results.append)
        await wait_idle(pilot)
        text = body(app)
        if mode == "never":
            assert "Will print: 8" in text and "Not merged: 3 orders could ride" in text
            await pilot.press("m")  # merging is off by setting: the key only rings
            await wait_idle(pilot)
            assert "Will print: 8" in body(app)
        else:
            assert "Will print: 5" in text and "Merge: 8 orders in 5 parcels (m: do not merge)" in text
            assert "Numbers to take: 5" in text
            await pilot.press("m")
            await wait_idle(pilot)
            text = body(app)
            assert "Will print: 8" in text and "Not merged: 3 orders could ride" in text
            await pilot.press("m")
            await wait_idle(pilot)
            assert "8 orders in 5 parcels" in body(app)
        await pilot.press("enter")
        await wait_idle(pilot)
    assert results and results[0]
    job = PrintJob.get_by_id(results[0])
    assert job.total == (8 if mode == "never" else 5)
    merged = {w.id: [link.order_id for link in w.links] for w in Waybill.select() if len(list(w.links)) > 1}
    assert sorted(map(sorted, merged.values())) == ([] if mode == "never" else [sorted(ids[:3]), sorted(ids[3:5])])


async def test_print_dialog_merge_line_at_80x24_in_chinese(tmp_path):
    from dadan.tui.screens.print_dialog import PrintDialog

    ctx = make_ctx(tmp_path, 80, lang="zh")
    shop = Shop.select().first()
    subscribe(shop, "ZTO", "Z01", 500)
    ids = unnumbered(shop, 4)
    one_buyer(ids[:3])
    app = harness(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog(ids))
        await wait_idle(pilot)
        assert "合单：4 单合为 2 个包裹（按 m 不合单）" in body(app) and "将打印：2 张" in body(app)


async def test_split_from_the_order_detail_and_its_parcels_shown(tmp_path):
    """``s`` on the order's detail splits it (the typed lines in the first parcel, the rest in a
    second); the detail lists the parcels and what each holds; ``undo`` undoes it."""
    from dadan.core.models import OrderItem
    from dadan.core.waybills.split import split_parcels
    from dadan.tui.screens.detail import DetailScreen

    ctx = make_ctx(tmp_path, 80)
    shop = Shop.select().first()
    subscribe(shop, "ZTO", "Z01", 50)
    multi = [o.id for o in Order.select().where(Order.order_status == 1, Order.exception_flags == 0,
                                                 Order.print_count == 0) if o.items.count() >= 2]
    oid = multi[0]
    with write():
        Order.update(tracking_number="", logistics_id=None).where(Order.id == oid).execute()
    first = OrderItem.select().where(OrderItem.order == oid).order_by(OrderItem.position).first()
    code = first.outer_id or first.sku_id
    app = harness(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(DetailScreen(oid))
        await wait_idle(pilot)
        await pilot.press("s")
        await wait_idle(pilot)
        await pilot.press(*f"{code}Q*{first.goods_count}", "enter")  # a slip: no such item
        await wait_idle(pilot)
        prompt = app.screen  # the prompt again, with what was typed and why it was refused
        assert prompt.query_one("#prompt-input").value == f"{code}Q*{first.goods_count}"
        assert f"has no item {code}Q" in str(prompt.query_one("#prompt-error").render())
        assert split_parcels([oid]) == {}
        prompt.query_one("#prompt-input").value = f"{code}*{first.goods_count}"
        await pilot.press("enter")
        await wait_idle(pilot)
        parcels = split_parcels([oid])[oid]
        assert len(parcels) == 2
        text = str(app.screen.query_one("#detail-items").content)
        assert "Parcels" in text and f"holds {code}×{first.goods_count}" in text and "no number yet" in text
        await pilot.press("s")
        await wait_idle(pilot)
        await pilot.press(*"undo", "enter")
        await wait_idle(pilot)
        assert split_parcels([oid]) == {}
        assert "closed" in str(app.screen.query_one("#detail-items").content)  # closed parcels stay listed


async def test_merge_and_on_packed_settings_are_saved(tmp_path):
    """Settings (F9): the packing bench's merge and on-packed choices; a word outside the choices
    is refused and nothing is saved."""
    from dadan.core.config import load_settings
    from dadan.tui.screens.settings import SettingsScreen

    ctx = make_ctx(tmp_path, 5)
    app = harness(ctx, SettingsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert app.screen.query_one("#set-merge").value == "ask"
        app.screen.query_one("#set-merge").value = "sometimes"
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
        assert ctx.settings.packing.merge == "ask"  # refused, nothing saved
        app.screen.query_one("#set-merge").value = "never"
        app.screen.query_one("#set-on_packed").value = "print"
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
    saved = load_settings(ctx.paths)
    assert (saved.packing.merge, saved.packing.on_packed) == ("never", "print")
    assert ctx.settings.packing.merge == "never"
