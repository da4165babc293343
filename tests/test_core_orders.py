import datetime as dt

import pytest

from dadan.core.db import open_database
from dadan.core.demo import demo_records, write_demo
from dadan.core.errors import DadanError
from dadan.core.models import AuditEvent, Order, OrderItem, Shop
from dadan.core.orders.actions import hold, release, set_note, set_state
from dadan.core.orders.rules import Flag
from dadan.core.orders.upsert import upsert_orders

T0 = dt.datetime(2026, 11, 20, 2, 0, 0)


@pytest.fixture
def shop(store):
    open_database(store.url("o.db"))
    return Shop.create(name="s")


def rec(sn="261120-100000000000001", **kw):
    base = {
        "order_sn": sn, "order_status": 1, "refund_status": 1, "after_sales_status": 0,
        "risk_control_status": 0, "is_stock_out": 0, "updated_at": T0, "pay_time": T0,
        "last_ship_time": T0 + dt.timedelta(hours=48), "province": "浙江省", "city": "杭州市",
        "town": "西湖区", "pay_amount_fen": 3990,
        "receiver_name_enc": "~AgAAAA1~1~~", "receiver_phone_enc": "$P1$1$$", "receiver_address_enc": "~AD1~1~~",
        "items": [{"goods_id": "1", "goods_name": "T恤", "goods_spec": "白色,L", "goods_count": 2, "outer_id": "A12"}],
    }
    base.update(kw)
    return base


def get(sn="261120-100000000000001") -> Order:
    return Order.get(Order.order_sn == sn)


def test_insert_then_idempotent(shop):
    r = upsert_orders(shop.id, [rec()])
    assert (r.new, r.changed, r.unchanged) == (1, 0, 0)
    o = get()
    assert o.items_summary == "A12 白色,L ×2" and o.sku_text == "|a12|1|" and o.item_count == 2
    assert o.state == "new" and o.exception_flags == 0 and o.receiver_hash
    r = upsert_orders(shop.id, [rec()])
    assert (r.new, r.changed, r.unchanged) == (0, 0, 1)
    assert Order.select().count() == 1 and OrderItem.select().count() == 1


@pytest.mark.parametrize(
    "change, flag",
    [
        ({"refund_status": 3}, Flag.REFUND),
        ({"refund_status": 4}, Flag.REFUND),
        ({"refund_status": 2}, Flag.AFTER_SALE),
        ({"after_sales_status": 6}, Flag.AFTER_SALE),
        ({"risk_control_status": 1}, Flag.RISK),
        ({"is_stock_out": 1}, Flag.OUT_OF_STOCK),
        ({"order_status": 0}, Flag.CANCELLED),
        ({"receiver_address_enc": "~AD2~1~~"}, Flag.ADDRESS_CHANGED),
        ({"order_status": 2, "tracking_number": "YT1"}, Flag.SHIPPED_ELSEWHERE),
    ],
)
def test_each_change_raises_its_flag(shop, change, flag):
    upsert_orders(shop.id, [rec()])
    r = upsert_orders(shop.id, [rec(updated_at=T0 + dt.timedelta(minutes=5), **change)])
    assert r.changed == 1 and r.flagged == 1
    assert get().exception_flags & flag


def test_release_is_audited_and_flag_returns_only_on_new_transition(shop):
    upsert_orders(shop.id, [rec()])
    upsert_orders(shop.id, [rec(refund_status=2, updated_at=T0 + dt.timedelta(minutes=1))])
    o = get()
    with pytest.raises(DadanError):
        release([o.id], reason=" ", actor="amy")
    assert release([o.id], reason="buyer withdrew the request by phone", actor="amy") == 1
    ev = AuditEvent.get(AuditEvent.action == "release")
    assert ev.actor == "amy" and ev.order_id == o.id and "phone" in ev.reason
    # unchanged status on the next sync does not re-raise
    upsert_orders(shop.id, [rec(refund_status=2, updated_at=T0 + dt.timedelta(minutes=2))])
    assert get().exception_flags == 0
    # a new condition does
    upsert_orders(shop.id, [rec(refund_status=3, updated_at=T0 + dt.timedelta(minutes=3))])
    assert get().exception_flags & Flag.REFUND


def test_stale_record_changes_nothing(shop):
    upsert_orders(shop.id, [rec(updated_at=T0 + dt.timedelta(hours=1), remark="new")])
    r = upsert_orders(shop.id, [rec(updated_at=T0, remark="old", refund_status=3)])
    assert r.unchanged == 1
    o = get()
    assert o.remark == "new" and o.exception_flags == 0


def test_local_state_never_cleared(shop):
    upsert_orders(shop.id, [rec()])
    o = get()
    Order.update(state="printed", print_count=2, note="fragile").where(Order.id == o.id).execute()
    upsert_orders(shop.id, [rec(updated_at=T0 + dt.timedelta(minutes=9), remark="x")])
    o = get()
    assert (o.state, o.print_count, o.note, o.remark) == ("printed", 2, "fragile", "x")


