"""Pick waves (#18): the property that a wave's pick order visits every bin location once, in
order, with every SKU and quantity of its orders accounted for exactly once and its parcels
numbered 1..N with single-SKU parcels grouped; the natural order of bin locations; merged
parcels; and ``dadan wave`` (text, csv, xlsx; the default selection; one-line errors), all on a
real SQLite file. ``DADAN_WAVE_EXAMPLES=200`` checks more seeds."""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import stat
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dadan.core.db import close_database, open_database
from dadan.core.goods import catalogue
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.models import Order, Shop
from dadan.core.orders import actions
from dadan.core.orders.upsert import upsert_orders
from dadan.core.packing.waves import bin_key, plan_parcels, plan_wave, walk_key
from tests.desk_helpers import run_cli

EXAMPLES = int(os.environ.get("DADAN_WAVE_EXAMPLES", "25"))
T0 = dt.datetime(2026, 11, 20, 8, 0)


def _rec(sn: str, lines: list[dict], **kw) -> dict:
    base = {"order_sn": sn, "order_status": 1, "refund_status": 1, "after_sales_status": 0,
            "risk_control_status": 0, "is_stock_out": 0, "updated_at": T0, "pay_time": T0,
            "last_ship_time": T0 + dt.timedelta(hours=24), "province": "浙江省", "items": lines}
    base.update(kw)
    return base


def _line(code: str, qty: int, *, by_sku: bool = False, name: str = "") -> dict:
    """A line naming ``code`` by merchant code, or (``by_sku``) by the platform's sku id only."""
    return {"goods_id": "9", "goods_name": name or f"品{code}", "goods_spec": "", "goods_count": qty,
            "outer_id": "" if by_sku else code, "sku_id": code if by_sku else "88"}


# ------------------------------------------------------------------ natural order
def test_bins_in_natural_order():
    bins = ["B-01-1", "A-10-1", "A-03-2", "a-03-10", "A-3-1", "A-03", "C2", "C10", "C-1", "库-2", "库-10", "Z9-1"]
    assert sorted(bins, key=bin_key) == ["A-03", "A-3-1", "A-03-2", "a-03-10", "A-10-1", "B-01-1", "C-1", "C2",
                                         "C10", "Z9-1", "库-2", "库-10"]
    assert bin_key("A-03-2") < bin_key("A-10-1") < bin_key("B-01-1")
    assert bin_key("A-3") != bin_key("A-03") and bin_key(" A-1 ") == bin_key("A-1")
    assert bin_key("A-2") < bin_key("A-10") and bin_key("A10") < bin_key("AB1")  # numbers as numbers
    assert walk_key("Z-99") < walk_key("") and walk_key("  ") == walk_key("")  # no bin: last
    assert bin_key("²-1") and bin_key("") == ((), "")  # not digits to int(): no error


# ------------------------------------------------------------------ the property
LETTERS = "ABCD"


def _world(tmp_path: Path, seed: int):
    """A random catalogue (shared bins, bins spelt with or without zeros, SKUs without a bin, SKUs
    missing) and random orders (codes in any case, by merchant code or sku id, repeated lines)."""
    rng = random.Random(seed)
    open_database(f"sqlite:///{tmp_path}/w{seed}.db")
    shop = Shop.create(name="s")
    places = {}
    for _ in range(rng.randint(1, 12)):  # one spelling per location
        loc = (rng.choice(LETTERS), rng.randint(1, 30), rng.randint(1, 12))
        places[loc] = f"{loc[0]}-{loc[1]:0{rng.choice([1, 2])}d}-{loc[2]}"
    codes = [f"K{i}" for i in range(rng.randint(2, 14))]
    bins = {}
    records = []
    for c in codes:
        r = rng.random()
        if r < 0.15:
            continue  # missing from the catalogue
        bins[c.lower()] = "" if r < 0.3 else places[rng.choice(list(places))]
        records.append(GoodsRecord(code=c, name=f"商品{c}", spec="规格", bin=bins[c.lower()], on_hand=10**6))
    if records:
        catalogue.save(records, actor="t")
    want: dict[str, dict[str, int]] = {}
    recs = []
    for n in range(rng.randint(1, 60)):
        sn = f"261120-{seed:04d}{n:06d}"
        lines = []
        for _ in range(rng.choice([1, 1, 1, 2, 3, 4])):
            c = rng.choice(codes)
            spelt = rng.choice([c, c.lower()])
            q = rng.randint(1, 5)
            lines.append(_line(spelt, q, by_sku=rng.random() < 0.3))
            want.setdefault(sn, {})[c.lower()] = want.get(sn, {}).get(c.lower(), 0) + q
        recs.append(_rec(sn, lines))
    upsert_orders(shop.id, recs)
    ids = {o.order_sn: o.id for o in Order.select(Order.id, Order.order_sn)}
    order = list(ids.values())
    rng.shuffle(order)
    return order, want, bins, ids


