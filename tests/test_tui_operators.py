"""Operators at the desk (the real app): it opens signed in as the terminal's last operator, or
asks; an operator without "release" pressing release on an exception gets the one-line refusal
and nothing is released; F12 switches operator (name, PIN) and the audit names whoever acts;
idle sign-out asks again."""

import time

import pytest

from dadan.core import operators as ops
from dadan.core.models import AuditEvent, Order
from dadan.core.orders.exception_groups import group_counts
from dadan.tui.screens.orders import OrdersScreen
from dadan.tui.widgets.error_modal import ErrorModal
from dadan.tui.widgets.sign_in import FirstAdminModal, SignInModal
from dadan.tui.widgets.status_line import StatusLine
from tests.desk_helpers import NOW, anyio_backend, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


@pytest.fixture
def staff(tmp_path, monkeypatch):
    monkeypatch.setenv("DADAN_TERMINAL", "desk-7")
    ctx = make_ctx(tmp_path, 200)
    ops.create_first_admin("boss", "9999")
    ops.add_operator("amy", "1234", "operator", actor="boss")
    ops.add_operator("wang", "4321", "warehouse", actor="boss")
    return ctx


def _app(ctx):
    from dadan.tui.app import DadanApp

    return DadanApp(ctx, now=NOW)


async def test_refused_release_then_switch_operator_with_f12(staff):
    ops.sign_in("amy", "1234", terminal="desk-7")  # amy was last at this terminal
    assert group_counts(now=NOW)["refund"] >= 2
    app = _app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert staff.operator == "amy"
        line = app.screen.query_one(StatusLine)
        assert "op amy" in str(line.render())
        await pilot.press("f3")
        await wait_idle(pilot)
        scr = app.screen
        first = scr.orders[0]
        await pilot.press("tab", "n")  # a note: anyone may; the audit names amy
        await pilot.pause()
        await pilot.press(*"call buyer", "enter")
        await wait_idle(pilot)
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"buyer cancelled", "enter")
        await wait_idle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert app.screen.error_message == "amy (operator) may not hold or release exceptions"
        assert Order.get_by_id(first.id).exception_flags == first.exception_flags
        denied = AuditEvent.get(AuditEvent.action == "denied")
        assert (denied.actor, denied.target) == ("amy", "release")
        await pilot.press("escape")
        # F12: wang, wrong PIN first, then the right one
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, SignInModal)
        await pilot.press(*"wang", "enter", *"0000", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SignInModal)
        assert "wrong name or PIN" in str(app.screen.query_one("#signin-error").render())
        await pilot.press(*"4321", "enter")
        await wait_idle(pilot)
        assert not isinstance(app.screen, SignInModal) and staff.operator == "wang"
        assert "op wang" in str(app.screen_stack[1].query_one(StatusLine).render())
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"buyer cancelled", "enter")
        await wait_idle(pilot)
        assert not isinstance(app.screen, ErrorModal)
    assert Order.get_by_id(first.id).exception_flags != first.exception_flags
    assert AuditEvent.get(AuditEvent.action == "note", AuditEvent.order == first.id).actor == "amy"
    assert AuditEvent.get(AuditEvent.action == "release", AuditEvent.order == first.id).actor == "wang"
    assert ops.last_operator("desk-7").name == "wang"  # the next desk here opens as wang
    wrong = AuditEvent.get(AuditEvent.action == "pin-wrong")
    assert wrong.actor == "wang" and wrong.target == "desk-7"


async def test_a_new_terminal_asks_and_idle_signs_out(staff):
    staff.settings.operators.idle_sign_out_minutes = 5
    app = _app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert isinstance(app.screen, SignInModal)  # nobody was signed in at desk-7
        assert staff.operator == ""
        await pilot.press(*"amy", "enter", *"1234", "enter")
        await wait_idle(pilot, 5)
        assert staff.operator == "amy"
        orders = next(s for s in app.screen_stack if isinstance(s, OrdersScreen))
        assert orders.table.state.page  # amy's orders shown once she signed in
        assert not app.idle_sign_out(time.monotonic() + 60)  # a minute: still signed in
        assert app.idle_sign_out(time.monotonic() + 301)
        await wait_idle(pilot, 5)
        assert isinstance(app.screen, SignInModal) and staff.operator == ""
        # the list behind the sign-in box is read again: nobody signed in may view it
        assert not orders.table.state.page and "no permission to view orders" in orders.table.describe()
        assert ops.last_operator("desk-7") is None  # the next desk here asks too
    out = AuditEvent.get(AuditEvent.action == "sign-out")
    assert (out.actor, out.reason) == ("amy", "idle")


