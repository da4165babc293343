"""The courier catalogue: every courier a Pinduoduo warehouse ships with, in one frozen table.

Each :class:`Courier` carries the platform's logistics id (``pdd.logistics.companies.get``,
``pdd.logistics.online.send``), the e-waybill code (``wp_code``), one Chinese and one English
display name, the aliases people and files use (short forms, old names, codes), and the shape
of its tracking numbers: a regular expression (:func:`matches_tracking`), the same in words for
refusals, and an example the demo and the loopback platform fill in (:func:`example_tracking`).
``core.shipping.tracking_rules`` checks every assigned number against it.

Names: where sources disagreed the platform's own name wins (the names the loopback platform
lists, as the real one does): 顺丰速运 (not 顺丰快递), 圆通快递 (not 圆通速递), 京东快递 (not
京东配送), 邮政EMS (not EMS); the other names stay aliases, so old text still resolves.

Ids not in the catalogue: the platform may list couriers this table does not know. Their
names come from the platform's cached list (the ``Courier`` table), handed in explicitly as a
:class:`CourierBook` (``CourierBook.from_database()``), else the id is shown as text. The catalogue wins over that cache for the couriers it knows,
so one courier has one name everywhere.

J&T (极兔速递, ``JTSD``) is listed for its e-waybill code and names; its logistics id is not
published, so it has ``id=None`` and is found through the platform's list by code or name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property

from dadan.core.i18n import language


@dataclass(frozen=True)
class Courier:
    id: int | None  # the platform's logistics_id (None: not published, see the module notes)
    code: str  # e-waybill wp_code
    name_zh: str  # the platform's name: printed on labels, written to files and audit text
    name_en: str
    aliases: tuple[str, ...]  # the first is the short Chinese name (narrow table columns)
    tracking: str  # regular expression a whole tracking number matches
    shape: tuple[str, str]  # that shape in words (English, Chinese), for refusals
    example: str  # a number of that shape, each # a digit (demo and loopback waybills)

    @property
    def name(self) -> str:
        """The display name in the current UI language."""
        return self.name_zh if language() == "zh" else self.name_en

    @property
    def tracking_shape(self) -> str:
        """The shape of its tracking numbers in words, in the current UI language."""
        return self.shape[1] if language() == "zh" else self.shape[0]


COURIERS: tuple[Courier, ...] = (
    Courier(1, "STO", "申通快递", "STO Express", ("申通", "申通速递", "shentong"),
            r"\d{12,15}", ("12-15 digits", "12-15 位数字"), "77############"),
    Courier(3, "HT", "百世快递", "Best Express", ("百世", "百世汇通", "汇通", "汇通快递", "HTKY", "Best"),
            r"\d{12,14}", ("12-14 digits", "12-14 位数字"), "55############"),
    Courier(44, "SF", "顺丰速运", "SF Express", ("顺丰", "顺丰快递", "shunfeng"),
            r"SF\d{12,13}", ("SF + 12-13 digits", "SF + 12-13 位数字"), "SF############"),
    Courier(85, "YTO", "圆通快递", "YTO Express", ("圆通", "圆通速递", "yuantong"),
            r"YT\d{13}", ("YT + 13 digits", "YT + 13 位数字"), "YT7############"),
    Courier(115, "ZTO", "中通快递", "ZTO Express", ("中通", "中通速递", "zhongtong"),
            r"7\d{11,14}", ("12-15 digits starting with 7", "7 开头的 12-15 位数字"), "78############"),
    Courier(118, "EMS", "邮政EMS", "China Post EMS", ("EMS", "EMS快递", "中国邮政速递", "邮政速递", "邮政特快专递", "中国邮政EMS"),
            r"\d{13}|[A-Z]{2}\d{9}CN", ("13 digits or XX123456789CN", "13 位数字或 XX123456789CN"),
            "10###########"),
    Courier(120, "JD", "京东快递", "JD Logistics", ("京东", "京东配送", "京东物流"),
            r"JD[0-9A-Z]{11,15}", ("JD + 11-15 letters or digits", "JD + 11-15 位字母或数字"), "JDVA###########"),
    Courier(121, "YUNDA", "韵达快递", "Yunda Express", ("韵达", "韵达速递", "YD"),
            r"\d{13,15}", ("13-15 digits", "13-15 位数字"), "43############"),
    Courier(131, "DB", "德邦快递", "Deppon Express", ("德邦", "德邦物流", "DBL", "Deppon"),
            r"DPK\d{12}|\d{8,10}", ("DPK + 12 digits, or 8-10 digits", "DPK + 12 位数字，或 8-10 位数字"),
            "DPK############"),
    Courier(132, "YZXB", "邮政快递包裹", "China Post Parcel", ("邮政", "邮政包裹", "中国邮政", "邮政小包"),
            r"\d{13}|[A-Z]{2}\d{9}CN", ("13 digits (98/99…) or XX123456789CN", "13 位数字（98/99…）或 XX123456789CN"),
            "98###########"),
    Courier(None, "JTSD", "极兔速递", "J&T Express", ("极兔", "极兔快递", "J&T", "JT"),
            r"JT\d{13}", ("JT + 13 digits", "JT + 13 位数字"), "JT#############"),
)


def normalize(text: object) -> str:
    """Text for comparing: full-width folded to half-width (NFKC), no spaces, case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def _keys(c: Courier) -> tuple[str, ...]:
    return tuple(normalize(k) for k in (c.code, c.name_zh, c.name_en, *c.aliases))