def _loc(bin_location: str) -> tuple:  # independent of bin_key: the generator's own parts
    a, b, c = bin_location.split("-")
    return a, int(b), int(c)


def check_wave(seed: int, tmp_path: Path) -> None:
    order, want, bins, ids = _world(tmp_path, seed)
    wave = plan_wave(order)
    sn_of = {v: k for k, v in ids.items()}

    # every bin location once, in walk order; the SKUs without a bin last
    walked = [r.bin for r in wave.picks]
    with_bin = [b for b in walked if b]
    assert walked[:len(with_bin)] == with_bin, walked
    visits = [b for i, b in enumerate(with_bin) if i == 0 or with_bin[i - 1] != b]
    assert len(visits) == len(set(visits)), visits
    assert all(_loc(a) < _loc(b) for a, b in zip(visits, visits[1:])), visits
    no_bin = {r.key for r in wave.picks if not r.bin}
    used = {k for lines in want.values() for k in lines}
    assert no_bin == {k for k in used if not bins.get(k)}
    for r in wave.picks:
        assert r.bin == bins.get(r.key, "")

    # every SKU and quantity exactly once
    assert len({r.key for r in wave.picks}) == len(wave.picks)
    totals = {}
    holders = {}
    for lines in want.values():
        for k, q in lines.items():
            totals[k] = totals.get(k, 0) + q
            holders[k] = holders.get(k, 0) + 1
    assert {r.key: r.qty for r in wave.picks} == totals
    assert {r.key: r.parcels for r in wave.picks} == holders
    assert sum(p.items for p in wave.parcels) == sum(totals.values())

    # parcels: 1..N, each order once with its lines; single-SKU parcels first, grouped by SKU in
    # bin order; multi-SKU parcels by their first item's bin
    assert [p.seq for p in wave.parcels] == list(range(1, len(order) + 1))
    assert sorted(oid for p in wave.parcels for oid in p.order_ids) == sorted(order)
    assert wave.seq_of() == {p.order_ids[0]: p.seq for p in wave.parcels}
    for p in wave.parcels:
        assert dict(p.lines) == want[sn_of[p.order_ids[0]]]
        assert p.order_sns == [sn_of[p.order_ids[0]]]
    singles = [p for p in wave.parcels if p.single]
    assert wave.parcels[:len(singles)] == singles
    groups = [p.lines[0][0] for p in singles]
    runs = [k for i, k in enumerate(groups) if i == 0 or groups[i - 1] != k]
    assert len(runs) == len(set(runs)), runs  # each SKU's single parcels together
    keyed = [bins.get(k, "") for k in runs]
    assert keyed[:len([b for b in keyed if b])] == [b for b in keyed if b]  # no-bin groups last
    binned = [_loc(b) for b in keyed if b]
    assert binned == sorted(binned)
    firsts = [bins.get(p.lines[0][0], "") for p in wave.parcels[len(singles):]]
    located = [b for b in firsts if b]
    assert firsts[:len(located)] == located
    assert [_loc(b) for b in located] == sorted(_loc(b) for b in located)
    for p in wave.parcels:  # a parcel's lines in walk order
        assert [walk_key(bins.get(k, "")) for k, _q in p.lines] == sorted(walk_key(bins.get(k, "")) for k, _q in p.lines)
    # within a group, the order given
    pos = {oid: i for i, oid in enumerate(order)}
    for a, b in zip(singles, singles[1:]):
        if a.lines[0][0] == b.lines[0][0]:
            assert pos[a.order_ids[0]] < pos[b.order_ids[0]]
    close_database()