def test_import_never_overwrites_synced_order(shop):
    upsert_orders(shop.id, [rec(remark="from api", refund_status=1)], source="api")
    r = upsert_orders(
        shop.id,
        [rec(remark="from file", refund_status=3, updated_at=None, receiver_name="张三",
             items=[{"goods_name": "other", "goods_count": 9}])],
        source="import",
    )
    o = get()
    assert o.remark == "from api" and o.refund_status == 1 and o.exception_flags == 0
    assert o.items_summary == "A12 白色,L ×2"
    assert o.receiver_name == "张三"  # an empty field is filled
    assert r.changed == 1


def test_shipped_by_dadan_then_platform_confirms(shop):
    upsert_orders(shop.id, [rec()])
    Order.update(state="shipped", tracking_number="ZT1", logistics_id=115).execute()
    upsert_orders(shop.id, [rec(order_status=2, tracking_number="ZT1", updated_at=T0 + dt.timedelta(hours=1))])
    o = get()
    assert o.state == "confirmed" and o.exception_flags == 0


def test_new_order_already_blocked_or_shipped(shop):
    upsert_orders(shop.id, [rec("261120-100000000000002", refund_status=3), rec("261120-100000000000003", order_status=2)])
    assert get("261120-100000000000002").exception_flags & Flag.REFUND
    done = get("261120-100000000000003")
    assert done.state == "confirmed" and done.exception_flags == 0


def test_items_replaced_when_changed(shop):
    upsert_orders(shop.id, [rec()])
    upsert_orders(shop.id, [rec(updated_at=T0 + dt.timedelta(minutes=1), items=[
        {"goods_name": "杯子", "goods_spec": "蓝", "goods_count": 1, "outer_id": "C21"},
        {"goods_name": "纸", "goods_count": 3, "outer_id": "D01"}])])
    o = get()
    assert o.items_summary == "C21 蓝 ×1；D01 ×3" and o.item_count == 4
    assert [i.outer_id for i in o.items.order_by(OrderItem.position)] == ["C21", "D01"]


def test_items_that_differ_only_in_spelling_are_the_same(shop):
    """The platform's items compared with the stored ones as values: a number for its digits, a
    missing value for an empty one; only a real difference replaces them."""
    from dadan.core.orders.upsert import _existing_items, _same_items

    upsert_orders(shop.id, [rec()])
    stored = _existing_items([get().id])[get().id]
    same = {"goods_id": 1, "goods_name": "T恤", "goods_spec": "白色,L", "goods_count": "2", "outer_id": "A12",
            "sku_id": "", "goods_img": None}
    assert _same_items([same], stored) and _same_items(stored, stored)
    assert not _same_items([{**same, "goods_count": 3}], stored) and not _same_items([same, same], stored)
    assert not _same_items([{**same, "goods_spec": "白色,XL"}], stored)
    r = upsert_orders(shop.id, [rec(updated_at=T0 + dt.timedelta(minutes=2), items=[{**same, "goods_count": 3}])])
    assert r.changed == 1 and [i.goods_count for i in get().items] == [3] and get().item_count == 3


def test_hold_note_state_are_audited(shop):
    upsert_orders(shop.id, [rec()])
    o = get()
    for blank in ("", "  "):
        with pytest.raises(DadanError, match="reason is required"):
            hold([o.id], reason=blank, actor="bo")
    assert not get().exception_flags & Flag.HOLD and AuditEvent.select().count() == 0
    assert hold([o.id], reason="customer called", actor="bo") == 1
    assert get().exception_flags & Flag.HOLD
    set_note(o.id, "call before shipping", actor="bo")
    assert set_state([o.id], "printed", reason="printed by hand", actor="bo") == 1
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id)] == ["hold", "note", "state"]
    with pytest.raises(DadanError):
        set_state([o.id], "lost", reason="x", actor="bo")


def test_demo_is_deterministic_and_realistic(shop):
    now = dt.datetime(2026, 11, 21, 4)
    a = list(demo_records(300, seed=5, now=now))
    b = list(demo_records(300, seed=5, now=now))
    assert a == b
    assert a != list(demo_records(300, seed=6, now=now))
    assert len({r["order_sn"] for r in a}) == 300
    import re

    assert all(re.fullmatch(r"\d{6}-\d{15}", r["order_sn"]) for r in a)
    assert any(len(r["items"]) > 1 for r in a)
    assert any(r["refund_status"] != 1 for r in a)
    assert any(r["last_ship_time"] < now for r in a)
    assert len({r["province"] for r in a}) > 10
    assert all("*" in r["receiver_name_mask"] and "****" in r["receiver_phone_mask"] for r in a)
    n = write_demo(300, seed=5, now=now)
    assert n == 300 and Order.select().count() == 300
    assert Order.select().where(Order.state == "printed").count() > 0
    assert Order.select().where(Order.exception_flags != 0).count() > 0
    write_demo(300, seed=5, now=now)  # re-running duplicates nothing
    assert Order.select().count() == 300


