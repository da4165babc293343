"""Operators, roles and permissions (core.operators) on a real SQLite file: PIN hashes, sign-in
with its rate limit and lock-out (audited), permissions enforced in core (a refusal is audited and
changes nothing), open mode while there is no operator, and the same rules on the command line."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dadan.core import operators as ops
from dadan.core.context import Context
from dadan.core.models import AuditEvent, Order
from dadan.core.operators.pins import hash_pin, verify_pin
from dadan.core.orders import actions
from dadan.core.orders.rules import Flag
from tests.desk_helpers import NOW, blocked_order, make_ctx

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def staff(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    ops.create_first_admin("boss", "9999")
    ops.add_operator("amy", "1234", "operator", actor="boss")
    ops.add_operator("wang", "4321", "仓库主管", actor="boss")
    return ctx


def refund_order() -> Order:
    return Order.select().where(Order.exception_flags.bin_and(int(Flag.REFUND)) != 0,
                                Order.order_status == 1).order_by(Order.id).first()


def test_pin_is_a_salted_slow_hash_never_the_pin():
    h1, h2 = hash_pin("1234"), hash_pin("1234")
    scheme, salt, digest = h1.split("$")
    # (hex digits: the PIN's digits may turn up inside the random salt or digest by chance)
    assert scheme == "scrypt" and len(salt) == 32 and len(digest) == 64 and "1234" not in (scheme, salt, digest)
    assert all(c in "0123456789abcdef" for c in salt + digest)
    assert h1 != h2  # a fresh salt each time
    assert verify_pin("1234", h1) and not verify_pin("1235", h1) and not verify_pin("", h1)
    for bad in ("123", "123456789", "12a4", "１２３４"):
        with pytest.raises(ops.PinError):
            hash_pin(bad)


def test_open_mode_allows_everything(tmp_path):
    make_ctx(tmp_path, 60)
    assert not ops.has_operators()
    ops.require("anyone", "operators")  # no operator yet: open mode
    o = refund_order()
    assert actions.release([o.id], reason="ok", actor="anyone") == 1
    assert not AuditEvent.select().where(AuditEvent.action == "denied").exists()


def test_first_admin_makes_the_builtin_roles_once(staff):
    assert [r.name for r in ops.roles()] == ["操作员", "仓库主管", "财务", "管理员"]
    assert ops.find_role("admin").permission_set() == set(ops.PERMISSIONS)
    assert ops.find_role("operator").permission_set() == {"view", "print", "ship", "import", "export", "stock"}
    assert ops.find_role("warehouse").permission_set() == {"view", "print", "ship", "import", "export", "stock",
                                                          "reprint", "release", "settings"}
    assert ops.find_role("finance").permission_set() == {"view", "export", "finance"}
    with pytest.raises(ops.DadanError, match="exists already"):
        ops.create_first_admin("eve", "1111")
    stored = ops.Operator.get(ops.Operator.name == "amy").pin_hash
    assert stored.startswith("scrypt$") and "1234" not in stored


def test_operator_without_release_cannot_release(staff):
    o = refund_order()
    flags = o.exception_flags
    with pytest.raises(ops.PermissionDenied) as exc:
        actions.release([o.id], reason="buyer cancelled", actor="amy")
    assert exc.value.message == "amy (operator) may not hold or release exceptions"
    assert Order.get_by_id(o.id).exception_flags == flags  # unchanged
    ev = AuditEvent.get(AuditEvent.action == "denied")
    assert (ev.actor, ev.target) == ("amy", "release") and "release 1 order" in ev.detail
    assert not AuditEvent.select().where(AuditEvent.action == "release").exists()
    with pytest.raises(ops.PermissionDenied):
        actions.hold([o.id], reason="wait", actor="amy")
    # the warehouse admin may; the audit names them
    assert actions.release([o.id], reason="buyer cancelled", actor="wang") == 1
    assert AuditEvent.get(AuditEvent.action == "release").actor == "wang"


def test_unknown_or_deactivated_actor_is_refused_with_how_to_sign_in(staff):
    o = blocked_order()
    with pytest.raises(ops.PermissionDenied, match="not a signed-in operator.*DADAN_OPERATOR"):
        actions.hold([o.id], reason="x", actor="root")
    ops.deactivate("wang", actor="boss")
    with pytest.raises(ops.PermissionDenied, match="wang is deactivated"):
        actions.hold([o.id], reason="x", actor="wang")
    assert AuditEvent.select().where(AuditEvent.action == "denied").count() == 2


def test_other_guarded_functions(staff, tmp_path):
    from dadan.core.desk_settings import change_settings
    from dadan.core.printing import queue as printing
    from dadan.core.spreadsheets.export import export

    with pytest.raises(ops.PermissionDenied, match="reprint"):
        printing.create_reprint_job([1], reason="smudged", printer="preview", template="waybill_100x150", actor="amy")
    with pytest.raises(ops.PermissionDenied, match="export"):
        export("orders", "csv", tmp_path / "o.csv", actor="")  # no actor once operators exist
    assert export("orders", "csv", tmp_path / "o.csv", actor="amy").orders > 0

    def faster(s):
        s.sync.interval_minutes = 7

    with pytest.raises(ops.PermissionDenied, match="change settings"):
        change_settings(staff, faster, actor="amy")
    change_settings(staff, lambda s: setattr(s, "language", "zh"), actor="amy")  # her own language: allowed
    staff.settings.language = "en"
    from dadan.core.i18n import set_language

    set_language("en")
    assert change_settings(staff, faster, actor="wang")


def test_wrong_pins_are_counted_audited_and_lock_out(staff):
    t0 = NOW
    assert ops.sign_in("amy", "1234", terminal="desk-1", now=t0).name == "amy"
    assert ops.last_operator("desk-1").name == "amy"
    for _ in range(2):
        with pytest.raises(ops.SignInError, match="wrong name or PIN"):
            ops.sign_in("amy", "0000", terminal="desk-1", attempts=3, lockout_seconds=60, now=t0)
    assert ops.Operator.get(ops.Operator.name == "amy").failed_pins == 2
    with pytest.raises(ops.SignInError, match="locked"):
        ops.sign_in("amy", "0000", terminal="desk-1", attempts=3, lockout_seconds=60, now=t0)
    # locked: even the right PIN is refused until the time has passed
    with pytest.raises(ops.SignInError, match=r"locked.*60 s"):
        ops.sign_in("amy", "1234", terminal="desk-1", attempts=3, lockout_seconds=60, now=t0)
    with pytest.raises(ops.SignInError, match=r"in 30 s"):
        ops.sign_in("amy", "1234", attempts=3, lockout_seconds=60, now=t0 + dt.timedelta(seconds=30))
    assert ops.sign_in("amy", "1234", terminal="desk-2", attempts=3, now=t0 + dt.timedelta(seconds=61)).name == "amy"
    amy = ops.Operator.get(ops.Operator.name == "amy")
    assert amy.failed_pins == 0 and amy.locked_until is None
    seen = [e.action for e in AuditEvent.select().where(AuditEvent.actor == "amy").order_by(AuditEvent.id)]
    assert seen == ["sign-in", "pin-wrong", "pin-wrong", "pin-wrong", "pin-locked", "pin-wrong", "pin-wrong",
                       "sign-in"]
    assert all("1234" not in (e.detail + e.reason + e.target) and "0000" not in e.detail
               for e in AuditEvent.select())
    with pytest.raises(ops.SignInError, match="wrong name or PIN"):  # unknown names: the same answer
        ops.sign_in("nobody", "1234")


def test_roles_and_operators_management(staff):
    with pytest.raises(ops.PermissionDenied, match="manage operators"):
        ops.add_operator("eve", "5555", "operator", actor="amy")
    r = ops.save_role("打包员", ["view", "ship"], actor="boss")
    assert r.permission_set() == {"view", "ship"} and not r.builtin
    ops.add_operator("li", "5555", "打包员", actor="boss", os_user="li")
    assert ops.operator_for_os_user("li").name == "li"
    assert ops.may("li", "ship") and not ops.may("li", "print")
    with pytest.raises(ops.DadanError, match="still has operators"):
        ops.delete_role("打包员", actor="boss")
    with pytest.raises(ops.DadanError, match="built-in"):
        ops.delete_role("operator", actor="boss")
    with pytest.raises(ops.DadanError, match="last administrator"):
        ops.deactivate("boss", actor="boss")
    with pytest.raises(ops.DadanError, match="last administrator"):
        ops.set_role("boss", "operator", actor="boss")
    ops.set_role("amy", "warehouse", actor="boss")
    assert ops.may("amy", "release")
    ops.set_pin("amy", "2468", actor="amy")  # her own PIN
    with pytest.raises(ops.PermissionDenied):
        ops.set_pin("wang", "2468", actor="amy")
    assert ops.sign_in("amy", "2468").name == "amy"
    assert {e.action for e in AuditEvent.select()} >= {"operator-add", "role-save", "operator-role", "operator-pin",
                                                         "denied"}


def test_context_operator_on_the_command_line(staff, monkeypatch):
    ctx = Context(paths=staff.paths, settings=staff.settings)
    monkeypatch.setenv("DADAN_OPERATOR", "wang")
    monkeypatch.setenv("DADAN_PIN", "4321")
    assert ctx.operator == "wang"
    monkeypatch.delenv("DADAN_OPERATOR")
    monkeypatch.setattr("dadan.core.context.os_login", lambda: "amy-login")
    ops.set_os_user("amy", "amy-login", actor="boss")
    assert Context(paths=staff.paths, settings=staff.settings).operator == "amy"
    monkeypatch.setattr("dadan.core.context.os_login", lambda: "root")
    assert Context(paths=staff.paths, settings=staff.settings).operator == "root"  # refused by core later


# ------------------------------------------------------------------ the command line, in a child process
def dadan(home: Path, *args: str, **env_extra: str) -> tuple[int, str, str]:
    env = dict(os.environ, DADAN_HOME=str(home), LANG="en_US.UTF-8", PYTHONPATH=str(ROOT), **env_extra)
    for k in ("DADAN_LANG", "DADAN_OPERATOR", "DADAN_PIN", "DADAN_NEW_PIN"):
        if k not in env_extra:
            env.pop(k, None)
    p = subprocess.run([sys.executable, "-m", "dadan.tui", *args], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def test_cli_obeys_the_same_rules(tmp_path):
    from dadan.core.db import close_database, open_database

    home = tmp_path / "home"
    rc, out, _ = dadan(home, "demo", "--orders", "40")
    assert rc == 0, out
    rc, out, err = dadan(home, "operators", "init", "boss", DADAN_PIN="9999")
    assert rc == 0 and "administrator boss created" in out
    rc, out, err = dadan(home, "operators", "add", "amy", "--role", "operator",
                         DADAN_OPERATOR="boss", DADAN_PIN="9999", DADAN_NEW_PIN="1234")
    assert rc == 0, err
    db = open_database(f"sqlite:///{home / 'dadan.db'}")
    o = refund_order()
    close_database()
    assert o is not None, "the demo has a refund hold"
    # amy may not release: one clear line, exit 1, nothing released, the attempt audited
    rc, out, err = dadan(home, "release", o.order_sn, "--reason", "buyer cancelled",
                         DADAN_OPERATOR="amy", DADAN_PIN="1234")
    assert rc == 1 and err.strip() == "dadan: Not permitted: amy (operator) may not hold or release exceptions"
    open_database(f"sqlite:///{home / 'dadan.db'}")
    assert Order.get_by_id(o.id).exception_flags == o.exception_flags  # nothing released
    close_database()
    rc, out, err = dadan(home, "operators", "role", "amy", "admin", DADAN_OPERATOR="amy", DADAN_PIN="1234")
    assert rc == 1 and err.strip() == "dadan: Not permitted: amy (operator) may not manage operators"
    rc, out, err = dadan(home, "operators", "list", DADAN_OPERATOR="amy", DADAN_PIN="0000")
    assert rc == 0  # list needs no sign-in
    rc, out, err = dadan(home, "export", "--out", str(tmp_path / "o.csv"), DADAN_OPERATOR="amy", DADAN_PIN="0000")
    assert rc == 1 and "wrong name or PIN" in err and len(err.strip().splitlines()) == 1
    rc, out, err = dadan(home, "export", "--out", str(tmp_path / "o.csv"), DADAN_OPERATOR="amy")
    assert rc == 1 and "needs a PIN" in err
    rc, out, err = dadan(home, "export", "--out", str(tmp_path / "o.csv"))  # not signed in, not mapped
    assert rc == 1 and "not a signed-in operator" in err and "DADAN_OPERATOR" in err
    rc, out, err = dadan(home, "export", "--out", str(tmp_path / "o.csv"), DADAN_OPERATOR="amy", DADAN_PIN="1234")
    assert rc == 0, err
    rc, out, err = dadan(home, "release", o.order_sn, "--reason", "buyer cancelled",
                         DADAN_OPERATOR="boss", DADAN_PIN="9999")
    assert rc == 0 and "released 1 order" in out, err
    db = open_database(f"sqlite:///{home / 'dadan.db'}")
    try:
        assert AuditEvent.get(AuditEvent.action == "release").actor == "boss"
        denied = list(AuditEvent.select().where(AuditEvent.action == "denied").order_by(AuditEvent.id))
        assert [(e.actor, e.target) for e in denied][:2] == [("amy", "release"), ("amy", "operators")]
        assert AuditEvent.select().where(AuditEvent.action == "release").count() == 1  # boss's only
        assert AuditEvent.select().where(AuditEvent.action == "pin-wrong", AuditEvent.actor == "amy").count() == 1
        assert ops.Operator.get(ops.Operator.name == "amy").role.name == "操作员"
    finally:
        close_database()
        del db


def test_finance_export_and_restore_permissions_hold_in_core(staff, tmp_path):
    """Paid amounts in reports need "finance", the audit log's export "export", a backup
    "export" and a restore "settings": refused in core with one line and a ``denied`` event."""
    from dadan.core import backup as bk
    from dadan.core.audit_query import export_events
    from dadan.core.operators.permissions import PermissionDenied
    from dadan.core.reports.figures import build_report

    ctx = staff
    assert not build_report("day", now=NOW, actor="amy").include_money  # figures without money: anyone
    with pytest.raises(PermissionDenied, match="amy"):
        build_report("day", now=NOW, include_money=True, actor="amy")
    assert build_report("day", now=NOW, include_money=True, actor="boss").include_money
    denied = AuditEvent.select().where(AuditEvent.action == "denied")
    assert [e.actor for e in denied] == ["amy"]
    with pytest.raises(PermissionDenied):
        export_events("", "csv", tmp_path / "audit.csv", actor="nobody")
    assert not (tmp_path / "audit.csv").exists()
    assert export_events("", "csv", tmp_path / "audit.csv", actor="boss") > 0
    copy = bk.backup(tmp_path / "copy.db", settings=ctx.settings, paths=ctx.paths, actor="boss")
    with pytest.raises(PermissionDenied):
        bk.restore(copy.path, settings=ctx.settings, paths=ctx.paths, actor="amy")
    assert AuditEvent.select().where(AuditEvent.action == "denied").count() == 3


def test_a_demos_desk_does_not_ask_for_the_administrator(tmp_path, monkeypatch, capsys):
    """``dadan demo`` (and ``make run``'s loopback demo) marks its data folder: its desk opens on
    the demo's orders, not on "create the administrator" (F12 still creates one)."""
    from tests.desk_helpers import run_cli

    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "demo-home"))
    rc, out, _err = run_cli(["demo", "--orders", "20"], monkeypatch, capsys, modules=("demo",))
    assert rc == 0 and "20 demo orders" in out
    assert ops.first_admin_put_off(tmp_path / "demo-home")
