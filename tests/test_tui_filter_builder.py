"""Filter builder: fields -> filter language, live count, save as a view, apply."""

import pytest

from dadan.core.models import SavedView
from dadan.core.orders.listing import count
from dadan.core.orders.query import compile_query
from dadan.tui.screens.filter_builder import FilterBuilderScreen
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_build_save_and_apply(tmp_path):
    ctx = make_ctx(tmp_path, 120)
    results = []
    app = harness(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(FilterBuilderScreen(), results.append)
        await wait_idle(pilot)
        scr = app.screen
        await pilot.press(*"pending")
        for _ in range(4):
            await pilot.press("down")
        await pilot.press(*"浙江")
        for _ in range(6):
            await pilot.press("down")
        await pilot.press(*"no")
        await wait_idle(pilot)
        assert scr.query_text == "status:pending province:浙江 printed:no"
        assert "orders match" in str(scr.query_one("#fb-count").content)
        # the same number the order table counts for this filter
        n = count(compile_query(scr.query_text, now=scr.now(), tz=scr.tz))
        assert 0 < n < 120 and str(scr.query_one("#fb-count").content).startswith(f"{n} orders match")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"浙江待打", "enter")
        await wait_idle(pilot)
        v = SavedView.get(SavedView.name == "浙江待打")
        assert v.query == "status:pending province:浙江 printed:no"
        await pilot.press("x")  # a bad value: "printed:nox" cannot apply
        await wait_idle(pilot)
        assert not scr.valid and scr.query_one("#fb-count").has_class("-error")
        await pilot.press("backspace", "enter")
        await wait_idle(pilot)
    assert results == ["status:pending province:浙江 printed:no"]
