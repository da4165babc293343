"""``dadan handover`` status / list / close on the real database file of DADAN_HOME."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from dadan.core.db import close_database, open_database
from dadan.core.models import Shipment
from dadan.core.packing import handover
from tests.desk_helpers import NOW, run_cli
from tests.handover_helpers import printed_parcels


def run(argv, monkeypatch, capsys):
    return run_cli(argv, monkeypatch, capsys, modules=("handover",))


@pytest.fixture
def home_db():
    from dadan.core.demo import write_demo

    home = Path(os.environ["DADAN_HOME"])
    open_database(f"sqlite:///{home / 'dadan.db'}")
    write_demo(120, 7, now=NOW, goods=False)
    parcels = printed_parcels(5)
    for w in parcels[:3]:
        assert handover.scan(w.code, actor="tester").ok
    close_database()
    return home, [w.code for w in parcels]


def test_status_list_close(home_db, monkeypatch, capsys, tmp_path):
    home, codes = home_db
    rc, out, _ = run(["handover", "status"], monkeypatch, capsys)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "ZTO: printed 5, packed 0, scanned 3, handed over 0, MISSING 2"
    assert lines[1:] == [f"  missing {c}" for c in codes[3:]]
    rc, out, _ = run(["handover", "status", "--courier", "yto"], monkeypatch, capsys)
    assert rc == 0 and out.startswith("YTO: printed 0, packed 0, scanned 0")
    for name in ("中通", "中通快递"):  # a courier's name, as on the desk: its parcels (it said 0 of everything)
        rc, out, _ = run(["handover", "status", "--courier", name], monkeypatch, capsys)
        assert rc == 0 and out.splitlines()[0] == "ZTO: printed 5, packed 0, scanned 3, handed over 0, MISSING 2"
    rc, _out, err = run(["handover", "status", "--courier", "XYZ"], monkeypatch, capsys)
    assert rc == 1 and "no courier is called XYZ" in err
    rc, out, _ = run(["handover", "list", "--open"], monkeypatch, capsys)
    assert rc == 0 and "ZTO 3 parcels · open since" in out and out.count("\n") == 1
    rc, out, _ = run(["handover", "close", "--courier", "ZTO", "--out", str(tmp_path / "j.csv")], monkeypatch, capsys)
    assert rc == 0 and "3 parcels; list written to" in out and "confirmed" not in out
    with open(tmp_path / "j.csv", encoding="utf-8-sig") as fh:
        assert [r[4].lstrip("\t") for r in list(csv.reader(fh))[1:]] == codes[:3]
    rc, _, err = run(["handover", "close", "--courier", "ZTO"], monkeypatch, capsys)
    assert rc == 1 and "no open handover for ZTO" in err and err.count("\n") == 1


def test_close_with_the_confirm_setting_queues_the_shipments(home_db, monkeypatch, capsys):
    home, codes = home_db
    (home / "config.toml").write_text("[packing]\nconfirm_on_handover = true\n", encoding="utf-8")
    rc, out, _ = run(["handover", "close", "--courier", "ZTO"], monkeypatch, capsys)
    assert rc == 0 and "confirmed shipped: 3 order(s); not confirmed: 0" in out
    assert (home / "exports").is_dir() and len(list((home / "exports").glob("handover_ZTO_*.xlsx"))) == 1
    open_database(f"sqlite:///{home / 'dadan.db'}")
    assert sorted(s.tracking_number for s in Shipment.select()) == sorted(codes[:3])
    close_database()
