"""E-waybill accounts: the couriers a shop subscribed to at a branch (网点), each branch's balance
and registered sender addresses (``pdd.waybill.search``, cached in
:class:`~dadan.core.models.WaybillBranch`), and the operator's choice per courier
(:class:`~dadan.core.models.WaybillAccount`): the branch that pays, the sender address printed,
and which courier is the shop's default for waybill jobs."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from dadan.core import audit
from dadan.core.db import write
from dadan.core.errors import DadanError, NotFound
from dadan.core.i18n import tr
from dadan.core.models import Shop, WaybillAccount, WaybillBranch, utcnow
from dadan.core.orders.couriers import by_code
from dadan.core.platform.waybill_api import waybill_search

ADDRESS_KEYS = ("province", "city", "district", "detail")


def courier_name(wp_code: str) -> str:
    c = by_code(wp_code)
    return c.name if c is not None else wp_code


def address_text(address: dict) -> str:
    return "".join(str(address.get(k) or "") for k in ADDRESS_KEYS)


def _int(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def refresh(shop: Shop, client) -> int:
    """Ask the platform which couriers ``shop`` subscribed to and cache every branch (balance,
    addresses). Branches the platform no longer lists are dropped. Returns how many branches."""
    cols = waybill_search(client)
    now = utcnow()
    rows = []
    for sub in cols:
        wp = str(sub.get("wp_code") or "").strip().upper()
        for b in sub.get("branch_account_cols") or []:
            addresses = [{k: str(a.get(k) or "") for k in ADDRESS_KEYS} for a in b.get("shipp_address_cols") or []]
            rows.append({"shop": shop.id, "wp_code": wp, "branch_code": str(b.get("branch_code") or ""),
                         "branch_name": str(b.get("branch_name") or ""), "quantity": _int(b.get("quantity")),
                         "allocated": _int(b.get("allocated_quantity")), "cancelled": _int(b.get("cancel_quantity")),
                         "recycled": _int(b.get("recycled_quantity")),
                         "addresses": json.dumps(addresses, ensure_ascii=False), "fetched_at": now})
    with write():
        WaybillBranch.delete().where(WaybillBranch.shop == shop.id).execute()
        if rows:
            WaybillBranch.insert_many(rows).execute()
    return len(rows)


def refresh_shops(shops, factory) -> tuple[int, dict[str, str]]:
    """:func:`refresh` for each shop with its own client from ``factory``: (branches read, shop
    name -> why it failed). One shop's failure stops no other."""
    from dadan.core.errors import DadanError

    done, errors = 0, {}
    for shop in shops:
        try:
            with factory(shop) as client:
                done += refresh(shop, client)
        except DadanError as exc:
            errors[shop.name] = exc.message
    return done, errors


@dataclass
class BranchView:
    """One subscribed branch as the operator sees it (and ``--format jsonl`` writes it)."""

    shop: str
    wp_code: str
    courier: str
    branch_code: str
    branch_name: str
    quantity: int
    allocated: int
    cancelled: int
    recycled: int
    addresses: list[dict] = field(default_factory=list)
    chosen: bool = False  # this branch pays for the courier's numbers
    address_no: int | None = None  # the chosen sender address (1-based)
    default: bool = False  # the shop's default courier
    fetched_at: dt.datetime | None = None

    def as_json(self) -> dict:
        return {"shop": self.shop, "wp_code": self.wp_code, "courier": self.courier,
                "branch_code": self.branch_code, "branch_name": self.branch_name, "quantity": self.quantity,
                "allocated_quantity": self.allocated, "cancel_quantity": self.cancelled,
                "recycled_quantity": self.recycled, "addresses": self.addresses, "chosen": self.chosen,
                "address_no": self.address_no, "default": self.default}


