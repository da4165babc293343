"""The rows of a dadan SQLite file copied into a fresh PostgreSQL database (one made by
:func:`tests.pg_cluster.fresh_url`), for storage-level tests and benchmarks that compare the two
backends on the same orders. Not ``dadan db copy`` (no checks, a superuser's trigger switch):
each model's table goes over with ``COPY`` (values as the model reads them from SQLite, written
as it writes them), the triggers off meanwhile, then the (code, order) pairs of ``order_sku``
are made from the orders' text, the id sequences moved past the copied ids and the tables
analysed."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

from dadan.core.db import close_database, open_database, write
from dadan.core.demo import write_demo
from dadan.core.models import SchemaVersion
from dadan.core.pg_schema import all_models


def copy_sqlite(sqlite_path: Path | str, pg_url: str) -> dict[str, int]:
    """Copy every model's rows of ``sqlite_path`` into ``pg_url`` (left open as dadan's
    database); rows per table."""
    close_database()
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    db = open_database(pg_url)
    counts: dict[str, int] = {}
    try:
        with write(db):
            db.execute_sql("SET LOCAL session_replication_role = replica")  # no triggers, no FK checks
            conn = db.connection()
            for model in all_models():
                if model is SchemaVersion:
                    continue
                fields = model._meta.sorted_fields
                table = model._meta.table_name
                names = ", ".join(f'"{f.column_name}"' for f in fields)
                rows = src.execute(f'SELECT {names} FROM "{table}"')
                n = 0
                with conn.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as cp:
                    for row in rows:
                        cp.write_row([None if v is None else f.db_value(f.python_value(v)) for f, v in zip(fields, row)])
                        n += 1
                counts[table] = n
                pk = model._meta.primary_key
                if n and getattr(pk, "field_type", "") == "AUTO":
                    db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk.column_name}'), "
                                   f'(SELECT max("{pk.column_name}") FROM "{table}"))')
            db.execute_sql('INSERT INTO "order_sku" ("code", "order_id") '
                           'SELECT c, o."id" FROM "order" o, "order_sku_codes"(o."sku_text") AS c')
        db.execute_sql("ANALYZE")
    finally:
        src.close()
    return counts


_DEMOS: dict[tuple, Path] = {}


def demo_file(n: int, seed: int, now, prepare=None) -> Path:
    """A SQLite demo database of ``n`` orders (``prepare``: run on it after the demo), made once
    per test process and kept until it ends."""
    key = (n, seed, now, prepare)
    if key not in _DEMOS:
        folder = Path(tempfile.mkdtemp(prefix="dadan-demo-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "demo.db"
        open_database(f"sqlite:///{path}")
        write_demo(n, seed=seed, now=now)
        if prepare is not None:
            prepare()
        close_database()
        _DEMOS[key] = path
    return _DEMOS[key]


def demo_on_postgres(n: int, seed: int, now, prepare=None) -> str:
    """A new PostgreSQL database holding the orders of :func:`demo_file`, open as dadan's."""
    from tests.pg_cluster import fresh_url

    url = fresh_url()
    copy_sqlite(demo_file(n, seed, now, prepare), url)
    return url


_COPIES: dict[str, str] = {}


def open_on(store, sqlite_path: Path) -> None:
    """Open the orders of ``sqlite_path`` on the store's backend (tests/conftest.py ``store``):
    the file itself, or its copy on the test server, made once per test process (for a
    module's read-only tests)."""
    if not store.postgres:
        open_database(f"sqlite:///{sqlite_path}")
    elif str(sqlite_path) in _COPIES:
        open_database(_COPIES[str(sqlite_path)])
    else:
        _COPIES[str(sqlite_path)] = store.url()
        copy_sqlite(sqlite_path, _COPIES[str(sqlite_path)])
