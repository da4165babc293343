"""The desk screens inside the real app: filter -> select -> print -> progress -> done, and the
F-keys that open the desk screens."""

import asyncio

import pytest

from dadan.core.models import Order, PrintJob
from tests.desk_helpers import NOW, anyio_backend, make_ctx, numbered, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


def _app(ctx):
    from dadan.tui.app import DadanApp

    return DadanApp(ctx, now=NOW)


async def test_filter_select_print_in_the_app(tmp_path):
    ctx = make_ctx(tmp_path, 150)
    query = "status:pending printed:no exception:none province:广东"
    want = {o.id for o in Order.select().where(Order.province.startswith("广东"), Order.print_count == 0,
                                               Order.exception_flags == 0, Order.order_status == 1,
                                               Order.state.in_(["new", "printed"]))}
    numbered(want)  # a waybill template prints an order only with a number (no courier account here)
    assert want
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        home = app.screen
        assert not home.query_one("#print-progress").display  # idle: the row goes to the table
        home.set_filter(query)
        await wait_idle(pilot)
        await pilot.pause(0.3)
        await pilot.press("a")  # select all matching
        await pilot.press("p")
        await wait_idle(pilot)
        dialog = app.screen
        assert f"Will print: {len(want)}" in str(dialog.query_one("#pd-body").content)
        await pilot.press("enter")
        await wait_idle(pilot)
        assert app.screen is home
        job = PrintJob.select().order_by(PrintJob.id.desc()).first()
        for _ in range(100):
            await pilot.pause(0.1)
            if PrintJob.get_by_id(job.id).state == "done":
                break
        assert PrintJob.get_by_id(job.id).state == "done"
        await pilot.pause(0.8)
        assert f"Job #{job.id} done {len(want)}/{len(want)}" in str(home.query_one("#print-progress").content)
    assert all(o.print_count == 1 for o in Order.select().where(Order.id.in_(list(want))))


async def test_function_keys_open_desk_screens(tmp_path):
    from dadan.tui.screens.exceptions import ExceptionScreen
    from dadan.tui.screens.help import HelpScreen
    from dadan.tui.screens.print_queue import PrintQueueScreen
    from dadan.tui.screens.scan import ScanScreen

    ctx = make_ctx(tmp_path, 30)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        for key, cls in (("f1", HelpScreen), ("f3", ExceptionScreen), ("f4", PrintQueueScreen), ("f2", ScanScreen)):
            await pilot.press(key)
            await wait_idle(pilot)
            assert isinstance(app.screen, cls), key
            await pilot.press("escape")
            await wait_idle(pilot)
        await pilot.press("enter")  # the row under the cursor opens its detail
        await wait_idle(pilot)
        from dadan.tui.screens.detail import DetailScreen

        assert isinstance(app.screen, DetailScreen)
    _ = asyncio


def _failing_screen(error: BaseException):
    from textual import work

    from dadan.tui.widgets.desk_base import DeskScreen

    class Failing(DeskScreen):
        def on_mount(self) -> None:
            self.fail()

        @work(thread=True, exit_on_error=False, group="test-fail")
        def fail(self) -> None:
            raise error

    return Failing()


async def test_the_app_shows_a_failing_workers_dadan_error_as_a_modal_with_its_title(tmp_path):
    from dadan.printers.errors import PrinterStatusError
    from dadan.tui.widgets.error_modal import ErrorModal

    ctx = make_ctx(tmp_path, 5, lang="zh")
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(_failing_screen(PrinterStatusError("缺纸")))
        await wait_idle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert (app.screen.error_title, app.screen.error_message) == ("打印机未就绪", "缺纸")
        assert sum(isinstance(s, ErrorModal) for s in app.screen_stack) == 1  # one handler, one modal
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorModal)


async def test_the_app_shows_anything_else_as_an_unexpected_error_without_a_traceback(tmp_path):
    from dadan.tui.widgets.error_modal import ErrorModal

    ctx = make_ctx(tmp_path, 5)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(_failing_screen(ValueError("boom")))
        await wait_idle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert (app.screen.error_title, app.screen.error_message) == ("Unexpected error", "ValueError: boom")


