"""The order table's secondary indexes beside its model's own (:class:`dadan.core.models.Order`'s
``Meta``), and the conditions of its partial indexes, which filters write word for word: each is
added to the model here (imported by :mod:`dadan.core.models`), so a new database has them; the
schema steps (:mod:`dadan.core.migrations`, :mod:`dadan.core.pg_schema`) make them in older ones."""

from __future__ import annotations

from peewee import SQL

from dadan.core.models import Order

# The pay-time index, the default sort's, carries after its key every column of the order's own that
# a filter tests and no index of its own holds (shop, status, exception bits, prints, amount,
# created time, quantity, source, deadline). Such a filter is counted by reading this index alone,
# never an order's row (created<1d at 1,000,000 orders: 0.5 s -> 0.1 s), and a page walking it tests
# each order from its entry and reads only the rows it shows (core.orders.page_plan). The reports
# count and sum the orders paid in a period from it too. (Schema step 24; it replaced the
# (pay_time, id) index and the reports' own index of pay time, shop, exception bits and amount.)
PAY_TIME_INDEX_NAME = "order_pay_time"
PAY_TIME_INDEX = Order.index(Order.pay_time, Order.id, Order.shop, Order.order_status, Order.state, Order.exception_flags,
                             Order.print_count, Order.pay_amount_fen, Order.created_time, Order.item_count, Order.source,
                             Order.last_ship_time, name=PAY_TIME_INDEX_NAME)
Order.add_index(PAY_TIME_INDEX)

# The status index: the status counts and the built-in views' filters (status:pending, printed:no,
# exception:none) read it, not the table. It carries the same columns of the order's own after its
# key (schema step 24), so a status with one of them is counted from it alone as well (status:pending
# qty>3 at 1,000,000 orders: 0.58 s -> ~0.07 s); a status alone reads its wider entries (50 -> 60 ms).
# The id comes right after the key, as it would by itself: a filter that reads rows through this
# index (status:pending 8) reads them in the table's order, not scattered by the columns after it
# (at 1M: 0.7 s, not 2.5 s).
STATUS_INDEX_NAME = "order_status"
STATUS_INDEX = Order.index(Order.order_status, Order.state, Order.exception_flags, Order.print_count, Order.id,
                           Order.shop, Order.pay_amount_fen, Order.created_time, Order.item_count, Order.source,
                           name=STATUS_INDEX_NAME)
Order.add_index(STATUS_INDEX)


# Partial indexes: most orders come in without a tracking number, courier or exception (and an
# imported one without the platform's update time), and an order an index leaves out costs
# nothing to insert (a bulk import of new orders pays for every index entry). SQLite uses a
# partial index only for a query whose WHERE carries the index's condition word for word, so
# core.orders.query and core.shipping.scan add these same terms; a comparison such as logistics_id = ? implies
# IS NOT NULL by itself, and so does the value part of a sort on a nullable column
# (core.orders.listing).
def has_tracking():
    return Order.tracking_number != SQL("''")


def has_exception():
    return Order.exception_flags != SQL("0")


def has_courier():
    return Order.logistics_id.is_null(False)


def is_pending():  # awaiting shipment on the platform and not shipped here (the status:pending filter)
    return (Order.order_status == SQL("1")) & Order.state.in_(SQL("('new', 'printed')"))


def has_update_time():  # the platform's; an imported order has none
    return Order.updated_at.is_null(False)


# The courier's and the exceptions' carry pay time after their key (the courier's after its id,
# so that a sort by courier still walks it): a courier's or an exception's orders are sorted for
# the default order from the index alone (a walk of the pay-time index reads their rows, each
# from the file on a worker's new connection). These and the note indexes below carry the pending
# test's columns too (STATUS_COLUMNS; schema step 24): with status:pending, nine orders in ten of the
# demo's, SQLite's planner, which keeps only averages, would read the status index and every
# pending order's row (tracking:no status:pending at 1,000,000 orders: 0.9 s to count; from the
# tracking number's partial index alone, 0.05 s).
STATUS_COLUMNS = (Order.order_status, Order.state)
# The platform's update time (schema steps 27, 28): nearly every synced order has one, so the
# index holds most orders and no other holds the time. The id right after it (a sort by update
# time still walks it, as the courier's), then pay time: the default order is sorted from the
# index alone; then the columns of the built-in views' tests (pending, exceptions, prints): a view
# with an update time is counted from the index alone (at 1,000,000 orders: status:pending
# updated<1d counted in 1.5 s -> 40 ms, reading every pending order's row before; printed:no
# updated<1d 1.1 s -> 40 ms; the to-print view with updated<1d 0.45 s -> ~50 ms; updated>1d's first
# page 1.5 s -> 0.17 s, a walk of the pay-time index reading every row paid since).
UPDATE_TIME_INDEX_NAME = "order_updated_at_set"
UPDATE_TIME_INDEX_COLUMNS = (Order.updated_at, Order.id, Order.pay_time, *STATUS_COLUMNS, Order.exception_flags,
                             Order.print_count)
