"""The stock ledger and the oversell guard, case by case (the property test covers the mix)."""

from __future__ import annotations

import datetime as dt

import pytest

from dadan.core.db import database, open_database
from dadan.core.errors import DadanError
from dadan.core.goods import catalogue, guard, ledger
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.models import Goods, StockMovement
from dadan.core.models import AuditEvent, Courier, Order, OrderEvent, Shop
from dadan.core.orders import actions
from dadan.core.orders.rules import Flag
from dadan.core.orders.upsert import upsert_orders
from dadan.core.shipping.outbox import assign_tracking

T0 = dt.datetime(2026, 11, 20, 8, 0)


@pytest.fixture
def shop(store):
    open_database(store.url("s.db"))
    Courier.create(id=115, name="中通快递", code="ZTO")
    return Shop.create(name="s")


def order(sn: str, code: str = "A12", n: int = 1, hours: float = 24, **kw) -> dict:
    rec = {"order_sn": sn, "order_status": 1, "refund_status": 1, "updated_at": T0, "pay_time": T0,
           "last_ship_time": T0 + dt.timedelta(hours=hours), "province": "浙江省",
           "items": [{"goods_id": "1", "goods_name": "T恤", "goods_spec": "白色,L", "goods_count": n, "outer_id": code}]}
    rec.update(kw)
    return rec


def goods(code: str = "A12") -> Goods:
    return Goods.get(Goods.code_key == code.lower())


def flagged(sn: str) -> bool:
    return bool(Order.get(Order.order_sn == sn).exception_flags & Flag.STOCK_SHORT)


def test_the_most_urgent_are_served_and_a_receipt_releases_the_next_in_line(shop):
    catalogue.save([GoodsRecord(code="A12", on_hand=3)], actor="t")
    upsert_orders(shop.id, [order("late", n=2, hours=48), order("urgent", n=2, hours=2), order("mid", n=1, hours=24)])
    assert [flagged(s) for s in ("urgent", "mid", "late")] == [False, False, True]
    g = goods()
    assert (g.on_hand, g.reserved, g.available) == (3, 5, -2)
    late = Order.get(Order.order_sn == "late")
    assert guard.shortfalls(late.id) == [("A12", 2)]
    assert "A12 ×2" in OrderEvent.select().where(OrderEvent.order == late.id, OrderEvent.kind == "flag").get().text
    ledger.move(g.id, 1, "receive", actor="t", reason="in")
    assert flagged("late") and guard.shortfalls(late.id) == [("A12", 1)]
    ledger.move(g.id, 1, "receive", actor="t", reason="in")
    assert not flagged("late")
    assert AuditEvent.select().where(AuditEvent.action == "stock_release", AuditEvent.order == late.id).count() == 1


def test_a_more_urgent_order_takes_the_stock_of_an_unprinted_one_but_not_of_a_printed_one(shop):
    catalogue.save([GoodsRecord(code="A12", on_hand=1)], actor="t")
    upsert_orders(shop.id, [order("first", hours=48)])
    upsert_orders(shop.id, [order("urgent", hours=1)])
    assert (flagged("first"), flagged("urgent")) == (True, False)
    actions.set_state([Order.get(Order.order_sn == "urgent").id], "new", reason="t", actor="t")  # no change
    ledger.count(goods().id, 0, actor="t")
    ledger.count(goods().id, 1, actor="t")
    o = Order.get(Order.order_sn == "urgent")
    actions.set_state([o.id], "printed", reason="label out", actor="t")
    upsert_orders(shop.id, [order("more-urgent", hours=0.5)])
    assert (flagged("urgent"), flagged("more-urgent")) == (False, True)


def test_shipping_takes_the_lines_off_the_shelf_and_a_refund_gives_the_reservation_back(shop):
    catalogue.save([GoodsRecord(code="A12", on_hand=10)], actor="t")
    upsert_orders(shop.id, [order("a", n=2), order("b", n=3)])
    assert (goods().on_hand, goods().reserved) == (10, 5)
    a = Order.get(Order.order_sn == "a")
    assign_tracking(a.id, "78000000000001", 115, actor="packer")
    m = StockMovement.get(StockMovement.order == a.id)
    assert (m.kind, m.qty, m.actor, m.order_sn) == ("ship", -2, "packer", "a")
    assert (goods().on_hand, goods().reserved) == (8, 3)
    upsert_orders(shop.id, [order("b", n=3, refund_status=4, updated_at=T0 + dt.timedelta(hours=1))])
    assert (goods().on_hand, goods().reserved) == (8, 0)
    assert StockMovement.select().count() == 2  # the file's count and the shipment: a refund moves nothing
    actions.set_state([a.id], "new", reason="shipped by mistake", actor="t")  # back to pending: lines back
    assert (goods().on_hand, goods().reserved) == (10, 2)
    back = StockMovement.select().order_by(StockMovement.id.desc()).get()
    assert (back.kind, back.qty) == ("return", 2)