def _items_by_sn() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for it in OrderItem.select(OrderItem, Order).join(Order).order_by(OrderItem.position):
        out.setdefault(it.order.order_sn, []).append(it.outer_id)
    return out


def test_new_orders_get_their_own_items_in_a_batch(shop):
    recs = [rec(f"261120-1000000000{i:05d}", items=[
        {"goods_id": str(i), "goods_name": "g", "goods_count": 1, "outer_id": f"S{i}-{k}"} for k in range(1 + i % 3)
    ]) for i in range(2500)]  # several batches
    r = upsert_orders(shop.id, recs)
    assert r.new == 2500 and len(set(r.new_ids)) == 2500
    got = _items_by_sn()
    assert all(got[x["order_sn"]] == [it["outer_id"] for it in x["items"]] for x in recs)
    assert {o.id for o in Order.select(Order.id)} == set(r.new_ids)


def test_new_order_ids_are_read_back_when_sqlite_cannot_count_them(tmp_path):
    # at the largest possible id SQLite picks new ids at random: the insert must notice that
    # (SQLite's own rule: PostgreSQL's ids come from a sequence and are always read back)
    open_database(f"sqlite:///{tmp_path}/o.db")
    shop = Shop.create(name="s")
    upsert_orders(shop.id, [rec("261120-100000000000001", items=[])])
    Order.update(id=2**63 - 1).where(Order.order_sn == "261120-100000000000001").execute()
    recs = [rec(f"261120-2000000000{i:05d}", items=[{"goods_id": "1", "goods_count": 1, "outer_id": f"X{i}"}])
            for i in range(50)]
    r = upsert_orders(shop.id, recs)
    assert r.new == 50
    got = _items_by_sn()
    assert all(got[x["order_sn"]] == [f"X{i}"] for i, x in enumerate(recs))
    assert set(r.new_ids) == {o.id for o in Order.select(Order.id).where(Order.order_sn != "261120-100000000000001")}


def _stored_rows() -> list[tuple]:
    db = Order._meta.database
    skip = {"id", "shop_id", "local_updated_at", "synced_at", "imported_at"}
    cols = [c.name for c in db.get_columns("order") if c.name not in skip]
    orders = db.execute_sql(f'SELECT {", ".join(cols)} FROM "order" ORDER BY order_sn').fetchall()
    items = db.execute_sql('SELECT o.order_sn, i.position, i.goods_id, i.goods_name, i.goods_spec, i.goods_count, '
                           'i.sku_id, i.outer_id, i.outer_goods_id, i.goods_price_fen, i.goods_img FROM order_item i '
                           'JOIN "order" o ON o.id = i.order_id ORDER BY o.order_sn, i.position').fetchall()
    return orders + items


def test_records_given_as_columns_store_the_same_as_dicts(tmp_path, store):
    # the import hands the upsert its records a field at a time; stored, they must equal the
    # same records given one dict each (new orders, flags, shipped ones, empty fields, a
    # duplicate within the batch, and an update of an order stored before)
    from dadan.core.orders.upsert import RecordColumns

    records = [
        rec("261120-100000000000001"),
        rec("261120-100000000000002", refund_status=3, remark="加急", items=[]),
        rec("261120-100000000000003", order_status=2, tracking_number="YT123456", logistics_id=85,
            shipping_time=T0 + dt.timedelta(hours=3)),
        rec("261120-100000000000004", order_status=None, province=None, pay_amount_fen=None,
            items=[{"goods_name": "袜子", "goods_count": None}, {"outer_id": "B7", "goods_count": 3}]),
        rec("261120-100000000000001", pay_amount_fen=4990),  # the last record of a number wins
        rec("261120-100000000000005", is_stock_out=1, receiver_name_enc=None),
    ]
    earlier = rec("261120-100000000000005", updated_at=T0 - dt.timedelta(hours=1), pay_amount_fen=100)
    keys = sorted(set().union(*records))
    results = []
    for name, given in (("dicts", records), ("columns", RecordColumns(
            {k: [r.get(k) for r in records] for k in keys}, len(records)))):
        open_database(store.url(f"{name}.db"))
        s = Shop.create(name="s")
        upsert_orders(s.id, [earlier], now=T0)
        r = upsert_orders(s.id, given, source="import", now=T0)
        results.append(((r.new, r.changed, r.unchanged, r.flagged), _stored_rows()))
    assert results[0] == results[1]
    assert results[0][0][:3] == (4, 1, 0)
    assert get("261120-100000000000001").pay_amount_fen == 4990
    assert get("261120-100000000000002").exception_flags == Flag.REFUND
    assert get("261120-100000000000003").state == "confirmed"
    four = get("261120-100000000000004")
    assert (four.order_status, four.province, four.item_count, four.items_summary) == (1, "", 4, "袜子 ×1；B7 ×3")