async def test_a_known_keymap_id_is_applied_when_the_app_starts(tmp_path):
    ctx = make_ctx(tmp_path, 5)
    ctx.settings.ui.keymap = {"help": "f12"}
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await pilot.press("f12")
        await wait_idle(pilot)
        from dadan.tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)


async def test_ticks_are_spent_when_their_job_is_queued_and_kept_when_the_dialog_is_cancelled(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        home = app.screen
        numbered([r.id for r in home.table.rows_shown[:2]])  # printable: each has a number
        await pilot.press("space", "space")
        await wait_idle(pilot)
        assert home.selection.count() == 2
        await pilot.press("p")
        await wait_idle(pilot)
        await pilot.press("escape")  # cancelled: the ticks stay
        await wait_idle(pilot)
        assert app.screen is home and home.selection.count() == 2
        await pilot.press("p")
        await wait_idle(pilot)
        await pilot.press("enter")  # queued: the ticked orders are on their way, their ticks are spent
        await wait_idle(pilot)
        assert app.screen is home and home.selection.empty
        assert PrintJob.select().order_by(PrintJob.id.desc()).first().total == 2


async def test_an_order_detail_printed_from_reads_itself_again_when_the_job_ends(tmp_path):
    """``p`` on an order's detail prints it; when the job ends the detail shows it printed
    (it stayed at "Printed 0×" until another dialog was opened and closed)."""
    from dadan.tui.screens.detail import DetailScreen

    ctx = make_ctx(tmp_path, 60)
    oid = Order.select().where(Order.print_count == 0, Order.exception_flags == 0, Order.order_status == 1,
                               Order.state == "new").order_by(Order.id).first().id
    numbered([oid])
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(DetailScreen(oid))
        await wait_idle(pilot)
        detail = app.screen
        assert "Printed 0×" in str(detail.query_one("#detail-main").content)
        await pilot.press("p")
        await wait_idle(pilot)
        await pilot.press("enter")
        await wait_idle(pilot)
        assert app.screen is detail
        for _ in range(100):
            await pilot.pause(0.1)
            if "Printed 1×" in str(detail.query_one("#detail-main").content):
                break
        assert Order.get_by_id(oid).print_count == 1
        assert "Printed 1×" in str(detail.query_one("#detail-main").content)


async def test_the_progress_line_follows_a_job_queued_from_another_screen(tmp_path):
    """The order screen's progress line showed the job printed from it; a job then printed from
    an order's detail is the one it shows once back (it kept the first one)."""
    from dadan.tui.screens.detail import DetailScreen

    ctx = make_ctx(tmp_path, 60)
    first, second = [o.id for o in Order.select().where(Order.print_count == 0, Order.exception_flags == 0,
                                                          Order.order_status == 1, Order.state == "new")
                     .order_by(Order.id).limit(2)]
    numbered([first, second])
    app = _app(ctx)

    async def printed(oid: int) -> int:
        job = PrintJob.select().order_by(PrintJob.id.desc()).first()
        for _ in range(100):
            await pilot.pause(0.1)
            if Order.get_by_id(oid).print_count == 1 and job is not None:
                break
            job = PrintJob.select().order_by(PrintJob.id.desc()).first()
        return job.id

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        home = app.screen
        home.set_filter(f"sn:{Order.get_by_id(first).order_sn}")
        await wait_idle(pilot)
        await pilot.pause(0.3)
        await pilot.press("p")
        await wait_idle(pilot)
        await pilot.press("enter")
        one = await printed(first)
        app.push_screen(DetailScreen(second))
        await wait_idle(pilot)
        await pilot.press("p")
        await wait_idle(pilot)
        await pilot.press("enter")
        two = await printed(second)
        assert two != one
        await pilot.press("escape")
        await wait_idle(pilot)
        await pilot.pause(0.8)
        assert app.screen is home and f"Job #{two} " in str(home.query_one("#print-progress").content)
