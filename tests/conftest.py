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
