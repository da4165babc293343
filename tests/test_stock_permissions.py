"""Goods, stock and the archive obey operators' permissions: once operators exist, changing the
goods catalogue or stock (goods import, add, edit; stock receive, add, count, adjust) needs
"stock" (operator, warehouse admin, administrator; not finance), archiving and restoring
archived orders need "settings". Refused in core, on the command line (a child process) and at
the desk alike, with one line and nothing changed; allowed in open mode; the ledger's own moves
(sync, demo) are never refused; and a database whose built-in roles were made before "stock"
existed gets it for them (schema step 29), custom roles and finance untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dadan.core import operators as ops
from dadan.core.archive.move import archive, restore, restore_order
from dadan.core.db import close_database, open_database, write
from dadan.core.goods import catalogue, ledger, receiving
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.files import commit_goods, plan_goods
from dadan.core.goods.models import Goods, StockMovement
from dadan.core.models import ArchivedOrder, AuditEvent, Order
from dadan.core.operators.permissions import PermissionDenied
from tests.desk_helpers import NOW, anyio_backend, harness, make_ctx, stock_catalogue, wait_idle  # noqa: F401
from tests.test_operators import dadan

FIN_STOCK = "fin (finance) may not change goods and stock"
LATER = NOW.replace(year=NOW.year + 1)  # every demo order shipped long before


def _csv(path: Path, head: list[str], rows: list[list]) -> Path:
    path.write_text("\n".join(",".join(map(str, r)) for r in [head, *rows]) + "\n", encoding="utf-8")
    return path


def _state() -> tuple:
    """Everything a refused command must leave as it was."""
    return ([(g.code, g.name, g.on_hand) for g in Goods.select().order_by(Goods.id)],
            StockMovement.select().count(), Order.select().count(), ArchivedOrder.select().count())


@pytest.fixture
def staff(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    skus = stock_catalogue()
    ops.create_first_admin("boss", "9999")
    ops.add_operator("amy", "1234", "operator", actor="boss")
    ops.add_operator("wang", "4321", "warehouse", actor="boss")
    ops.add_operator("fin", "5678", "finance", actor="boss")
    return ctx, skus


def _each_guarded_write(skus: dict, tmp_path: Path, actor: str) -> list:
    """Every person's goods / stock / archive change, as thunks acting as ``actor``."""
    low = Goods.get(Goods.code == skus["low"])
    recv = receiving.plan_receive(_csv(tmp_path / f"recv-{actor}.csv", ["商家编码", "数量"], [[skus["low"], 5]]))
    goods = plan_goods(_csv(tmp_path / f"goods-{actor}.csv", ["商家编码", "商品名称", "库存"],
                            [["NEW-1", "新品", 9], [skus["low"], "改名", 1]]))
    return [
        lambda: receiving.receive(skus["low"], 3, actor=actor),
        lambda: receiving.count(skus["low"], 7, actor=actor),
        lambda: receiving.move_by_hand(low.id, 3, "receive", actor=actor, reason="by hand"),
        lambda: receiving.move_by_hand(low.id, -1, "adjust", actor=actor, reason="broken"),
        lambda: receiving.count_by_hand(low.id, 7, actor=actor),
        lambda: receiving.commit_receive(recv, actor=actor),
        lambda: commit_goods(goods, actor=actor),
        lambda: catalogue.add([GoodsRecord(code="NEW-2", name="新")], actor=actor),
        lambda: catalogue.edit(low.id, actor=actor, name="改名"),
        lambda: archive(1, actor=actor, now=LATER),
    ]


