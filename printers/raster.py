"""Label renderer: a :class:`printers.layout.Template` plus field values -> a 1-bit image.

The image is what a thermal printer prints: mode ``"1"``, white = 1, black = 0, exactly the
page width in dots. Everything is drawn for a bi-level head:

- text laid out by :mod:`printers.text_layout` (no anti-aliasing, wrapped, shrunk, cut with "…");
- Code128 (:mod:`printers.code128`) drawn bar by bar at a whole number of dots per module with
  10-module quiet zones;
- rotation by 90/180/270 degrees, per-printer calibration offsets in mm; roll templates grow
  with their content.

Static elements (no fields: frames, rules, captions, the logo) of a fixed-size template are
drawn once per (template, dpi, offset, font) into a base image that each label copies.
:func:`render_label` is thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from dadan.printers.code128 import QUIET_MODULES, bar_runs, code128_modules
from dadan.printers.errors import PrinterError
from dadan.printers.fonts import find_cjk_font
from dadan.printers.i18n import tr
from dadan.printers.layout import Barcode, Box, Element, Line, Picture, Rows, Template, Text, load_template
from dadan.printers.text_layout import TextLayout, face, layout_text

REFERENCE_DPI = 203  # barcode module widths are given for this resolution


def mm_to_dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


class _Values(Mapping):
    """Field values for format strings: missing or None -> ''."""

    def __init__(self, data: Mapping[str, object]):
        self._data = data

    def __getitem__(self, key: str) -> object:
        value = self._data.get(key)
        return "" if value is None else value

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class _Ctx:
    template: Template
    dpi: int
    ox: int
    oy: int
    font_path: str

    def d(self, mm: float) -> int:
        return mm_to_dots(mm, self.dpi)

    def fmt(self, el: Element, text: str, values: Mapping[str, object]) -> str:
        try:
            return text.format_map(_Values(values))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise PrinterError(tr("{p}: element {n}: cannot format {t!r}: {e}", "{p}：元素 {n}：无法格式化 {t!r}：{e}",
                                  p=self.template.path, n=el.index, t=text, e=exc)) from None


def _present(el: Element, values: Mapping[str, object]) -> bool:
    if not el.when:
        return True
    v = values.get(el.when)
    return v is not None and str(v).strip() != "" and v is not False


def _draw_text(img: Image.Image, ctx: _Ctx, el: Text, x: int, y: int, w: int, h: int,
               layout: TextLayout) -> None:
    """Draw laid-out text into the page box (x, y, w, h) in dots, rotating if asked."""
    if el.inverse:
        pad = ctx.d(el.pad)
        ImageDraw.Draw(img).rectangle((x - pad, y - pad, x + w - 1 + pad, y + h - 1 + pad), fill=0)
    if not layout.lines:
        return
    ink = 1 if el.inverse else 0
    if el.rotate == 0:
        _text_lines(ImageDraw.Draw(img), el, 0, 0, w, h, layout, ink, (x, y))
        return
    bw, bh = (h, w) if el.rotate in (90, 270) else (w, h)
    mask = Image.new("1", (bw, bh), 0)
    _text_lines(ImageDraw.Draw(mask), el, 0, 0, bw, bh, layout, 1, (0, 0))
    img.paste(ink, (x, y), _rotate(mask, el.rotate))


def _text_lines(draw: ImageDraw.ImageDraw, el: Text, _x: int, _y: int, w: int, h: int,
                layout: TextLayout, ink: int, origin: tuple[int, int]) -> None:
    ox, oy = origin
    face = layout.face
    block = layout.height
    if el.valign == "middle":
        top = (h - block) // 2
    elif el.valign == "bottom":
        top = h - block
    else:
        top = 0
    top = max(0, top)
    bold = 1 if el.bold else 0
    for i, line in enumerate(layout.lines):
        if not line:
            continue
        lw, shift = face.extent(line)
        lw += bold
        if el.align == "center":
            left = (w - lw) / 2
        elif el.align == "right":
            left = w - lw
        else:
            left = 0
        px, py = ox + max(0, round(left)) + shift, oy + top + i * layout.line_h
        draw.text((px, py), line, font=face.font, fill=ink, anchor="la")
        if bold:
            draw.text((px + 1, py), line, font=face.font, fill=ink, anchor="la")


def _rotate(img: Image.Image, degrees: int) -> Image.Image:
    """Rotate clockwise by 90/180/270 degrees."""
    op = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return img.transpose(op[degrees])


def _draw_barcode(img: Image.Image, ctx: _Ctx, el: Barcode, x: int, y: int,
                  values: Mapping[str, object]) -> None:
    value = str(values.get(el.field) or "").strip()
    if not value:
        return
    bits = code128_modules(value)
    # "along": the direction the code reads in; a rotated barcode runs along the box height
    along, height = (ctx.d(el.h), ctx.d(el.w)) if el.rotate in (90, 270) else (ctx.d(el.w), ctx.d(el.h))
    total = len(bits) + 2 * QUIET_MODULES
    module = max(1, round(el.module * ctx.dpi / REFERENCE_DPI))
    while module > 1 and module * total > along:
        module -= 1
    if module * total > along:
        raise PrinterError(tr("{p}: element {n}: the barcode {v!r} does not fit in {w} mm",
                              "{p}：元素 {n}：条码 {v!r} 放不下（宽 {w} 毫米）",
                              p=ctx.template.path, n=el.index, v=value, w=el.h if el.rotate in (90, 270) else el.w))
    bars_w = module * len(bits)
    hr_face = face(ctx.font_path, max(1, round(el.hr_size * ctx.dpi / 72))) if el.hr else None
    gap = ctx.d(0.5)
    full_h = height + (gap + hr_face.height if hr_face else 0)
    mask = Image.new("1", (along, full_h), 0)
    draw = ImageDraw.Draw(mask)
    if el.align == "left":
        left = QUIET_MODULES * module
    elif el.align == "right":
        left = along - (QUIET_MODULES * module) - bars_w
    else:
        left = (along - bars_w) // 2
    for start, length in bar_runs(bits):
        x0 = left + start * module
        draw.rectangle((x0, 0, x0 + length * module - 1, height - 1), fill=1)
    if hr_face:
        tw = hr_face.width(value)
        draw.text((left + (bars_w - tw) / 2, height + gap), value, font=hr_face.font, fill=1, anchor="la")
    if el.rotate:
        mask = _rotate(mask, el.rotate)
    img.paste(0, (x, y), mask)


_image_cache: dict[tuple[Path, int, int], Image.Image] = {}
_image_lock = threading.Lock()


def _picture(path: Path, w: int, h: int) -> Image.Image:
    key = (path, w, h)
    with _image_lock:
        hit = _image_cache.get(key)
    if hit is not None:
        return hit
    try:
        with Image.open(path) as src:
            src.load()
            if src.mode in ("RGBA", "LA", "P"):
                src = src.convert("RGBA")
                bg = Image.new("RGBA", src.size, (255, 255, 255, 255))
                src = Image.alpha_composite(bg, src)
            gray = src.convert("L")
    except OSError as exc:
        raise PrinterError(tr("cannot read image {p}: {e}", "无法读取图片 {p}：{e}", p=path, e=exc)) from None
    scale = min(w / gray.width, h / gray.height)
    size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
    pic = gray.resize(size, Image.Resampling.LANCZOS).point(lambda v: 255 if v >= 128 else 0).convert("1")
    with _image_lock:
        _image_cache[key] = pic
    return pic


def _draw_static(img: Image.Image, ctx: _Ctx, el: Element, x: int, y: int, w: int, h: int) -> None:
    draw = ImageDraw.Draw(img)
    if isinstance(el, Line):
        t = max(1, ctx.d(el.thickness))
        if el.y == el.y2:  # horizontal
            draw.rectangle((x, y, x + w - 1, y + t - 1), fill=0)
        else:
            draw.rectangle((x, y, x + t - 1, y + h - 1), fill=0)
    elif isinstance(el, Box):
        if el.fill:
            draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
        else:
            draw.rectangle((x, y, x + w - 1, y + h - 1), outline=0, width=max(1, ctx.d(el.thickness)))
    elif isinstance(el, Picture):
        pic = _picture((ctx.template.path.parent / el.src).resolve(), w, h)
        left = {"left": 0, "right": w - pic.width}.get(el.align, (w - pic.width) // 2)
        img.paste(pic, (x + left, y + (h - pic.height) // 2))


def _line_box(ctx: _Ctx, el: Line) -> tuple[int, int]:
    """Width and height in dots of a line element's rectangle."""
    t = max(1, ctx.d(el.thickness))
    if el.y == el.y2:
        return ctx.d(abs(el.x2 - el.x)), t
    return t, ctx.d(abs(el.y2 - el.y))


