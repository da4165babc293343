"""Merged parcels (合单) end to end on the loopback platform (real HTTP), a real SQLite file and
the loopback TSPL printer: one buyer's orders take one number with every order in its
``trade_order_list``, print one label and one packing slip, and ship together; an order of
another receiver never joins; an order whose address changes, or that becomes blocked, leaves
before printing and its parcel's number is recycled."""

from __future__ import annotations

import pytest

from dadan.core.config import SenderSettings, Settings
from dadan.core.db import close_database, write
from dadan.core.models import AuditEvent, Order, PrintItem, Shipment, Waybill, WaybillOrder
from dadan.core.orders import actions
from dadan.core.platform.loopback.world import same_buyer
from dadan.core.printing import queue as printing
from dadan.core.printing.plan import plan_print
from dadan.core.printing.worker import PrintWorker
from dadan.core.shipping.outbox import process_outbox
from dadan.core.shipping.scan import ship_scan
from dadan.core.waybills import merge
from dadan.core.waybills.parcels import numbered_parcel
from dadan.core.waybills.shipping import ship_printed
from dadan.core.waybills.take import take_numbers
from dadan.printers.profile import PrinterProfile
from tests.fakes import FakeTsplPrinter
from tests.test_sync_support import make_waybill_env, sync

TEMPLATE = "waybill_100x150"
SETTINGS = Settings(sender=SenderSettings(name="仓库", phone="13800000000"))


@pytest.fixture
def menv(tmp_path, request):
    """40 synced orders on SQLite; a test marked :data:`both_backends` has them on PostgreSQL too."""
    from tests.conftest import Store

    url = Store(getattr(request, "param", "sqlite"), tmp_path).url()
    e = make_waybill_env(tmp_path, orders=40, quantity=500, seed=11, url=url)
    yield e
    e.server.stop()
    close_database()


# a sync taking an order out of its merged parcel (merge.leave) runs on SQLite and on PostgreSQL
both_backends = pytest.mark.parametrize("menv", ["sqlite", "postgresql"], indirect=True)


def one_buyer(env, n: int = 3) -> tuple[list[int], int]:
    """``n`` new orders of one buyer (same receiver and address on the platform) and one more
    order of another receiver, all awaiting shipment, synced. Returns (their ids, the other's
    id)."""
    env.platform.advance(600)  # made after the last sync: the next one reads them
    made = env.platform.generate_orders(env.mall, 4 * n + 8, spread_hours=0.05)
    sns = [sn for sn in made if env.mall.orders[sn]["order_status"] == 1 and env.mall.orders[sn]["refund_status"] == 1
           and not env.mall.orders[sn]["after_sales_status"]]
    buyer, other = sns[:n], sns[n]
    with env.platform.lock:
        for sn in buyer[1:]:
            same_buyer(env.mall.orders[sn], env.mall.orders[buyer[0]])
    sync(env)
    ids = sorted(Order.get(Order.order_sn == sn).id for sn in buyer)
    keys = {Order.get_by_id(i).open_address_id for i in ids}
    assert len(keys) == 1 and "" not in keys
    other_id = Order.get(Order.order_sn == other).id
    assert Order.get_by_id(other_id).open_address_id not in keys
    assert not any(Order.get_by_id(i).exception_flags for i in ids + [other_id])
    return ids, other_id


def run(env, printer, job_id: int, settings: Settings = SETTINGS) -> PrintWorker:
    prof = PrinterProfile(name="lbl", driver="tspl", uri=printer.uri, width_mm=100, height_mm=150)
    worker = PrintWorker(prof, settings=settings, client_factory=env.factory)
    worker.run_pending(job_id)
    return worker


def sns_of(ids) -> list[str]:
    return sorted(Order.get_by_id(i).order_sn for i in ids)


