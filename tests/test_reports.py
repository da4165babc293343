"""Reports (core.reports, dadan report, the F11 screen) on a real SQLite file: the demo orders
plus labels printed through the print queue, parcels packed at the pack check and orders shipped
through the outbox. Every figure is checked against plain SELECTs written here, one period at a
time (bounds computed here from the zone), not against the module's own SQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dadan.core.db import close_database, connection, database
from dadan.core.models import Order, utcnow
from dadan.core.orders.rules import FLAG_KEYS, Flag
from dadan.core.reports.figures import build_report
from dadan.core.timeutil import to_local
from tests.desk_helpers import NOW, make_ctx, numbered

TZ = "Asia/Shanghai"
FIRST = dt.date(2026, 11, 14)


def _utc(day: dt.date, tz: str = TZ) -> str:
    t = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC).replace(tzinfo=None)
    return t.isoformat(" ")


def one(sql: str, *params):
    return database().execute_sql(sql, params).fetchone()[0]


@pytest.fixture
def activity(tmp_path):
    return _activity(tmp_path)


def _activity(tmp_path, url: str = ""):
    """Demo orders on the fixed clock; 10 labels sent by alice's job, 2 parcels of another shop
    printed and one packed by carol, 6 orders shipped by bob (one after its deadline)."""
    from dadan.core.orders.couriers import by_id, example_tracking
    from dadan.core.packing import pack_check
    from dadan.core.printing import queue as printing
    from dadan.core.shipping.outbox import assign_tracking
    from tests.fakes.queue_setup import SMALL_TEMPLATE
    from tests.pack_helpers import BARCODES, bench

    ctx = make_ctx(tmp_path, 400, seed=11, url=url)
    ids = numbered([o.id for o in Order.select().where(Order.print_count == 0, Order.exception_flags == 0,
                                                       Order.order_status == 1).order_by(Order.id).limit(12)])
    job = printing.create_job(ids, printer="preview", template=SMALL_TEMPLATE, actor="alice")
    printing.start_job(job.id)
    for _ in range(10):
        claim = printing.claim_next(job.id)
        printing.mark_sent(claim.item.id)
    pb = bench()
    check, out = pack_check.start(pb["w1"].code)
    assert out.ok, out.message
    for code in (BARCODES["A12"], BARCODES["A12"], BARCODES["B07"]):
        out = pack_check.scan(check, code, actor="carol")
    assert out.kind == "packed"
    printed = [o for o in Order.select().where(Order.state == "printed", Order.exception_flags == 0,
                                               Order.order_status == 1).order_by(Order.id).limit(6)]
    for i, o in enumerate(printed):
        when = o.last_ship_time + dt.timedelta(hours=2) if i == 0 else o.pay_time + dt.timedelta(hours=3 + i)
        lid = 115 if i % 3 else 85
        assign_tracking(o.id, example_tracking(by_id(lid), 5_000_000 + o.id), lid, actor="bob", now=when)
    return ctx


def _expected_period(lo: str, hi: str, now: str) -> dict:
    o = '"order"'
    rng = "{c} >= ? AND {c} < ?"
    exc = {FLAG_KEYS[f]: one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='pay_time')} AND (exception_flags & ?) != 0",
                             lo, hi, int(f)) for f in Flag}
    return {
        "orders": one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='pay_time')}", lo, hi),
        "money": one(f"SELECT COALESCE(SUM(pay_amount_fen), 0) FROM {o} WHERE {rng.format(c='pay_time')}", lo, hi),
        "printed": one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='first_printed_at')}", lo, hi),
        "shipped": one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='shipped_at')}", lo, hi),
        "parcels": one(f"SELECT COUNT(*) FROM waybill WHERE {rng.format(c='printed_at')} AND state <> 'cancelled'", lo, hi)
        + one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='first_printed_at')} "
              "AND id NOT IN (SELECT order_id FROM waybill_order)", lo, hi),
        "exception_orders": one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='pay_time')} AND exception_flags <> 0",
                                lo, hi),
        "exceptions": {k: n for k, n in exc.items() if n},
        "due": one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='last_ship_time')}", lo, hi),
        "overdue": one(f"SELECT COUNT(*) FROM {o} WHERE {rng.format(c='last_ship_time')} AND ("
                       "(shipped_at IS NOT NULL AND shipped_at > last_ship_time) OR "
                       "(order_status = 1 AND state IN ('new', 'printed') AND last_ship_time < ?))", lo, hi, now),
        "avg_h": one(f"SELECT AVG((julianday(shipped_at) - julianday(pay_time)) * 24) FROM {o} "
                     f"WHERE {rng.format(c='shipped_at')}", lo, hi),
    }


def _check(report, bounds: list[tuple[str, str]], now: str) -> None:
    assert len(report.rows) == len(bounds)
    for row, (lo, hi) in zip(report.rows, bounds):
        want = _expected_period(lo, hi, now)
        got = {"orders": row.orders, "money": row.money_fen, "printed": row.printed, "shipped": row.shipped,
               "parcels": row.parcels, "exception_orders": row.exception_orders, "exceptions": row.exceptions,
               "due": row.due, "overdue": row.overdue}
        assert got == {k: v for k, v in want.items() if k != "avg_h"}, (lo, hi)
        assert row.avg_ship_hours == pytest.approx(want["avg_h"]) if want["avg_h"] is not None \
            else row.avg_ship_hours is None


@pytest.mark.parametrize("few_shops", [6, 0], ids=["shops-summed", "shops-grouped"])
def test_day_figures_equal_plain_sql(activity, few_shops, monkeypatch):
    from dadan.core.reports import figures

    monkeypatch.setattr(figures, "FEW_SHOPS", few_shops)
    now = utcnow()
    last = now.date() + dt.timedelta(days=1)
    with connection():
        report = build_report("day", FIRST, last, tz=TZ, now=now, include_money=True)
        days = [FIRST + dt.timedelta(days=i) for i in range((last - FIRST).days + 1)]
        bounds = [(_utc(d), _utc(d + dt.timedelta(days=1))) for d in days]
        _check(report, bounds, now.isoformat(" "))
        t = report.total
        # the activity made every kind of figure
        assert t.orders >= 400 and t.printed > 10 and t.parcels > t.printed and t.shipped == 6
        assert t.overdue >= 1 and t.exception_orders > 0 and t.money_fen > 0 and t.avg_ship_hours > 0
        lo, hi = bounds[0][0], bounds[-1][1]
        couriers = dict(database().execute_sql(
            'SELECT logistics_id, COUNT(*) FROM "order" WHERE shipped_at >= ? AND shipped_at < ? GROUP BY 1',
            (lo, hi)).fetchall())
        assert {c.logistics_id: c.shipped for c in report.couriers} == couriers == {85: 2, 115: 4}
        assert sum(c.share for c in report.couriers) == pytest.approx(100.0)
        shops = {r[0]: r[1:] for r in database().execute_sql(
            'SELECT s.name, COUNT(*), SUM(o.pay_amount_fen) FROM "order" o JOIN shop s ON s.id = o.shop_id '
            'WHERE o.pay_time >= ? AND o.pay_time < ? GROUP BY 1', (lo, hi)).fetchall()}
        assert {s.name: (s.orders, s.money_fen) for s in report.shops} == shops
        printed_by = dict(database().execute_sql(
            "SELECT j.requested_by, COUNT(*) FROM print_item i JOIN print_job j ON j.id = i.job_id "
            "WHERE i.state = 'sent' GROUP BY 1").fetchall())
        packed_by = dict(database().execute_sql("SELECT actor, COUNT(*) FROM pack_record GROUP BY 1").fetchall())
        shipped_by = dict(database().execute_sql(
            "SELECT actor, COUNT(DISTINCT order_id) FROM audit_event WHERE action = 'ship' GROUP BY 1").fetchall())
        assert printed_by == {"alice": 10} and packed_by == {"carol": 1} and shipped_by == {"bob": 6}
        assert {o.actor: (o.printed, o.packed, o.shipped) for o in report.operators} == {
            "alice": (10, 0, 0), "carol": (0, 1, 0), "bob": (0, 0, 6)}


def test_the_same_activity_reports_the_same_on_postgresql(tmp_path):
    """The report's SQL on PostgreSQL (its own words for an index hint, a boolean sum and the
    seconds between two times) gives the figures SQLite gives, for every period kind."""
    from dataclasses import asdict

    from tests.pg_cluster import fresh_url

    now = utcnow()
    last = now.date() + dt.timedelta(days=1)
    got = {}
    for kind in ("sqlite", "postgresql"):
        _activity(tmp_path / kind, url=fresh_url() if kind == "postgresql" else "")
        with connection():
            reports = [build_report(p, FIRST, last, tz=TZ, now=now, include_money=True) for p in ("day", "week", "month")]
        close_database()
        got[kind] = [asdict(r) for r in reports]
        for r in got[kind]:  # (Julian days and epochs round differently in the last digits)
            for row in [*r["rows"], r["total"]]:
                row["ship_seconds"] = round(row["ship_seconds"])
    assert got["postgresql"] == got["sqlite"]
    assert got["sqlite"][0]["total"]["shipped"] == 6


def test_week_and_month_figures_equal_plain_sql(activity):
    now = utcnow()
    with connection():
        week = build_report("week", dt.date(2026, 11, 11), now.date(), tz=TZ, now=now)
        monday = dt.date(2026, 11, 9)
        n = (now.date() - monday).days // 7 + 1
        _check_no_money = [(_utc(monday + dt.timedelta(days=7 * i)), _utc(monday + dt.timedelta(days=7 * i + 7)))
                           for i in range(n)]
        assert week.rows[0].bucket.start == monday and all(r.money_fen is None for r in week.rows)
        for row, (lo, hi) in zip(week.rows, _check_no_money, strict=True):
            want = _expected_period(lo, hi, now.isoformat(" "))
            assert (row.orders, row.shipped, row.printed, row.due, row.overdue, row.exceptions) == (
                want["orders"], want["shipped"], want["printed"], want["due"], want["overdue"], want["exceptions"])
        month = build_report("month", dt.date(2026, 10, 5), dt.date(2026, 11, 30), tz=TZ, now=now)
        assert [r.bucket.key for r in month.rows] == ["2026-10", "2026-11"]
        assert month.rows[1].orders == one('SELECT COUNT(*) FROM "order" WHERE pay_time >= ? AND pay_time < ?',
                                           _utc(dt.date(2026, 11, 1)), _utc(dt.date(2026, 12, 1)))
        assert month.rows[0].orders == 0


def test_money_is_left_out_unless_asked(activity):
    from dadan.core.reports.files import report_csv, report_text

    with connection():
        plain = build_report("day", FIRST, dt.date(2026, 11, 21), tz=TZ, now=NOW)
        paid = build_report("day", FIRST, dt.date(2026, 11, 21), tz=TZ, now=NOW, include_money=True)
    assert plain.total.money_fen is None and all(s.money_fen is None for s in plain.shops)
    assert "¥" not in report_text(plain) + report_csv(plain)
    assert "¥" in report_text(paid) and paid.total.money_fen > 0


def test_the_report_indexes_answer_without_reading_order_rows(activity):
    """The per-period queries read indexes only (covering): a million orders' rows are never read."""
    plans = []
    db = database()
    for sql in ('SELECT shop_id, exception_flags, SUM(pay_amount_fen) FROM "order" INDEXED BY order_pay_time '
                'WHERE pay_time >= ? AND pay_time < ?',
                'SELECT shop_id, logistics_id, pay_time FROM "order" WHERE shipped_at >= ? AND shipped_at < ?',
                'SELECT shop_id FROM "order" WHERE first_printed_at >= ? AND first_printed_at < ?'):
        plans.append(" ".join(r[3] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, ("a", "b")).fetchall()))
    assert "COVERING INDEX order_pay_time " in plans[0] + " ", plans
    assert all("COVERING INDEX order_report_" in p for p in plans[1:]), plans


