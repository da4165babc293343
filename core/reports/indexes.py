"""The report indexes (:data:`dadan.core.order_indexes.REPORT_INDEXES`), made by migration step 18 on a
database older than them: reports count orders paid (with shop, exception bits and amount),
shipped and printed by dadan, and parcels printed, from indexes alone. Kept planner statistics
are extended to them."""

from __future__ import annotations


def create_report_indexes(db) -> None:
    from dadan.core.models import REPORT_WAYBILL_PRINTED_INDEX
    from dadan.core.order_indexes import REPORT_INDEXES

    for index in (*REPORT_INDEXES, REPORT_WAYBILL_PRINTED_INDEX):
        db.execute(index)  # CREATE INDEX IF NOT EXISTS
    has_stats = db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
    if has_stats and db.execute_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'order' LIMIT 1").fetchone():
        for index in REPORT_INDEXES:
            db.execute_sql(f'ANALYZE "{index._name}"')
