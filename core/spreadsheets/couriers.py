"""Courier text in an import file (name, code or id) -> the platform's logistics_id."""

from __future__ import annotations

from typing import Iterable

from dadan.core.spreadsheets.reading import cell_text


# couriers: the platform's ids for the common ones, by name and code
BUILTIN_COURIERS: dict[str, int] = {
    "申通": 1, "申通快递": 1, "sto": 1, "百世汇通": 3, "百世快递": 3, "汇通": 3, "百世": 3, "ht": 3, "htky": 3,
    "顺丰": 44, "顺丰速运": 44, "顺丰快递": 44, "sf": 44, "圆通": 85, "圆通速递": 85, "圆通快递": 85, "yto": 85,
    "中通": 115, "中通快递": 115, "zto": 115, "ems": 118, "邮政ems": 118, "京东": 120, "京东快递": 120,
    "京东物流": 120, "jd": 120, "韵达": 121, "韵达快递": 121, "韵达速递": 121, "yunda": 121, "德邦": 131,
    "德邦快递": 131, "德邦物流": 131, "db": 131, "dbl": 131, "邮政快递包裹": 132, "邮政包裹": 132,
    "邮政": 132, "中国邮政": 132, "yzxb": 132,
}


class CourierResolver:
    """Courier text (name, code or id) -> the platform's logistics_id, using ``known`` couriers
    (rows with id, name and code: :meth:`from_database` gives the cached courier list) and a
    built-in table of the common couriers."""

    def __init__(self, known: Iterable = ()):
        self.names: dict[str, int] = dict(BUILTIN_COURIERS)
        self.ids: set[int] = set(BUILTIN_COURIERS.values())
        for c in known:
            self.ids.add(c.id)
            for n in (c.name, c.code):
                if n:
                    self.names[n.strip().lower()] = c.id

    @classmethod
    def from_database(cls) -> "CourierResolver":
        """The built-in table and the open database's cached courier list (one query)."""
        from dadan.core.models import Courier

        return cls(Courier.select(Courier.id, Courier.name, Courier.code))

    def __call__(self, v) -> int | None:
        s = cell_text(v)
        if not s:
            return None
        if s.isdigit():
            n = int(s)
            if n in self.ids:
                return n
        low = s.lower().replace(" ", "")
        if low in self.names:
            return self.names[low]
        for name, cid in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            if len(name) >= 2 and not name.isascii() and name in low:
                return cid
        return None