def test_bad_ranges_are_one_line_errors(activity):
    from dadan.core.reports.periods import ReportError, parse_date

    with connection(), pytest.raises(ReportError, match="before it starts"):
        build_report("day", dt.date(2026, 11, 20), dt.date(2026, 11, 1), tz=TZ, now=NOW)
    with connection(), pytest.raises(ReportError, match="more than"):
        build_report("day", dt.date(2020, 1, 1), dt.date(2026, 11, 1), tz=TZ, now=NOW)
    with pytest.raises(ReportError, match="not a date"):
        parse_date("2026-13-01")


# ------------------------------------------------------------------ files and the command
def cli(argv, tmp_path, monkeypatch, capsys):
    """``dadan ARGV`` in this process on the fixture's database -> (exit code, stdout, stderr)."""
    from tests.desk_helpers import run_cli

    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    return run_cli(argv, monkeypatch, capsys, modules=("report", "export"))


def test_xlsx_has_a_sheet_per_section_with_native_charts(activity, tmp_path, monkeypatch, capsys):
    import os
    import stat

    from openpyxl import load_workbook
    from openpyxl.chart import BarChart, LineChart, PieChart

    out = tmp_path / "out" / "report.xlsx"
    today = to_local(utcnow()).date()  # (the warehouse's day: in Shanghai it is tomorrow from 16:00 UTC)
    rc, _, err = cli(["report", "--from", "2026-11-14", "--to", today.isoformat(), "--money",
                      "--out", str(out)], tmp_path, monkeypatch, capsys)
    assert rc == 0 and out.exists(), err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert not list(out.parent.glob(".*.part"))
    wb = load_workbook(out)
    names = [ws.title for ws in wb.worksheets]
    assert names == ["Per period", "Exceptions by kind", "Shipped by courier", "By shop", "By operator", "About"]
    kinds = {ws.title: [type(c) for c in ws._charts] for ws in wb.worksheets}
    assert kinds["Per period"] == [BarChart, LineChart]
    assert kinds["Exceptions by kind"] == [BarChart]
    assert kinds["Shipped by courier"] == [PieChart]
    assert kinds["By shop"] == [BarChart] and kinds["By operator"] == [BarChart]
    periods = wb["Per period"]
    n_rows = periods.max_row - 2  # headers and the total
    bar = periods._charts[0]
    refs = [s.val.numRef.f for s in bar.series]
    assert refs == [f"'Per period'!$B$2:$B${n_rows + 1}", f"'Per period'!$E$2:$E${n_rows + 1}"]
    assert [s.tx.strRef.f for s in bar.series] == ["'Per period'!B1", "'Per period'!E1"]  # Orders, Shipped
    assert bar.series[0].cat.numRef.f == f"'Per period'!$A$2:$A${n_rows + 1}" if bar.series[0].cat.numRef \
        else bar.series[0].cat.strRef.f == f"'Per period'!$A$2:$A${n_rows + 1}"
    assert periods.cell(row=1, column=11).value == "Paid ¥"
    total = periods.cell(row=periods.max_row, column=1).value
    assert total == "Total" and periods.cell(row=periods.max_row, column=5).value == 6
    pie = wb["Shipped by courier"]._charts[0]
    assert pie.series[0].val.numRef.f == "'Shipped by courier'!$B$2:$B$3"
    assert sorted(r[1] for r in wb["Shipped by courier"].iter_rows(min_row=2, values_only=True)) == [2, 4]


