"""Label templates as data: ``templates/*.toml`` -> :class:`Template`.

A template is a page (``width_mm`` x ``height_mm``; no height = roll paper that grows with its
content) and a list of ``[[element]]`` tables drawn in file order. All positions and sizes are in
millimetres from the top-left corner; font sizes are in points (1/72 inch)::

    [template]
    kind = "waybill"                 # waybill | packing | picklist | sku
    title = "Waybill 100x150 / 快递面单"
    width_mm = 100
    height_mm = 150                  # omit for roll paper
    bottom_margin_mm = 4             # roll paper: blank feed after the last element

    [[element]]
    type = "text"                    # text | inverse | barcode | line | box | image | rows
    x = 3
    y = 40
    w = 94                           # the box; text wraps at w and never leaves the box
    h = 14
    text = "{receiver_name}  {receiver_phone}"   # or: field = "receiver_name"
    size = 12                        # points
    min_size = 7                     # shrink-to-fit down to this size, then ellipsis
    max_lines = 2
    bold = true
    align = "left"                   # left | center | right
    valign = "top"                   # top | middle | bottom
    rotate = 0                       # 0 | 90 | 180 | 270 (clockwise)
    when = "route_code"              # draw only when this field is non-empty

Other element types:

- ``inverse``: a text element drawn white on a black block (``pad`` mm around the box edge).
- ``barcode``: Code128 of ``field``; ``h`` is the bar height, ``module`` the module width in
  whole dots at 203 dpi (scaled to whole dots at other resolutions and narrowed when the code
  does not fit ``w`` with its quiet zones), ``hr = true`` prints the value under the bars
  (``hr_size`` points), ``align`` places it inside ``w``.
- ``line``: from (x, y) to (x2, y2), ``thickness`` mm (horizontal and vertical lines only).
- ``box``: rectangle x, y, w, h; ``thickness`` mm outline, or ``fill = true``.
- ``image``: ``src`` (relative to the template file) scaled to fit w x h, thresholded to 1 bit.
- ``rows``: repeats ``[[element.cell]]`` (positions relative to each row) for every dict in the
  list field ``source``; ``row_h`` is the row height; ``h`` the space the rows may use on a fixed
  page (extra rows are cut and the last one shows ``more``, e.g. "+{more} more"); ``rule = true``
  draws a thin line under each row.

On roll paper a text element (top level or inside a row) may set ``grow = true``: it keeps every
wrapped line and pushes whatever lies below it further down; boxes and lines that span the
grown element stretch with it.

Field names are checked against :mod:`printers.fields` for the template's kind. Errors name the
file, the line and the element.
"""

from __future__ import annotations

import re
import string
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dadan.printers.errors import TemplateError
from dadan.printers.fields import KINDS, fields_for, row_fields_for
from dadan.printers.i18n import tr

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

ALIGNS = ("left", "center", "right")
VALIGNS = ("top", "middle", "bottom")
ROTATIONS = (0, 90, 180, 270)


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Element:
    """Common part of every element: its box in mm and an optional condition."""

    type: str
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    when: str = ""
    index: int = 0  # position in the file, 1-based, for messages

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def fields(self) -> tuple[str, ...]:
        """Names of the fields this element reads."""
        return (self.when,) if self.when else ()


@dataclass(frozen=True)
class Text(Element):
    text: str = ""
    size: float = 10.0
    min_size: float = 0.0  # 0: no shrinking
    max_lines: int = 0  # 0: as many as fit in h
    bold: bool = False
    align: str = "left"
    valign: str = "top"
    rotate: int = 0
    line_spacing: float = 1.15
    grow: bool = False
    inverse: bool = False
    pad: float = 0.0

    @property
    def fields(self) -> tuple[str, ...]:
        return super().fields + format_fields(self.text)

    @property
    def static(self) -> bool:
        return not self.fields


@dataclass(frozen=True)
class Barcode(Element):
    field: str = ""
    module: int = 3
    hr: bool = True
    hr_size: float = 9.0
    align: str = "center"
    rotate: int = 0

    @property
    def fields(self) -> tuple[str, ...]:
        return super().fields + (self.field,)