_BY_ID = {c.id: c for c in COURIERS if c.id is not None}
_BY_CODE = {c.code: c for c in COURIERS}
_BY_KEY: dict[str, Courier] = {k: c for c in COURIERS for k in _keys(c)}
# keys found inside longer text ("中通快递有限公司", "中国邮政EMS标准快递"): Chinese ones of two
# characters or more, longest first, so 邮政EMS wins over 邮政
_CONTAINED = sorted(((k, c) for k, c in _BY_KEY.items() if len(k) >= 2 and not k.isascii()),
                    key=lambda kc: -len(kc[0]))
_PATTERNS = {c.code: re.compile(c.tracking) for c in COURIERS}


def by_id(logistics_id: int | None) -> Courier | None:
    return _BY_ID.get(logistics_id) if logistics_id is not None else None


def by_code(wp_code: str) -> Courier | None:
    return _BY_CODE.get(normalize(wp_code).upper())


def resolve(text: object) -> Courier | None:
    """A courier from its id, code, name or alias (any case, full- or half-width, spaces
    ignored), or from Chinese text holding one of its names; None when nothing matches."""
    key = normalize(text)
    if not key:
        return None
    if key.isdigit():
        return by_id(int(key))
    hit = _BY_KEY.get(key)
    if hit is not None:
        return hit
    return next((c for k, c in _CONTAINED if k in key), None)


