"""The loopback platform's cloud printing: the couriers' standard templates
(``pdd.cloudprint.stdtemplates.get``) and the renderer that turns a waybill's print data plus a
custom area into TSPL (``pdd.cloudprint.cmdprint.render``).

The TSPL is GB18030 text, lines ending CR LF, at 203 dpi (8 dots per mm): the courier, the
routing code (大头笔), receiver and sender as decrypted on the platform's side, a Code128 of the
waybill number, separators, the custom-area lines near the bottom, ``PRINT 1,1``. Calibration
offsets (mm) move every element by ``round(mm * 8)`` dots.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable

from dadan.core.orders.couriers import COURIERS, by_code
from dadan.core.platform.loopback.errors import ApiError

SIZES = {"76x130": (76, 130), "100x150": (100, 150)}
TEMPLATES = (("76x130", "一联单", 1), ("100x150", "二联单", 3))
DOTS_PER_MM = 8
FONT = "TSS24.BF2"  # 24 x 24 dots
CUSTOM_AREA_URL = "dadan:custom"


def template_url(wp_code: str, size: str) -> str:
    return f"https://file-link.pinduoduo.com/{wp_code}_std_{size}"


def stdtemplates(p: dict) -> dict:
    want = p.get("wp_code") or None
    datas = []
    for i, c in enumerate(COURIERS):
        if want and want != c.code:
            continue
        datas.append({"wp_code": c.code, "standard_templates": [
            {"standard_template_id": 1000 + i * 10 + j, "standard_template_name": f"{c.name_zh}{size} {name}",
             "standard_template_url": template_url(c.code, size), "standard_waybill_type": kind}
            for j, (size, name, kind) in enumerate(TEMPLATES)]})
    return {"pdd_cloudprint_stdtemplates_get_response": {"result": {"datas": datas}}}


def _quote(text: str) -> str:
    return '"' + str(text).replace('"', '\\["]') + '"'


def _wrap(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` dots (a Chinese character is 24, others 12)."""
    lines, line, used = [], "", 0
    for ch in text:
        w = 12 if ch.isascii() else 24
        if used + w > width and line:
            lines.append(line)
            line, used = "", 0
        line += ch
        used += w
    return [*lines, line] if line else lines


def _full_address(addr: dict) -> str:
    """The address in one line; a detail that already starts with the province is whole."""
    detail = str(addr.get("detail") or "")
    province = str(addr.get("province") or "")
    if province and detail.startswith(province):
        return detail
    return "".join(str(addr.get(k) or "") for k in ("province", "city", "district", "town")) + detail


