"""The schema's steps (:func:`dadan.core.db.migrate` applies them in order): append only; never
edit a step that has shipped. A database made by step 1 today has most later ones already (step
1 makes every model's table), so each step checks before it changes anything."""

from __future__ import annotations

from peewee import Database

from dadan.core.models import ALL_MODELS, SchemaVersion


def _extend_statistics(db: Database, names) -> None:
    """The planner's statistics (:func:`dadan.core.orders.listing.ensure_statistics`), where kept,
    extended to the indexes ``names`` (or a table's) made by a step: without them it may pass an
    index by."""
    has_stats = db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
    if has_stats and db.execute_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'order' LIMIT 1").fetchone():
        for name in names:
            db.execute_sql(f'ANALYZE "{name}"')


def _m1_initial(db: Database) -> None:
    db.create_tables([m for m in ALL_MODELS if m is not SchemaVersion])


def _m2_partial_order_indexes(db: Database) -> None:
    """Order indexes that most new orders need not enter: tracking number, courier, exception
    flags and the platform's update time become partial (only orders that have one); the
    shop's own index goes (the (order_sn, shop) key serves look-ups). A database made by step 1
    today has them already."""
    from dadan.core.order_indexes import PARTIAL_INDEXES

    for name in ("order_shop_id", "order_tracking_number", "order_logistics_id", "order_exception_flags",
                 "order_updated_at"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    for index in PARTIAL_INDEXES.values():
        db.execute(index)  # CREATE INDEX IF NOT EXISTS
    _extend_statistics(db, PARTIAL_INDEXES)


def _add_columns(db: Database, columns) -> None:
    """``(model, column, DDL)``: each column the model's table lacks is added (a database made by
    step 1 today has them already)."""
    for model, column, ddl in columns:
        table = model._meta.table_name
        if column not in {c.name for c in db.get_columns(table)}:
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')


def _m3_waybills(db: Database) -> None:
    """E-waybills: branches, accounts, parcels and their orders; a waybill job's courier and
    each label's parcel. A database made by step 1 today has them already."""
    from dadan.core.models import PrintItem, PrintJob, Waybill, WaybillAccount, WaybillBranch, WaybillOrder

    db.create_tables([WaybillBranch, WaybillAccount, Waybill, WaybillOrder], safe=True)
    _add_columns(db, ((PrintJob, "courier", "VARCHAR(255) NOT NULL DEFAULT ''"),
                      (PrintItem, "waybill_id", 'INTEGER REFERENCES "waybill" ("id") ON DELETE SET NULL')))


def _m4_order_fulltext(db: Database) -> None:
    """Free text from an index: the FTS5 trigram table over the orders' search text, its
    triggers, and every existing order indexed (:mod:`dadan.core.orders.fulltext`). A fresh
    database gets it here too (step 1 makes only the models' tables)."""
    from dadan.core.orders.fulltext import create_index

    create_index(db)


def _m5_archived_orders(db: Database) -> None:
    """Retention: the table shipped orders are archived into (:mod:`dadan.core.archive`). A
    database made by step 1 today has it already."""
    from dadan.core.models import ArchivedOrder

    db.create_tables([ArchivedOrder], safe=True)


def _m6_short_free_text(db: Database) -> None:
    """Short free-text terms from the index too: it reads each order's search text with a
    sentinel at its end, through a view, and gains its vocabulary table; every order is
    indexed again (:func:`dadan.core.orders.fulltext.upgrade_index`)."""
    from dadan.core.orders.fulltext import upgrade_index

    upgrade_index(db)


def _m7_counts(db: Database) -> None:
    """View counts from indexes: the (code, order) table behind ``sku:`` with its triggers
    (:mod:`dadan.core.orders.sku_index`) filled from every order, and the pending orders'
    deadline index behind the due-soon view. Kept statistics are extended to both, so the
    planner takes them at once."""
    from dadan.core.order_indexes import PENDING_DUE_INDEX, PENDING_DUE_INDEX_NAME
    from dadan.core.orders import sku_index

    sku_index.create_index(db)
    db.execute(PENDING_DUE_INDEX)  # CREATE INDEX IF NOT EXISTS
    _extend_statistics(db, [PENDING_DUE_INDEX_NAME, sku_index.TABLE])  # (an index, a table's indexes)


def _m8_sku_pairs_deferred(db: Database) -> None:
    """A bulk write's new orders get their SKU pairs in one sorted statement at the end of its
    block, as their free text is indexed (:func:`dadan.core.orders.sku_index.fill_queued`):
    the free-text queue tells new orders from changed ones, and the insert trigger of step 7
    leaves the block's new orders to it."""
    from dadan.core.orders import fulltext, sku_index

    fulltext.queue_new_orders(db)
    sku_index.defer_inserts(db)


def _m9_goods_and_stock(db: Database) -> None:
    """Goods and stock: the catalogue, barcodes, the stock ledger's movements (with the trigger
    that keeps on hand their sum and those that keep them append-only), open orders' demand
    and the platform stock outbox (:mod:`dadan.core.goods`)."""
    from dadan.core.goods.models import GOODS_MODELS, TRIGGERS

    db.create_tables(GOODS_MODELS, safe=True)
    for ddl in TRIGGERS:
        db.execute_sql(ddl)


def _m10_pending_due_covering(db: Database) -> None:
    """The pending orders' deadline index carries pay time, province and the pending test's
    columns too (after its key), so a due filter sorted by pay time or narrowed by province
    reads no order rows to count or to choose a page (:data:`dadan.core.order_indexes.PENDING_DUE_INDEX`).
    Rebuilt only where it is the narrow one of step 7; kept statistics are extended to it."""
    from dadan.core.order_indexes import PENDING_DUE_INDEX

    if _as_defined(db, PENDING_DUE_INDEX):
        return
    _remake(db, [PENDING_DUE_INDEX])
    _extend_statistics(db, [PENDING_DUE_INDEX._name])


def _m11_stock_short_rows(db: Database) -> None:
    """The oversell guard reads a SKU's short demand rows from a partial index (a database made
    by step 9 before it had it)."""
    from dadan.core.goods.models import SHORT_ROWS_INDEX

    db.execute(SHORT_ROWS_INDEX)  # CREATE INDEX IF NOT EXISTS


def _m12_pack_checks(db: Database) -> None:
    """The packing bench's pack records (:mod:`dadan.core.packing`): a parcel checked item by
    item and found complete, once."""
    from dadan.core.packing.models import PACKING_MODELS

    db.create_tables(PACKING_MODELS, safe=True)


def _m13_handovers(db: Database) -> None:
    """Courier handovers (交接): the handovers and the parcels scanned into them
    (:mod:`dadan.core.packing.handover`), and the waybills' (state, print time) index that finds
    the parcels printed today."""
    from dadan.core.packing.handover_models import HANDOVER_MODELS, WAYBILL_PRINTED_INDEX

    db.create_tables(HANDOVER_MODELS, safe=True)
    db.execute(WAYBILL_PRINTED_INDEX.safe(True))  # CREATE INDEX IF NOT EXISTS


def _m14_merge_and_split(db: Database) -> None:
    """Merged and split parcels (合单/拆单, :mod:`dadan.core.waybills.merge`): the orders' and
    parcels' receiver key (``open_address_id``), a parcel's reason to recycle its number (an
    order left it), and what a split order's parcels hold (:class:`~dadan.core.models.WaybillItem`).
    A database made by step 1 today has them already."""
    from dadan.core.models import Order, Waybill, WaybillItem

    db.create_tables([WaybillItem], safe=True)
    _add_columns(db, ((Order, "open_address_id", "VARCHAR(255) NOT NULL DEFAULT ''"),
                      (Waybill, "open_address_id", "VARCHAR(255) NOT NULL DEFAULT ''"),
                      (Waybill, "recycle_reason", "TEXT NOT NULL DEFAULT ''")))


def _m15_wave_pick_lists(db: Database) -> None:
    """Waves on paper: a pick-list job names the waybill job (the wave) whose pick list it
    prints (:mod:`dadan.core.packing.wave_print`)."""
    from dadan.core.models import PrintJob

    _add_columns(db, ((PrintJob, "wave_job_id", 'INTEGER REFERENCES "print_job" ("id") ON DELETE SET NULL'),))


def _m16_pack_before_print(db: Database) -> None:
    """Packing before the label prints (``packing.on_packed = "print"``): a pack record may have
    no waybill yet, names the parcel's first order (unique) and the print job of its label. SQLite
    cannot make a column nullable in place: the table is rebuilt and its rows copied. A
    database made by step 12 today has the new shape already."""
    from dadan.core.packing.models import PackRecord

    table = PackRecord._meta.table_name
    if "order_id" in {c.name for c in db.get_columns(table)}:
        return
    old = f"{table}_before_16"
    db.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    for idx in db.get_indexes(old):
        if not idx.name.startswith("sqlite_"):
            db.execute_sql(f'DROP INDEX "{idx.name}"')
    db.create_tables([PackRecord])
    cols = '"id", "waybill_id", "waybill_code", "order_sns", "actor", "packed_at", "items", "overrides"'
    db.execute_sql(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{old}"')
    db.execute_sql(f'DROP TABLE "{old}"')


def _m17_handover_list_jobs(db: Database) -> None:
    """Printed handover lists (交接单): a print job may stand for a closed handover."""
    from dadan.core.models import PrintJob

    _add_columns(db, ((PrintJob, "handover_id", "INTEGER"),))


def _m18_report_indexes(db: Database) -> None:
    from dadan.core.reports.indexes import create_report_indexes  # core.order_indexes.REPORT_INDEXES

    create_report_indexes(db)


def _m19_audit_indexes(db: Database) -> None:
    """The audit log read by operator and by action, newest first (:mod:`dadan.core.audit_query`):
    (actor, at) and (action, at). A database made by step 1 today has them already."""
    from dadan.core.models import AuditEvent

    AuditEvent.create_table(safe=True)  # the table is there: only its missing indexes are made


def _m20_operators(db: Database) -> None:
    """Operators, roles and permissions (:mod:`dadan.core.operators`): roles, operators with their
    PIN hashes, and each terminal's last operator. No operator yet: open mode."""
    from dadan.core.operators.models import OPERATOR_MODELS

    db.create_tables(OPERATOR_MODELS, safe=True)


def widen_deadline_index(db: Database) -> None:
    """``order_last_ship_time_id`` becomes :data:`dadan.core.models.DEADLINE_INDEX_NAME`, pay time
    after the key (both backends: PostgreSQL's step 21 too)."""
    from dadan.core.models import DEADLINE_INDEX_COLUMNS, DEADLINE_INDEX_NAME

    columns = ", ".join(f'"{c}"' for c in DEADLINE_INDEX_COLUMNS)
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{DEADLINE_INDEX_NAME}" ON "order" ({columns})')
    db.execute_sql('DROP INDEX IF EXISTS "order_last_ship_time_id"')


def _m21_deadline_index_covers_pay_time(db: Database) -> None:
    """The deadline index carries pay time after its key (:func:`widen_deadline_index`): a due
    filter's page sorted by pay time is chosen from the index alone. Kept statistics are
    extended to it."""
    from dadan.core.models import DEADLINE_INDEX_NAME

    widen_deadline_index(db)
    _extend_statistics(db, [DEADLINE_INDEX_NAME])


def _m22_note_indexes(db: Database) -> None:
    """Partial indexes of the orders with a remark, a memo or a flag
    (:data:`dadan.core.order_indexes.NOTE_INDEXES`). Kept statistics are extended to them."""
    from dadan.core.order_indexes import NOTE_INDEXES

    for index in NOTE_INDEXES.values():
        db.execute(index)  # CREATE INDEX IF NOT EXISTS
    _extend_statistics(db, NOTE_INDEXES)


def widen_partial_indexes(db: Database) -> None:
    """The courier's and the exceptions' partial indexes made again with pay time after their
    key (:data:`dadan.core.order_indexes.PAY_TIME_PARTIAL_INDEXES`; both backends: PostgreSQL's step 23)."""
    from dadan.core.order_indexes import PARTIAL_INDEXES, PAY_TIME_PARTIAL_INDEXES

    _remake(db, [PARTIAL_INDEXES[name] for name in PAY_TIME_PARTIAL_INDEXES])


def _m23_partial_indexes_carry_pay_time(db: Database) -> None:
    """:func:`widen_partial_indexes`, where they are still the narrow ones; kept statistics are
    extended to them."""
    from dadan.core.order_indexes import PARTIAL_INDEXES, PAY_TIME_PARTIAL_INDEXES

    if all(_as_defined(db, PARTIAL_INDEXES[name]) for name in PAY_TIME_PARTIAL_INDEXES):
        return
    widen_partial_indexes(db)
    _extend_statistics(db, PAY_TIME_PARTIAL_INDEXES)


def _remake(db: Database, indexes) -> None:
    """``indexes`` dropped and made again as the models define them."""
    for index in indexes:
        db.execute_sql(f'DROP INDEX IF EXISTS "{index._name}"')
        db.execute(index)  # CREATE INDEX IF NOT EXISTS


def _as_defined(db: Database, index) -> bool:
    """Whether SQLite's index of ``index``'s name has the columns the model defines for it."""
    return [r[2] for r in db.execute_sql(f'PRAGMA index_info("{index._name}")')] == [
        f.column_name for f in index._expressions]


def filter_column_indexes() -> list:
    """The indexes schema step 24 made (again): the pay-time and the status index carrying the
    columns filters test (:data:`dadan.core.order_indexes.PAY_TIME_INDEX`,
    :data:`~dadan.core.order_indexes.STATUS_INDEX`), and the partial indexes carrying the pending
    test's columns (:data:`dadan.core.order_indexes.STATUS_COLUMNS`)."""
    from dadan.core.order_indexes import (
        NOTE_INDEXES,
        PARTIAL_INDEXES,
        PAY_TIME_INDEX,
        STATUS_COLUMNS,
        STATUS_INDEX,
        UPDATE_TIME_INDEX_NAME,
    )

    partial = [i for i in (*PARTIAL_INDEXES.values(), *NOTE_INDEXES.values())
               if any(e is c for e in i._expressions for c in STATUS_COLUMNS) and i._name != UPDATE_TIME_INDEX_NAME]
    return [PAY_TIME_INDEX, STATUS_INDEX, *partial]  # (the update time's: step 27)


# the indexes step 24's replace: (pay_time, id), the reports' paid index, the narrow status index
REPLACED_IN_STEP_24 = ("order_pay_time_id", "order_report_paid", "order_order_status_state_exception_flags_print_count")


def carry_filter_columns(db: Database, indexes: list) -> None:
    """Schema step 24's work (both backends): ``indexes`` (of :func:`filter_column_indexes`)
    made again as the models define them, and the indexes they replace dropped."""
    _remake(db, indexes)
    for name in REPLACED_IN_STEP_24:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def _m24_indexes_carry_filter_columns(db: Database) -> None:
    """The pay-time and the status index carry the columns filters test that have no index of
    their own (the pay-time index replaces the (pay time, id) and the reports' paid index); the
    partial indexes carry the pending test's columns (:func:`carry_filter_columns`; where they
    are not so already). Kept statistics are extended to them. At 1,000,000 orders this takes a
    few seconds, once."""
    changed = [i for i in filter_column_indexes() if not _as_defined(db, i)]
    carry_filter_columns(db, changed)
    _extend_statistics(db, [i._name for i in changed])


REDUNDANT_DEMAND_INDEX = "stock_demand_goods_id"


def _m25_no_second_goods_index_on_demand(db: Database) -> None:
    """The stock demand rows lose their index of goods alone: their key (goods, order) starts
    with the goods and serves every look-up by it, so the index only cost each row's write."""
    db.execute_sql(f'DROP INDEX IF EXISTS "{REDUNDANT_DEMAND_INDEX}"')


def _m26_free_text_merged_off_the_write_path(db: Database) -> None:
    """The free-text index's segments are merged off the write path: FTS5's automatic merging
    off, :func:`dadan.core.orders.fulltext.tidy` merging them from the desk's background jobs
    (a sync's or an import's transaction only writes its own segment); and a bulk write's
    changed orders leave the index together at the end of its block, their old text kept in the
    queue meanwhile (:func:`dadan.core.orders.fulltext.reindex_deferred`)."""
    from dadan.core.orders.fulltext import merge_off_the_write_path, queue_old_text

    merge_off_the_write_path(db)
    queue_old_text(db)


def remake_update_time_index(db: Database) -> None:
    """Schema steps 27's and 28's work (both backends): the update time's partial index made
    again as the model defines it, with id, pay time, the pending test's columns, the exception
    bits and the print count after its key (:data:`dadan.core.order_indexes.UPDATE_TIME_INDEX_COLUMNS`)."""
    from dadan.core.order_indexes import PARTIAL_INDEXES, UPDATE_TIME_INDEX_NAME

    _remake(db, [PARTIAL_INDEXES[UPDATE_TIME_INDEX_NAME]])


def _m27_update_time_index_carries_sort_and_status(db: Database) -> None:
    """:func:`remake_update_time_index`, where the index is still the narrow one; kept
    statistics are extended to it. At 1,000,000 orders this takes about a second, once."""
    from dadan.core.order_indexes import PARTIAL_INDEXES, UPDATE_TIME_INDEX_NAME

    if _as_defined(db, PARTIAL_INDEXES[UPDATE_TIME_INDEX_NAME]):
        return
    remake_update_time_index(db)
    _extend_statistics(db, [UPDATE_TIME_INDEX_NAME])


def _m28_update_time_index_carries_view_columns(db: Database) -> None:
    """The update time's index carries the exception bits and the print count too (the built-in
    views' tests; :func:`remake_update_time_index`), where step 27 made it without
    them; kept statistics are extended to it. At 1,000,000 orders this takes about 2 s, once."""
    _m27_update_time_index_carries_sort_and_status(db)


STOCK_ROLES = ("操作员", "仓库主管", "管理员")  # the built-in roles that hold "stock" (not 财务, finance)


def grant_stock_to_builtin_roles(db: Database) -> None:
    """Schema step 29's work (both backends): the built-in operator, warehouse admin and
    administrator roles made before the "stock" permission existed (goods and stock were then
    anyone's) hold it, as the roles made now do; finance and custom roles are left as they are.
    No role yet (open mode): nothing to do."""
    from dadan.core.operators.models import Role
    from dadan.core.operators.permissions import PERMISSIONS

    if not db.table_exists(Role._meta.table_name):
        return
    for role in Role.select().where(Role.builtin == True, Role.name.in_(STOCK_ROLES)):  # noqa: E712
        perms = role.permission_set()
        if "stock" in perms:
            continue
        perms |= {"stock"}
        text = ",".join([p for p in PERMISSIONS if p in perms] + sorted(perms - set(PERMISSIONS)))
        Role.update(permissions=text).where(Role.id == role.id).execute()


def _m29_builtin_roles_hold_stock(db: Database) -> None:
    """The "stock" permission (goods and stock changes) for the built-in roles made before it
    (:func:`grant_stock_to_builtin_roles`)."""
    grant_stock_to_builtin_roles(db)


# (version, description, function). Append only; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, str, object]] = [
    (1, "initial schema", _m1_initial),
    (2, "partial order indexes", _m2_partial_order_indexes),
    (3, "e-waybills", _m3_waybills),
    (4, "order free-text index", _m4_order_fulltext),
    (5, "archived orders", _m5_archived_orders),
    (6, "short free-text terms from the index", _m6_short_free_text),
    (7, "sku code table and pending deadline index", _m7_counts),
    (8, "sku pairs of bulk writes filled at the end of the block", _m8_sku_pairs_deferred),
    (9, "goods and stock", _m9_goods_and_stock),
    (10, "pending deadline index carries pay time and province", _m10_pending_due_covering),
    (11, "stock demand's short rows indexed", _m11_stock_short_rows),
    (12, "pack checks", _m12_pack_checks),
    (13, "courier handovers", _m13_handovers),
    (14, "merged and split parcels", _m14_merge_and_split),
    (15, "wave pick lists", _m15_wave_pick_lists),
    (16, "pack records before the label prints", _m16_pack_before_print),
    (17, "printed handover lists", _m17_handover_list_jobs),
    (18, "report indexes", _m18_report_indexes),
    (19, "audit log indexes by operator and by action", _m19_audit_indexes),
    (20, "operators and roles", _m20_operators),
    (21, "deadline index carries pay time", _m21_deadline_index_covers_pay_time),
    (22, "remark, memo and flag indexes", _m22_note_indexes),
    (23, "courier and exception indexes carry pay time", _m23_partial_indexes_carry_pay_time),
    (24, "indexes carry the columns filters test", _m24_indexes_carry_filter_columns),
    (25, "stock demand without a second index of its goods", _m25_no_second_goods_index_on_demand),
    (26, "free-text index merged off the write path, changed orders' entries removed together",
     _m26_free_text_merged_off_the_write_path),
    (27, "update-time index carries pay time and status", _m27_update_time_index_carries_sort_and_status),
    (28, "update-time index carries exception bits and print count", _m28_update_time_index_carries_view_columns),
    (29, "built-in roles hold the goods and stock permission", _m29_builtin_roles_hold_stock),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]
