"""The operators' tables (migration step 19).

- ``Role``: a named set of permissions (comma-separated keys of
  :data:`dadan.core.operators.permissions.PERMISSIONS`); the four built-in roles cannot be deleted.
- ``Operator``: a person at the desk: a unique name, a PIN kept only as a slow salted hash, a
  role, the OS login mapped to them (the CLI's fallback), wrong-PIN count and lock-out time.
- ``TerminalOperator``: the last operator signed in at each terminal (the desk opens signed in
  as them).
"""

from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from dadan.core.models import BaseModel, utcnow


class Role(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    permissions = TextField(default="")  # comma-separated permission keys
    builtin = BooleanField(default=False)

    def permission_set(self) -> frozenset[str]:
        return frozenset(p for p in self.permissions.split(",") if p)


class Operator(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    pin_hash = TextField()  # scrypt$salt_hex$hash_hex; never shown, never logged
    role = ForeignKeyField(Role, backref="operators", on_delete="RESTRICT")
    os_user = CharField(default="")  # the OS login mapped to this operator ("" none)
    active = BooleanField(default=True)
    failed_pins = IntegerField(default=0)  # wrong PINs in a row
    locked_until = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class TerminalOperator(BaseModel):
    terminal = CharField(primary_key=True)  # see dadan.core.operators.terminal_id
    operator = ForeignKeyField(Operator, on_delete="CASCADE")
    at = DateTimeField(default=utcnow)


OPERATOR_MODELS = [Role, Operator, TerminalOperator]