def test_a_released_refund_reserves_and_ships_its_goods_like_any_order(shop):
    """An operator releases a refund's exception while the platform still says refunded (a
    refund withdrawn on the phone): the order may print and ship, so it reserves its goods again
    and its shipment takes them off the shelf. It reserved nothing and shipped without a
    movement, the shelf showing goods that had left."""
    catalogue.save([GoodsRecord(code="A12", on_hand=10)], actor="t")
    upsert_orders(shop.id, [order("b", n=3)])
    upsert_orders(shop.id, [order("b", n=3, refund_status=3, updated_at=T0 + dt.timedelta(hours=1))])
    b = Order.get(Order.order_sn == "b")
    assert b.exception_flags & Flag.REFUND and goods().reserved == 0
    actions.release([b.id], reason="refund withdrawn", actor="t", flags=int(Flag.REFUND))
    assert (goods().on_hand, goods().reserved) == (10, 3)
    assign_tracking(b.id, "78000000000002", 115, actor="packer")
    m = StockMovement.get(StockMovement.order == b.id)
    assert (m.kind, m.qty) == ("ship", -3) and (goods().on_hand, goods().reserved) == (7, 0)
    # a refund never released gives the reservation back and ships nothing, as before
    upsert_orders(shop.id, [order("c", n=2)])
    upsert_orders(shop.id, [order("c", n=2, refund_status=4, updated_at=T0 + dt.timedelta(hours=1))])
    assert goods().reserved == 0


def test_the_platform_shipping_an_order_takes_it_off_the_shelf_once(shop):
    catalogue.save([GoodsRecord(code="a12", on_hand=5)], actor="t")
    upsert_orders(shop.id, [order("a", code="A12", n=2)])
    for minutes in (1, 2):
        upsert_orders(shop.id, [order("a", code="A12", n=2, order_status=2,
                                      updated_at=T0 + dt.timedelta(minutes=minutes))])
    assert (goods().on_hand, goods().reserved) == (3, 0)


def test_an_order_shipped_before_the_catalogue_knew_it_takes_nothing(shop):
    upsert_orders(shop.id, [order("old", order_status=2)])
    catalogue.save([GoodsRecord(code="A12", on_hand=5)], actor="t")
    assert (goods().on_hand, goods().reserved) == (5, 0)


def test_a_sku_added_to_the_catalogue_starts_reserving_and_guarding(shop):
    upsert_orders(shop.id, [order("a", code="Z9", n=4), order("b", code="Z9", n=1, hours=2)])
    assert [m.code for m in catalogue.missing()] == ["Z9"]
    catalogue.save([GoodsRecord(code="Z9", name="新品", on_hand=1)], actor="t")
    assert catalogue.missing() == []
    assert goods("z9").reserved == 5
    assert (flagged("a"), flagged("b")) == (True, False)


def test_a_person_cannot_release_stock_short_by_hand(shop):
    catalogue.save([GoodsRecord(code="A12", on_hand=0)], actor="t")
    upsert_orders(shop.id, [order("a")])
    o = Order.get(Order.order_sn == "a")
    with pytest.raises(DadanError, match="receive or count"):
        actions.release([o.id], reason="x", actor="t", flags=int(Flag.STOCK_SHORT))
    actions.hold([o.id], reason="x", actor="t")
    actions.release([o.id], reason="x", actor="t")  # every flag: the hold goes, short stays
    assert Order.get_by_id(o.id).exception_flags == Flag.STOCK_SHORT


def test_movements_are_append_only_and_on_hand_is_their_sum(shop):
    catalogue.save([GoodsRecord(code="A12", on_hand=4)], actor="t")
    g = goods()
    ledger.move(g.id, -1, "adjust", actor="t", reason="broken")
    ledger.move(g.id, 2, "return", actor="t", reason="buyer returned")
    assert goods().on_hand == 5 == sum(m.qty for m in StockMovement.select())
    with pytest.raises(Exception, match="append-only"):
        database().execute_sql('UPDATE "stock_movement" SET "qty" = 100')
    with pytest.raises(Exception, match="append-only"):
        database().execute_sql('DELETE FROM "stock_movement"')
    with pytest.raises(DadanError):
        ledger.move(g.id, 0, "receive", actor="t")
    with pytest.raises(DadanError):
        ledger.move(g.id, 1, "ship", actor="t")
    with pytest.raises(DadanError):
        ledger.count(g.id, -1, actor="t")
    assert ledger.count(g.id, 5, actor="t") is None  # agrees: no movement


