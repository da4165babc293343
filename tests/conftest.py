"""Shared, generic fixtures: every test runs with DADAN_HOME in a temporary folder (never the
user's config or database) and in English. Keep this small; screen-specific set-up lives in
the test modules."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "dadan-home"
    home.mkdir()
    monkeypatch.setenv("DADAN_HOME", str(home))
    monkeypatch.delenv("NO_COLOR", raising=False)
    from dadan.core.i18n import set_language

    set_language("en")
    yield
    set_language("en")
    import sys

    relabel = sys.modules.get("dadan.tui.relabel")
    if relabel is not None:  # a test switched the language at runtime: key labels back to English
        relabel.relabel_classes()


class Store:
    """Where a storage-level test keeps its orders: a SQLite file, or a database of its own on
    the test server (:mod:`tests.pg_cluster`)."""

    def __init__(self, kind: str, tmp_path):
        self.kind, self._tmp = kind, tmp_path

    @property
    def postgres(self) -> bool:
        return self.kind == "postgresql"

    def url(self, name: str = "dadan.db") -> str:
        """A new, empty dadan database (each call a new one)."""
        if self.postgres:
            from tests.pg_cluster import fresh_url

            return fresh_url()
        return f"sqlite:///{self._tmp / name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Store:
    """Each test that takes it runs twice: on SQLite and on PostgreSQL."""
    return Store(request.param, tmp_path)
