"""Peewee models: the whole schema of dadan.

Conventions
- Times are naive ``datetime`` in UTC (shown in the warehouse's zone by the UI).
- Money is integer fen.
- ``Order`` is keyed by (shop, order_sn); ``order_sn`` is text, never a number.
- ``exception_flags`` is a bit set of ``core.orders.rules.Flag``; an order with any flag is blocked
  (never printed or shipped until released).
"""

from __future__ import annotations

import datetime as dt

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField()
    applied_at = DateTimeField(default=utcnow)


class Shop(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    platform = CharField(default="pdd")
    client_id = CharField(default="")
    gateway_url = CharField(default="https://gw-api.pinduoduo.com/api/router")
    mall_id = CharField(default="")
    # sync state (credentials themselves live in credentials.toml, 0600)
    sync_cursor = DateTimeField(null=True)  # platform update time (UTC) up to which all is committed
    auth_state = CharField(default="unconfigured")  # ok | reauthorize | unconfigured
    last_sync_at = DateTimeField(null=True)
    last_sync_ok = BooleanField(null=True)
    last_sync_error = TextField(default="")
    created_at = DateTimeField(default=utcnow)


class Courier(BaseModel):
    """Couriers as the platform lists them (pdd.logistics.companies.get), cached."""

    id = IntegerField(primary_key=True)  # the platform's logistics_id
    name = CharField()
    code = CharField(default="")
    available = BooleanField(default=True)
    updated_at = DateTimeField(default=utcnow)


DEADLINE_INDEX_COLUMNS = ("last_ship_time", "id", "pay_time")
DEADLINE_INDEX_NAME = "order_last_ship_time_id_pay_time"  # (peewee's name for those columns)


class Order(BaseModel):
    id = AutoField()
    # not indexed alone: the (order_sn, shop) key serves look-ups, and a warehouse has few shops
    shop = ForeignKeyField(Shop, backref="orders", on_delete="CASCADE", index=False)
    order_sn = CharField()
    source = CharField(default="api")  # api | import | demo

    # platform status
    order_status = IntegerField(default=1)  # 1 awaiting shipment, 2 shipped, 3 received
    refund_status = IntegerField(default=1)  # 1 none, 2 after-sale, 3 refunding, 4 refunded
    after_sales_status = IntegerField(default=0)
    risk_control_status = IntegerField(default=0)  # 1 = under review
    is_stock_out = IntegerField(default=0)
    stock_out_handle_status = IntegerField(default=0)
    trade_type = IntegerField(default=0)

    # platform times (UTC)
    created_time = DateTimeField(null=True)
    confirm_time = DateTimeField(null=True)
    pay_time = DateTimeField(null=True)
    updated_at = DateTimeField(null=True)  # the platform's update time
    last_ship_time = DateTimeField(null=True)  # promised ship-by
    shipping_time = DateTimeField(null=True)

    # money (fen)
    pay_amount_fen = IntegerField(default=0)
    goods_amount_fen = IntegerField(default=0)
    discount_amount_fen = IntegerField(default=0)
    postage_fen = IntegerField(default=0)

    # region and receiver
    province = CharField(default="")
    city = CharField(default="")
    town = CharField(default="")
    receiver_name_enc = TextField(default="")
    receiver_phone_enc = TextField(default="")
    receiver_address_enc = TextField(default="")
    receiver_name_mask = CharField(default="")
    receiver_phone_mask = CharField(default="")
    address_mask = TextField(default="")
    receiver_hash = CharField(default="")  # hash of the encrypted receiver fields (address change)
    open_address_id = CharField(default="")  # the platform's receiver+address key: same value, same parcel (合单)
    # plain receiver text: only from spreadsheet imports of older exports (and demo data);
    # synced orders keep ciphertext only and are decrypted at print time, in memory
    receiver_name = TextField(default="")
    receiver_phone = TextField(default="")
    receiver_address = TextField(default="")

    # notes
    buyer_memo = TextField(default="")
    remark = TextField(default="")
    remark_tag = IntegerField(null=True)  # 1-5 colour flag
    note = TextField(default="")  # internal note (not sent to the platform)

    # shipping
    tracking_number = CharField(default="")
    logistics_id = IntegerField(null=True)

    # local workflow
    state = CharField(default="new")  # new -> printed -> shipped -> confirmed
    print_count = IntegerField(default=0)
    exception_flags = IntegerField(default=0)  # core.orders.rules.Flag bits
    first_printed_at = DateTimeField(null=True)
    last_printed_at = DateTimeField(null=True)
    shipped_at = DateTimeField(null=True)
    confirmed_at = DateTimeField(null=True)

    # denormalised for fast list/filter
    item_count = IntegerField(default=0)  # total goods_count
    items_summary = TextField(default="")  # "A12 红色,XL ×2；B07 ×1"
    sku_text = TextField(default="")  # "|a12|b07|" lower-case outer_id/sku_id/goods_id list
    search_text = TextField(default="")  # lower-case text searched by free-text filters

    synced_at = DateTimeField(null=True)
    imported_at = DateTimeField(null=True)
    local_updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("order_sn", "shop"), True),  # also serves look-ups by order number alone
            # (pay time after the key: a due filter's orders sorted by pay time are chosen from
            # the index alone -- the newest orders are not due yet, so a walk of the pay-time
            # index meets them late; core.orders.page_plan)
            (DEADLINE_INDEX_COLUMNS, False),
            (("state", "pay_time"), False),
            (("province",), False),
            # (the pay-time and the status index: core.order_indexes)
        )

    @property
    def blocked(self) -> bool:
        return bool(self.exception_flags)


