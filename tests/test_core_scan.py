from dadan.core.models import AuditEvent, Order, Shipment
from dadan.core.shipping.scan import lookup, normalise, ship_scan
from tests.desk_helpers import NOW, blocked_order, give_tracking, make_ctx, printable_order


def test_normalise_strips_scanner_noise():
    assert normalise(" YT123\r\n") == "YT123"


def test_lookup_by_order_sn_and_tracking(tmp_path):
    make_ctx(tmp_path, 60)
    o = printable_order()
    assert lookup(o.order_sn).order.id == o.id
    give_tracking(o, "YT900000001")
    f = lookup("yt900000001")
    assert f.order.id == o.id and f.by == "tracking"
    assert lookup("NOPE") is None


def test_ship_scan_ships_and_queues_confirmation(tmp_path):
    make_ctx(tmp_path, 60)
    o = give_tracking(printable_order(), "75390000000002")
    out = ship_scan("75390000000002", actor="t", now=NOW)
    assert out.ok and out.kind == "shipped"
    o = Order.get_by_id(o.id)
    assert o.state == "shipped" and o.shipped_at == NOW
    sh = Shipment.get(Shipment.order == o.id)
    assert sh.state == "pending" and sh.tracking_number == "75390000000002" and sh.logistics_id == 115
    assert AuditEvent.select().where(AuditEvent.action == "ship", AuditEvent.order == o.id).count() == 1
    again = ship_scan("75390000000002", actor="t", now=NOW)
    assert not again.ok and again.kind == "already_shipped" and again.warn
    assert Shipment.select().where(Shipment.order == o.id).count() == 1


def test_blocked_parcel_changes_nothing(tmp_path):
    make_ctx(tmp_path, 200)
    o = give_tracking(blocked_order(), "YT900000003")
    before = (o.state, Shipment.select().count())
    out = ship_scan("YT900000003", actor="t")
    assert not out.ok and out.kind == "blocked" and out.warn
    o = Order.get_by_id(o.id)
    assert (o.state, Shipment.select().count()) == before


def test_wrong_parcel_unknown_and_mismatch(tmp_path):
    make_ctx(tmp_path, 60)
    out = ship_scan("ZZ000", actor="t")
    assert out.kind == "unknown" and out.warn
    a, b = list(Order.select().where(Order.state == "printed", Order.exception_flags == 0).limit(2))
    give_tracking(a, "75300000000001")
    give_tracking(b, "75300000000002")
    slip = ship_scan(a.order_sn, actor="t")
    assert slip.kind == "slip" and not slip.warn and slip.order_id == a.id
    out = ship_scan("75300000000002", actor="t", expect_order_id=a.id)
    assert out.kind == "mismatch" and out.warn
    assert Order.get_by_id(b.id).state == "printed"
    assert ship_scan("75300000000001", actor="t", expect_order_id=a.id).ok


def test_refused_by_shipping_rules_is_a_warning(tmp_path):
    make_ctx(tmp_path, 60)
    o = give_tracking(printable_order(), "YT9")  # too short for a tracking number
    out = ship_scan("YT9", actor="t")
    assert out.kind == "refused" and out.warn
    assert Order.get_by_id(o.id).state == "printed" and Shipment.select().where(Shipment.order == o.id).count() == 0