@pytest.mark.parametrize("seed", range(EXAMPLES))
def test_wave_walks_every_bin_once_in_order(seed, tmp_path):
    check_wave(seed, tmp_path)


# ------------------------------------------------------------------ merged parcels, names
def _small(tmp_path: Path):
    open_database(f"sqlite:///{tmp_path}/small.db")
    shop = Shop.create(name="s")
    catalogue.save([GoodsRecord(code="A12", name="T恤", spec="白色,L", bin="A-10-1", on_hand=1000),
                    GoodsRecord(code="B07", name="羽绒服", spec="黑色,L", bin="A-03-2", on_hand=1000),
                    GoodsRecord(code="C21", name="保温杯", spec="星空蓝", bin="B-01-1", on_hand=1000),
                    GoodsRecord(code="D01", name="抽纸", bin="", on_hand=1000)], actor="t")
    upsert_orders(shop.id, [
        _rec("S1", [_line("A12", 1), _line("c21", 2)]),
        _rec("S2", [_line("a12", 2)]),
        _rec("S3", [_line("B07", 1, by_sku=True)]),
        _rec("S4", [_line("X99", 1, name="目录外")]),
        _rec("S5", [_line("A12", 1), _line("A12", 1)]),  # one SKU twice: single, 2 units
        _rec("S6", [_line("D01", 3), _line("B07", 1)]),
    ])
    return {o.order_sn: o.id for o in Order.select(Order.id, Order.order_sn)}


def test_wave_of_known_orders(tmp_path):
    ids = _small(tmp_path)
    wave = plan_wave([ids[s] for s in ("S1", "S2", "S3", "S4", "S5", "S6")])
    assert [(p.seq, p.order_sns[0]) for p in wave.parcels] == [
        (1, "S3"), (2, "S2"), (3, "S5"), (4, "S4"), (5, "S6"), (6, "S1")]
    assert [(r.bin, r.code, r.name, r.spec, r.qty, r.parcels) for r in wave.picks] == [
        ("A-03-2", "B07", "羽绒服", "黑色,L", 2, 2), ("A-10-1", "A12", "T恤", "白色,L", 5, 3),
        ("B-01-1", "C21", "保温杯", "星空蓝", 2, 1), ("", "D01", "抽纸", "", 3, 1), ("", "X99", "目录外", "", 1, 1)]
    assert wave.sku_summary(wave.parcels[4]) == "B07 D01×3"
    assert "6 parcels (4 single-SKU), 13 items from 3 bins" in wave.summary()
    assert "2 SKUs without a bin" in wave.summary()
    merged = plan_parcels([[ids["S2"], ids["S5"]], [ids["S3"]], [ids["S1"]]])
    assert [(p.seq, p.order_sns, p.lines) for p in merged.parcels] == [
        (1, ["S3"], [("b07", 1)]), (2, ["S2", "S5"], [("a12", 4)]), (3, ["S1"], [("a12", 1), ("c21", 2)])]
    assert merged.seq_of() == {ids["S3"]: 1, ids["S2"]: 2, ids["S5"]: 2, ids["S1"]: 3}
    upsert_orders(Shop.get().id, [_rec("S7", [])])  # nothing to pick: last, and no pick row
    empty = plan_wave([Order.get(Order.order_sn == "S7").id, ids["S1"]])
    assert [(p.order_sns, p.lines) for p in empty.parcels] == [(["S1"], [("a12", 1), ("c21", 2)]), (["S7"], [])]
    assert empty.sku_summary(empty.parcels[1]) == "-" and [r.code for r in empty.picks] == ["A12", "C21"]
    with pytest.raises(Exception, match="no order with id 999999"):
        plan_wave([999999])
    close_database()