def branches(shop_id: int | None = None) -> list[BranchView]:
    """Every cached branch (of one shop), with the operator's choices marked."""
    q = WaybillBranch.select(WaybillBranch, Shop).join(Shop).order_by(Shop.name, WaybillBranch.wp_code,
                                                                        WaybillBranch.branch_code)
    if shop_id is not None:
        q = q.where(WaybillBranch.shop == shop_id)
    chosen = {(a.shop_id, a.wp_code): a for a in WaybillAccount.select()}
    out = []
    for b in q:
        acc = chosen.get((b.shop_id, b.wp_code))
        mine = acc is not None and acc.branch_code == b.branch_code
        out.append(BranchView(b.shop.name, b.wp_code, courier_name(b.wp_code), b.branch_code, b.branch_name,
                              b.quantity, b.allocated, b.cancelled, b.recycled, json.loads(b.addresses or "[]"),
                              mine, acc.address_no if mine else None, bool(mine and acc.is_default), b.fetched_at))
    return out


def account(shop_id: int, wp_code: str) -> WaybillAccount | None:
    return WaybillAccount.get_or_none((WaybillAccount.shop == shop_id) & (WaybillAccount.wp_code == wp_code.upper()))


def default_account(shop_id: int) -> WaybillAccount | None:
    return (WaybillAccount.select().where((WaybillAccount.shop == shop_id) & WaybillAccount.is_default)
            .first())


def accounts(shop_id: int | None = None) -> list[WaybillAccount]:
    q = WaybillAccount.select().order_by(WaybillAccount.shop, WaybillAccount.wp_code)
    if shop_id is not None:
        q = q.where(WaybillAccount.shop == shop_id)
    return list(q)


def couriers_of(shop_ids) -> list[str]:
    """The couriers (wp_codes) that have an account in any of these shops, sorted: the ones a
    waybill job for their orders can take numbers from."""
    ids = list(shop_ids)
    if not ids:
        return []
    q = WaybillAccount.select(WaybillAccount.wp_code).where(WaybillAccount.shop.in_(ids)).distinct()
    return sorted(a.wp_code for a in q)


def _branch(shop_id: int, wp_code: str, branch_code: str) -> WaybillBranch | None:
    return WaybillBranch.get_or_none((WaybillBranch.shop == shop_id) & (WaybillBranch.wp_code == wp_code)
                                     & (WaybillBranch.branch_code == branch_code))


def balance(shop_id: int, wp_code: str) -> int | None:
    """The balance of the branch that pays for ``wp_code`` in this shop (None: no account)."""
    acc = account(shop_id, wp_code)
    if acc is None:
        return None
    b = _branch(shop_id, acc.wp_code, acc.branch_code)
    return b.quantity if b is not None else None


def sender_address(shop_id: int, wp_code: str) -> str:
    """The registered sender address the courier's numbers are taken with ("" without an account)."""
    acc = account(shop_id, wp_code)
    return address_text(json.loads(acc.address or "{}")) if acc is not None else ""


def note_taken(shop_id: int, wp_code: str, n: int) -> None:
    """``n`` numbers were taken (or, negative, returned): the cached balance follows at once,
    until the next :func:`refresh` reads the platform's own. Inside the caller's transaction."""
    acc = account(shop_id, wp_code)
    if acc is None or not n:
        return
    WaybillBranch.update(quantity=WaybillBranch.quantity - n, allocated=WaybillBranch.allocated + max(n, 0)).where(
        (WaybillBranch.shop == shop_id) & (WaybillBranch.wp_code == acc.wp_code)
        & (WaybillBranch.branch_code == acc.branch_code)).execute()


def choose_template(templates: list[dict], wp_code: str, height_mm: float) -> str:
    """The standard template URL of ``wp_code`` that suits a label ``height_mm`` high (100x150
    two-part, 76x130 one-part), from ``pdd.cloudprint.stdtemplates.get``'s ``datas``."""
    urls = [t.get("standard_template_url") or "" for d in templates if str(d.get("wp_code") or "").upper() == wp_code
            for t in d.get("standard_templates") or []]
    urls = [u for u in urls if u]
    want = "150" if height_mm >= 140 else "130"
    return next((u for u in urls if want in u.rsplit("/", 1)[-1]), urls[0] if urls else "")


