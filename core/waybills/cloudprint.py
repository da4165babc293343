"""The courier's standard waybill rendered by the platform (``pdd.cloudprint.cmdprint.render``):
the parcel's print data as the platform returned it (the receiver stays encrypted end to end:
dadan never decrypts it on this path) plus dadan's custom area (自定义区: batch position, order
number, reprint mark, goods, remark) become TSPL commands that go to the printer as they are.
Calibration offsets go into the render call. For other printers dadan draws its own layout
with the same number (:func:`route_code` fills its route row where the data gives one)."""

from __future__ import annotations

import json
import uuid

from dadan.core.models import Order
from dadan.core.visible import visible

CUSTOM_TEMPLATE = "dadan:custom"
LINE_CHARS = 40


def single_line(text: str) -> str:
    """One printable line: whitespace runs become one space, control characters visible marks."""
    return visible(" ".join((text or "").split()))


def envelope(print_data: str) -> dict:
    """The print data as a JSON object ({} when it is not JSON)."""
    try:
        data = json.loads(print_data or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def route_code(print_data: str) -> str:
    """The sorting route (大头笔) when the print data is readable (unencrypted); "" otherwise."""
    routing = envelope(print_data).get("routingInfo") or {}
    return str(routing.get("bigShotName") or "") if isinstance(routing, dict) else ""


def can_render(print_data: str) -> bool:
    data = envelope(print_data)
    return bool(data.get("encryptedData") or data.get("waybillCode"))


def custom_lines(order: Order | None, *, seq: int, total: int, reprint_no: int = 0, wave: int = 0,
                 sn: str | None = None, goods: str | None = None) -> list[str]:
    """The custom area: "W123 · 12/200 ORDER_SN R2" (the wave, the print job, when given), then
    the goods, then the merchant's remark. ``sn`` and ``goods``: the parcel's own, when it is
    not one whole order (merged: "SN +2"; split: "SN 2/3")."""
    from dadan.core.printing.labels import wave_label

    head = wave_label(wave, seq, total) if wave else f"{seq}/{total}"
    if order is not None:
        head += f"  {sn or order.order_sn}"
    if reprint_no:
        head += f"  R{reprint_no}"
    lines = [head]
    if order is not None:
        goods = single_line(goods if goods is not None else (order.items_summary or ""))
        while goods and len(lines) < 3:
            lines.append(goods[:LINE_CHARS])
            goods = goods[LINE_CHARS:]
        remark = single_line(order.remark or "")
        if remark:
            lines.append(remark[:LINE_CHARS])
    return lines


def render_request(print_data: str, *, template_url: str, lines: list[str], printer_name: str,
                   offset_x_mm: float = 0.0, offset_y_mm: float = 0.0) -> dict:
    data = envelope(print_data)
    if data.get("encryptedData"):
        first = {"encrypted_data": data["encryptedData"], "signature": data.get("signature", ""),
                 "template_url": data.get("templateUrl") or template_url, "ver": data.get("ver", "")}
    else:
        first = {"print_data": print_data, "template_url": data.get("templateUrl") or template_url}
    return {"client_side_id": uuid.uuid4().hex, "client_type": "dadan", "printer_name": printer_name,
            "print_command_type": "TSPL", "cmd_encoding": "gzip",
            "config": {"horizontal_offset": offset_x_mm, "vertical_offset": offset_y_mm, "orientation": "normal",
                       "need_top_logo": False, "need_middle_logo": False, "need_bottom_logo": False},
            "document": {"contents": [first, {"template_url": CUSTOM_TEMPLATE, "data": {"lines": lines}}]}}