class CourierBook:
    """The catalogue, plus the platform's cached courier list (``Courier`` rows: id, name,
    code) for the couriers the catalogue does not number. ``CourierBook()`` is the catalogue
    alone; :meth:`from_database` reads the cached list once, when first needed (:meth:`loaded`
    reads it now, for a book handed to another thread), so nothing here looks at whether a
    database happens to be open. The catalogue wins for the couriers it knows: one
    courier, one name everywhere."""

    def __init__(self, rows: Iterable | Callable[[], Iterable] = ()):
        self._rows = rows  # rows, or a function giving them: read only when the catalogue misses

    @cached_property
    def _table(self) -> tuple[dict[int, str], dict[int, str], dict[str, int]]:
        """(id -> name, id -> code, name/code -> id) of the platform's cached list."""
        names: dict[int, str] = {}
        codes: dict[int, str] = {}
        keys: dict[str, int] = {}
        for row in (self._rows() if callable(self._rows) else self._rows):
            names[row.id] = row.name
            codes[row.id] = row.code or ""
            for text in (row.name, row.code):
                if text:
                    keys.setdefault(normalize(text), row.id)
        return names, codes, keys

    def loaded(self) -> "CourierBook":
        """This book with the platform's list read now (in the thread that holds a connection)."""
        self._table  # noqa: B018 - reading it is the point
        return self

    @property
    def _names(self) -> dict[int, str]:
        return self._table[0]

    @property
    def _codes(self) -> dict[int, str]:
        return self._table[1]

    @property
    def _keys(self) -> dict[str, int]:
        return self._table[2]

    @classmethod
    def from_database(cls) -> "CourierBook":
        """The catalogue and the open database's cached courier list, read (one query) the
        first time a courier the catalogue does not number is asked for: labels and audit text
        of the usual couriers never touch the database."""
        from dadan.core.models import Courier as CourierRow

        return cls(lambda: list(CourierRow.select(CourierRow.id, CourierRow.name, CourierRow.code)))

    def knows_code(self, wp_code: str) -> bool:
        """Whether ``wp_code`` is a courier's code, in the catalogue or the platform's list."""
        code = normalize(wp_code).upper()
        return bool(code) and (by_code(code) is not None or code in {normalize(c).upper() for c in self._codes.values()})

    def code_of(self, text: str) -> str | None:
        """A courier's code from its code or name (ZTO, zto, 中通, 中通快递), None for none."""
        c = resolve(text)
        if c is not None:
            return c.code
        return text.strip().upper() if self.knows_code(text) else None

    def lookup_id(self, text: object) -> int | None:
        """Courier text (name, alias, code or id) -> the platform's logistics id, or None."""
        c = resolve(text)
        if c is not None and c.id is not None:
            return c.id
        key = normalize(text)
        if not key:
            return None
        if key.isdigit():
            return int(key) if int(key) in self._names else None
        if c is not None:  # a catalogue courier without a published id (J&T): the platform's list
            for alias in (c.code, c.name_zh, *c.aliases):
                if normalize(alias) in self._keys:
                    return self._keys[normalize(alias)]
        return self._keys.get(key)

    def courier(self, logistics_id: int | None) -> Courier | None:
        """The catalogue's courier behind a platform id: by id, else (a courier the catalogue
        lists without an id, J&T) by the platform's cached code or name; None if unknown."""
        if logistics_id is None:
            return None
        c = by_id(logistics_id)
        if c is None and logistics_id in self._names:
            c = by_code(self._codes[logistics_id]) or resolve(self._names[logistics_id])
        return c

    def official_name(self, logistics_id: int | None) -> str:
        """The platform's (Chinese) name: for printed labels, bulk-ship files and audit text.
        "" for no courier; an id the catalogue lacks: the platform's cached name, else the id."""
        if logistics_id is None:
            return ""
        c = by_id(logistics_id)
        return c.name_zh if c is not None else self._names.get(logistics_id) or str(logistics_id)

    def display_name(self, logistics_id: int | None) -> str:
        """The name to show on screen, in the current UI language (fallbacks as
        :meth:`official_name`)."""
        if logistics_id is None:
            return ""
        c = by_id(logistics_id)
        return c.name if c is not None else self._names.get(logistics_id) or str(logistics_id)

    def short_name(self, logistics_id: int | None) -> str:
        """A name for narrow columns, in the current UI language: the short Chinese name (中通,
        EMS, 邮政) or the e-waybill code (ZTO). An id the catalogue lacks: the platform's cached
        name shortened, else the id."""
        if logistics_id is None:
            return ""
        c = by_id(logistics_id)
        if c is not None:
            return c.aliases[0] if language() == "zh" else c.code
        name = self._names.get(logistics_id)
        return (name[:2] if language() == "zh" else name[:4]) if name else str(logistics_id)


CATALOGUE = CourierBook()  # the catalogue alone: for code that has no database (loopback, demo)


def matches_tracking(courier: Courier, number: str) -> bool:
    """Whether ``number`` (spaces ignored, any case, full-width tolerated) has the shape of
    ``courier``'s tracking numbers."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", number or "")).upper()
    return _PATTERNS[courier.code].fullmatch(text) is not None


def example_tracking(courier: Courier, serial: int) -> str:
    """A number of ``courier``'s shape made from ``serial`` (its last digits fill the example's
    ``#``): the demo's and the loopback platform's waybills."""
    fmt, width = _example_format(courier.example)
    return fmt.format(*f"{serial % 10 ** width:0{width}d}")


@cache
def _example_format(example: str) -> tuple[str, int]:
    """The example as a format string, a ``{}`` for each ``#``, and how many there are."""
    return example.replace("{", "{{").replace("}", "}}").replace("#", "{}"), example.count("#")
