"""The goods catalogue and stock ledger tables.

- ``Goods``: one merchant SKU. ``on_hand`` is the sum of its movements, kept by a trigger on
  ``stock_movement`` (never written by code); ``reserved`` is the sum of its demand rows, kept by
  :mod:`dadan.core.goods.ledger` in the transaction that changes them.
- ``StockMovement``: append-only (triggers refuse UPDATE and DELETE): receive, count correction,
  ship, return to shelf, manual adjustment, with who, when and why.
- ``StockDemand``: one row per (goods, open order): what the order reserves, and whether the
  oversell guard finds it short.
- ``StockPush``: the outbox of available quantities pushed to the platform for managed SKUs.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from dadan.core.models import BaseModel, Order, utcnow

MOVEMENT_KINDS = ("receive", "count", "ship", "return", "adjust")


class Goods(BaseModel):
    id = AutoField()
    code = CharField()  # merchant code (商家编码 / outer_id), else the platform's sku id
    code_key = CharField(unique=True)  # lower-case code: order lines match on it
    name = TextField(default="")
    spec = TextField(default="")
    bin = CharField(default="")  # bin location (库位), e.g. A-03-2
    weight_g = IntegerField(default=0)
    safety_stock = IntegerField(default=0)
    on_hand = IntegerField(default=0)  # sum of movements (trigger)
    reserved = IntegerField(default=0)  # sum of demand rows
    managed = BooleanField(default=False)  # push the available quantity to the platform
    platform_goods_id = CharField(default="")
    platform_sku_id = CharField(default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class GoodsBarcode(BaseModel):
    barcode = CharField(primary_key=True)
    goods = ForeignKeyField(Goods, backref="barcodes", on_delete="CASCADE")


class StockMovement(BaseModel):
    id = AutoField()
    goods = ForeignKeyField(Goods, backref="movements", on_delete="RESTRICT")
    qty = IntegerField()  # signed: + onto the shelf, - off it
    kind = CharField()  # MOVEMENT_KINDS
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    order_sn = CharField(default="")  # kept when the order is archived
    actor = CharField(default="")
    at = DateTimeField(default=utcnow)
    reason = TextField(default="")

    class Meta:
        indexes = ((("goods", "at"), False), (("order",), False))


class StockDemand(BaseModel):
    """What one open order wants of one SKU, with its place in that SKU's line (the order the
    oversell guard serves: ``served`` 0 for an order printed already, 1 for the rest, then the
    ship-by deadline ``due``, then the order), so the line is read from an index."""

    # no index of the goods' own: the key (goods, order) starts with it (schema step 25 dropped one)
    goods = ForeignKeyField(Goods, on_delete="CASCADE", index=False)
    order = ForeignKeyField(Order, on_delete="CASCADE")
    qty = IntegerField()
    served = IntegerField()
    due = CharField()  # the order's last_ship_time as stored; NO_DEADLINE when it has none
    short = BooleanField(default=False)

    class Meta:
        primary_key = CompositeKey("goods", "order")
        indexes = ((("order",), False), (("goods", "served", "due", "order"), False))
        without_rowid = True


NO_DEADLINE = "9999"  # sorts after every stored time


class StockPush(BaseModel):
    """A managed SKU's available quantity waiting to reach the platform; one open row per goods
    (a newer quantity replaces a pending one), retried until the platform takes it."""

    id = AutoField()
    goods = ForeignKeyField(Goods, on_delete="CASCADE")
    quantity = IntegerField()
    state = CharField(default="pending")  # pending | sending | done | failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    last_error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    done_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("state", "next_attempt_at"), False), (("goods", "state"), False))


# the rows the guard finds short, by SKU: clearing them when the shelf covers everything is a
# look-up, not a walk through every open order of the SKU
SHORT_ROWS_INDEX = StockDemand.index(StockDemand.goods, where=StockDemand.short == SQL("1"), name="stock_demand_short")
StockDemand.add_index(SHORT_ROWS_INDEX)

GOODS_MODELS = [Goods, GoodsBarcode, StockMovement, StockDemand, StockPush]

# on_hand is the movements' sum, kept by the database; the movements themselves never change
TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS "stock_movement_on_hand" AFTER INSERT ON "stock_movement" BEGIN
        UPDATE "goods" SET "on_hand" = "on_hand" + new."qty" WHERE "id" = new."goods_id";
    END""",
    """CREATE TRIGGER IF NOT EXISTS "stock_movement_no_update" BEFORE UPDATE ON "stock_movement"
        WHEN NOT (old."order_id" IS NOT NULL AND new."order_id" IS NULL AND old."qty" = new."qty"
                  AND old."goods_id" = new."goods_id") BEGIN
        SELECT RAISE(ABORT, 'stock movements are append-only');
    END""",
    """CREATE TRIGGER IF NOT EXISTS "stock_movement_no_delete" BEFORE DELETE ON "stock_movement" BEGIN
        SELECT RAISE(ABORT, 'stock movements are append-only');
    END""",
)