def _is_static(el: Element) -> bool:
    if el.when:
        return False
    if isinstance(el, (Line, Box, Picture)):
        return True
    return isinstance(el, Text) and el.static


@dataclass
class _Placed:
    """An element with everything computed that drawing needs."""

    el: Element
    values: Mapping[str, object] = field(default_factory=dict)
    layout: TextLayout | None = None
    rows: list[tuple[list["_Placed"], "_Flow", int]] | None = None  # cells, flow, height
    more: int = 0
    grow: int = 0  # dots beyond the nominal height


def _text_box(ctx: _Ctx, el: Text) -> tuple[int, int]:
    w, h = ctx.d(el.w), ctx.d(el.h)
    return (h, w) if el.rotate in (90, 270) else (w, h)


def _place_text(ctx: _Ctx, el: Text, values: Mapping[str, object]) -> _Placed:
    text = ctx.fmt(el, el.text, values)
    w, h = _text_box(ctx, el)
    layout = layout_text(el, text, w, None if el.grow else h, ctx.dpi, ctx.font_path)
    return _Placed(el, values, layout=layout, grow=max(0, layout.height - h) if el.grow else 0)


def _place_rows(ctx: _Ctx, el: Rows, values: Mapping[str, object]) -> _Placed:
    data = values.get(el.source) or []
    if not isinstance(data, (list, tuple)):
        raise PrinterError(tr("field '{f}' must be a list of rows", "字段 '{f}' 必须是行列表", f=el.source))
    row_h = ctx.d(el.row_h)
    more = 0
    if not ctx.template.is_roll:
        capacity = max(1, ctx.d(el.h) // row_h)
        if len(data) > capacity:
            more = len(data) - capacity + 1
            data = list(data[: capacity - 1])
    rows = []
    for row in data:
        row = row if isinstance(row, Mapping) else {}
        cells = [_place(ctx, cell, row) for cell in el.cells if _present(cell, row)]
        flow = _Flow(ctx, cells)
        height = max([row_h] + [flow.y(c.el.bottom) for c in cells])
        rows.append((cells, flow, height))
    used = sum(h for _c, _f, h in rows) + (row_h if more else 0)
    nominal = ctx.d(el.bottom - el.y)
    return _Placed(el, values, rows=rows, more=more, grow=max(0, used - nominal) if ctx.template.is_roll else 0)


class _Flow:
    """Vertical shifts caused by growing elements (roll paper): everything at or below a
    grown element's nominal bottom moves down by its growth."""

    def __init__(self, ctx: _Ctx, placed: list[_Placed]):
        self.steps = sorted((p.el.bottom, p.grow) for p in placed if p.grow)
        self.ctx = ctx

    def shift(self, y_mm: float) -> int:
        return sum(g for bottom, g in self.steps if bottom <= y_mm + 1e-6)

    def y(self, y_mm: float) -> int:
        return self.ctx.d(y_mm) + self.shift(y_mm)


_base_cache: dict[tuple, Image.Image] = {}
_base_lock = threading.Lock()
_BASE_CACHE_MAX = 64


def _base_image(ctx: _Ctx, size: tuple[int, int]) -> Image.Image:
    """White page with the static elements of a fixed-size template, cached."""
    t = ctx.template
    key = (t.path, id(t), ctx.dpi, ctx.ox, ctx.oy, ctx.font_path)
    with _base_lock:
        hit = _base_cache.get(key)
    if hit is None:
        hit = Image.new("1", size, 1)
        flow = _Flow(ctx, [])
        for el in t.elements:
            if _is_static(el):
                _draw_element(hit, ctx, _place(ctx, el, {}), flow)
        with _base_lock:
            if len(_base_cache) >= _BASE_CACHE_MAX:
                _base_cache.clear()
            _base_cache[key] = hit
    return hit.copy()


def _place(ctx: _Ctx, el: Element, values: Mapping[str, object]) -> _Placed:
    if isinstance(el, Text):
        return _place_text(ctx, el, values)
    if isinstance(el, Rows):
        return _place_rows(ctx, el, values)
    return _Placed(el, values)


def _draw_element(img: Image.Image, ctx: _Ctx, p: _Placed, flow: _Flow,
                  origin: tuple[int, int] | None = None) -> None:
    """Draw a placed element; ``origin`` is the page position in dots of (0, 0) in mm (the
    calibration offset, or a row's top-left corner)."""
    el = p.el
    ox, oy = origin or (ctx.ox, ctx.oy)
    x = ox + ctx.d(el.x)
    top = flow.y(el.y)
    y = oy + top
    if isinstance(el, Text):
        _draw_text(img, ctx, el, x, y, ctx.d(el.w), ctx.d(el.h) + p.grow, p.layout)
    elif isinstance(el, Barcode):
        _draw_barcode(img, ctx, el, x, y, p.values)
    elif isinstance(el, Rows):
        _draw_rows(img, ctx, p, x, y)
    elif isinstance(el, Line):
        w, h = _line_box(ctx, el)
        if el.y != el.y2:  # vertical: from the upper end, stretching with what grows beside it
            top = flow.y(min(el.y, el.y2))
            h = flow.y(max(el.y, el.y2)) - top
        _draw_static(img, ctx, el, ox + ctx.d(min(el.x, el.x2)), oy + top, w, h)
    else:  # box, picture: the bottom edge follows growth above it
        _draw_static(img, ctx, el, x, y, ctx.d(el.w), flow.y(el.bottom) - top)


def _draw_rows(img: Image.Image, ctx: _Ctx, p: _Placed, x: int, y: int) -> None:
    el: Rows = p.el  # type: ignore[assignment]
    row_y = y
    draw = ImageDraw.Draw(img)
    for cells, flow, height in p.rows or []:
        for cell in cells:
            _draw_element(img, ctx, cell, flow, origin=(x, row_y))
        row_y += height
        if el.rule:
            draw.rectangle((x, row_y - 1, x + ctx.d(el.w) - 1, row_y - 1), fill=0)
    if p.more:
        first = next((c for c in el.cells if isinstance(c, Text)), None)
        style = Text(type="text", w=el.w, h=el.row_h, size=first.size if first else 9,
                     min_size=0, valign="middle", index=el.index)
        text = ctx.fmt(el, el.more, {"more": p.more})
        layout = layout_text(style, text, ctx.d(el.w), ctx.d(el.row_h), ctx.dpi, ctx.font_path)
        _draw_text(img, ctx, style, x, row_y, ctx.d(el.w), ctx.d(el.row_h), layout)


def render_label(
    template: Template | str,
    fields: Mapping[str, object],
    *,
    dpi: int = 203,
    offset_x_mm: float = 0.0,
    offset_y_mm: float = 0.0,
    font_path: str | None = None,
) -> Image.Image:
    """Render one label: a mode "1" image (white 1, black 0), exactly the page width in dots;
    roll templates are as tall as their content. Missing fields render as empty."""
    if isinstance(template, str):
        template = load_template(template)
    if not 100 <= dpi <= 600:
        raise PrinterError(tr("dpi must be between 100 and 600, not {d}", "dpi 必须在 100 到 600 之间，而不是 {d}", d=dpi))
    ctx = _Ctx(template, dpi, mm_to_dots(offset_x_mm, dpi), mm_to_dots(offset_y_mm, dpi),
               font_path or find_cjk_font(None))
    width = mm_to_dots(template.width_mm, dpi)
    if template.is_roll:
        placed = [_place(ctx, el, fields) for el in template.elements if _present(el, fields)]
        flow = _Flow(ctx, placed)
        bottom = max((flow.y(p.el.bottom if not isinstance(p.el, Line) else max(p.el.y, p.el.y2)) for p in placed),
                     default=0)
        height = max(1, bottom + ctx.d(template.bottom_margin_mm) + max(0, ctx.oy))
        img = Image.new("1", (width, height), 1)
    else:
        height = mm_to_dots(template.height_mm or 0, dpi)
        img = _base_image(ctx, (width, height))
        placed = [_place(ctx, el, fields) for el in template.elements
                  if not _is_static(el) and _present(el, fields)]
        flow = _Flow(ctx, [])
    for p in placed:
        _draw_element(img, ctx, p, flow)
    return img


def clear_caches() -> None:
    """Forget cached base images and pictures (after a template or logo changes on disk)."""
    with _base_lock:
        _base_cache.clear()
    with _image_lock:
        _image_cache.clear()


__all__ = ["render_label", "mm_to_dots", "clear_caches"]