def use(shop: Shop, wp_code: str, branch_code: str, *, address_no: int = 1, actor: str,
        make_default: bool | None = None, template_url: str = "") -> WaybillAccount:
    """Choose the branch and registered sender address that pay for ``wp_code``'s numbers in
    ``shop`` (from the cached search: :func:`refresh` first). The shop's first account becomes its
    default courier; ``make_default`` sets or clears that. Audited."""
    wp = (wp_code or "").strip().upper()
    with write():
        subscribed = sorted({b.wp_code for b in WaybillBranch.select().where(WaybillBranch.shop == shop.id)})
        if wp not in subscribed:
            raise NotFound(tr("shop '{s}' has no e-waybill subscription for {c} (subscribed: {all})",
                              "店铺“{s}”没有订购 {c} 的电子面单（已订购：{all}）", s=shop.name, c=wp or "-",
                              all=", ".join(subscribed) or "-"))
        b = _branch(shop.id, wp, (branch_code or "").strip())
        if b is None:
            codes = [x.branch_code for x in WaybillBranch.select().where((WaybillBranch.shop == shop.id)
                                                                         & (WaybillBranch.wp_code == wp))]
            raise NotFound(tr("{c} has no branch '{b}' for shop '{s}' (branches: {all})",
                              "店铺“{s}”的 {c} 没有网点“{b}”（网点：{all}）", c=wp, b=branch_code, s=shop.name,
                              all=", ".join(codes)))
        addresses = json.loads(b.addresses or "[]")
        if not addresses:
            raise DadanError(tr("branch {b} has no registered sender address: register one in the merchant backend",
                                "网点 {b} 没有登记发货地址：请先在商家后台登记", b=b.branch_code))
        if not 1 <= address_no <= len(addresses):
            raise DadanError(tr("address {n} does not exist: branch {b} has {k} (1 to {k})",
                                "地址 {n} 不存在：网点 {b} 有 {k} 个（1 到 {k}）", n=address_no, b=b.branch_code,
                                k=len(addresses)))
        has_default = default_account(shop.id) is not None
        acc = account(shop.id, wp)
        default = make_default if make_default is not None else (acc.is_default if acc else not has_default)
        values = dict(branch_code=b.branch_code, branch_name=b.branch_name, address_no=address_no,
                      address=json.dumps(addresses[address_no - 1], ensure_ascii=False), chosen_by=actor,
                      chosen_at=utcnow())
        if template_url:
            values["template_url"] = template_url
        if acc is None:
            acc = WaybillAccount.create(shop=shop.id, wp_code=wp, is_default=False, **values)
        else:
            WaybillAccount.update(**values).where(WaybillAccount.id == acc.id).execute()
        if default:
            WaybillAccount.update(is_default=False).where(WaybillAccount.shop == shop.id).execute()
        WaybillAccount.update(is_default=bool(default)).where(WaybillAccount.id == acc.id).execute()
        audit.record("waybill-account", actor=actor, target=f"shop:{shop.name}", detail={
            "wp_code": wp, "branch_code": b.branch_code, "address_no": address_no, "default": bool(default)})
    return WaybillAccount.get_by_id(acc.id)


def set_default(shop: Shop, wp_code: str, *, actor: str) -> None:
    acc = account(shop.id, wp_code)
    if acc is None:
        raise NotFound(tr("choose a branch for {c} first (dadan waybills use {c} --branch CODE)",
                          "请先为 {c} 选择网点（dadan waybills use {c} --branch 网点编码）", c=wp_code.upper()))
    use(shop, acc.wp_code, acc.branch_code, address_no=acc.address_no, actor=actor, make_default=True)
