"""core's errors: subclasses of the one :class:`DadanError` base (defined in
:mod:`dadan.printers.errors`, the lowest layer, so printer errors are DadanErrors too).
Each class's ``TITLE`` is bilingual and shown in the language current at display time."""

from __future__ import annotations

import unicodedata

from dadan.printers.errors import DadanError
from dadan.printers.i18n import Bilingual

__all__ = ["BlockedOrder", "ConfigError", "DadanError", "DatabaseError", "NotFound", "QuerySyntaxError",
           "TrackingRefused"]


class ConfigError(DadanError):
    TITLE = Bilingual("Configuration error", "配置错误")


class DatabaseError(DadanError):
    TITLE = Bilingual("Database error", "数据库错误")


class QuerySyntaxError(DadanError):
    """A filter expression that does not parse. ``position`` is the 0-based character
    offset of the bad token, ``token`` its text."""

    TITLE = Bilingual("Filter error", "筛选条件错误")

    def __init__(self, message: str, position: int = 0, token: str = "", source: str = ""):
        super().__init__(message)
        self.position = position
        self.token = token
        self.source = source

    def pointer(self) -> str:
        """The query with a caret under the bad token's first character, for CLI output
        (counted in terminal cells: a CJK character takes two)."""
        lead = cells(self.source[: self.position])
        return f"{self.source}\n{' ' * lead}^{'~' * max(0, cells(self.token) - 1)}"


def cells(text: str) -> int:
    """How many terminal columns ``text`` takes: wide (CJK) characters two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class NotFound(DadanError):
    TITLE = Bilingual("Not found", "未找到")


class BlockedOrder(DadanError):
    TITLE = Bilingual("Blocked order", "订单被拦截")


class TrackingRefused(DadanError):
    """A tracking number an order may not get (wrong shape for its courier, already on another
    order). ``field`` names what is wrong ("tracking_number" or "courier"), so an import can
    name the column."""

    TITLE = Bilingual("Tracking number", "快递单号")

    def __init__(self, message: str, field: str = "tracking_number"):
        super().__init__(message)
        self.field = field