# ------------------------------------------------------------------ core
def test_finance_and_strangers_are_refused_every_goods_stock_and_archive_write(staff, tmp_path):
    _ctx, skus = staff
    before = _state()
    for actor, words in (("fin", FIN_STOCK), ("nobody", "nobody is not a signed-in operator")):
        writes = _each_guarded_write(skus, tmp_path, actor)
        for i, act in enumerate(writes):
            with pytest.raises(PermissionDenied) as exc:
                act()
            assert "\n" not in exc.value.message
            if i < len(writes) - 1:  # (the archive's: "may not change settings")
                assert words in exc.value.message
            else:
                assert "may not change settings" in exc.value.message
            assert _state() == before, (actor, i)
    denied = list(AuditEvent.select().where(AuditEvent.action == "denied"))
    assert len(denied) == 20 and {(e.actor, e.target) for e in denied} == {
        ("fin", "stock"), ("fin", "settings"), ("nobody", "stock"), ("nobody", "settings")}
    # a restore of an archived order is the administrator's (or the warehouse admin's)
    assert archive(1, actor="boss", now=LATER).moved > 0
    sn = ArchivedOrder.select().first().order_sn
    for actor in ("fin", "amy", "nobody"):
        with pytest.raises(PermissionDenied, match="may not change settings"):
            restore_order(sn, actor=actor)
    assert restore_order(sn, actor="wang") and Order.get_or_none(Order.order_sn == sn) is not None


def test_operator_warehouse_admin_and_administrator_may(staff, tmp_path):
    _ctx, skus = staff
    for actor in ("amy", "wang", "boss"):
        writes = _each_guarded_write(skus, tmp_path, actor)
        for act in writes[:-1]:  # every goods and stock write
            act()
        goods = Goods.get(Goods.code == skus["low"])
        assert receiving.count_by_hand(goods.id, 42, actor=actor).movement.actor == actor
        assert Goods.get_by_id(goods.id).on_hand == 42
        catalogue.edit(goods.id, actor=actor, name="牙刷")  # back, for the next one's edit
    with pytest.raises(PermissionDenied, match=r"amy \(operator\) may not change settings"):
        archive(1, actor="amy", now=LATER)
    assert archive(1, actor="wang", now=LATER).moved > 0
    assert not AuditEvent.select().where(AuditEvent.action == "denied", AuditEvent.target == "stock").exists()


def test_the_ledgers_own_moves_are_never_refused(staff):
    """Not a person's act: the sync's restore of an archived order, the demo's catalogue and
    stock, an order's ship movement (ledger.move as core calls it) go on with operators."""
    _ctx, skus = staff
    short = Goods.get(Goods.code == skus["short"])
    assert ledger.move(short.id, 5, "receive", actor="demo", reason="demo stock").movement.qty == 5
    assert catalogue.save([GoodsRecord(code="SYNCED", name="同步")], actor="sync") == (1, 0, 0)
    assert archive(1, actor="boss", now=LATER).moved > 0
    sn = ArchivedOrder.select().first().order_sn
    assert restore(sn, actor="sync")
    assert not AuditEvent.select().where(AuditEvent.action == "denied").exists()


def test_open_mode_allows_every_goods_stock_and_archive_write(tmp_path):
    make_ctx(tmp_path, 60)
    skus = stock_catalogue()
    assert not ops.has_operators()
    for act in _each_guarded_write(skus, tmp_path, "anyone"):
        act()
    sn = ArchivedOrder.select().first().order_sn
    restore_order(sn, actor="anyone")
    assert not AuditEvent.select().where(AuditEvent.action == "denied").exists()
    assert Goods.get(Goods.code == "NEW-2").name == "新"


# ------------------------------------------------------------------ schema step 29
def _roles() -> dict[str, frozenset]:
    return {r.name: r.permission_set() for r in ops.Role.select()}


def _as_before_step_29(url: str) -> None:
    """The roles as a database made before "stock" existed has them, at schema version 28."""
    from dadan.core.models import SchemaVersion

    with write():
        for r in ops.Role.select():
            perms = ",".join(p for p in r.permissions.split(",") if p != "stock")
            ops.Role.update(permissions=perms).where(ops.Role.id == r.id).execute()
        SchemaVersion.delete().where(SchemaVersion.version >= 29).execute()
        if not SchemaVersion.select().exists():  # (a new PostgreSQL database has one row: its version)
            SchemaVersion.create(version=28)
    close_database()
    open_database(url, migrate_schema=False)
    assert not any("stock" in p for p in _roles().values())
    close_database()


