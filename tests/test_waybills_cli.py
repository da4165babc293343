"""``dadan waybills ...``, ``dadan print --courier`` and ``dadan ship`` as a user runs them: the real
command in a child process, a real SQLite file, the loopback platform over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dadan.core.db import close_database
from dadan.core.models import Order, Waybill
from tests.test_sync_support import make_waybill_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cenv(tmp_path):
    e = make_waybill_env(tmp_path, orders=30, quantity=100, seed=4, choose=False)  # the test chooses
    (tmp_path / "config.toml").write_text('[sender]\nname = "杭州仓"\nphone = "13800000000"\n', encoding="utf-8")
    yield e, tmp_path
    e.server.stop()
    close_database()


def dadan(home: Path, *args: str) -> tuple[int, str, str]:
    env = dict(os.environ, DADAN_HOME=str(home), LANG="en_US.UTF-8", PYTHONPATH=str(ROOT))
    env.pop("DADAN_LANG", None)
    p = subprocess.run([sys.executable, "-m", "dadan.tui", *args], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def test_accounts_use_print_list_cancel_ship_from_the_command_line(cenv):
    env, home = cenv
    sns = [o.order_sn for o in Order.select().where((Order.order_status == 1) & (Order.exception_flags == 0))
           .order_by(Order.id).limit(3)]
    rc, out, err = dadan(home, "waybills", "accounts")
    assert rc == 0 and "ZTO" in out and "ZTO-HZ01" in out and "balance 100" in out and "2. 浙江省杭州市余杭区" in out
    rc, out, _ = dadan(home, "waybills", "accounts", "--format", "jsonl", "--cached")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert (row["wp_code"], row["quantity"], row["chosen"], len(row["addresses"])) == ("ZTO", 100, False, 2)

    rc, out, err = dadan(home, "print", sns[0], "--yes")  # no account chosen yet: never a label without a number
    assert rc == 1 and "no courier account" in err
    rc, out, err = dadan(home, "waybills", "use", "ZTO", "--branch", "NOPE")
    assert rc != 0 and "no branch 'NOPE'" in err and len(err.strip().splitlines()) == 1
    rc, out, err = dadan(home, "waybills", "use", "ZTO", "--branch", "ZTO-HZ01", "--address", "2")
    assert rc == 0 and "default courier" in out, err
    rc, out, _ = dadan(home, "waybills", "accounts", "--format", "jsonl", "--cached")
    row = json.loads(out)
    assert (row["chosen"], row["address_no"], row["default"]) == (True, 2, True)

    rc, out, err = dadan(home, "print", sns[2], "--courier", "YTO", "--yes")
    assert rc == 1 and "no YTO" in err.replace("YTO Express", "YTO")
    rc, out, err = dadan(home, "print", sns[0], sns[1], "--yes")
    assert rc == 0 and "2 numbers to take" in err and "2 of 2 labels sent" in out, out + err
    codes = {w.code for w in Waybill.select()}
    assert len(codes) == 2 and env.platform.balance(env.mall, "ZTO")["quantity"] == 98
    rc, out, _ = dadan(home, "waybills", "list", "--format", "jsonl")
    assert {json.loads(line)["code"] for line in out.splitlines()} == codes

    rc, out, err = dadan(home, "waybills", "cancel", sns[0], "--reason", "buyer asked to cancel")
    code0 = Order.get(Order.order_sn == sns[0]).waybill_links[0].waybill.code
    assert rc == 0 and f"recycled {code0}" in out
    assert env.platform.balance(env.mall, "ZTO")["quantity"] == 99
    rc, out, err = dadan(home, "waybills", "cancel", sns[0], "--reason", "again")
    assert rc == 1 and "holds no live number" in err

    rc, out, err = dadan(home, "ship", sns[0], sns[1], "--yes")
    assert rc == 0 and "1 shipped" in out
    rc, out, _ = dadan(home, "export", "--format", "jsonl", "--out", "-", "--query", f"sn:{sns[1]}")
    row = json.loads(out.splitlines()[0])
    assert row["waybills"] and row["waybills"][0]["state"] == "shipped"
    assert row["tracking_number"] == row["waybills"][0]["code"]
