"""The schema on PostgreSQL (:mod:`dadan.core.postgres`).

A new database is made at the current schema version in one transaction: every model's table,
the indexes the SQLite steps add (partial ones included), the stock ledger's triggers, the
(code, order) pairs behind ``sku:`` and the free-text index -- PostgreSQL's own means for what
SQLite does with FTS5 and JSON: a ``pg_trgm`` GIN index over ``order.search_text`` and PL/pgSQL
triggers. The steps of :mod:`dadan.core.migrations` written after this one carry a PostgreSQL
form in :data:`PG_STEPS`; a database older than the version it was made at is brought up with
them, under :func:`dadan.core.db.write`'s lock, so two desks starting together never race.
"""

from __future__ import annotations

from peewee import Database

from dadan.core import changes
from dadan.core.errors import DatabaseError
from dadan.core.i18n import tr

TRGM_INDEX = "order_search_text_trgm"

_GOODS_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION "stock_movement_on_hand"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE "goods" SET "on_hand" = "on_hand" + NEW."qty" WHERE "id" = NEW."goods_id";
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER "stock_movement_on_hand" AFTER INSERT ON "stock_movement"
        FOR EACH ROW EXECUTE FUNCTION "stock_movement_on_hand"()""",
    """CREATE OR REPLACE FUNCTION "stock_movement_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD."order_id" IS NOT NULL AND NEW."order_id" IS NULL
           AND OLD."qty" = NEW."qty" AND OLD."goods_id" = NEW."goods_id" THEN
            RETURN NEW;  -- an order archived or deleted: its movements keep their quantities
        END IF;
        RAISE EXCEPTION 'stock movements are append-only';
    END $$""",
    """CREATE OR REPLACE TRIGGER "stock_movement_append_only" BEFORE UPDATE OR DELETE ON "stock_movement"
        FOR EACH ROW EXECUTE FUNCTION "stock_movement_append_only"()""",
)

# order_sku: the (code, order) pairs of each order's sku_text ("|a12|b07|"), kept by a trigger
_SKU_DDL = (
    """CREATE TABLE IF NOT EXISTS "order_sku" (
        "code" TEXT NOT NULL, "order_id" INTEGER NOT NULL, PRIMARY KEY ("code", "order_id"))""",
    """CREATE INDEX IF NOT EXISTS "order_sku_code_pattern" ON "order_sku" ("code" text_pattern_ops, "order_id")""",
    """CREATE OR REPLACE FUNCTION "order_sku_codes"(t TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE AS $$
        SELECT DISTINCT c FROM unnest(string_to_array(trim(BOTH '|' FROM t), '|')) AS c WHERE c <> ''
    $$""",
    """CREATE OR REPLACE FUNCTION "order_sku_keep"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD."sku_text" <> '' THEN
            IF TG_OP = 'DELETE' OR OLD."sku_text" IS DISTINCT FROM NEW."sku_text" THEN
                DELETE FROM "order_sku" WHERE "order_id" = OLD."id";
            END IF;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD."sku_text" IS DISTINCT FROM NEW."sku_text") THEN
            INSERT INTO "order_sku" ("code", "order_id")
                SELECT c, NEW."id" FROM "order_sku_codes"(NEW."sku_text") AS c ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER "order_sku_keep" AFTER INSERT OR UPDATE OF "sku_text" OR DELETE ON "order"
        FOR EACH ROW EXECUTE FUNCTION "order_sku_keep"()""",
)


# prefix terms (province:, sn:, tracking:) are LIKE 'v%' on PostgreSQL: a plain btree serves
# that only under the C collation, these under any
_PREFIX_INDEXES = (
    'CREATE INDEX IF NOT EXISTS "order_province_pattern" ON "order" ("province" text_pattern_ops)',
    'CREATE INDEX IF NOT EXISTS "order_order_sn_pattern" ON "order" ("order_sn" text_pattern_ops)',
    """CREATE INDEX IF NOT EXISTS "order_tracking_number_pattern" ON "order" ("tracking_number" text_pattern_ops)
        WHERE "tracking_number" != ''""",
)


def all_models() -> list:
    from dadan.core.goods.models import GOODS_MODELS
    from dadan.core.models import ALL_MODELS
    from dadan.core.operators.models import OPERATOR_MODELS
    from dadan.core.packing.handover_models import HANDOVER_MODELS
    from dadan.core.packing.models import PACKING_MODELS

    return list(dict.fromkeys([*ALL_MODELS, *GOODS_MODELS, *PACKING_MODELS, *HANDOVER_MODELS, *OPERATOR_MODELS]))


def _extra_indexes() -> list:
    """The indexes SQLite's steps add beside the models' own (peewee index objects)."""
    from peewee import SQL

    from dadan.core.goods.models import SHORT_ROWS_INDEX, StockDemand
    from dadan.core.models import REPORT_WAYBILL_PRINTED_INDEX
    from dadan.core.order_indexes import NOTE_INDEXES, PARTIAL_INDEXES, PENDING_DUE_INDEX, REPORT_INDEXES
    from dadan.core.packing.handover_models import WAYBILL_PRINTED_INDEX

    short_rows = StockDemand.index(StockDemand.goods, where=StockDemand.short == SQL("TRUE"), name=SHORT_ROWS_INDEX._name)
    return [*PARTIAL_INDEXES.values(), *NOTE_INDEXES.values(), PENDING_DUE_INDEX, short_rows, WAYBILL_PRINTED_INDEX.safe(True),
            *REPORT_INDEXES, REPORT_WAYBILL_PRINTED_INDEX]


def create_schema(db: Database) -> None:
    """Every table, index and trigger of the current schema (inside a write transaction)."""
    db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    from dadan.core.goods.models import SHORT_ROWS_INDEX, StockDemand

    models = all_models()
    plain = [m for m in models if m._meta.without_rowid]
    indexes = StockDemand._meta.indexes
    for m in plain:  # a SQLite storage option; PostgreSQL tables have no rowid anyway
        m._meta.without_rowid = False
    # ("short" = 1: SQLite's boolean; its PostgreSQL form is among the extra indexes)
    StockDemand._meta.indexes = [i for i in indexes if i is not SHORT_ROWS_INDEX]
    try:
        db.create_tables(models, safe=True)
    finally:
        for m in plain:
            m._meta.without_rowid = True
        StockDemand._meta.indexes = indexes
    for index in _extra_indexes():
        db.execute(index)
    for ddl in (*_GOODS_TRIGGERS, *_SKU_DDL):
        db.execute_sql(ddl)
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{TRGM_INDEX}" ON "order" USING gin ("search_text" gin_trgm_ops)')
    for ddl in (*_PREFIX_INDEXES, *changes.DDL):  # (and the change counter every write moves: core.changes)
        db.execute_sql(ddl)


def _pg21_deadline_index(db: Database) -> None:
    from dadan.core.migrations import widen_deadline_index

    widen_deadline_index(db)


# version -> the PostgreSQL form of a step of core.migrations written after the schema above
# (create_schema makes the schema of SCHEMA_VERSION: these bring up a database made earlier)
def _pg22_note_indexes(db: Database) -> None:
    from dadan.core.order_indexes import NOTE_INDEXES

    for index in NOTE_INDEXES.values():
        db.execute(index)


def _pg23_partial_indexes(db: Database) -> None:
    from dadan.core.migrations import widen_partial_indexes

    widen_partial_indexes(db)


def _pg24_filter_columns(db: Database) -> None:
    from dadan.core.migrations import carry_filter_columns, filter_column_indexes

    carry_filter_columns(db, filter_column_indexes())


def _pg25_demand_goods_index(db: Database) -> None:
    from dadan.core.migrations import REDUNDANT_DEMAND_INDEX

    db.execute_sql(f'DROP INDEX IF EXISTS "{REDUNDANT_DEMAND_INDEX}"')


def _pg26_nothing(db: Database) -> None:
    """SQLite's free-text index only: PostgreSQL's trigram index is kept by the table itself."""


def _pg_update_time_index(db: Database) -> None:
    """Steps 27 and 28: the update time's index made as the model defines it (a database from
    before step 27 makes it twice, once each step: a second or two at a million orders)."""
    from dadan.core.migrations import remake_update_time_index

    remake_update_time_index(db)


def _pg29_builtin_roles_hold_stock(db: Database) -> None:
    from dadan.core.migrations import grant_stock_to_builtin_roles

    grant_stock_to_builtin_roles(db)


PG_STEPS: dict[int, object] = {21: _pg21_deadline_index, 22: _pg22_note_indexes, 23: _pg23_partial_indexes,
                               24: _pg24_filter_columns, 25: _pg25_demand_goods_index, 26: _pg26_nothing,
                               27: _pg_update_time_index, 28: _pg_update_time_index,
                               29: _pg29_builtin_roles_hold_stock}


def migrate(db: Database) -> int:
    """Make or bring up the schema (see the module); the schema version."""
    from dadan.core.db import current_version, write
    from dadan.core.migrations import MIGRATIONS, SCHEMA_VERSION
    from dadan.core.models import SchemaVersion

    with write(db):
        version = current_version(db)
        if version > SCHEMA_VERSION:
            raise DatabaseError(tr(
                "the database is at schema version {v}, newer than this dadan ({s}); upgrade dadan",
                "数据库结构版本为 {v}，比本程序（{s}）新；请升级 dadan", v=version, s=SCHEMA_VERSION))
        if version == 0:
            create_schema(db)
            SchemaVersion.create(version=SCHEMA_VERSION)
            return SCHEMA_VERSION
        for number, desc, _sqlite_step in MIGRATIONS:
            if number <= version:
                continue
            step = PG_STEPS.get(number)
            if step is None:
                raise DatabaseError(f"schema step {number} ({desc}) has no PostgreSQL form")
            step(db)
            SchemaVersion.create(version=number)
            version = number
    return version
