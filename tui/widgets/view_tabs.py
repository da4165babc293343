"""View tabs on one line: 待打印 75,019 │ 已打印未发货 8,647 │ ... with live counts.

Counts arrive from a worker; the line is re-rendered only when its text changes, so a count
refresh that finds the same numbers repaints nothing."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from dadan.core.orders.views import View
from dadan.tui.messages import ViewSelected


class ViewTabs(Static):
    DEFAULT_CSS = """
    ViewTabs { height: 1; width: 1fr; background: $panel; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.views: list[View] = []
        self.counts: dict[str, int] = {}
        self.active: str | None = None
        self._last: Content | None = None

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

    def on_resize(self, event) -> None:
        self._render_tabs()

    def _render_tabs(self) -> None:
        width = self.size.width or 80
        content = None
        # widest form that fits: full counts, then short counts, then short names
        for compact, name_cells in ((False, None), (True, None), (True, 6), (True, 4), (True, 2)):
            content = self._build(compact, name_cells)
            if content.cell_length <= width:
                break
        if content != self._last:
            self._last = content
            self.update(content)

    def _build(self, compact: bool, name_cells: int | None) -> Content:
        parts: list = []
        for i, v in enumerate(self.views):
            n = self.counts.get(v.key)
            count = "" if n is None else f" {_short(n) if compact else f'{n:,}'}"
            name = v.name
            if name_cells is not None and v.key != self.active:
                name = _crop(name, name_cells)
            pad = "" if compact else " "
            label = f"{pad}{i + 1 if i < 9 else ''}:{name}{count}{pad}"
            if v.key == self.active:
                style = "reverse bold"
            elif v.key == "exceptions" and n:
                style = "bold" if getattr(self.app, "no_color", False) else "bold red"
            else:
                style = ""
            tab = Content.from_markup(f"[@click=screen.select_view('{v.key}')]$label[/]", label=label)
            parts.append(tab.stylize(style) if style else tab)
            parts.append(("│", "dim"))
        return Content.assemble(*parts[:-1]) if parts else Content("")

    def view_at(self, index: int) -> View | None:
        return self.views[index] if 0 <= index < len(self.views) else None

    def next_key(self, step: int) -> str | None:
        if not self.views:
            return None
        keys = [v.key for v in self.views]
        i = keys.index(self.active) if self.active in keys else -1
        return keys[(i + step) % len(keys)]

    def select(self, key: str) -> None:
        self.post_message(ViewSelected(key))


def _short(n: int) -> str:
    if n >= 100_000:
        return f"{n // 1000}k"
    if n >= 10_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return str(n)


def _crop(text: str, cells: int) -> str:
    from rich.cells import cell_len

    if cell_len(text) <= cells:
        return text
    out = ""
    for ch in text:
        if cell_len(out + ch) > cells - 1:
            break
        out += ch
    return out + "…"