def test_builtin_roles_made_before_get_stock_custom_roles_do_not(store):
    from dadan.core.db import current_version
    from dadan.core.migrations import SCHEMA_VERSION

    url = store.url()
    open_database(url)
    try:
        ops.create_first_admin("boss", "9999")
        ops.save_role("打包员", ["view", "ship", "import"], actor="boss")
        ops.add_operator("fin", "5678", "finance", actor="boss")
        ops.add_operator("amy", "1234", "operator", actor="boss")
        _as_before_step_29(url)
        assert current_version(open_database(url)) == SCHEMA_VERSION >= 29  # migrated: step 29
        roles = _roles()
        assert "stock" in roles["操作员"] and "stock" in roles["仓库主管"] and "stock" in roles["管理员"]
        assert roles["管理员"] == set(ops.PERMISSIONS)
        assert "stock" not in roles["财务"] and roles["打包员"] == {"view", "ship", "import"}
        stored = ops.Role.get(ops.Role.name == "操作员").permissions
        assert stored == "view,print,import,export,ship,stock"  # in the table's order
        assert ops.may("amy", "stock") and ops.may("boss", "stock") and not ops.may("fin", "stock")
        close_database()
        open_database(url)  # once only
        assert _roles() == roles
    finally:
        close_database()


# ------------------------------------------------------------------ the command line, in a child process
def _db_state(home: Path) -> tuple:
    with sqlite3.connect(home / "dadan.db") as c:
        return (c.execute('SELECT code, name, on_hand FROM goods ORDER BY id').fetchall(),
                c.execute('SELECT count(*) FROM stock_movement').fetchone()[0],
                c.execute('SELECT count(*) FROM "order"').fetchone()[0],
                c.execute('SELECT count(*) FROM archived_order').fetchone()[0])