# ------------------------------------------------------------------ the command
def run(argv, monkeypatch, capsys):
    return run_cli(argv, monkeypatch, capsys, modules=("wave",))


@pytest.fixture
def home():
    return Path(os.environ["DADAN_HOME"])


def _home_orders(home: Path) -> dict[str, int]:
    ids = _small(home.parent)
    close_database()
    # move the small database into DADAN_HOME
    (home.parent / "small.db").replace(home / "dadan.db")
    return ids


def test_wave_command_text_and_default_selection(home, monkeypatch, capsys):
    ids = _home_orders(home)
    open_database(f"sqlite:///{home / 'dadan.db'}")
    actions.hold([ids["S4"]], reason="t", actor="t")  # blocked: left out
    actions.set_state([ids["S6"]], "printed", reason="t", actor="t")
    Order.update(print_count=1).where(Order.id == ids["S6"]).execute()  # printed: left out
    close_database()
    rc, out, err = run(["wave"], monkeypatch, capsys)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "wave: 4 parcels (3 single-SKU), 8 items from 3 bins"
    head = lines.index("pick list (walk the shelves in this order)")
    assert lines[head + 1].split() == ["Bin", "SKU", "code", "Name", "Spec", "Quantity", "Parcels"]
    assert [ln.split()[:2] for ln in lines[head + 2:head + 5]] == [["A-03-2", "B07"], ["A-10-1", "A12"],
                                                                   ["B-01-1", "C21"]]
    parcels = lines.index("parcels (sequence on label and slip)")
    assert [ln.split() for ln in lines[parcels + 2:]] == [["1", "S3", "B07"], ["2", "S2", "A12×2"],
                                                          ["3", "S5", "A12×2"], ["4", "S1", "A12", "C21×2"]]
    # aligned for Chinese: the quantity column ends in the same terminal column on every row
    from dadan.core.errors import cells

    rows = lines[head + 1:head + 5]
    assert len({cells(r) for r in rows}) == 1  # numbers right-aligned: every row as wide
    assert len({cells(r[:r.index("B07" if i else "SKU")]) for i, r in enumerate(rows) if "B07" in r or not i}) == 1
    rc, out, err = run(["wave", "S1", "S4", "S6"], monkeypatch, capsys)
    assert rc == 0 and "left out: 1 to print, 1 already printed (use reprint), 1 blocked" in err
    assert out.splitlines()[0].startswith("wave: 1 parcels")
    rc, out, err = run(["wave", "--query", "sku:B07"], monkeypatch, capsys)
    assert rc == 0 and "1 parcels" in out.splitlines()[0]
    rc, out, err = run(["wave", "--limit", "2"], monkeypatch, capsys)  # the oldest paid first: S1, S2
    assert rc == 0 and out.splitlines()[0].startswith("wave: 2 parcels")
    assert [ln.split()[1] for ln in out.splitlines()[-2:]] == ["S2", "S1"]


