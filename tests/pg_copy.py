"""The rows of a dadan SQLite file copied into a fresh PostgreSQL database (one made by
:func:`tests.pg_cluster.fresh_url`), for storage-level tests and benchmarks that compare the two
backends on the same orders: ``dadan db copy``'s loading (:func:`dadan.core.db_copy.load`)
without its checks and audit events."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

from dadan.core.db import close_database, open_database, write
from dadan.core.db_copy import copied_models, load
from dadan.core.demo import write_demo


def copy_sqlite(sqlite_path: Path | str, pg_url: str) -> dict[str, int]:
    """Copy every model's rows of ``sqlite_path`` into ``pg_url`` (left open as dadan's
    database) the way ``dadan db copy`` loads them (:func:`dadan.core.db_copy.load`), without its
    checks and audit events; rows per table."""
    close_database()
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    db = open_database(pg_url)
    try:
        with write(db):
            tables, _ = load(src, db, copied_models())
    finally:
        src.close()
    return {t.name: t.rows for t in tables}


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


def demo_on(store, path: Path, n: int, seed: int, now) -> None:
    """A demo of ``n`` orders of its own, open on the store's backend (tests/conftest.py
    ``store``), for tests that change it: written into ``path`` on SQLite, a fresh copy of
    :func:`demo_file` on PostgreSQL."""
    if store.postgres:
        demo_on_postgres(n, seed, now)
    else:
        open_database(f"sqlite:///{path}")
        write_demo(n, seed=seed, now=now)


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