async def test_open_mode_desk_is_unchanged(tmp_path, monkeypatch):
    ctx = make_ctx(tmp_path, 60)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert ctx.operator == "tester" and app.operator_text == ""
        await pilot.press("f12")  # offers to create the administrator
        await wait_idle(pilot)
        assert isinstance(app.screen, FirstAdminModal)
        await pilot.press("escape")
        await wait_idle(pilot)
        assert not isinstance(app.screen, (SignInModal, FirstAdminModal)) and not ops.has_operators()
        await pilot.press("f1")
        await wait_idle(pilot)
        assert "dadan operators init" in str(app.screen.query_one("#help-operators").render())


async def test_a_new_warehouses_first_desk_creates_the_administrator(tmp_path, monkeypatch):
    """No operator and no order: the desk's first start asks for the administrator (name, PIN
    twice); a PIN typed differently the second time is refused; once created, the desk is signed
    in as them and the built-in roles exist. Esc puts it off once, and F12 asks again."""
    from dadan.core.db import open_database
    from dadan.core.operators.models import Operator, Role
    monkeypatch.setenv("DADAN_TERMINAL", "desk-1")
    ctx = make_ctx(tmp_path, 0)
    (ctx.paths.data_dir / ops.FIRST_ADMIN_PUT_OFF).unlink()  # a new warehouse's first desk
    open_database(ctx.settings.database_url or f"sqlite:///{ctx.paths.data_dir / 'dadan.db'}")
    assert not Order.select().exists()
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert isinstance(app.screen, FirstAdminModal)
        await pilot.press("escape")  # later
        await wait_idle(pilot)
        assert not isinstance(app.screen, FirstAdminModal) and not ops.has_operators()
        await pilot.press("f12")
        await wait_idle(pilot)
        assert isinstance(app.screen, FirstAdminModal)
        await pilot.press(*"老王", "enter", *"2580", "enter", *"2581", "enter")
        await wait_idle(pilot)
        assert "differ" in str(app.screen.query_one("#admin-error").render())
        await pilot.press(*"2580", "enter", *"2580", "enter")
        await wait_idle(pilot)
        assert not isinstance(app.screen, FirstAdminModal)
        assert ctx.operator == "老王" and app.operators_on
    assert Operator.get(Operator.name == "老王").role.name in {r.name for r in Role.select()}
    assert Role.select().count() == 4
    assert AuditEvent.select().where(AuditEvent.action == "sign-in", AuditEvent.actor == "老王").exists()
    # put off once: the next start does not ask (F12 does)
    assert ops.first_admin_put_off(ctx.paths.data_dir)


def _li_without_view() -> None:
    """li, of a custom role without "view orders" (ship only), signed in at this terminal."""
    ops.save_role("扫描员", ["ship"], actor="boss")
    ops.add_operator("li", "5555", "扫描员", actor="boss")
    ops.sign_in("li", "5555", terminal="desk-7")


async def test_an_operator_without_view_sees_no_orders(staff):
    """A custom role without "view orders": the order list shows no row and says why; an
    order's detail is refused the same way."""
    _li_without_view()
    app = _app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert staff.operator == "li"
        table = app.screen.table
        assert "no orders shown: no permission to view orders" in table.describe()
        assert "li may not view orders" in str(app.screen.query_one("#filter-error").render())
        assert not table.state.page
    from dadan.core.operators.permissions import PermissionDenied
    from dadan.core.orders.detail import order_detail

    with pytest.raises(PermissionDenied, match="li may not view orders"):
        order_detail(Order.select().first().id, actor="li")
    assert order_detail(Order.select().first().id, actor="amy").order


async def test_an_order_that_may_not_be_shown_is_refused_once_and_closed(staff):
    """Nobody signed in (or a role without "view orders") opening an order: the refusal is said
    once and the detail closes. An error box over the detail brought the refusal back every
    time it closed (the detail reloads when it comes back), and only Ctrl+Q got out."""
    from dadan.tui.screens.detail import DetailScreen
    from dadan.tui.widgets.error_modal import ErrorModal

    _li_without_view()
    app = _app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        home = app.screen
        app.push_screen(DetailScreen(Order.select().first().id))
        await wait_idle(pilot, 5)
        assert app.screen is home and not any(isinstance(s, (ErrorModal, DetailScreen)) for s in app.screen_stack)
        assert [str(n.message) for n in app._notifications] == ["li may not view orders"]
