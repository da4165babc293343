"""Views: the built-in ones every warehouse uses and the filters users save."""

from __future__ import annotations

from dataclasses import dataclass

from dadan.core.db import write
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.models import SavedView
from dadan.core.orders.query import compile_query


@dataclass(frozen=True)
class View:
    key: str  # stable id ("to_print", or "saved:<id>")
    name: str
    query: str
    sort: str = ""
    builtin: bool = True


def builtin_views(due_soon_hours: int = 4) -> list[View]:
    return [
        View("to_print", tr("To print", "待打印"), "status:pending printed:no exception:none", "pay_time"),
        View("printed", tr("Printed, not shipped", "已打印未发货"), "state:printed exception:none", "pay_time"),
        View("exceptions", tr("Exceptions", "异常"), "exception:any", "-updated_at"),
        View("due_soon", tr("Due soon", "即将超时"), f"status:pending due<{due_soon_hours}h", "last_ship_time"),
        View("all", tr("All", "全部"), "", "-pay_time"),
    ]


def saved_views() -> list[View]:
    return [
        View(f"saved:{v.id}", v.name, v.query, v.sort, builtin=False)
        for v in SavedView.select().order_by(SavedView.position, SavedView.id)
    ]


def all_views(due_soon_hours: int = 4) -> list[View]:
    return builtin_views(due_soon_hours) + saved_views()


def save_view(name: str, query: str, sort: str = "") -> View:
    """Create or replace a saved view (the query must parse)."""
    name = name.strip()
    if not name:
        raise DadanError(tr("a view needs a name", "视图需要名称"))
    compile_query(query)  # raises QuerySyntaxError with a pointer
    with write():
        row = SavedView.get_or_none(SavedView.name == name)
        if row is None:
            pos = (SavedView.select().count() or 0) + 1
            row = SavedView.create(name=name, query=query, sort=sort, position=pos)
        else:
            row.query, row.sort = query, sort
            row.save()
    return View(f"saved:{row.id}", row.name, row.query, row.sort, builtin=False)


def delete_view(key: str) -> None:
    if not key.startswith("saved:"):
        raise DadanError(tr("built-in views cannot be deleted", "内置视图不能删除"))
    with write():
        SavedView.delete().where(SavedView.id == int(key.split(":", 1)[1])).execute()