@dataclass(frozen=True)
class Line(Element):
    x2: float = 0.0
    y2: float = 0.0
    thickness: float = 0.3


@dataclass(frozen=True)
class Box(Element):
    thickness: float = 0.3
    fill: bool = False


@dataclass(frozen=True)
class Picture(Element):
    src: Path = Path()
    align: str = "center"


@dataclass(frozen=True)
class Rows(Element):
    source: str = ""
    row_h: float = 5.0
    cells: tuple[Element, ...] = ()
    more: str = "+{more}"
    rule: bool = False

    @property
    def bottom(self) -> float:
        """Nominal bottom: the rows' space, or one row on roll paper without ``h``."""
        return self.y + (self.h or self.row_h)

    @property
    def fields(self) -> tuple[str, ...]:
        return super().fields + (self.source,)


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    title: str
    width_mm: float
    height_mm: float | None
    path: Path
    elements: tuple[Element, ...] = field(default=(), repr=False)
    bottom_margin_mm: float = 3.0

    @property
    def is_roll(self) -> bool:
        return self.height_mm is None

    @property
    def size_text(self) -> str:
        w = f"{self.width_mm:g}"
        return f"{w}x{self.height_mm:g} mm" if self.height_mm else f"{w} mm roll"


def format_fields(text: str) -> tuple[str, ...]:
    """Field names used by a format string: ``"{a} x{b}"`` -> ("a", "b")."""
    names = []
    for _lit, name, _spec, _conv in string.Formatter().parse(text):
        if name is not None:
            names.append(name)
    return tuple(names)


# --------------------------------------------------------------------------- parsing
_TYPES: dict[str, type[Element]] = {
    "text": Text,
    "inverse": Text,
    "barcode": Barcode,
    "line": Line,
    "box": Box,
    "image": Picture,
    "rows": Rows,
}

_NUM = (int, float)


