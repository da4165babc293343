"""Typed calls of the platform's e-waybill (电子面单) and cloud-print APIs through a signed
:class:`~dadan.core.platform.pdd.PddClient`: subscriptions and balances, taking, cancelling and
looking up numbers, the couriers' standard templates, and rendering a waybill into printer
commands. Each returns the answer's payload (the wrapper keys taken off); errors are the
client's typed :class:`~dadan.core.platform.pdd.PlatformError` family, and busy/transport
failures are retried by the client with the same parameters (so a retried take carries the
same ``object_id``)."""

from __future__ import annotations

import base64
import binascii
import gzip

from dadan.core.i18n import tr
from dadan.core.platform.pdd import PddClient, PlatformError


def waybill_search(client: PddClient, wp_code: str | None = None) -> list[dict]:
    """``pdd.waybill.search``: the shop's subscriptions (``waybill_apply_subscription_cols``),
    each with its branches, balances and registered sender addresses."""
    r = client.call("pdd.waybill.search", {"wp_code": wp_code or None})
    return list(r.get("waybill_apply_subscription_cols") or [])


def waybill_get(client: PddClient, request: dict) -> list[dict]:
    """``pdd.waybill.get``: take numbers for up to 10 parcels (``request`` is the
    ``param_waybill_cloud_print_apply_new_request`` object); the modules, in the order of
    ``trade_order_info_dtos``."""
    r = client.call("pdd.waybill.get", {"param_waybill_cloud_print_apply_new_request": request})
    return list(r.get("modules") or [])


def waybill_cancel(client: PddClient, wp_code: str, waybill_code: str) -> bool:
    """``pdd.waybill.cancel``: recycle a number not used to ship; whether the platform agreed."""
    r = client.call("pdd.waybill.cancel", {"wp_code": wp_code, "waybill_code": waybill_code})
    return bool(r.get("cancel_result"))


def waybill_query(client: PddClient, params: list[dict]) -> list[dict]:
    """``pdd.waybill.query.by.waybillcode``: numbers looked up again by ``{object_id,
    waybill_code, wp_code}``."""
    r = client.call("pdd.waybill.query.by.waybillcode", {"param_list": params})
    return list(r.get("modules") or [])


def standard_templates(client: PddClient, wp_code: str | None = None) -> list[dict]:
    """``pdd.cloudprint.stdtemplates.get``: per courier, its standard templates (the ``datas``
    list)."""
    r = client.call("pdd.cloudprint.stdtemplates.get", {"wp_code": wp_code or None})
    return list((r.get("result") or {}).get("datas") or [])


def cmdprint_render(client: PddClient, request: dict) -> bytes:
    """``pdd.cloudprint.cmdprint.render``: the printer commands, as bytes to send as they are
    (``gzip``: gunzipped from base64; ``origin``: the text in GB18030)."""
    api = "pdd.cloudprint.cmdprint.render"
    r = client.call(api, {"request": request})
    if not r.get("success"):
        said = str(r.get("error_msg") or r.get("msg") or r.get("error_code") or "?")
        raise PlatformError(tr("{api}: the platform could not render the waybill: {m}",
                               "{api}：平台无法生成打印指令：{m}", api=api, m=said), api=api, error_msg=said)
    content = str(r.get("cmd_content") or "")
    encoding = r.get("cmd_encoding") or "gzip"
    if encoding == "origin":
        return content.encode("gb18030")
    try:
        return gzip.decompress(base64.b64decode(content.encode("ascii"), validate=True))
    except (binascii.Error, ValueError, OSError, EOFError):
        raise PlatformError(tr("{api}: the printer commands cannot be decoded ({e})",
                               "{api}：无法解码打印指令（{e}）", api=api, e=encoding), api=api) from None