def test_record_columns_read_as_records():
    from dadan.core.orders.upsert import RecordColumns

    rc = RecordColumns({"order_sn": ["a", "b", "c"], "remark": [None, "x", None]}, 3)
    assert list(rc) == [{"order_sn": "a"}, {"order_sn": "b", "remark": "x"}, {"order_sn": "c"}]
    assert rc[-1] == {"order_sn": "c"} and len(rc[1:]) == 2 and list(rc[1:])[0]["remark"] == "x"
    assert list(rc.take([2, 0])) == [{"order_sn": "c"}, {"order_sn": "a"}]
    with pytest.raises(IndexError):
        rc[3]


def test_order_detail_reads_everything_the_detail_shows(shop):
    from dadan.core.orders.actions import add_tag
    from dadan.core.orders.detail import order_detail

    upsert_orders(shop.id, [rec(items=[
        {"goods_id": "2", "goods_name": "袜子", "goods_count": 1, "outer_id": "B07"},
        {"goods_id": "1", "goods_name": "T恤", "goods_spec": "白色,L", "goods_count": 2, "outer_id": "A12"},
    ])])
    o = get()
    add_tag([o.id], "加急", actor="t")
    add_tag([o.id], "VIP", actor="t")
    set_note(o.id, "first", actor="t")
    hold([o.id], reason="check stock", actor="t")
    d = order_detail(o.id)
    assert d.order.id == o.id and d.order.note == "first" and d.shop == "s"
    assert [it.outer_id for it in d.items] == ["B07", "A12"]  # in the record's order
    assert d.tags == ["VIP", "加急"]
    assert [a.action for a in d.audit] == ["hold", "note"]  # newest first
    assert [e.kind for e in d.events][:2] == ["flag", "note"]
    assert d.prints == [] and d.shipments == []


def _demo_as_written() -> tuple:
    """What a demo wrote, by order number (no ids, no write times): each order's fields, items
    and tags, and the catalogue's stock."""
    from dadan.core.goods.models import Goods
    from dadan.core.models import OrderTag, Tag

    fields = ("order_sn", "state", "order_status", "refund_status", "after_sales_status", "exception_flags",
              "pay_amount_fen", "goods_amount_fen", "item_count", "items_summary", "sku_text", "search_text",
              "print_count", "first_printed_at", "pay_time", "last_ship_time", "tracking_number", "logistics_id",
              "receiver_hash", "province", "open_address_id")
    orders = [tuple(getattr(o, f) for f in fields) for o in Order.select().order_by(Order.order_sn)]
    items = sorted((it.order.order_sn, it.position, it.goods_name, it.goods_count, it.outer_id, it.goods_price_fen)
                   for it in OrderItem.select(OrderItem, Order).join(Order))
    tags = sorted((t.order.order_sn, t.tag.name) for t in OrderTag.select(OrderTag, Order, Tag).join(Order)
                  .switch(OrderTag).join(Tag))
    goods = sorted((g.code, g.on_hand, g.reserved) for g in Goods.select())
    return orders, items, tags, goods


def test_the_demo_on_postgresql_writes_the_orders_it_writes_on_sqlite(tmp_path, monkeypatch):
    # tests build their data with the demo: on both backends it must be the same orders, states,
    # totals, items, tags and stock (several batches, then a second run that changes nothing);
    # on PostgreSQL also as a big demo makes it, its batches made by a second process
    import dadan.core.demo as demo
    from tests.pg_cluster import fresh_url

    now = dt.datetime(2026, 11, 21, 4)
    written = []
    for url, elsewhere in ((f"sqlite:///{tmp_path}/demo.db", False), (fresh_url(), False), (fresh_url(), True)):
        monkeypatch.setattr(demo, "_MADE_ELSEWHERE_FROM", 1 if elsewhere else 50_000)
        open_database(url)
        assert write_demo(1200, seed=3, now=now, chunk=500) == 1200
        first = _demo_as_written()
        write_demo(1200, seed=3, now=now, chunk=500)
        assert _demo_as_written() == first
        written.append(first)
    sqlite, *postgresql = written
    assert len(sqlite[0]) == 1200 and sqlite[2] and sqlite[3]
    assert any(o[1] == "printed" for o in sqlite[0]) and any(o[5] for o in sqlite[0])
    for pg in postgresql:
        for what, a, b in zip(("orders", "items", "tags", "goods"), sqlite, pg):
            assert a == b, what