class OrderItem(BaseModel):
    id = AutoField()
    order = ForeignKeyField(Order, backref="items", on_delete="CASCADE")
    position = IntegerField(default=0)
    goods_id = CharField(default="")
    goods_name = TextField(default="")
    goods_spec = TextField(default="")
    goods_count = IntegerField(default=1)
    sku_id = CharField(default="")
    outer_id = CharField(default="")  # merchant SKU code
    outer_goods_id = CharField(default="")
    goods_price_fen = IntegerField(default=0)
    goods_img = TextField(default="")

    # indexed by order only (the foreign key): SKU filters use Order.sku_text, and every
    # further index here would slow the bulk inserts of sync and import


class Tag(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    color = CharField(default="")


class OrderTag(BaseModel):
    order = ForeignKeyField(Order, backref="order_tags", on_delete="CASCADE")
    tag = ForeignKeyField(Tag, backref="order_tags", on_delete="CASCADE")

    class Meta:
        indexes = ((("order", "tag"), True), (("tag",), False))
        primary_key = False


class SavedView(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    query = TextField(default="")
    sort = CharField(default="")  # e.g. "pay_time" or "-last_ship_time"
    position = IntegerField(default=0)
    builtin = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)


class AuditEvent(BaseModel):
    """Who did what, when, and why: reprints, manual status changes, exception releases,
    settings changes."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    actor = CharField(default="")
    action = CharField(index=True)  # e.g. reprint, release, hold, state, settings, note
    order = ForeignKeyField(Order, null=True, backref="audit_events", on_delete="SET NULL")
    target = CharField(default="")  # free reference when not an order (printer, setting key...)
    reason = TextField(default="")
    detail = TextField(default="")  # JSON

    class Meta:
        # the audit screen and ``dadan audit --query`` page an operator's or an action's events
        # newest first (:mod:`dadan.core.audit_query`)
        indexes = ((("actor", "at"), False), (("action", "at"), False))


class WaybillBranch(BaseModel):
    """A courier's branch (网点) where the shop subscribed to e-waybills, as ``pdd.waybill.search``
    last listed it: the balance and the sender addresses registered there (JSON list)."""

    id = AutoField()
    shop = ForeignKeyField(Shop, backref="waybill_branches", on_delete="CASCADE", index=False)
    wp_code = CharField()
    branch_code = CharField()
    branch_name = CharField(default="")
    quantity = IntegerField(default=0)  # the balance: numbers that can still be taken
    allocated = IntegerField(default=0)
    cancelled = IntegerField(default=0)
    recycled = IntegerField(default=0)
    addresses = TextField(default="[]")  # [{province, city, district, detail}]
    fetched_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("shop", "wp_code", "branch_code"), True),)


class WaybillAccount(BaseModel):
    """The operator's choice per shop and courier: the branch that pays and the registered
    sender address printed; one courier per shop is the default for waybill jobs."""

    id = AutoField()
    shop = ForeignKeyField(Shop, backref="waybill_accounts", on_delete="CASCADE", index=False)
    wp_code = CharField()
    branch_code = CharField()
    branch_name = CharField(default="")
    address_no = IntegerField(default=1)  # 1-based, in the branch's list
    address = TextField(default="{}")  # the chosen address as the platform listed it (JSON)
    template_url = TextField(default="")  # the courier's standard template
    is_default = BooleanField(default=False)
    chosen_by = CharField(default="")
    chosen_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("shop", "wp_code"), True),)


class Waybill(BaseModel):
    """A parcel and its e-waybill number (core.waybills). The row, with its ``object_id``, is
    committed before the number is asked for, so an answer that never came is asked for again
    as the same request. States: ``pending`` (no number yet) -> ``live`` (taken) -> ``printed``
    -> ``shipped``; ``live``/``printed`` -> ``cancelled`` (recycled: never printed or shipped
    again). Orders are linked through :class:`WaybillOrder` (one parcel may later hold several
    orders of one buyer, and one order several parcels)."""

    id = AutoField()
    shop = ForeignKeyField(Shop, backref="waybills", on_delete="CASCADE", index=False)
    wp_code = CharField()
    object_id = CharField(unique=True)  # our request id for pdd.waybill.get
    package_id = CharField()
    code = CharField(default="", index=True)  # waybill_code
    parent_code = CharField(default="")
    print_data = TextField(default="")  # as the platform returned it
    state = CharField(default="pending", index=True)
    attempts = IntegerField(default=0)  # requests sent for a number
    last_error = TextField(default="")
    requested_at = DateTimeField(null=True)
    taken_at = DateTimeField(null=True)
    taken_by = CharField(default="")  # the operator whose job took it
    print_count = IntegerField(default=0)
    printed_at = DateTimeField(null=True)
    shipped_at = DateTimeField(null=True)
    cancelled_at = DateTimeField(null=True)
    cancelled_by = CharField(default="")
    cancel_reason = TextField(default="")
    cancel_error = TextField(default="")  # the last failed cancel, in words
    open_address_id = CharField(default="")  # a merged parcel's receiver key (its orders share it)
    recycle_reason = TextField(default="")  # set: its number must be recycled (an order left the parcel)
    created_at = DateTimeField(default=utcnow)
    created_by = CharField(default="")


# parcels printed per period (core.reports): only printed parcels enter
REPORT_WAYBILL_PRINTED_INDEX = Waybill.index(Waybill.printed_at, Waybill.state, where=Waybill.printed_at.is_null(False),
                                             name="waybill_report_printed")
Waybill.add_index(REPORT_WAYBILL_PRINTED_INDEX)


class WaybillOrder(BaseModel):
    waybill = ForeignKeyField(Waybill, backref="links", on_delete="CASCADE", index=False)
    order = ForeignKeyField(Order, backref="waybill_links", on_delete="CASCADE", index=False)

    class Meta:
        indexes = ((("waybill", "order"), True), (("order",), False))
        primary_key = False


class WaybillItem(BaseModel):
    """What a parcel of a split order (拆单) holds: quantities of the order's lines. A parcel
    without rows holds all its orders' lines."""

    waybill = ForeignKeyField(Waybill, backref="contents", on_delete="CASCADE", index=False)
    item = ForeignKeyField(OrderItem, backref="parcel_rows", on_delete="CASCADE", index=False)
    qty = IntegerField()

    class Meta:
        indexes = ((("waybill", "item"), True), (("item",), False))
        primary_key = False


class PrintJob(BaseModel):
    id = AutoField()
    created_at = DateTimeField(default=utcnow)
    requested_by = CharField(default="")
    printer = CharField()
    template = CharField()
    kind = CharField(default="label")  # label | reprint | picklist | packing | test
    state = CharField(default="queued", index=True)  # queued | printing | paused | done | cancelled
    state_reason = TextField(default="")
    reprint_reason = TextField(default="")
    total = IntegerField(default=0)
    finished_at = DateTimeField(null=True)
    courier = CharField(default="")  # wp_code whose e-waybill numbers a waybill job takes ("": none)
    # a pick-list job: the waybill job (the wave) whose pick list it prints (core.packing.wave_print)
    wave_job = ForeignKeyField("self", null=True, backref="pick_lists", on_delete="SET NULL", index=False)
    handover_id = IntegerField(null=True)  # a handover list's job: the handover (core.packing.handover_models)


class PrintItem(BaseModel):
    id = AutoField()
    job = ForeignKeyField(PrintJob, backref="items", on_delete="CASCADE")
    seq = IntegerField()  # 1-based position in the job ("12/200")
    order = ForeignKeyField(Order, null=True, backref="print_items", on_delete="SET NULL")
    state = CharField(default="queued", index=True)
    # queued | sending | sent | skipped | uncertain | failed | cancelled
    reason = TextField(default="")
    is_reprint = BooleanField(default=False)
    reprint_no = IntegerField(default=0)  # 2 for "R2"
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    attempts = IntegerField(default=0)
    waybill = ForeignKeyField(Waybill, null=True, backref="print_items", on_delete="SET NULL", index=False)

    class Meta:
        indexes = ((("job", "seq"), True),)


class Shipment(BaseModel):
    """Ship-confirmation outbox: one row per tracking number to confirm to the platform."""

    id = AutoField()
    order = ForeignKeyField(Order, backref="shipments", on_delete="CASCADE")
    tracking_number = CharField()
    logistics_id = IntegerField()
    redelivery_type = IntegerField(null=True)
    state = CharField(default="pending", index=True)  # pending | sending | confirmed | failed | superseded
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    last_error = TextField(default="")
    last_error_code = IntegerField(null=True)
    created_at = DateTimeField(default=utcnow)
    created_by = CharField(default="")
    confirmed_at = DateTimeField(null=True)


class SyncRun(BaseModel):
    id = AutoField()
    shop = ForeignKeyField(Shop, backref="sync_runs", on_delete="CASCADE")
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    ok = BooleanField(null=True)
    windows = IntegerField(default=0)
    orders_seen = IntegerField(default=0)
    orders_new = IntegerField(default=0)
    orders_changed = IntegerField(default=0)
    error = TextField(default="")
    holder = CharField(default="")


class Lease(BaseModel):
    """A named lease (e.g. "sync"): only its holder runs the job while it is unexpired."""

    name = CharField(primary_key=True)
    holder = CharField()
    expires_at = DateTimeField()


class ImportRun(BaseModel):
    id = AutoField()
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    actor = CharField(default="")
    kind = CharField(default="orders")  # orders | tracking | receive (a stock receive file)
    file_name = TextField(default="")
    file_sha256 = CharField(default="")
    shop = ForeignKeyField(Shop, null=True, on_delete="SET NULL")
    rows_total = IntegerField(default=0)
    orders_new = IntegerField(default=0)
    orders_updated = IntegerField(default=0)
    orders_unchanged = IntegerField(default=0)
    rows_rejected = IntegerField(default=0)
    committed = BooleanField(default=False)
    message = TextField(default="")


class OrderEvent(BaseModel):
    """History of one order as dadan saw it: synced, imported, flag raised, printed, shipped."""

    id = AutoField()
    order = ForeignKeyField(Order, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField()  # sync | import | flag | print | ship | confirm | release | note
    text = TextField(default="")

    class Meta:
        indexes = ((("order", "at"), False),)


class ArchivedOrder(BaseModel):
    """A shipped order moved out of the hot tables by ``dadan archive`` (core.archive.move): its
    rows and history as one JSON document (``data``), with the columns it is found by."""

    id = AutoField()
    order_id = IntegerField()  # its id while hot (given back on restore when still free)
    shop_id = IntegerField()
    order_sn = CharField()
    tracking_number = CharField(default="")
    shipped_at = DateTimeField(null=True, index=True)  # the ship time its cut-off was measured by
    archived_at = DateTimeField(default=utcnow)
    archived_by = CharField(default="")
    data = TextField()

    class Meta:
        indexes = ((("order_sn", "shop_id"), False),)


ArchivedOrder.add_index(ArchivedOrder.index(ArchivedOrder.tracking_number, name="archived_order_tracking_number_set",
                                            where=ArchivedOrder.tracking_number != SQL("''")))


class ColumnMapping(BaseModel):
    """A saved spreadsheet column mapping, reused for files with the same headers."""

    id = AutoField()
    name = CharField(unique=True)
    header_signature = CharField(index=True)
    mapping = TextField()  # JSON {field: header}
    created_at = DateTimeField(default=utcnow)


ALL_MODELS = [
    SchemaVersion,
    Shop,
    Courier,
    Order,
    OrderItem,
    Tag,
    OrderTag,
    SavedView,
    AuditEvent,
    PrintJob,
    PrintItem,
    Shipment,
    WaybillBranch,
    WaybillAccount,
    Waybill,
    WaybillOrder,
    WaybillItem,
    SyncRun,
    Lease,
    ImportRun,
    OrderEvent,
    ColumnMapping,
    ArchivedOrder,
]

from dadan.core import order_indexes  # noqa: E402,F401  (the order table's other indexes, registered)