def test_three_orders_of_one_buyer_one_number_one_label_one_slip_all_confirmed(menv, tmp_path):
    buyer, other = one_buyer(menv)
    ids = buyer + [other]
    plan = plan_print(ids, waybill=True, merge=True)
    assert [len(p) for p in plan.parcels] == [3, 1] and plan.to_take == 2
    assert "4 orders in 2 parcels" in plan.summary()
    never = plan_print(ids, waybill=True, merge=False)
    assert len(never.parcels) == 4 and never.mergeable == 2
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE, actor="tester", merge=True)
        assert job.total == 2
        run(menv, printer, job.id)
        assert printing.job_view(job.id).state == "done"
        assert len(printer.labels) == 2
    w = numbered_parcel(buyer[0])
    assert w.state == "printed" and w.open_address_id
    assert {numbered_parcel(i).id for i in buyer} == {w.id}
    lone = numbered_parcel(other)
    assert lone.id != w.id and lone.code != w.code and not lone.open_address_id
    assert printer.barcodes == [[w.code], [lone.code]]
    # the platform took one number with every order of the buyer in its trade_order_list
    state = menv.platform.waybill_state(menv.mall)
    assert sorted(state[w.code]["orders"]) == sns_of(buyer)
    assert state[lone.code]["orders"] == sns_of([other])
    for i in buyer:
        o = Order.get_by_id(i)
        assert (o.tracking_number, o.print_count, o.state) == (w.code, 1, "printed")
    # every order of the parcel lists its one label in its print history (the mates listed none)
    from dadan.core.orders.detail import order_detail

    (label,) = PrintItem.select().where(PrintItem.job == job.id, PrintItem.waybill == w.id)
    assert all([p.id for p in order_detail(i).prints] == [label.id] for i in buyer)
    assert label.id not in [p.id for p in order_detail(other).prints]
    # one packing slip for the parcel, listing every order's lines
    slip = printing.create_reprint_job(buyer, reason="packing slips", printer="slip", template="packing_80",
                                       actor="tester")
    (item,) = PrintItem.select().where(PrintItem.job == slip.id)
    renderer = PrintWorker(PrinterProfile(name="slip", driver="preview"), settings=SETTINGS,
                           client_factory=menv.factory).renderer
    fields = renderer.fields(Order.get_by_id(item.order_id), item, slip)
    assert sorted(fields["merged_orders"].split("：")[1].split()) == sns_of(buyer)
    lines = sorted((Order.get_by_id(i).order_sn, it.goods_name, it.goods_count) for i in buyer
                   for it in Order.get_by_id(i).items)
    assert sorted((r["order_mark"], r["name"], r["qty"]) for r in fields["items"]) == lines
    assert fields["item_count"] == sum(q for _s, _n, q in lines)
    # shipping the parcel confirms every order in it with the same number; the other order is its own
    report = ship_printed([buyer[1]], actor="tester")
    assert sorted(sn for sn, _ in report.shipped) == sns_of(buyer)
    assert {code for _sn, code in report.shipped} == {w.code}
    with menv.factory(menv.shop) as client:
        process_outbox(lambda shop: client)
    sent = [(s["order_sn"], s["tracking_number"]) for s in menv.platform.sends]
    assert sorted(sent) == sorted((sn, w.code) for sn in sns_of(buyer))
    assert Shipment.select().where(Shipment.order == other).count() == 0
    assert Waybill.get_by_id(w.id).state == "shipped"


def test_orders_of_another_receiver_never_join_whatever_the_setting(menv):
    buyer, other = one_buyer(menv, 2)
    plan = plan_print([other, buyer[0], buyer[1]], waybill=True, merge=True)
    assert [[o.id for o in p] for p in plan.parcels] == [[other], buyer]
    with FakeTsplPrinter() as printer:
        job = printing.create_job([other] + buyer, printer="lbl", template=TEMPLATE, merge=True)
        run(menv, printer, job.id)
    assert numbered_parcel(other).id not in {numbered_parcel(i).id for i in buyer}
    assert WaybillOrder.select().where(WaybillOrder.waybill == numbered_parcel(other).id).count() == 1


def _take_for(menv, job) -> Waybill:
    (item,) = [it for it in PrintItem.select().where(PrintItem.job == job.id) if it.waybill_id]
    with menv.factory(menv.shop) as client:
        assert take_numbers([item.waybill_id], client=client, sender=SETTINGS.sender) == {}
    return Waybill.get_by_id(item.waybill_id)


@both_backends
def test_an_address_change_before_printing_takes_the_order_out_and_recycles_the_number(menv):
    buyer, _other = one_buyer(menv)
    job = printing.create_job(buyer, printer="lbl", template=TEMPLATE, actor="tester", merge=True)
    old = _take_for(menv, job)
    assert old.state == "live" and all(Order.get_by_id(i).tracking_number == old.code for i in buyer)
    moved = Order.get_by_id(buyer[0])  # the parcel's first order: the label's own order changes too
    menv.platform.mutate(menv.mall, "address", moved.order_sn)
    menv.platform.advance(400)
    sync(menv)
    # it left the parcel: the number stays with it, to be recycled; the others wait for a new one
    old = Waybill.get_by_id(old.id)
    assert old.recycle_reason and [link.order_id for link in old.links] == [moved.id]
    (item,) = PrintItem.select().where(PrintItem.job == job.id)
    new = Waybill.get_by_id(item.waybill_id)
    assert new.id != old.id and new.state == "pending" and item.order_id == buyer[1]
    assert sorted(link.order_id for link in new.links) == buyer[1:]
    assert all(Order.get_by_id(i).tracking_number == "" for i in buyer[1:])
    assert AuditEvent.select().where(AuditEvent.action == "merge-leave").count() == 1
    before = menv.platform.balance(menv.mall, "ZTO")["quantity"]
    report = merge.recycle_marked(menv.factory, actor="tester")
    assert report.cancelled == [old.code]
    assert menv.platform.waybill_state(menv.mall)[old.code]["state"] == "cancelled"
    assert menv.platform.balance(menv.mall, "ZTO")["quantity"] == before + 1
    assert merge.recycle_marked(menv.factory) is None  # nothing left to recycle
    with FakeTsplPrinter() as printer:
        run(menv, printer, job.id)
        assert len(printer.labels) == 1
    fresh = Waybill.get_by_id(new.id)
    assert fresh.state == "printed" and fresh.code != old.code
    assert printer.barcodes == [[fresh.code]]
    assert sorted(menv.platform.waybill_state(menv.mall)[fresh.code]["orders"]) == sns_of(buyer[1:])
    assert Order.get_by_id(moved.id).print_count == 0 and Order.get_by_id(moved.id).tracking_number == ""


