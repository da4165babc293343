"""A throwaway PostgreSQL server for the tests: a cluster made with ``initdb`` in a temporary
folder and started with ``pg_ctl`` on loopback, once per test process (each pytest-xdist
worker has its own), stopped and removed when the process ends. Debian's ``postgresql``
package provides the programs (``scripts/system-deps.sh`` installs it; CI runs as root, so the
server runs as the ``postgres`` user, as initdb refuses root).

Each test gets a database of its own, copied from a template that is already migrated
(:func:`fresh_url`), so a test starts from the schema in a few tens of milliseconds."""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

TEMPLATE = "dadan_template"
_LOCK = threading.Lock()
_cluster: "Cluster | None" = None
_names = itertools.count(1)


def bindir() -> Path:
    """Where initdb and pg_ctl are (PG_BINDIR, else Debian's newest, else pg_config's)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    if shutil.which("pg_config"):
        return Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
    raise RuntimeError("PostgreSQL's server programs are missing: run `bash scripts/system-deps.sh` "
                       "(Debian package postgresql) or set PG_BINDIR")


def _read_as(prefix: list[str], path: Path) -> list[str]:
    return subprocess.run([*prefix, "cat", str(path)], capture_output=True, text=True, check=True).stdout.splitlines(True)


def _write_as(prefix: list[str], path: Path, text: str) -> None:
    subprocess.run([*prefix, "tee", str(path)], input=text, capture_output=True, text=True, check=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="dadan-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.bin = bindir()
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: the server runs as postgres
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                   "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        # one role signs in with a password (the password-file tests); everyone else is trusted
        hba = self.data / "pg_hba.conf"
        lines = ["host all dadan_pw 127.0.0.1/32 scram-sha-256\n", *_read_as(self._as, hba)]
        _write_as(self._as, hba, "".join(lines))
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"),
                   "-w", "-t", "60", "start"])
        atexit.register(self.stop)
        self.admin("CREATE DATABASE " + TEMPLATE)
        from dadan.core.db import open_database
        from dadan.core.models import database_proxy

        bound = database_proxy.obj  # a test's own database, opened before the server started
        open_database(self.url(TEMPLATE)).close()  # migrated once; every test's database is a copy
        database_proxy.initialize(bound)  # the models stay bound to the test's database

    def _run(self, cmd: list[str]) -> None:
        out = subprocess.run([*self._as, *cmd], capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {out.stderr.strip() or out.stdout.strip()}")

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def admin(self, sql: str) -> None:
        """Run ``sql`` as the server's superuser, outside any transaction."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def fresh(self, prefix: str = "t") -> str:
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
        return self.url(name)

    def empty(self, prefix: str = "e") -> str:
        """A database without dadan's schema (as a new server's)."""
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run([*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                            "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def cluster() -> Cluster:
    """This process's server, started on first use."""
    global _cluster
    with _LOCK:
        if _cluster is None:
            _cluster = Cluster()
        return _cluster


def fresh_url(prefix: str = "t") -> str:
    """A new database on this process's server, dadan's schema already made."""
    return cluster().fresh(prefix)


def empty_url(prefix: str = "e") -> str:
    return cluster().empty(prefix)
