"""Forcing core.orders.page_plan's timed choices in tests."""

from __future__ import annotations

from dadan.core.orders import page_plan


def give_up_at_once(monkeypatch) -> None:
    """A query given no time (a budget of 0) is interrupted at its first step, as if the clock
    were read at every step; a query given time keeps the clock read every
    ``_PROGRESS_STEPS`` steps, as on a desk. (Reading the clock at every step of every query
    made the counts that decide a plan several times slower than a desk's, and the tests that
    force plans the slowest of the suite.)"""
    within = page_plan._within

    def at_once(db, sql, budget_s):
        if budget_s > 0:
            return within(db, sql, budget_s)
        steps = page_plan._PROGRESS_STEPS
        page_plan._PROGRESS_STEPS = 1
        try:
            return within(db, sql, budget_s)
        finally:
            page_plan._PROGRESS_STEPS = steps

    monkeypatch.setattr(page_plan, "_within", at_once)
