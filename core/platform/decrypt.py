"""Receiver decryption at print time (``pdd.open.decrypt.batch``).

The platform caps decryptions per shop per day, so dadan decrypts only when it prints, in
batches of up to 100 ciphertexts, and keeps the plain text in memory only: it is never written
to the database, a file or a log.

    receivers = receivers_for_print(orders)      # {order_id: {"name", "phone", "address"}}

Orders without ciphertext (imported or demo orders carry plain fields) are not in the result;
neither is an order whose decryption failed (its reason goes into ``errors`` when given).
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.models import Shop

log = logging.getLogger("dadan.platform")

BATCH = 100
_FIELDS = (("name", "receiver_name_enc"), ("phone", "receiver_phone_enc"), ("address", "receiver_address_enc"))


def _get(o, k, default=None):
    return o.get(k, default) if isinstance(o, dict) else getattr(o, k, default)


def receivers_for_print(orders: Iterable, *, factory: Callable[[Shop], object] | None = None,
                        errors: dict[int, str] | None = None) -> dict[int, dict[str, str]]:
    """Decrypt the receivers of ``orders`` (Order rows or mappings with ``id``, ``shop``/
    ``shop_id``, ``order_sn`` and the ``*_enc`` fields).

    Returns ``{order_id: {"name", "phone", "address"}}`` for every order whose ciphertexts all
    decrypted. ``factory`` makes a client per shop (default: credentials from the default
    paths). Failures never raise: they are reported per order in ``errors``.
    """
    from dadan.core.platform.pdd import PlatformError, ReauthorizeRequired

    errors = errors if errors is not None else {}
    by_shop: dict[int, list] = {}
    for o in orders:
        if any(_get(o, f) for _, f in _FIELDS):
            shop_id = _get(o, "shop_id") or _get(o, "shop")
            shop_id = getattr(shop_id, "id", shop_id)
            by_shop.setdefault(int(shop_id), []).append(o)
    if not by_shop:
        return {}
    if factory is None:
        from dadan.core.platform.shops import ClientFactory

        factory = ClientFactory()
    out: dict[int, dict[str, str]] = {}
    for shop_id, shop_orders in by_shop.items():
        shop = Shop.get_by_id(shop_id)
        try:
            client = factory(shop)
        except Exception as exc:  # noqa: BLE001 - ShopNotConfigured and the like: per-order reasons
            msg = exc.message if isinstance(exc, DadanError) else type(exc).__name__
            for o in shop_orders:
                errors[int(_get(o, "id"))] = msg
            continue
        try:
            # (order, key, ciphertext) triples, cut into batches of <= 100 ciphertexts
            wanted = [(o, key, _get(o, f)) for o in shop_orders for key, f in _FIELDS if _get(o, f)]
            plain: dict[tuple[str, str], str] = {}
            failed: dict[str, str] = {}
            for i in range(0, len(wanted), BATCH):
                chunk = wanted[i : i + BATCH]
                data = [{"data_tag": str(_get(o, "order_sn")), "encrypted_data": enc} for o, _k, enc in chunk]
                try:
                    results = client.decrypt_batch(data)
                except ReauthorizeRequired as exc:
                    for o, _k, _e in wanted[i:]:
                        failed[str(_get(o, "order_sn"))] = exc.message
                    break
                except PlatformError as exc:
                    for o, _k, _e in chunk:
                        failed[str(_get(o, "order_sn"))] = exc.message
                    continue
                for r in results:
                    tag, enc = str(r.get("data_tag", "")), str(r.get("encrypted_data", ""))
                    if str(r.get("error_code", 0)) in ("0", "") and r.get("decrypted_data") is not None:
                        plain[(tag, enc)] = str(r.get("decrypted_data"))
                    else:
                        failed[tag] = tr("the platform could not decrypt the receiver: {m}",
                                         "平台无法解密收件人信息：{m}", m=r.get("error_msg") or r.get("error_code"))
            for o in shop_orders:
                sn, oid = str(_get(o, "order_sn")), int(_get(o, "id"))
                rec = {}
                for key, f in _FIELDS:
                    enc = _get(o, f)
                    rec[key] = plain.get((sn, enc), "") if enc else ""
                missing = [k for k, f in _FIELDS if _get(o, f) and (sn, _get(o, f)) not in plain]
                if sn in failed or missing:
                    errors[oid] = failed.get(sn) or tr("receiver not decrypted", "收件人信息未解密")
                    continue
                out[oid] = rec
        finally:
            close = getattr(client, "close", None)
            if close:
                close()
    return out
