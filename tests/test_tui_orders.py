"""The order screen at 100,000 orders: open, filter, sort, select across pages, page to the
end, remap a key; snapshots of a small fixed database at 80x24 and 120x40."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from dadan.core.config import Paths, Settings, UISettings
from dadan.core.context import Context
from dadan.core.db import open_database
from dadan.core.orders.listing import count, fetch_page
from dadan.core.orders.query import compile_query
from dadan.tui.app import DadanApp  # binding labels follow the language the app starts in (tui.relabel)
from dadan.tui.screens.orders import OrdersScreen

NOW = dt.datetime(2026, 11, 20, 4, 0, 0)  # naive UTC: 12:00 in Shanghai
HOTKEY_HOLD = 0.1  # digits and S wait out the scanner's burst window (ui.scan_gap_ms, 50 ms) first

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _build(path: Path, n: int, seed: int) -> Path:
    from dadan.core.demo import write_demo
    from dadan.core.orders.listing import ensure_statistics

    open_database(f"sqlite:///{path}")
    write_demo(n, seed=seed, now=NOW, numbers=True)
    ensure_statistics(force=True)
    from dadan.core.db import close_database

    close_database()
    return path


@pytest.fixture(scope="session")
def big_db(tmp_path_factory) -> Path:
    """100,000 demo orders, built once per session (~15 s), shared read-mostly."""
    return _build(tmp_path_factory.mktemp("big") / "big.db", 100_000, 1)


@pytest.fixture(scope="session")
def small_db_template(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("small") / "small.db", 300, 5)


def make_ctx(tmp_path: Path, db: Path, **ui) -> Context:
    home = tmp_path / "home"
    paths = Paths(config_dir=home, data_dir=home).ensure()
    settings = Settings(language="en", operator="tester", database_url=f"sqlite:///{db}", ui=UISettings(**ui))
    return Context(paths=paths, settings=settings)


def make_app(ctx):
    return DadanApp(ctx, now=NOW)


async def settle(pilot, rounds: int = 4) -> None:
    from textual.worker import WorkerFailed

    for _ in range(rounds):
        await typing_done(pilot)
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:  # the app shows it in the error modal
            pass
        await pilot.pause()


async def typing_done(pilot) -> None:
    """Wait while the filter bar holds typed text for the end of its burst (its debounce), and
    while the footer waits for the focus to rest."""
    from dadan.tui.widgets.desk_footer import DeskFooter
    from dadan.tui.widgets.filter_bar import DEBOUNCE_S, FilterBar

    while any(bar.pending for bar in pilot.app.screen.query(FilterBar)):
        await pilot.pause(DEBOUNCE_S / 2)
    while any(footer.pending for footer in pilot.app.screen.query(DeskFooter)):
        await pilot.pause(0.05)


def orders_screen(app):
    screen = app.screen
    assert isinstance(screen, OrdersScreen)
    return screen


def info_text(screen) -> str:
    return str(screen.query_one("#info-line").render())


def expected_ids(query: str, sort: str, n: int = 50) -> list[int]:
    return [r.id for r in fetch_page(compile_query(query, now=NOW), sort, limit=n).rows]


# ------------------------------------------------------------------ 100,000 orders
async def test_open_shows_first_page_with_counts(tmp_path, big_db):
    ctx = make_ctx(tmp_path, big_db)
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        assert len(screen.table.rows_shown) == 50 == screen.table.row_count
        to_print = count(compile_query(screen.current_query, now=NOW))
        assert info_text(screen).startswith(f" 1–50 of {to_print:,}")
        assert [r.id for r in screen.table.rows_shown] == expected_ids(screen.current_query, screen.current_sort)
        tabs = screen.query_one("#view-tabs")
        assert tabs.counts["all"] == 100_000 and tabs.counts["to_print"] == to_print
        # masked buyer data only
        assert all("*" in r.receiver_name for r in screen.table.rows_shown if r.receiver_name)


async def test_filter_typing_updates_table_and_errors_show_no_rows(tmp_path, big_db):
    ctx = make_ctx(tmp_path, big_db)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        await pilot.press("slash", "ctrl+u")
        await pilot.press(*"province:", "浙", "江")
        await settle(pilot)
        assert screen.current_query == "province:浙江"
        assert {r.province for r in screen.table.rows_shown} == {"浙江省"}
        n = count(compile_query("province:浙江", now=NOW))
        assert f"of {n:,}" in info_text(screen)
        assert screen.view_key is None  # no tab matches a typed filter
        good = [r.id for r in screen.table.rows_shown]
        # a typo (pasted, so no valid query in between): the message points at the bad
        # token, and the table shows no rows (never the old filter's rows under the new text)
        bar = screen.query_one("#filter-bar")
        bar.input.insert_text_at_cursor(" fooo:1")
        await settle(pilot)
        assert bar.has_class("-error")
        err = str(screen.query_one("#filter-error").render())
        assert "unknown filter 'fooo'" in err and "^~~~" in err
        assert screen.table.rows_shown == [] and screen.table.row_count == 0
        assert screen.current_query == "province:浙江 fooo:1" and screen.listing.error is not None
        for _ in range(7):
            await pilot.press("backspace")
        await settle(pilot)
        assert not bar.has_class("-error")
        assert [r.id for r in screen.table.rows_shown] == good
        # enter goes back to the table; a view tab sets filter and sort
        await pilot.press("enter")
        assert screen.table.has_focus
        await pilot.press("3")
        await pilot.pause(HOTKEY_HOLD)
        await settle(pilot)
        assert screen.view_key == "exceptions" and screen.current_query == "exception:any"
        assert all(r.exception_flags for r in screen.table.rows_shown)


async def test_sort_by_key_and_header(tmp_path, big_db):
    ctx = make_ctx(tmp_path, big_db)
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        assert screen.current_sort == "pay_time"
        await pilot.press("S")  # reverse
        await pilot.pause(HOTKEY_HOLD)
        await settle(pilot)
        assert screen.current_sort == "-pay_time"
        assert [r.id for r in screen.table.rows_shown] == expected_ids(screen.current_query, "-pay_time")
        await pilot.press("s")  # next sortable column after pay_time
        await settle(pilot)
        assert screen.current_sort == "last_ship_time"
        assert [r.id for r in screen.table.rows_shown] == expected_ids(screen.current_query, "last_ship_time")
        # clicking a header sorts by it; clicking again reverses
        from textual.widgets.data_table import ColumnKey

        table = screen.table
        table.post_message(table.HeaderSelected(table, ColumnKey("amount"), 0, table.columns[ColumnKey("amount")].label))
        await settle(pilot)
        assert screen.current_sort == "pay_amount_fen"
        amounts = [r.pay_amount_fen for r in table.rows_shown]
        assert amounts == sorted(amounts)
        table.post_message(table.HeaderSelected(table, ColumnKey("amount"), 0, table.columns[ColumnKey("amount")].label))
        await settle(pilot)
        assert screen.current_sort == "-pay_amount_fen"
        assert [r.id for r in table.rows_shown] == expected_ids(screen.current_query, "-pay_amount_fen")


async def test_select_across_pages_and_all_matching(tmp_path, big_db):
    from dadan.tui.messages import SelectionChanged

    seen: list[SelectionChanged] = []

    def hook(message):
        if isinstance(message, SelectionChanged):
            seen.append(message)

    ctx = make_ctx(tmp_path, big_db)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        first_page = [r.id for r in screen.table.rows_shown]
        await pilot.press("space", "space")  # two rows (space moves down)
        await pilot.press("pagedown")
        await settle(pilot)
        second_page = [r.id for r in screen.table.rows_shown]
        assert set(first_page).isdisjoint(second_page)
        assert info_text(screen).startswith(" 51–100 of ")
        await pilot.press("space")
        await settle(pilot)
        assert screen.selection.ids == {first_page[0], first_page[1], second_page[0]}
        assert "3 selected" in info_text(screen)
        assert seen[-1].count == 3 and not seen[-1].all_matching
        # marks survive paging back
        await pilot.press("pageup")
        await settle(pilot)
        assert [r.id for r in screen.table.rows_shown] == first_page
        assert str(screen.table.get_cell(str(first_page[0]), "mark")) == "✓"
        # untick one, then select everything matching
        await pilot.press("a")
        await settle(pilot)
        total = screen.listing.total
        assert screen.selection.all_matching and screen.selection.query == screen.current_query
        assert f"all {total:,} matching selected" in info_text(screen)
        await pilot.press("space")
        await settle(pilot)
        assert f"all {total - 1:,} matching selected" in info_text(screen)
        assert screen.selection.count(tz=ctx.settings.timezone) == total - 1
        await pilot.press("escape")
        await settle(pilot)
        assert screen.selection.empty and "selected" not in info_text(screen)
        assert seen[-1].count == 0


async def test_page_to_the_end_and_back(tmp_path, big_db):
    ctx = make_ctx(tmp_path, big_db)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        await pilot.press("5")  # all orders, newest first
        await pilot.pause(HOTKEY_HOLD)
        await settle(pilot)
        assert screen.current_sort == "-pay_time" and screen.listing.total == 100_000
        await pilot.press("end")
        await settle(pilot)
        want_last = [r.id for r in fetch_page(None, "-pay_time", last=True).rows]
        assert [r.id for r in screen.table.rows_shown] == want_last
        assert info_text(screen).startswith(" 99,951–100,000 of 100,000")
        assert not screen.listing.page.has_next
        assert screen.table.cursor_row == 49
        await pilot.press("down")  # nothing after the last row
        await settle(pilot)
        assert [r.id for r in screen.table.rows_shown] == want_last
        await pilot.press("up")
        await pilot.press("pageup")
        await settle(pilot)
        assert info_text(screen).startswith(" 99,901–99,950 of")
        await pilot.press("home")
        await settle(pilot)
        assert info_text(screen).startswith(" 1–50 of 100,000")
        # down past the last row of a page loads the next page, cursor on its first row
        screen.table.move_cursor(row=49)
        await pilot.press("down")
        await settle(pilot)
        assert info_text(screen).startswith(" 51–100 of")
        assert screen.table.cursor_row == 0
        await pilot.press("up")  # and back up to the previous page's last row
        await settle(pilot)
        assert info_text(screen).startswith(" 1–50 of") and screen.table.cursor_row == 49
        assert screen.table.row_count == 50  # never more than a page in the widget


async def test_keymap_remaps_binding_by_id(tmp_path, big_db):
    ctx = make_ctx(tmp_path, big_db, keymap={"select_all": "f5", "sort": "o"})
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        await pilot.press("a")  # no longer bound
        await pilot.press("f5")
        await settle(pilot)
        assert screen.selection.all_matching
        await pilot.press("o")
        await settle(pilot)
        assert screen.current_sort == "last_ship_time"


async def test_worker_error_opens_the_error_modal(tmp_path, big_db):
    from dadan.tui.widgets.error_modal import ErrorModal

    ctx = make_ctx(tmp_path, big_db)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        screen.current_sort = "no_such_column"
        screen.refresh_orders()
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "cannot sort by 'no_such_column'" in app.screen.error_message
        assert len(app.screen_stack) == 3  # one modal, not one per handler
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen, app.screen_stack


async def test_orders_changed_message_refreshes_in_place(tmp_path, small_db_template):
    from dadan.core.db import write
    from dadan.core.models import Order
    from dadan.tui.messages import OrdersChanged

    db = tmp_path / "s.db"
    shutil.copy(small_db_template, db)
    ctx = make_ctx(tmp_path, db)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        screen.table.move_cursor(row=3)
        row = screen.table.rows_shown[3]
        with write():
            Order.update(pay_amount_fen=123456).where(Order.id == row.id).execute()
        app.post_message(OrdersChanged("test"))
        await settle(pilot)
        assert screen.table.rows_shown[3].pay_amount_fen == 123456
        assert str(screen.table.get_cell(str(row.id), "amount")).strip() == "1234.56"
        assert screen.table.cursor_row == 3


# ------------------------------------------------------------------ snapshots
def _snapshot_app(tmp_path, small_db_template, lang="en"):
    from dadan.core.i18n import set_language

    set_language(lang)
    db = tmp_path / "snap.db"
    shutil.copy(small_db_template, db)
    return make_app(make_ctx(tmp_path, db))


async def _wait_loaded(pilot):
    await settle(pilot, 6)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_order_screen(snap_compare, tmp_path, small_db_template, size):
    app = _snapshot_app(tmp_path, small_db_template)
    assert snap_compare(app, terminal_size=size, run_before=_wait_loaded)


def test_snapshot_order_screen_chinese_selection(snap_compare, tmp_path, small_db_template):
    app = _snapshot_app(tmp_path, small_db_template, lang="zh")

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("space", "space", "slash", *"sku:A1 fooo")
        await settle(pilot, 6)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_command_palette_offers_the_screens_actions(tmp_path, small_db_template):
    db = tmp_path / "p.db"
    shutil.copy(small_db_template, db)
    app = make_app(make_ctx(tmp_path, db))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        from dadan.tui.app import ScreenActions

        provider = ScreenActions(screen)
        labels = [label for label, _run, _help in provider._commands()]
        assert any(label.startswith("Select") for label in labels)
        assert any(label.startswith("Sort") and "(s)" in label for label in labels)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Reverse")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.current_sort == "-pay_time"


async def test_command_palette_speaks_chinese_in_chinese(tmp_path, small_db_template):
    """Textual's own palette commands (theme, quit, keys, screenshot) and its prompt follow the
    desk's language, as the screen's actions do."""
    from textual.command import CommandPalette

    app = _snapshot_app(tmp_path, small_db_template, lang="zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert {"主题", "退出", "按键", "截图"} <= set(titles)
        assert titles["退出"] == "立即退出 dadan" and not any(t.isascii() for t in titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        assert app.screen.query_one("Input").placeholder == "搜索命令…"
        await pilot.press("escape")


async def test_status_line_shows_sync_confirmations_and_printer(tmp_path, small_db_template):
    from dadan.core.db import write
    from dadan.core.models import Order, Shipment, Shop, SyncRun

    db = tmp_path / "st.db"
    shutil.copy(small_db_template, db)
    ctx = make_ctx(tmp_path, db)
    ctx.open_db()
    shop = Shop.select().first()
    order = Order.select().first()
    with write():
        SyncRun.create(shop=shop, started_at=NOW - dt.timedelta(minutes=3), finished_at=NOW - dt.timedelta(minutes=2),
                       ok=True, orders_new=12, orders_changed=3)
        for state in ("pending", "pending", "failed", "confirmed"):
            Shipment.create(order=order, tracking_number="YT1", logistics_id=85, state=state)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        line = str(app.screen.query_one("#status-line").render())
        assert "sync 11:58 ok +12 new, 3 changed" in line  # 03:58 UTC in Shanghai
        assert "to confirm 2 !failed 1" in line
        assert "printer preview" in line


async def test_save_the_filter_as_a_view(tmp_path, small_db_template):
    from dadan.core.orders.views import saved_views

    db = tmp_path / "v.db"
    shutil.copy(small_db_template, db)
    app = make_app(make_ctx(tmp_path, db))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        screen.set_filter("province:浙江", sort="-pay_amount_fen")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"zj big", "enter")
        await settle(pilot)
        (view,) = saved_views()
        assert (view.name, view.query, view.sort) == ("zj big", "province:浙江", "-pay_amount_fen")
        tabs = screen.query_one("#view-tabs")
        assert tabs.active == view.key and view.key in tabs.counts
        await pilot.press("1")
        await pilot.pause(HOTKEY_HOLD)
        await settle(pilot)
        await pilot.press("6")  # the saved view is tab 6
        await pilot.pause(HOTKEY_HOLD)
        await settle(pilot)
        assert screen.current_query == "province:浙江" and screen.current_sort == "-pay_amount_fen"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_nine_tabs_with_long_saved_names_keep_every_number_and_count_at_80_columns(tmp_path, small_db_template,
                                                                                        lang):
    """Four saved views with long names, the last one active, at 80 columns: every tab's number
    and its whole count show (names give way, the active one's too); the active tab's name
    had pushed tabs 8 and 9 and its own count off the line."""
    from dadan.core.db import close_database
    from dadan.core.i18n import set_language
    from dadan.core.orders.views import save_view
    from tests.test_tui_80x24 import region_lines

    db = tmp_path / "v.db"
    shutil.copy(small_db_template, db)
    open_database(f"sqlite:///{db}")
    for k in range(6, 10):
        save_view(f"long view name number {k}", f"province:浙江 qty>={k - 5}")
    close_database()
    set_language(lang)
    ctx = make_ctx(tmp_path, db)
    ctx.settings.language = lang
    app = make_app(ctx)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for key in ("9", "7"):
                await pilot.press(key)
                await pilot.pause(HOTKEY_HOLD)
                await settle(pilot)
                tabs = orders_screen(app).query_one("#view-tabs")
                (line,) = region_lines(app, tabs.region)  # (what the screen shows: past its width, nothing)
                assert len(tabs.views) == 9 and len(tabs.counts) == 9, tabs.counts
                for i, v in enumerate(tabs.views):
                    assert f"{i + 1}:" in line and f"{tabs.counts[v.key]:,}" in line, (v.name, line)
    finally:
        set_language("en")


async def test_ticks_are_of_their_view_switching_views_clears_them_a_typed_filter_keeps_them(tmp_path,
                                                                                           small_db_template):
    """Two orders ticked in a view, then another view chosen: the ticks go, said so, and `p`
    would act on the new view only (they stayed, and `p` or `Ctrl+K` acted on orders the new
    view did not show). A filter typed in the same view keeps them (search, tick, search)."""
    app = _snapshot_app(tmp_path, small_db_template)  # (a copy of the small database)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        await pilot.press("space", "space")
        await settle(pilot)
        assert screen.table.selected_count() == 2
        screen.set_filter("province:浙江", view_key=screen.view_key)  # (the same view, refined)
        await settle(pilot)
        assert screen.table.selected_count() == 2
        await pilot.press("5")  # another view
        await pilot.pause(HOTKEY_HOLD)
        await settle(pilot)
        assert screen.view_key == "all" and screen.table.state.selection.empty
        assert any("2 ticked order(s) left with the view" in n.message for n in app._notifications)
        assert "selected" not in str(screen.query_one("#info-line").render())