def tspl(payload: dict, size: str, *, dx: int = 0, dy: int = 0, reverse: bool = False,
         custom: list[str] = ()) -> bytes:
    """The standard waybill of ``payload`` (the print data) as TSPL bytes."""
    w_mm, h_mm = SIZES[size]
    width, height = w_mm * DOTS_PER_MM, h_mm * DOTS_PER_MM
    out = [f"SIZE {w_mm} mm,{h_mm} mm", "GAP 2 mm,0 mm", f"DIRECTION {0 if reverse else 1}", "CLS"]

    def at(x: int, y: int) -> str:
        return f"{max(0, x + dx)},{max(0, y + dy)}"

    def text(x: int, y: int, s: str, scale: int = 1) -> None:
        out.append(f"TEXT {at(x, y)},{_quote(FONT)},0,{scale},{scale},{_quote(s)}")

    def bar(y: int) -> None:
        out.append(f"BAR {at(16, y)},{width - 32},3")

    code = str(payload.get("waybillCode") or "")
    courier = by_code(str(payload.get("wpCode") or ""))
    routing = payload.get("routingInfo") or {}
    text(16, 16, courier.name_zh if courier else str(payload.get("wpCode") or ""))
    text(width // 2, 16, "标准快递")
    bar(56)
    text(16, 72, str(routing.get("bigShotName") or ""), 2)
    text(16, 128, str((routing.get("consolidation") or {}).get("name") or ""))
    bar(160)
    out.append(f'BARCODE {at(40, 176)},"128",100,1,0,2,2,{_quote(code)}')
    y = 312
    bar(y)
    for who, tag in (("recipient", "收"), ("sender", "寄")):
        person = payload.get(who) or {}
        addr = person.get("address") or {}
        phone = person.get("mobile") or person.get("phone") or ""
        text(16, y + 16, f"{tag} {person.get('name') or ''} {phone}")
        full = _full_address(addr)
        for i, line in enumerate(_wrap(full, width - 64)[:3]):
            text(40, y + 48 + 30 * i, line)
        y += 160
        bar(y)
    text(16, y + 16, f"运单号 {code}")
    lines = list(custom)
    top = max(y + 56, height - 24 - 30 * len(lines))
    for i, line in enumerate(lines):
        text(16, top + 30 * i, line)
    out.append("PRINT 1,1")
    return "".join(line + "\r\n" for line in out).encode("gb18030")


def _size_of(url: str) -> str:
    return next((s for s in SIZES if url.endswith(s)), "100x150")


def render(p: dict, signature: Callable[[str], str]) -> dict:
    """``pdd.cloudprint.cmdprint.render``; ``signature(encrypted_data)`` is the expected one."""
    try:
        req = json.loads(p.get("request") or "")
    except ValueError:
        raise ApiError(10001, "参数错误", "request 不是 JSON") from None
    if not isinstance(req, dict):
        raise ApiError(10001, "参数错误", "request 须为对象")
    if req.get("print_command_type", "TSPL") != "TSPL":
        raise ApiError(10001, "参数错误", f"不支持的指令类型：{req.get('print_command_type')}")
    encoding = req.get("cmd_encoding") or "gzip"
    if encoding not in ("gzip", "origin"):
        raise ApiError(10001, "参数错误", f"不支持的编码：{encoding}")
    contents = (req.get("document") or {}).get("contents")
    if not isinstance(contents, list) or not 1 <= len(contents) <= 2 or not all(isinstance(c, dict) for c in contents):
        raise ApiError(10001, "参数错误", "document.contents 须为面单和至多一个自定义区")
    first = contents[0]
    try:
        if "encrypted_data" in first:
            data = str(first.get("encrypted_data") or "")
            if str(first.get("signature") or "") != signature(data):
                raise ApiError(30030, "签名校验失败", "签名校验失败")
            payload = json.loads(base64.b64decode(data.encode("ascii"), validate=True).decode("utf-8"))
        else:
            payload = json.loads(str(first.get("print_data") or ""))
    except ValueError:
        raise ApiError(10001, "参数错误", "打印数据无法解析") from None
    if not isinstance(payload, dict) or not payload.get("waybillCode"):
        raise ApiError(10001, "参数错误", "打印数据中没有面单号")
    custom: list[str] = []
    if len(contents) == 2:
        lines = (contents[1].get("data") or {}).get("lines") or []
        custom = [str(x) for x in lines] if isinstance(lines, list) else []
    config = req.get("config") or {}
    try:
        dx = round(float(config.get("horizontal_offset") or 0) * DOTS_PER_MM)
        dy = round(float(config.get("vertical_offset") or 0) * DOTS_PER_MM)
    except (TypeError, ValueError):
        raise ApiError(10001, "参数错误", "偏移量须为数字（毫米）") from None
    cmd = tspl(payload, _size_of(str(first.get("template_url") or "")), dx=dx, dy=dy,
               reverse=config.get("orientation") == "reverse", custom=custom)
    content = (base64.b64encode(gzip.compress(cmd)).decode("ascii") if encoding == "gzip"
               else cmd.decode("gb18030"))
    return {"cloudprint_cmdprint_render_response": {"success": True, "cmd_encoding": encoding,
                                                    "cmd_content": content}}