def test_wave_command_files(home, tmp_path, monkeypatch, capsys):
    _home_orders(home)
    rc, _out, err = run(["wave", "--out", str(tmp_path / "w" / "wave.csv")], monkeypatch, capsys)
    assert rc == 0 and "written to" in err and "6 parcels" in err
    path = tmp_path / "w" / "wave.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Bin", "SKU code", "Name", "Spec", "Quantity", "Parcels"]
    assert rows[1] == ["A-03-2", "B07", "羽绒服", "黑色,L", "2", "2"]
    assert rows[4][:2] == ["(no bin)", "D01"] and rows[5][:2] == ["(no bin)", "X99"]
    assert rows[6] == [] and rows[7] == ["Sequence", "Order number", "SKUs"]
    assert [r[:2] for r in rows[8:]] == [[str(i), sn] for i, sn in enumerate(["S3", "S2", "S5", "S4", "S6", "S1"], 1)]

    rc, _out, err = run(["wave", "--out", str(tmp_path / "wave.xlsx")], monkeypatch, capsys)
    assert rc == 0, err
    assert stat.S_IMODE((tmp_path / "wave.xlsx").stat().st_mode) == 0o600
    ws = load_workbook(tmp_path / "wave.xlsx").active
    got = [tuple(r) for r in ws.iter_rows(values_only=True)]
    assert got[0] == ("Bin", "SKU code", "Name", "Spec", "Quantity", "Parcels")
    assert got[2] == ("A-10-1", "A12", "T恤", "白色,L", 5, 3)
    assert got[8][:3] == (1, "S3", "B07") and got[13][:3] == (6, "S1", "A12 C21×2")

    rc, out, _err = run(["wave", "--format", "csv"], monkeypatch, capsys)
    assert rc == 0 and out.splitlines()[1].startswith("A-03-2,B07,")
    rc, _out, _err = run(["wave", "--out", str(tmp_path / "wave.txt")], monkeypatch, capsys)
    assert rc == 0 and (tmp_path / "wave.txt").read_text(encoding="utf-8").startswith("wave: 6 parcels")


def test_wave_command_errors(home, tmp_path, monkeypatch, capsys):
    rc, _out, err = run(["wave"], monkeypatch, capsys)  # an empty database
    assert rc != 0 and err.strip().count("\n") == 0 and "no order to print" in err
    _home_orders(home)
    rc, _out, err = run(["wave", "NOPE"], monkeypatch, capsys)
    assert rc != 0 and err.strip().count("\n") == 0 and "no order NOPE" in err
    rc, _out, err = run(["wave", "--format", "xlsx"], monkeypatch, capsys)
    assert rc != 0 and "needs --out" in err and err.strip().count("\n") == 0
    rc, _out, err = run(["wave", "--limit", "0"], monkeypatch, capsys)
    assert rc != 0 and "--limit must be 1 or more" in err
    rc, _out, err = run(["wave", "--query", "status:bogus"], monkeypatch, capsys)
    assert rc != 0 and "unknown status" in err
    (tmp_path / "afile").write_text("x")
    rc, _out, err = run(["wave", "--out", str(tmp_path / "afile" / "w.csv")], monkeypatch, capsys)
    assert rc != 0 and "is not a folder" in err and err.strip().count("\n") == 0


def test_a_print_job_is_a_wave_its_labels_in_walk_order(tmp_path):
    """``create_job(wave=True)`` (the desk's and ``dadan print``'s default, setting packing.waves)
    queues the labels in the wave's walk order, each label's sequence its parcel's; without it,
    in the order given."""
    from dadan.core.models import PrintItem
    from dadan.core.printing import queue as printing

    ids = _small(tmp_path)
    given = [ids[s] for s in ("S1", "S2", "S3", "S4", "S5", "S6")]
    job = printing.create_job(given, printer="p", template="packing_80", wave=True)
    items = list(PrintItem.select().where(PrintItem.job == job.id).order_by(PrintItem.seq))
    wave = plan_wave(given)
    assert [(it.seq, it.order_id) for it in items] == [(p.seq, p.order_ids[0]) for p in wave.parcels]
    assert [Order.get_by_id(it.order_id).order_sn for it in items] == ["S3", "S2", "S5", "S4", "S6", "S1"]
    printing.cancel_job(job.id)
    plain = printing.create_job(given, printer="p", template="packing_80")
    assert [it.order_id for it in PrintItem.select().where(PrintItem.job == plain.id).order_by(PrintItem.seq)] == given
    close_database()
