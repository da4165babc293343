"""The loopback platform's state on disk: shops with their orders, tokens, refresh tokens,
e-waybill subscriptions, numbers and serial counters as one owner-only JSON file, so the demo
keeps the same shop, orders, tokens and numbers across runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dadan.core.platform.loopback.world import Mall, Token
from dadan.printers.private_files import write_private_bytes

VERSION = 1


def save_platform(platform, path: str | os.PathLike) -> Path:
    """Write ``platform``'s state to ``path`` (0600; written aside, then moved into place, so a
    crash leaves the previous file whole). The caller holds the platform's lock."""
    data = {
        "version": VERSION, "client_id": platform.client_id, "client_secret": platform.client_secret,
        "token_lifetime": platform.token_lifetime, "offset": platform.offset,
        "order_serial": platform.world.serial,
        "malls": [{"mall_id": m.mall_id, "name": m.name, "access_token": m.access_token,
                   "refresh_token": m.refresh_token, "orders": m.orders} for m in platform.malls.values()],
        "tokens": {t: {"mall_id": v.mall_id, "expires_at": v.expires_at, "expired": v.expired}
                   for t, v in platform.tokens.items()},
        "refresh_tokens": platform.refresh_tokens,
        "waybills": platform.waybills.to_json(),
        "goods_stock": platform.stock.to_json(),
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    write_private_bytes(tmp, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    os.replace(tmp, path)
    return path


def load_platform(cls, path: str | os.PathLike, **kw):
    """A ``cls`` (MockPlatform) holding the state :func:`save_platform` wrote; ``kw`` goes to
    the constructor (the file's client id and secret unless given)."""
    data = json.loads(Path(path).read_text("utf-8"))
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: unknown loopback platform state version {data.get('version')!r}")
    kw.setdefault("client_id", data["client_id"])
    kw.setdefault("client_secret", data["client_secret"])
    kw.setdefault("token_lifetime", data["token_lifetime"])
    platform = cls(**kw)
    platform.offset = float(data.get("offset") or 0.0)
    platform.world.serial = int(data.get("order_serial") or 0)
    for m in data["malls"]:
        platform.malls[m["mall_id"]] = Mall(m["mall_id"], m["name"], m["access_token"], m["refresh_token"],
                                            orders=m["orders"])
    for t, v in data["tokens"].items():
        platform.tokens[t] = Token(v["mall_id"], int(v["expires_at"]), bool(v["expired"]))
    platform.refresh_tokens.update(data["refresh_tokens"])
    platform.waybills.restore(data["waybills"])
    platform.stock.restore(data.get("goods_stock") or [])
    return platform