class _Lines:
    """Where each ``[[element]]`` / ``[[element.cell]]`` table and its keys start in the file
    (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*\[\[\s*element(\s*\.\s*cell)?\s*\]\]")
    _ANY_HEADER = re.compile(r"^\s*\[")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.elements: list[int] = []  # 0-based line of each [[element]]
        self.cells: dict[int, list[int]] = {}
        for no, line in enumerate(self.lines):
            m = self._HEADER.match(line)
            if not m:
                continue
            if m.group(1):
                if self.elements:
                    self.cells.setdefault(len(self.elements) - 1, []).append(no)
            else:
                self.elements.append(no)

    def line_of(self, element: int, cell: int | None = None, key: str | None = None) -> int | None:
        """1-based line of element ``element`` (0-based index), its cell, or one of its keys."""
        try:
            start = self.elements[element] if cell is None else self.cells[element][cell]
        except (IndexError, KeyError):
            return None
        if key:
            for no in range(start + 1, len(self.lines)):
                if self._ANY_HEADER.match(self.lines[no]):
                    break
                m = self._KEY.match(self.lines[no])
                if m and m.group(1) == key:
                    return no + 1
        return start + 1


class _Parser:
    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = _Lines(text)

    def fail(self, message: str, element: int | None = None, cell: int | None = None,
             key: str | None = None, etype: str = "") -> TemplateError:
        where = str(self.path)
        if element is not None:
            line = self.lines.line_of(element, cell, key)
            if line:
                where += f":{line}"
            label = tr("element {n}", "元素 {n}", n=element + 1)
            if cell is not None:
                label += tr(", cell {n}", "，单元 {n}", n=cell + 1)
            if etype:
                label += f" ({etype})"
            where += f": {label}"
        return TemplateError(f"{where}: {message}")

    # -- top level
    def parse(self, data: dict[str, Any], name: str) -> Template:
        head = data.get("template")
        if not isinstance(head, dict):
            raise self.fail(tr("missing [template] table", "缺少 [template] 表"))
        unknown = set(data) - {"template", "element"}
        if unknown:
            raise self.fail(tr("unknown table [{t}]", "未知的表 [{t}]", t=sorted(unknown)[0]))
        known = {"kind", "title", "width_mm", "height_mm", "bottom_margin_mm", "name"}
        for key in head:
            if key not in known:
                raise self.fail(tr("unknown key '{k}' in [template]", "[template] 中有未知键 '{k}'", k=key))
        kind = head.get("kind")
        if kind not in KINDS:
            raise self.fail(tr("[template] kind must be one of {c}, not {v!r}",
                               "[template] kind 必须是 {c} 之一，而不是 {v!r}", c=", ".join(KINDS), v=kind))
        width = head.get("width_mm")
        height = head.get("height_mm")
        if not _positive(width) or (height is not None and not _positive(height)):
            raise self.fail(tr("[template] width_mm and height_mm must be positive numbers",
                               "[template] width_mm 与 height_mm 必须是正数"))
        margin = head.get("bottom_margin_mm", 3.0)
        if not isinstance(margin, _NUM) or margin < 0:
            raise self.fail(tr("[template] bottom_margin_mm must be a number >= 0",
                               "[template] bottom_margin_mm 必须是不小于 0 的数"))
        raw = data.get("element", [])
        if not isinstance(raw, list):
            raise self.fail(tr("'element' must be an array of tables ([[element]])",
                               "'element' 必须是表数组（[[element]]）"))
        allowed = fields_for(kind)
        elements = tuple(
            self.element(i, None, item, kind, allowed, roll=height is None) for i, item in enumerate(raw)
        )
        return Template(
            name=str(head.get("name") or name),
            kind=kind,
            title=str(head.get("title", name)),
            width_mm=float(width),
            height_mm=None if height is None else float(height),
            path=self.path,
            elements=elements,
            bottom_margin_mm=float(margin),
        )

    # -- one element
    def element(self, i: int, cell: int | None, item: Any, kind: str, allowed: dict[str, str],
                *, roll: bool) -> Element:
        if not isinstance(item, dict):
            raise self.fail(tr("must be a table", "必须是表"), i, cell)
        etype = item.get("type")
        cls = _TYPES.get(etype) if isinstance(etype, str) else None
        if cls is None:
            raise self.fail(tr("type must be one of {c}, not {v!r}", "type 必须是 {c} 之一，而不是 {v!r}",
                               c=", ".join(_TYPES), v=etype), i, cell, "type")
        if cell is not None and cls is Rows:
            raise self.fail(tr("rows cannot be nested", "rows 不能嵌套"), i, cell, "type")

        def fail(msg: str, key: str | None = None) -> TemplateError:
            return self.fail(msg, i, cell, key, etype)

        spec = {f.name: f for f in cls.__dataclass_fields__.values()}
        kwargs: dict[str, Any] = {"type": etype, "index": i + 1}
        if etype == "inverse":
            kwargs["inverse"] = True
        for key, value in item.items():
            if key == "type":
                continue
            if key == "field" and cls is Text:
                key, value = "text", "{" + str(value) + "}" if isinstance(value, str) else value
                if "text" in item:
                    raise fail(tr("give either 'text' or 'field', not both", "'text' 与 'field' 只能给一个"), "field")
            if key == "cell" and cls is Rows:
                continue
            if key not in spec or key in ("index", "inverse", "type", "cells"):
                raise fail(tr("unknown key '{k}'", "未知的键 '{k}'", k=key), key)
            kwargs[key] = self.value(key, value, spec[key].type, fail)
        el = cls(**kwargs)
        for fmt_key in ("text", "more"):
            try:  # a bad format string ("{name") is a template error, not a crash at print time
                format_fields(getattr(el, fmt_key, ""))
            except ValueError as exc:
                raise fail(tr("bad format string: {e}", "格式字符串有误：{e}", e=exc), fmt_key) from None
        self.check(el, fail, roll=roll)
        if isinstance(el, Rows):
            row_allowed = row_fields_for(kind, el.source) if el.source else None
            if row_allowed is None:
                raise fail(tr("source must be a list field of a {k} template ({c}), not {v!r}",
                              "source 必须是 {k} 模板的列表字段（{c}），而不是 {v!r}",
                              k=kind, c=", ".join(_list_fields(kind)) or "-", v=el.source), "source")
            raw_cells = item.get("cell", [])
            if not isinstance(raw_cells, list) or not raw_cells:
                raise fail(tr("rows needs at least one [[element.cell]]", "rows 至少需要一个 [[element.cell]]"))
            cells = tuple(self.element(i, j, c, kind, row_allowed, roll=roll) for j, c in enumerate(raw_cells))
            el = _replace(el, cells=cells)
            names = [n for n in el.fields if n != el.source]
        else:
            names = list(el.fields)
        for n in names:
            if not n.isidentifier():
                raise fail(tr("field names must be plain names, not {v!r}", "字段名必须是简单名称，而不是 {v!r}",
                              v=n), _key_of(el, n))
            if n not in allowed:
                close = [a for a in allowed if a.replace("_", "") == n.replace("_", "")]
                hint = tr(" (did you mean '{c}'?)", "（是否为 '{c}'？）", c=close[0]) if close else ""
                raise fail(tr("unknown field '{f}' for a {k} template{h}", "{k} 模板没有字段 '{f}'{h}",
                              f=n, k=kind, h=hint), _key_of(el, n))
        return el

    @staticmethod
    def value(key: str, value: Any, tp: Any, fail) -> Any:
        tp = str(tp)
        if tp in ("float", "'float'"):
            if isinstance(value, bool) or not isinstance(value, _NUM):
                raise fail(tr("'{k}' must be a number, not {v!r}", "'{k}' 必须是数字，而不是 {v!r}", k=key, v=value), key)
            return float(value)
        if tp in ("int", "'int'"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise fail(tr("'{k}' must be a whole number, not {v!r}", "'{k}' 必须是整数，而不是 {v!r}",
                              k=key, v=value), key)
            return value
        if tp in ("bool", "'bool'"):
            if not isinstance(value, bool):
                raise fail(tr("'{k}' must be true or false", "'{k}' 必须是 true 或 false", k=key), key)
            return value
        if not isinstance(value, str):
            raise fail(tr("'{k}' must be a string, not {v!r}", "'{k}' 必须是字符串，而不是 {v!r}", k=key, v=value), key)
        return value

    def check(self, el: Element, fail, *, roll: bool) -> None:
        for key in ("w", "h", "x", "y"):
            if getattr(el, key) < 0:
                raise fail(tr("'{k}' must not be negative", "'{k}' 不能为负数", k=key), key)
        if isinstance(el, (Text, Barcode, Box, Picture)) and el.w <= 0:
            raise fail(tr("'w' (width in mm) is required", "需要 'w'（宽度，毫米）"), "w")
        if isinstance(el, (Text, Barcode, Box, Picture)) and el.h <= 0:
            raise fail(tr("'h' (height in mm) is required", "需要 'h'（高度，毫米）"), "h")
        if isinstance(el, (Text, Barcode, Picture)) and el.align not in ALIGNS:
            raise fail(tr("'align' must be one of {c}", "'align' 必须是 {c} 之一", c=", ".join(ALIGNS)), "align")
        if isinstance(el, (Text, Barcode)) and el.rotate not in ROTATIONS:
            raise fail(tr("'rotate' must be 0, 90, 180 or 270", "'rotate' 必须是 0、90、180 或 270"), "rotate")
        if isinstance(el, Text):
            if el.valign not in VALIGNS:
                raise fail(tr("'valign' must be one of {c}", "'valign' 必须是 {c} 之一", c=", ".join(VALIGNS)), "valign")
            if not 3 <= el.size <= 200 or el.min_size < 0 or el.min_size > el.size:
                raise fail(tr("'size' must be 3-200 pt and 'min_size' not above it",
                              "'size' 必须在 3-200 磅之间，'min_size' 不能大于它"), "size")
            if el.max_lines < 0:
                raise fail(tr("'max_lines' must not be negative", "'max_lines' 不能为负数"), "max_lines")
            if el.grow and not roll:
                raise fail(tr("'grow' is only for roll paper (no height_mm)", "'grow' 仅用于卷纸（无 height_mm）"), "grow")
            if el.grow and el.rotate:
                raise fail(tr("a growing text cannot be rotated", "可增长的文字不能旋转"), "rotate")
        if isinstance(el, Barcode):
            if not el.field:
                raise fail(tr("'field' is required", "需要 'field'"), "field")
            if not 1 <= el.module <= 10:
                raise fail(tr("'module' must be 1-10 dots", "'module' 必须是 1-10 点"), "module")
        if isinstance(el, Line) and el.x != el.x2 and el.y != el.y2:
            raise fail(tr("only horizontal and vertical lines are supported", "只支持水平线和竖线"), "x2")
        if isinstance(el, Picture):
            if not el.src:
                raise fail(tr("'src' is required", "需要 'src'"), "src")
            path = (self.path.parent / el.src).resolve()
            if not path.is_file():
                raise fail(tr("image not found: {p}", "找不到图片：{p}", p=path), "src")
        if isinstance(el, Rows):
            if el.row_h <= 0:
                raise fail(tr("'row_h' must be positive", "'row_h' 必须为正数"), "row_h")
            if not roll and el.h < el.row_h:
                raise fail(tr("'h' (space for rows) must be at least row_h on a fixed page",
                              "定长页面上 'h'（行区高度）不能小于 row_h"), "h")
            if format_fields(el.more) not in ((), ("more",)):
                raise fail(tr("'more' may only use {{more}}", "'more' 只能使用 {{more}}"), "more")


def _replace(el: Element, **changes: Any) -> Element:
    from dataclasses import replace

    return replace(el, **changes)


def _positive(v: Any) -> bool:
    return isinstance(v, _NUM) and not isinstance(v, bool) and v > 0


def _list_fields(kind: str) -> list[str]:
    from dadan.printers.fields import ROW_FIELDS

    return list(ROW_FIELDS.get(kind, {}))


def _key_of(el: Element, name: str) -> str:
    if el.when == name:
        return "when"
    if isinstance(el, Barcode):
        return "field"
    if isinstance(el, Rows):
        return "source"
    return "text"


# --------------------------------------------------------------------------- loading
_cache: dict[tuple[Path, int], Template] = {}
_cache_lock = threading.Lock()


def _resolve(name_or_path: str) -> Path:
    p = Path(name_or_path).expanduser()
    if p.suffix == ".toml" or p.parent != Path("."):
        if not p.is_file():
            raise TemplateError(tr("template file not found: {p}", "找不到模板文件：{p}", p=p))
        return p.resolve()
    candidate = TEMPLATES_DIR / f"{name_or_path}.toml"
    if not candidate.is_file():
        names = ", ".join(sorted(x.stem for x in TEMPLATES_DIR.glob("*.toml"))) or "-"
        raise TemplateError(tr("no template named '{n}' (available: {a})", "没有名为 '{n}' 的模板（可用：{a}）",
                               n=name_or_path, a=names))
    return candidate


def load_template(name_or_path: str) -> Template:
    """Load a template by name (``"waybill_100x150"``, from the ``templates`` package) or by
    path to a ``.toml`` file. Parsed templates are cached until the file changes."""
    path = _resolve(name_or_path)
    try:
        stat = path.stat()
        key = (path, stat.st_mtime_ns)
    except OSError as exc:
        raise TemplateError(f"{path}: {exc.strerror}") from None
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(tr("cannot read {p}: {e}", "无法读取 {p}：{e}", p=path, e=exc)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: {exc}") from None
    template = _Parser(path, text).parse(data, path.stem)
    with _cache_lock:
        _cache[key] = template
    return template


def list_templates() -> list[Template]:
    """Every shipped template, sorted by name."""
    return [load_template(str(p)) for p in sorted(TEMPLATES_DIR.glob("*.toml"))]
