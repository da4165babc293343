"""The packing bench's tables.

- ``PackRecord``: one parcel checked item by item at the bench and found complete (验货): who,
  when, the items counted and the supervisor overrides, as JSON. One per parcel (unique): a
  parcel is packed once. A parcel packed before its label printed ("scan first, print after",
  ``packing.on_packed = "print"``) has no number yet: its record names its first order
  (``order``, unique too), the parcel the print job made for it (``waybill``, when the job made
  one) and the print job that prints its label (``print_job``).
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from dadan.core.models import BaseModel, Order, Waybill, utcnow


class PackRecord(BaseModel):
    id = AutoField()
    waybill = ForeignKeyField(Waybill, backref="pack_records", on_delete="CASCADE", unique=True, null=True)
    order = ForeignKeyField(Order, backref="pack_records", on_delete="CASCADE", unique=True, null=True)
    waybill_code = CharField(default="")
    order_sns = TextField(default="")  # the parcel's orders, space-separated
    actor = CharField(default="")
    packed_at = DateTimeField(default=utcnow)
    items = TextField(default="")  # JSON [{"code", "qty"}]
    overrides = TextField(default="")  # JSON [{"code", "qty", "reason", "actor"}]
    print_job = IntegerField(null=True)  # packed before printing: the job that prints its label


PACKING_MODELS = [PackRecord]