PARTIAL_INDEXES = {  # name -> index
    name: Order.index(*fields, where=cond, name=name) for name, fields, cond in (
        ("order_tracking_number_set", (Order.tracking_number, *STATUS_COLUMNS), has_tracking()),
        ("order_logistics_id_set", (Order.logistics_id, Order.id, Order.pay_time, *STATUS_COLUMNS), has_courier()),
        ("order_exception_flags_set", (Order.exception_flags, Order.pay_time, *STATUS_COLUMNS), has_exception()),
        ("order_updated_at_set", UPDATE_TIME_INDEX_COLUMNS, has_update_time()),
    )
}
PAY_TIME_PARTIAL_INDEXES = ("order_logistics_id_set", "order_exception_flags_set")  # (migration 23)
for _index in PARTIAL_INDEXES.values():
    Order.add_index(_index)


def has_remark():  # the buyer's remark (remark:yes)
    return Order.remark != SQL("''")


def has_memo():  # the merchant's memo (memo:yes)
    return Order.buyer_memo != SQL("''")


def has_flag():  # a flag colour (flag:yes, flag:red)
    return Order.remark_tag.is_null(False)


# Orders with a remark, a memo or a flag (remark:yes, memo:yes, flag:...): few of a year's orders
# carry one, and these filters are counted at every change. Keyed by pay time, so the default
# sort walks these entries alone (a flag by its colour first); a count reads the index alone. The
# remark and the memo ride along: SQLite (3.40) takes a partial index for covering only when it
# holds the columns of its own condition (status:pending remark:yes at 1M: 0.56 s -> 5 ms).
NOTE_INDEXES = {
    name: Order.index(*fields, where=cond, name=name) for name, fields, cond in (
        ("order_remark_set", (Order.pay_time, *STATUS_COLUMNS, Order.remark), has_remark()),
        ("order_memo_set", (Order.pay_time, *STATUS_COLUMNS, Order.buyer_memo), has_memo()),
        ("order_flag_set", (Order.remark_tag, Order.pay_time, *STATUS_COLUMNS), has_flag()),
    )
}
for _index in NOTE_INDEXES.values():
    Order.add_index(_index)

# The due-soon view (status:pending due<4h, sorted by deadline): pending orders by deadline. The
# full (last_ship_time, id) index holds every shipped order of the year too, and the status index
# has no deadline, so without it the count reads every pending order's row. Pay time, province and
# the pending test's own columns ride along (after the key, so the deadline order is the same): a
# due filter sorted by pay time, or with a province, is counted and its page chosen from the index
# alone, and as a covering index the planner prefers it to the full deadline index for every page.
PENDING_DUE_INDEX_NAME = "order_pending_due"
PENDING_DUE_COLUMNS = (Order.last_ship_time, Order.id, Order.pay_time, Order.province, Order.order_status, Order.state)
PENDING_DUE_INDEX = Order.index(*PENDING_DUE_COLUMNS, where=is_pending(), name=PENDING_DUE_INDEX_NAME)
Order.add_index(PENDING_DUE_INDEX)


# Reports (core.reports): figures per day/week/month are counted from indexes alone, never from
# order rows (a million orders' rows read at random take seconds; their index entries in key order,
# a tenth of a second). Orders paid in a period with their shop, exception bits and amount: the
# pay-time index (PAY_TIME_INDEX); orders dadan shipped (partial: only those) with what the ship
# figures read; orders printed (partial).
REPORT_SHIPPED_INDEX = Order.index(Order.shipped_at, Order.shop, Order.logistics_id, Order.pay_time,
                                   Order.last_ship_time, where=Order.shipped_at.is_null(False),
                                   name="order_report_shipped")
REPORT_PRINTED_INDEX = Order.index(Order.first_printed_at, Order.shop, where=Order.first_printed_at.is_null(False),
                                   name="order_report_printed")
REPORT_INDEXES = (REPORT_SHIPPED_INDEX, REPORT_PRINTED_INDEX)
for _index in REPORT_INDEXES:
    Order.add_index(_index)