def test_a_barcode_names_one_sku(shop):
    catalogue.save([GoodsRecord(code="A12", barcodes=["6901"]), GoodsRecord(code="B07")], actor="t")
    with pytest.raises(DadanError, match="6901"):
        catalogue.save([GoodsRecord(code="B07", barcodes=["6901"])], actor="t")
    with pytest.raises(DadanError, match="6901"):
        catalogue.save([GoodsRecord(code="C1", barcodes=["6901"]), GoodsRecord(code="C2", barcodes=["6901"])],
                       actor="t")
    # moved in one save: the old owner's record no longer lists it
    catalogue.save([GoodsRecord(code="B07", barcodes=["6901"]), GoodsRecord(code="A12", barcodes=["6902"])],
                   actor="t")
    assert catalogue.find("6901").code == "B07" and catalogue.find("6902").code == "A12"
    assert catalogue.find("a12").code == "A12" and catalogue.find("nope") is None
    # the goods screen's form: the list replaces the SKU's barcodes
    a12 = catalogue.find("a12")
    catalogue.edit(a12.id, actor="t", barcodes=["6902", "6903"])
    assert catalogue.find("6903").code == "A12" and catalogue.find("6901").code == "B07"


def test_stock_filter_terms(shop):
    from dadan.core.errors import QuerySyntaxError
    from dadan.core.orders.query import compile_query

    catalogue.save([GoodsRecord(code="A12", on_hand=1, safety_stock=0), GoodsRecord(code="B07", on_hand=50,
                                                                                      safety_stock=45)], actor="t")
    upsert_orders(shop.id, [order("a", hours=2), order("b", hours=9), order("c", code="B07", n=6), order("d", code="X")])

    def sns(q: str) -> list[str]:
        return sorted(o.order_sn for o in Order.select().where(compile_query(q)))

    assert sns("stock:short") == sns("库存:缺货") == ["b"]
    assert sns("stock:low") == ["a", "b", "c"]  # A12 at -1 <= 0, B07 at 44 <= 45
    assert sns("-stock:low") == ["d"]
    assert sns("stock:short,low") == ["a", "b", "c"]
    with pytest.raises(QuerySyntaxError, match="short, low"):
        compile_query("stock:many")


def _lines_after_the_catalogue(url: str, share: int, monkeypatch) -> tuple:
    """A shop's orders (open, printed, refunding, shipped; several lines of one SKU; SKUs the
    catalogue lacks), then two SKUs added to the catalogue with ``_ONE_PASS_SHARE`` = ``share``:
    their demand rows, reserved quantities and short orders."""
    monkeypatch.setattr(ledger, "_ONE_PASS_SHARE", share)
    open_database(url)
    Courier.create(id=115, name="中通快递", code="ZTO")
    s = Shop.create(name="s")
    recs = [order(f"a{i}", code="A12", n=1 + i % 3, hours=i) for i in range(12)]
    recs += [order(f"z{i}", code="Z9", hours=30 - i) for i in range(5)]
    recs += [order(f"x{i}", code="X1") for i in range(30)]  # never catalogued
    recs += [order("refunding", code="A12", refund_status=3), order("shipped", code="Z9", order_status=2)]
    two = order("two lines", code="A12")
    two["items"] = [dict(two["items"][0]), dict(two["items"][0], goods_count=2), dict(two["items"][0], outer_id="Z9")]
    recs.append(two)
    upsert_orders(s.id, recs)
    actions.set_state([Order.get(Order.order_sn == "a3").id], "printed", reason="t", actor="t")
    catalogue.save([GoodsRecord(code="A12", on_hand=10), GoodsRecord(code="Z9", on_hand=2)], actor="t")
    demand = database().execute_sql(
        'SELECT g."code", o."order_sn", d."qty", d."served", d."due", d."short" FROM "stock_demand" d '
        'JOIN "goods" g ON g."id" = d."goods_id" JOIN "order" o ON o."id" = d."order_id" ORDER BY 1, 2').fetchall()
    reserved = sorted((g.code, g.reserved) for g in Goods.select())
    # (built again after the one pass; PostgreSQL lists its key's index too)
    indexes = sorted(i.name for i in database().get_indexes("stock_demand") if i.name != "stock_demand_pkey")
    return demand, reserved, sorted(o.order_sn for o in Order.select() if flagged(o.order_sn)), indexes