def test_cli_text_and_csv(activity, tmp_path, monkeypatch, capsys):
    rc, text, err = cli(["report", "--period", "week", "--from", "2026-11-10"], tmp_path, monkeypatch, capsys)
    assert rc == 0, err
    assert "Per period" in text and "Shipped by courier" in text and "¥" not in text
    assert "2026-11-09" in text  # the week of the 10th starts on Monday the 9th
    out = tmp_path / "r.csv"
    rc, _, err = cli(["report", "--from", "2026-11-14", "--out", str(out)], tmp_path, monkeypatch, capsys)
    assert rc == 0, err
    body = out.read_text(encoding="utf-8-sig")
    assert "By operator" in body and "alice" in body
    rc, _, err = cli(["report", "--format", "xlsx"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "xlsx needs a file" in err
    rc, _, err = cli(["report", "--from", "nonsense"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "not a date" in err and "Traceback" not in err
    for first, last in (("0001-01-01", "2026-11-14"), ("9999-12-31", "9999-12-31")):  # were OverflowError tracebacks
        rc, _, err = cli(["report", "--from", first, "--to", last], tmp_path, monkeypatch, capsys)
        assert rc == 1 and f"{first}: a day between 1970-01-02 and 9998-12-30" in err and "Traceback" not in err


def test_export_daily_still_works(activity, tmp_path, monkeypatch, capsys):
    out = tmp_path / "daily.csv"
    rc, _, err = cli(["export", "daily", "--out", str(out)], tmp_path, monkeypatch, capsys)
    assert rc == 0 and out.stat().st_size > 0, err


# ------------------------------------------------------------------ the screen
def _shown(app) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_screen_bars_show_without_colour(tmp_path, monkeypatch):
    from dadan.core.shipping.outbox import assign_tracking
    from dadan.tui.screens.reports import ReportsScreen
    from tests.desk_helpers import harness, wait_idle

    monkeypatch.setenv("NO_COLOR", "1")
    ctx = make_ctx(tmp_path, 120, seed=5)
    o = Order.select().where(Order.exception_flags == 0, Order.order_status == 1).order_by(Order.id).first()
    assign_tracking(o.id, "780000000000019", 115, actor="bob", now=NOW - dt.timedelta(hours=1))
    app = harness(ctx, ReportsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot, 4)
        for _ in range(100):
            if pilot.app.screen.report is not None:
                break
            await pilot.pause(0.05)
        await wait_idle(pilot)
        assert pilot.app.no_color
        text = _shown(pilot.app)
        assert "Totals" in text and "Total     120" in text  # numbers whole at 80 columns
        screen = pilot.app.screen
        body = str(screen.query_one("#reports-text").render())
        assert "Orders per period" in body and "Shipped by courier" in body
        orders_lines = [ln for ln in body.splitlines() if ln.startswith("11-19")]
        assert any("█" in ln for ln in orders_lines)
        await pilot.press("end")  # the charts are below the table: scroll to them
        await wait_idle(pilot)
        assert "█" in _shown(pilot.app)  # glyphs: seen with NO_COLOR
        await pilot.press("w")
        await wait_idle(pilot)
        for _ in range(100):
            if screen.report is not None and screen.report.period == "week":
                break
            await pilot.pause(0.05)
        assert screen.report.period == "week" and screen.report.first == dt.date(2026, 9, 28)
        await pilot.press("left_square_bracket")
        for _ in range(100):
            if screen.report.first == dt.date(2026, 8, 3):
                break
            await pilot.pause(0.05)
        assert screen.report.first == dt.date(2026, 8, 3) and screen.report.total.orders == 0


@pytest.mark.anyio
@pytest.mark.parametrize("allowed", [True, False])
async def test_screen_shows_money_only_when_allowed_and_asked(tmp_path, allowed):
    from dadan.tui.screens.reports import ReportsScreen
    from tests.desk_helpers import harness, wait_idle

    ctx = make_ctx(tmp_path, 40, seed=5)
    app = harness(ctx, lambda: ReportsScreen(allow_money=allowed))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        for _ in range(100):
            if screen.report is not None:
                break
            await pilot.pause(0.05)
        assert screen.report.include_money is False and "¥" not in str(screen.query_one("#reports-text").render())
        await pilot.press("dollar_sign")
        for _ in range(60):
            if screen.report.include_money:
                break
            await pilot.pause(0.05)
        await wait_idle(pilot)
        body = str(screen.query_one("#reports-text").render())
        assert screen.report.include_money is allowed and ("Paid ¥" in body) is allowed


def test_a_report_file_named_for_another_kind_is_refused_in_one_line(activity, tmp_path, monkeypatch, capsys):
    """``--out report.pdf`` wrote plain text under a PDF's name: refused, nothing written; a
    ``.txt`` (or no ending) is text; ``dadan wave`` follows the same rule."""
    from tests.desk_helpers import run_cli

    for argv, modules in ((["report", "--out", str(tmp_path / "r.pdf")], ("report",)),
                          (["wave", "--out", str(tmp_path / "w.pdf")], ("wave",))):
        monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
        rc, out, err = run_cli(argv, monkeypatch, capsys, modules=modules)
        assert rc == 1 and err.startswith("dadan:") and ".pdf" in err and err.count("\n") == 1, err
    assert not list(tmp_path.glob("*.pdf"))
    rc, _out, err = cli(["report", "--out", str(tmp_path / "r.txt")], tmp_path, monkeypatch, capsys)
    assert rc == 0 and (tmp_path / "r.txt").read_text(encoding="utf-8").strip(), err
