"""The packing bench's tables.

- ``PackRecord``: one parcel checked item by item at the bench and found complete (验货): who,
  when, the items counted and the supervisor overrides, as JSON. One per parcel (unique): a
  parcel is packed once.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, TextField

from dadan.core.models import BaseModel, Waybill, utcnow


class PackRecord(BaseModel):
    id = AutoField()
    waybill = ForeignKeyField(Waybill, backref="pack_records", on_delete="CASCADE", unique=True)
    waybill_code = CharField(default="")
    order_sns = TextField(default="")  # the parcel's orders, space-separated
    actor = CharField(default="")
    packed_at = DateTimeField(default=utcnow)
    items = TextField(default="")  # JSON [{"code", "qty"}]
    overrides = TextField(default="")  # JSON [{"code", "qty", "reason", "actor"}]


PACKING_MODELS = [PackRecord]
