"""The courier handover (交接) tables.

- ``Handover``: one courier's (``wp_code``) pick-up: opened at/by, closed at/by, and where its
  handover list (交接单) was written. At most one open handover per courier (a partial unique
  index).
- ``HandoverParcel``: a parcel (:class:`~dadan.core.models.Waybill`) scanned into a handover,
  at/by. ``open_waybill`` holds the waybill id while its handover is open and is emptied when it
  closes: its unique index keeps a parcel in at most one open handover.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from dadan.core.models import BaseModel, Waybill, utcnow


class Handover(BaseModel):
    id = AutoField()
    wp_code = CharField()  # the courier, as on its parcels (ZTO, YTO ...)
    opened_at = DateTimeField(default=utcnow)
    opened_by = CharField(default="")
    closed_at = DateTimeField(null=True)
    closed_by = CharField(default="")
    list_path = TextField(default="")  # the handover list written on close

    class Meta:
        indexes = ((("closed_at",), False),)


Handover.add_index(Handover.index(Handover.wp_code, unique=True, where=Handover.closed_at.is_null(True),
                                  name="handover_open_courier"))


class HandoverParcel(BaseModel):
    id = AutoField()
    handover = ForeignKeyField(Handover, backref="parcels", on_delete="CASCADE")
    waybill = ForeignKeyField(Waybill, backref="handovers", on_delete="CASCADE")
    waybill_code = CharField()  # kept as scanned, for the list
    open_waybill = IntegerField(null=True, unique=True)  # the waybill id while the handover is open
    scanned_at = DateTimeField(default=utcnow)
    scanned_by = CharField(default="")


HANDOVER_MODELS = [Handover, HandoverParcel]

# The parcels printed today read by state and print time (a year of shipped parcels is not read
# to find today's): on the waybill table, made by the same migration step.
WAYBILL_PRINTED_INDEX = Waybill.index(Waybill.state, Waybill.printed_at, name="waybill_state_printed_at")
