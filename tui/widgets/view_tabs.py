"""View tabs on one line: 待打印 75,019 │ 已打印未发货 8,647 │ ... with live counts.

The tabs read their own counts (and the saved views) in a thread worker, every
``VIEW_COUNTS_SECONDS``; the next read is armed only after the last one finished, so reads
never overlap. A changed list of views is announced with :class:`~dadan.tui.messages.ViewsChanged`;
:meth:`ViewTabs.save_view` saves a filter as a view (:class:`~dadan.tui.messages.ViewSaved`).
Each pass's counts are announced (:class:`~dadan.tui.messages.ViewCountsRead`): the order list
showing a view's filter takes its count from there instead of counting it again.
The line is re-rendered only when its text changes, so a count refresh that finds the same
numbers repaints nothing."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from textual import work
from textual.content import Content
from textual.widgets import Static
from textual.worker import get_current_worker

from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import tr
from dadan.core.orders.views import View
from dadan.tui.cells import crop
from dadan.tui.messages import ViewCountsRead, ViewSaved, ViewsChanged, ViewSelected
from dadan.tui.widgets.error_modal import WorkerErrorsToApp

VIEW_COUNTS_SECONDS = 30.0


class ViewTabs(WorkerErrorsToApp, Static):
    DEFAULT_CSS = """
    ViewTabs { height: 1; width: 1fr; background: $panel; }
    """

    def __init__(self, ctx, views: list[View], active: str | None, *, now: Callable[[], dt.datetime],
                 **kwargs) -> None:
        super().__init__("", **kwargs)
        self.ctx = ctx
        self.now = now
        self.views: list[View] = list(views)
        self.counts: dict[str, int] = {}
        self.active: str | None = active
        self._last: Content | None = None
        self._timer = None
        self._stats_done = False

    def on_mount(self) -> None:
        self._render_tabs()

    def set_views(self, views: list[View], active: str | None) -> None:
        self.views = list(views)
        self.active = active
        self._render_tabs()

    def set_active(self, key: str | None) -> None:
        if key != self.active:
            self.active = key
            self._render_tabs()

    def set_counts(self, counts: dict[str, int]) -> None:
        if counts != self.counts:
            self.counts = dict(counts)
            self._render_tabs()

    def refresh_counts(self) -> None:
        """Read the views and their counts now (then every ``VIEW_COUNTS_SECONDS``)."""
        self._counts_worker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="views", description="view counts")
    def _counts_worker(self) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.listing import count, ensure_statistics
        from dadan.core.orders.query import compile_query
        from dadan.core.orders.views import all_views

        worker = get_current_worker()
        with connection():
            if not self._stats_done:
                ensure_statistics()
                self._stats_done = True
            views = all_views(self.ctx.settings.ui.due_soon_hours)
            counts = {}
            for v in views:
                if worker.is_cancelled:
                    return
                try:
                    counts[v.key] = count(compile_query(v.query, now=self.now(), tz=self.ctx.settings.timezone))
                except QuerySyntaxError:
                    continue
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply_counts, views, counts)

    def _apply_counts(self, views: list[View], counts: dict[str, int]) -> None:
        if [v.key for v in views] != [v.key for v in self.views] or views != self.views:
            self.set_views(views, self.active)
            self.post_message(ViewsChanged(list(views)))
        self.set_counts(counts)
        self.post_message(ViewCountsRead(list(views), dict(counts)))
        # re-arm only now that this run is done: runs never overlap
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(VIEW_COUNTS_SECONDS, self._counts_worker)

    def save_view(self, query: str, sort: str) -> None:
        """Ask for a name (the active saved view's, to replace it), then save ``query`` and
        ``sort`` as that view; its tab shows up active."""
        from dadan.tui.widgets.desk_prompt import DeskPrompt

        def chosen(name: str | None) -> None:
            if name:
                self._save_worker(name.strip(), query, sort)

        active = next((v for v in self.views if v.key == self.active and not v.builtin), None)
        self.app.push_screen(DeskPrompt(tr("Save this filter as a view: name?", "保存为视图：名称？"),
                                        value=active.name if active else ""), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save_view", description="save view")
    def _save_worker(self, name: str, query: str, sort: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.views import save_view

        with connection():
            view = save_view(name, query, sort)  # a DadanError goes to the error modal
        self.app.call_from_thread(self._view_saved, view)

    def _view_saved(self, view: View) -> None:
        self.set_active(view.key)
        self.post_message(ViewSaved(view))
        self.notify(tr("Saved view “{n}”", "已保存视图“{n}”", n=view.name))
        self.refresh_counts()  # re-reads the views; the new tab shows up active

    def on_resize(self, event) -> None:
        self._render_tabs()

    def _render_tabs(self) -> None:
        width = self.size.width or 80
        content = None
        # the widest form that fits: counts stay whole ("1,222", then "1222") while the names
        # give way (short names, then cropped with "…", the active tab's last, then only the
        # tabs' numbers); "12k" counts only as a last resort
        for tight, short, name_cells, rounded, active_cells in (
                (False, False, None, False, None), (True, False, None, False, None), (True, True, None, False, None),
                (True, True, 6, False, None), (True, True, 4, False, None), (True, True, 2, False, None),
                (True, True, 2, False, 12), (True, True, 0, False, 12), (True, True, 0, False, 4),
                (True, True, 0, True, 4), (True, True, 0, True, 0)):
            content = self._build(tight, short, name_cells, rounded, active_cells)
            if content.cell_length <= width:
                break
        if content != self._last:
            self._last = content
            self.update(content)

    def _build(self, tight: bool, short: bool, name_cells: int | None, rounded: bool,
               active_cells: int | None = None) -> Content:
        parts: list = []
        for i, v in enumerate(self.views):
            n = self.counts.get(v.key)
            count = "" if n is None else f" {_short(n) if rounded else f'{n:,}'}"
            name = _short_name(v) if short and v.key != self.active else v.name
            cells = active_cells if v.key == self.active else name_cells
            if cells == 0:
                name, count = "", count.lstrip()
            elif cells is not None:
                name = crop(name, cells)
            pad = "" if tight else " "
            label = f"{pad}{i + 1 if i < 9 else ''}:{name}{count}{pad}"
            if v.key == self.active:
                style = "reverse bold"
            elif v.key == "exceptions" and n:
                style = "bold" if self.app.no_color else "bold red"
            else:
                style = ""
            tab = Content.from_markup(f"[@click=screen.select_view('{v.key}')]$label[/]", label=label)
            parts.append(tab.stylize(style) if style else tab)
            parts.append(("│", "dim"))
        return Content.assemble(*parts[:-1]) if parts else Content("")

    def key_at(self, index: int) -> str | None:
        return self.views[index].key if 0 <= index < len(self.views) else None

    def next_key(self, step: int) -> str | None:
        if not self.views:
            return None
        keys = [v.key for v in self.views]
        i = keys.index(self.active) if self.active in keys else -1
        return keys[(i + step) % len(keys)]

    def select(self, key: str) -> None:
        self.post_message(ViewSelected(key))


def _short_name(view: View) -> str:
    """A built-in view's short name for a narrow terminal (a saved view keeps its own)."""
    short = {"printed": tr("Printed", "已打印"), "exceptions": tr("Exc.", "异常"), "due_soon": tr("Due", "将超时")}
    return short.get(view.key, view.name) if view.builtin else view.name


def _short(n: int) -> str:
    if n >= 100_000:
        return f"{n // 1000}k"
    if n >= 10_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return str(n)