def test_cli_refuses_strangers_and_finance_with_one_line_and_changes_nothing(tmp_path):
    home = tmp_path / "home"
    rc, out, err = dadan(home, "demo", "--orders", "60", "--days", "30")
    assert rc == 0, err
    assert dadan(home, "operators", "init", "boss", DADAN_PIN="9999")[0] == 0
    boss = {"DADAN_OPERATOR": "boss", "DADAN_PIN": "9999"}
    for name, role, pin in (("fin", "finance", "5678"), ("amy", "operator", "1234")):
        rc, out, err = dadan(home, "operators", "add", name, "--role", role, DADAN_NEW_PIN=pin, **boss)
        assert rc == 0, err
    code = _db_state(home)[0][0][0]
    recv = _csv(tmp_path / "recv.csv", ["商家编码", "数量"], [[code, 5]])
    goods = _csv(tmp_path / "goods.csv", ["商家编码", "商品名称", "库存"], [["NEW-1", "新品", 9], [code, "改名", 1]])
    commands = [("stock", "count", code, "3"), ("stock", "add", code, "3"),
                ("stock", "adjust", code, "-1", "--reason", "broken"), ("stock", "receive", str(recv)),
                ("goods", "import", str(goods)), ("archive", "--older-than", "1", "--yes")]
    before = _db_state(home)
    assert before[2] > 0 and before[0]
    for who, env, words in (("stranger", {}, "is not a signed-in operator and may not "),
                            ("finance", {"DADAN_OPERATOR": "fin", "DADAN_PIN": "5678"}, "fin (finance) may not ")):
        for args in commands:
            rc, out, err = dadan(home, *args, **env)
            doing = "change settings" if args[0] == "archive" else "change goods and stock"
            assert rc != 0 and out == "", (who, args, out)
            assert len(err.strip().splitlines()) == 1, (who, args, err)
            assert err.startswith("dadan: Not permitted: ") and words + doing in err, (who, args, err)
            assert _db_state(home) == before, (who, args)
    rc, out, err = dadan(home, "goods", "import", str(goods), "--dry-run", DADAN_OPERATOR="fin", DADAN_PIN="5678")
    assert rc == 0 and "dry run: nothing was written" in out  # a dry run changes nothing: anyone's
    # an operator and the administrator may
    rc, out, err = dadan(home, "stock", "count", code, "3", DADAN_OPERATOR="amy", DADAN_PIN="1234")
    assert rc == 0 and "correction" in out, err
    rc, out, err = dadan(home, "stock", "count", code, "4", **boss)
    assert rc == 0 and "on hand 4" in out, err
    rc, out, err = dadan(home, "goods", "import", str(goods), DADAN_OPERATOR="amy", DADAN_PIN="1234")
    assert rc == 0 and "1 SKUs added" in out, err
    rc, out, err = dadan(home, "archive", "--older-than", "1", "--yes", DADAN_OPERATOR="amy", DADAN_PIN="1234")
    assert rc == 1 and err.strip() == "dadan: Not permitted: amy (operator) may not change settings"
    assert _db_state(home)[2:] == before[2:]
    rc, out, err = dadan(home, "archive", "--older-than", "1", "--yes", **boss)
    assert rc == 0 and "archived" in out, err
    after = _db_state(home)
    assert after[3] > 0 and after[2] == before[2] - after[3]
    with sqlite3.connect(home / "dadan.db") as c:
        sn = c.execute("SELECT order_sn FROM archived_order LIMIT 1").fetchone()[0]
    rc, out, err = dadan(home, "archive", "restore", sn, DADAN_OPERATOR="fin", DADAN_PIN="5678")
    assert rc == 1 and err.strip() == "dadan: Not permitted: fin (finance) may not change settings"
    rc, out, err = dadan(home, "archive", "restore", sn, **boss)
    assert rc == 0 and "restored" in out, err
    with sqlite3.connect(home / "dadan.db") as c:
        denied = c.execute("SELECT actor, target FROM audit_event WHERE action = 'denied'").fetchall()
    assert len(denied) == 14 and ("fin", "stock") in denied and ("amy", "settings") in denied


# ------------------------------------------------------------------ the desk's receive / count screen
def _scan(app, code: str) -> None:
    from textual import events

    for ch in [*code, "enter"]:
        if ch == "enter":
            app.post_message(events.Key("enter", "\r"))
        else:
            app.post_message(events.Key(ch if ch.isalnum() else "asterisk" if ch == "*" else "minus", ch))


@pytest.mark.anyio
async def test_receive_screen_refuses_finance_with_the_reason(staff):
    from dadan.tui.screens.receive import ReceiveScreen

    ctx, skus = staff
    ctx.sign_in_as("fin")
    app = harness(ctx, ReceiveScreen)
    app.bells = []
    app.bell = lambda: app.bells.append(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        before = _state()
        await pilot.press("f2")  # count mode
        _scan(app, skus["low"])
        await wait_idle(pilot)
        assert s.counting is not None and s.counting.on_hand == 10_000  # looking is anyone's
        await pilot.press(*"9988", "enter")
        await wait_idle(pilot)
        banner = s.query_one("#recv-banner")
        text = str(banner.render())
        assert FIN_STOCK in text and "nothing changed" in text and banner.has_class("-warn") and app.bells
        assert s.counting is None and not s.session and _state() == before
        await pilot.press("f2")  # receive mode: a scan is refused alike
        _scan(app, skus["low"])
        await wait_idle(pilot)
        assert FIN_STOCK in str(s.query_one("#recv-banner").render()) and _state() == before
        assert [e.actor for e in AuditEvent.select().where(AuditEvent.action == "denied")] == ["fin", "fin"]
        ctx.sign_in_as("amy")  # an operator counts
        await pilot.press("f2")
        _scan(app, f"9988*{skus['low']}")
        await wait_idle(pilot)
        assert Goods.get(Goods.code == skus["low"]).on_hand == 9_988
        assert "Counted" in str(s.query_one("#recv-banner").render())