def test_an_order_blocked_after_queueing_leaves_before_its_label_prints(menv):
    """Held by hand before anything was taken: it leaves the unnumbered parcel; blocked behind
    the desk's back (no hook ran) after the number was taken: the print worker takes it out
    before the label, and the rest print under a new number."""
    buyer, _ = one_buyer(menv, 4)
    job = printing.create_job(buyer, printer="lbl", template=TEMPLATE, actor="tester", merge=True)
    (item,) = PrintItem.select().where(PrintItem.job == job.id)
    actions.hold([buyer[3]], reason="buyer called", actor="tester")
    parcel = Waybill.get_by_id(item.waybill_id)
    assert parcel.state == "pending" and sorted(link.order_id for link in parcel.links) == buyer[:3]
    taken = _take_for(menv, job)
    with write():  # a refund flag written straight into the row: no hook saw it
        Order.update(exception_flags=1).where(Order.id == buyer[2]).execute()
    with FakeTsplPrinter() as printer:
        run(menv, printer, job.id)
        assert len(printer.labels) == 1
    (item,) = PrintItem.select().where(PrintItem.job == job.id)
    printed = Waybill.get_by_id(item.waybill_id)
    assert item.state == "sent" and printed.code != taken.code and printed.state == "printed"
    assert sorted(link.order_id for link in printed.links) == buyer[:2]
    assert printer.barcodes == [[printed.code]]
    assert Waybill.get_by_id(taken.id).recycle_reason
    assert [Order.get_by_id(i).print_count for i in buyer] == [1, 1, 0, 0]


def test_scanning_a_merged_parcels_waybill_ships_every_order_in_it(menv):
    buyer, _ = one_buyer(menv)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(buyer, printer="lbl", template=TEMPLATE, merge=True)
        run(menv, printer, job.id)
    code = numbered_parcel(buyer[0]).code
    out = ship_scan(code, actor="packer")
    assert out.ok and out.kind == "shipped" and "3" in out.message
    assert [Order.get_by_id(i).state for i in buyer] == ["shipped"] * 3
    assert {s.tracking_number for s in Shipment.select()} == {code} and Shipment.select().count() == 3


def test_a_blocked_order_stops_its_merged_parcel_at_the_scan(menv):
    buyer, _ = one_buyer(menv, 2)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(buyer, printer="lbl", template=TEMPLATE, merge=True)
        run(menv, printer, job.id)
    code = numbered_parcel(buyer[0]).code
    actions.hold([buyer[1]], reason="check", actor="t")  # printed: it stays in the parcel
    out = ship_scan(code, actor="packer")
    assert not out.ok and out.kind == "blocked"
    assert Shipment.select().count() == 0


def test_confirm_on_print_ships_every_order_of_the_parcel(menv):
    buyer, _ = one_buyer(menv)
    settings = Settings(sender=SETTINGS.sender)
    settings.waybills.confirm_on = "print"
    with FakeTsplPrinter() as printer:
        job = printing.create_job(buyer, printer="lbl", template=TEMPLATE, merge=True)
        run(menv, printer, job.id, settings)
        code = printer.barcodes[0][0]
    assert [Shipment.get(Shipment.order == i).tracking_number for i in buyer] == [code] * 3
    assert Waybill.get(Waybill.code == code).state == "shipped"


def test_a_reprint_of_a_merged_parcel_is_one_label_with_its_number(menv):
    buyer, _ = one_buyer(menv)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(buyer, printer="lbl", template=TEMPLATE, merge=True)
        run(menv, printer, job.id)
        code = numbered_parcel(buyer[0]).code
        again = printing.create_reprint_job(buyer[1:], reason="jam", printer="lbl", template=TEMPLATE, actor="t")
        assert again.total == 1
        run(menv, printer, again.id)
        assert printer.barcodes[-1] == [code] and len(printer.labels) == 2
    assert [Order.get_by_id(i).print_count for i in buyer] == [2, 2, 2]
    # queued once: the parcel's other orders cannot be queued beside it
    assert merge.shared_parcels(buyer) == {i: numbered_parcel(buyer[0]).id for i in buyer}