def test_new_skus_settled_through_their_orders_or_in_one_pass_reserve_the_same(store, monkeypatch):
    # share 1: the two SKUs' 20 code pairs are fewer than the 50 orders: through their own orders;
    # share 10**6: any pair is "many": one pass over every order line
    through_orders = _lines_after_the_catalogue(store.url("a.db"), 1, monkeypatch)
    one_pass = _lines_after_the_catalogue(store.url("b.db"), 10**6, monkeypatch)
    assert through_orders == one_pass
    demand, reserved, short, indexes = one_pass
    assert indexes == ["stock_demand_goods_id_served_due_order_id", "stock_demand_order_id", "stock_demand_short"]
    assert ("A12", "two lines", 3) in [row[:3] for row in demand]
    assert not any(sn in ("refunding", "shipped") or sn.startswith("x") for _c, sn, *_r in demand)
    assert reserved == [("A12", sum(1 + i % 3 for i in range(12)) + 3), ("Z9", 6)]
    assert short  # A12: 27 wanted, 10 on the shelf


def test_a_few_skus_in_many_orders_are_settled_in_one_pass(shop):
    upsert_orders(shop.id, [order(f"a{i}", code="A12") for i in range(3)]
                  + [order(f"b{i}", code="B7") for i in range(37)])
    catalogue.save([GoodsRecord(code="A12"), GoodsRecord(code="B7")], actor="t", settle=False)
    rare, common = goods("A12").id, goods("B7").id
    assert not ledger._in_many_orders([rare])  # 3 of 40 orders: fewer than half
    assert ledger._in_many_orders([common])  # 37 of 40
    assert ledger._in_many_orders([rare, common])


def test_a_version_24_database_drops_the_second_index_of_the_demand_rows_goods(tmp_path):
    from dadan.core.db import close_database, write
    from dadan.core.migrations import REDUNDANT_DEMAND_INDEX, SCHEMA_VERSION
    from dadan.core.models import SchemaVersion

    url = f"sqlite:///{tmp_path / 'v24.db'}"
    db = open_database(url)
    assert REDUNDANT_DEMAND_INDEX not in {i.name for i in db.get_indexes("stock_demand")}  # a new database
    s = Shop.create(name="s")
    upsert_orders(s.id, [order(f"a{i}", n=i + 1) for i in range(3)])
    catalogue.save([GoodsRecord(code="A12", on_hand=4)], actor="t")
    before = db.execute_sql('SELECT * FROM "stock_demand" ORDER BY 1, 2').fetchall()
    with write():  # as step 24 left it
        db.execute_sql(f'CREATE INDEX "{REDUNDANT_DEMAND_INDEX}" ON "stock_demand" ("goods_id")')
        SchemaVersion.delete().where(SchemaVersion.version > 24).execute()
    close_database()
    db = open_database(url)
    assert SchemaVersion.select().order_by(SchemaVersion.version.desc()).first().version == SCHEMA_VERSION >= 25
    assert {i.name for i in db.get_indexes("stock_demand")} == {
        "stock_demand_order_id", "stock_demand_goods_id_served_due_order_id", "stock_demand_short"}
    assert db.execute_sql('SELECT * FROM "stock_demand" ORDER BY 1, 2').fetchall() == before
    plan = db.execute_sql('EXPLAIN QUERY PLAN SELECT sum("qty") FROM "stock_demand" WHERE "goods_id" = ?',
                          (goods().id,)).fetchall()
    assert "PRIMARY KEY" in plan[0][3] or "stock_demand_goods_id_served_due_order_id" in plan[0][3], plan
    close_database()


def test_a_catalogue_that_leaves_many_orders_short_flags_each_with_its_events(shop):
    upsert_orders(shop.id, [order(f"o{i}", n=2, hours=i + 1) for i in range(30)])
    catalogue.save([GoodsRecord(code="A12", on_hand=5)], actor="boss")  # covers two orders and half of a third
    short = [o for o in Order.select().order_by(Order.id) if o.exception_flags & Flag.STOCK_SHORT]
    assert [o.order_sn for o in short] == [f"o{i}" for i in range(2, 30)]
    flags = {e.order_id: e.text for e in OrderEvent.select().where(OrderEvent.kind == "flag")}
    assert set(flags) == {o.id for o in short}
    assert flags[short[0].id].endswith("A12 ×1") and flags[short[1].id].endswith("A12 ×2")
    events = {e.order_id: e for e in AuditEvent.select().where(AuditEvent.action == "stock_short")}
    assert set(events) == {o.id for o in short}
    assert all(e.actor == "boss" and f'"order_sn": "{e.order.order_sn}"' in e.detail for e in events.values())
    ledger.move(goods().id, 60, "receive", actor="boss", reason="in")  # now all are covered
    released = AuditEvent.select().where(AuditEvent.action == "stock_release")
    assert {e.order_id for e in released} == {o.id for o in short}
    assert OrderEvent.select().where(OrderEvent.kind == "release").count() == len(short)
    assert not Order.select().where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0).exists()
