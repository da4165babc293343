"""The real app's background work: sync from the loopback platform while the desk is open, and
importing a file from the desk (Ctrl+O)."""

import csv

import pytest

from dadan.core.models import Order, Shop, SyncRun
from tests.desk_helpers import NOW, anyio_backend, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_background_sync_fills_the_desk(tmp_path):
    from dadan.core.platform.loopback.demo import run_demo_platform
    from dadan.tui.app import DadanApp

    ctx = make_ctx(tmp_path, 0)
    demo = run_demo_platform(ctx, orders=60, seed=3, change_every=1000)
    try:
        app = DadanApp(ctx, background=True)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(300):  # the run is recorded just after its last window commits
                await pilot.pause(0.1)
                if Order.select().count() == 60 and SyncRun.select().where(SyncRun.ok == True).exists():  # noqa: E712
                    break
            assert Order.select().count() == 60
            assert SyncRun.select().where(SyncRun.ok == True).exists()  # noqa: E712
            await pilot.press("f5")  # sync now: accepted, no error
            await wait_idle(pilot)
        assert app.scheduler is not None
    finally:
        demo.stop()


async def test_f5_without_shop_credentials_says_why(tmp_path):
    """F5 with only an import-only shop: the notification gives the reason `dadan sync` gives, not
    "Sync started for 0 shop(s)" (issue #14 item 5)."""
    from dadan.core.platform.shops import resolve_shop, why_nothing_syncs
    from dadan.tui.app import DadanApp

    ctx = make_ctx(tmp_path, 0)
    resolve_shop("imports", create=True)
    reason = why_nothing_syncs(ctx.paths)
    assert reason and "no shop has platform credentials" in reason
    app = DadanApp(ctx, background=True)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.scheduler is not None:
                break
        await pilot.press("f5")
        await wait_idle(pilot)
        said = [str(n.message) for n in app._notifications]
    assert reason in said, said
    assert not any("Sync started for 0" in m for m in said)


async def test_ctrl_o_imports_a_file(tmp_path):
    from dadan.tui.app import DadanApp
    from dadan.tui.screens.import_screen import ImportScreen
    from dadan.tui.widgets.desk_prompt import DeskPrompt

    ctx = make_ctx(tmp_path, 0)
    path = tmp_path / "orders.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["订单号", "订单状态", "商品", "商品数量(件)", "用户实付金额(元)", "商家编码-规格维度", "商品规格", "支付时间"])
        w.writerow(["\t261120-123456789012345", "待发货", "保温杯", "2", "91.80", "C21", "星空蓝", "2026-11-20 10:00:00"])
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_idle(pilot)
        await pilot.press("ctrl+o")
        await wait_idle(pilot)
        for ch in str(path):
            await pilot.press(ch)
        await pilot.press("enter")
        await wait_idle(pilot)
        # no shop yet: the desk asks for the one to create instead of inventing it
        assert isinstance(app.screen, DeskPrompt) and not isinstance(app.screen, ImportScreen)
        assert Shop.select().count() == 0
        await pilot.press("enter")  # the offered name, confirmed
        await wait_idle(pilot)
        for _ in range(50):
            await pilot.pause(0.1)
            if isinstance(app.screen, ImportScreen) and app.screen.plan is not None:
                break
        assert isinstance(app.screen, ImportScreen)
        assert [s.name for s in Shop.select()] == ["Default shop"]  # made for the import, as confirmed
        await pilot.press("i")
        for _ in range(50):
            await pilot.pause(0.1)
            if Order.select().count():
                break
    o = Order.get(Order.order_sn == "261120-123456789012345")
    assert o.pay_amount_fen == 9180 and o.items_summary == "C21 星空蓝 ×2"
