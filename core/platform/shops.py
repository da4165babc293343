"""Shops: registration, which shop a command means (:func:`resolve_shop`), credentials, a signed
client per shop, and the authorisation state.

``Shop.auth_state`` is ``ok``, ``reauthorize`` (the platform refused the token and it could not
be refreshed: the operator must authorise the shop again) or ``unconfigured`` (no credentials).
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass

from dadan.core import audit
from dadan.core.config import Paths, Settings, get_paths
from dadan.core.db import write
from dadan.core.errors import ConfigError, DadanError, NotFound
from dadan.core.i18n import Bilingual, tr
from dadan.core.models import Shop
from dadan.core.operators import require
from dadan.core.platform.credentials import CredentialStore, ShopCredentials
from dadan.core.platform.pdd import DEFAULT_GATEWAY, PddClient, PlatformError, ReauthorizeRequired, RetryPolicy

log = logging.getLogger("dadan.platform")


class ShopNotConfigured(DadanError):
    TITLE = Bilingual("Shop not configured", "店铺未配置")


def _store(paths: Paths | None) -> CredentialStore:
    return CredentialStore((paths or get_paths()).credentials_file)


def add_shop(name: str, *, client_id: str, client_secret: str, access_token: str,
             refresh_token: str = "", gateway_url: str = DEFAULT_GATEWAY, paths: Paths | None = None,
             access_token_expires_at: int = 0, actor: str = "") -> Shop:
    """Create or update a shop and store its credentials (0600)."""
    require(actor, "shops", what=f"shop {name}")
    name, client_id = name.strip(), checked_client_id(client_id)
    if not name:
        raise DadanError(tr("a shop needs a name", "店铺需要名称"))
    if not gateway_url.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise DadanError(tr("the gateway URL must use https (plain http only to this computer)",
                            "网关地址必须是 https（明文 http 仅限本机）"))
    _store(paths).put(name, ShopCredentials(client_secret=client_secret, access_token=access_token,
                                            refresh_token=refresh_token,
                                            access_token_expires_at=access_token_expires_at))
    state = "ok" if client_secret and access_token else "unconfigured"
    with write():
        shop = Shop.get_or_none(Shop.name == name)
        if shop is None:
            shop = Shop.create(name=name, client_id=client_id, gateway_url=gateway_url, auth_state=state)
        else:
            Shop.update(client_id=client_id, gateway_url=gateway_url, auth_state=state).where(
                Shop.id == shop.id).execute()
        audit.record("shop", actor=actor, target=name,  # (never the secrets)
                     detail={"credentials": "set", "client_id": client_id, "gateway_url": gateway_url})
    return Shop.get_by_id(shop.id)


def checked_client_id(client_id: str) -> str:
    """The client id, stripped; a blank one is refused (no request could ever be signed)."""
    if not (client_id or "").strip():
        raise DadanError(tr("a shop needs its client id (the app's client_id from the platform's open console)",
                            "店铺需要 client id（开放平台控制台中应用的 client_id）"))
    return client_id.strip()


def auth_words(state: str) -> str:
    """A shop's ``auth_state`` in the user's language (the stored word when unknown)."""
    return {"ok": tr("ok", "正常"), "reauthorize": tr("re-authorise", "需重新授权"),
            "unconfigured": tr("no credentials", "未配置凭证")}.get(state, state)


def remove_credentials(name: str, *, paths: Paths | None = None, actor: str = "") -> Shop:
    """Remove a shop's platform credentials (a token that leaked, a shop no longer sold on): it
    is no longer synced and takes no waybill numbers; its orders, their history and its waybill
    accounts stay (``dadan shops add`` gives it credentials again). Audited."""
    require(actor, "shops", what=f"shop {name}")
    if not (name or "").strip():  # (a blank name would mean "the only shop" to resolve_shop)
        raise DadanError(tr("name the shop whose credentials to remove", "请写明要删除凭证的店铺名"))
    shop = resolve_shop(name)
    _store(paths).remove(shop.name)
    with write():
        Shop.update(auth_state="unconfigured").where(Shop.id == shop.id).execute()
        audit.record("shop", actor=actor, target=shop.name, detail={"credentials": "removed"})
    return Shop.get_by_id(shop.id)


class NoShops(DadanError):
    """There is no shop yet, and none was named to create."""

    TITLE = Bilingual("No shop", "没有店铺")


class SeveralShops(DadanError):
    """No shop was named and there are several to choose from (``names``)."""

    TITLE = Bilingual("Choose a shop", "请选择店铺")

    def __init__(self, message: str, names: list[str]):
        super().__init__(message)
        self.names = names


class UnknownShop(NotFound):
    """No shop has this ``name``; ``suggestions`` are the close ones, ``names`` all there are."""

    def __init__(self, message: str, name: str, suggestions: list[str], names: list[str]):
        super().__init__(message)
        self.name, self.suggestions, self.names = name, suggestions, names


def resolve_shop(name: str | None, *, create: bool = False, required: bool = True) -> Shop | None:
    """The shop a command means. The one rule for the CLI and the TUI: ask, never invent a shop.

    - a name: that shop; an unknown name is created only with ``create`` (the user asked for
      it), otherwise :class:`UnknownShop` with the close names;
    - no name: the only shop there is; with none, :class:`NoShops`; with several,
      :class:`SeveralShops` listing them (both: ``None`` when not ``required``).
    """
    shops = list(Shop.select().order_by(Shop.name))
    names = [s.name for s in shops]
    if name is not None and name.strip():
        name = name.strip()
        for s in shops:
            if s.name == name:
                return s
        if create:
            with write():
                return Shop.create(name=name, auth_state="unconfigured")
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        did = tr("; did you mean {c}?", "；是否要找 {c}？", c=" / ".join(f"'{c}'" for c in close)) if close else ""
        raise UnknownShop(tr("no shop named '{n}'{did} (shops: {all})", "没有名为“{n}”的店铺{did}（现有：{all}）",
                             n=name, did=did, all=", ".join(names) or "-"), name, close, names)
    if len(shops) == 1:
        return shops[0]
    if not required:
        return None
    if not shops:
        raise NoShops(tr("there is no shop yet: add one with `dadan shops add NAME`, or name one to create "
                         "with `dadan import FILE --shop NAME --create-shop`",
                         "还没有店铺：请用 `dadan shops add 店铺名` 添加，或用 "
                         "`dadan import 文件 --shop 店铺名 --create-shop` 新建"))
    raise SeveralShops(tr("several shops ({all}): choose one with --shop NAME",
                          "有多个店铺（{all}）：请用 --shop 店铺名 选择", all=", ".join(names)), names)


def list_shops() -> list[Shop]:
    return list(Shop.select().where(Shop.platform == "pdd").order_by(Shop.name))


def shops_with_credentials(paths: Paths | None = None) -> list[Shop]:
    """The platform shops that have credentials: the ones a sync of every shop syncs (a shop
    made for imports has none)."""
    store = _store(paths)
    configured = {n for n in store.names() if store.get(n).configured}
    return [s for s in list_shops() if s.name in configured]


def why_nothing_syncs(paths: Paths | None = None) -> str | None:
    """Why a sync of every shop would sync nothing (no shop, or no shop with credentials), in
    words for the operator; ``None`` when some shop can sync. The one reason `dadan sync` and
    the desk's "sync now" give."""
    shops = list_shops()
    if not shops:
        return tr("no shop yet: add one with `dadan shops add NAME --client-id ID`",
                  "还没有店铺：请用 `dadan shops add 店铺名 --client-id ID` 添加")
    try:
        if shops_with_credentials(paths):
            return None
    except ConfigError as exc:
        return exc.message
    return tr("no shop has platform credentials ({names}): add them with `dadan shops add NAME --client-id ID`",
              "没有店铺配置了平台凭证（{names}）：请用 `dadan shops add 店铺名 --client-id ID` 添加",
              names=", ".join(s.name for s in shops))


def set_auth_state(shop_id: int, state: str) -> None:
    with write():
        Shop.update(auth_state=state).where(Shop.id == shop_id).execute()


@dataclass
class ClientFactory:
    """Makes a :class:`PddClient` for a shop from its credentials; refreshed tokens are written
    back to ``credentials.toml`` at once."""

    paths: Paths | None = None
    settings: Settings | None = None
    retry: RetryPolicy | None = None
    sleep: object = None
    timeout: float | None = None

    def __call__(self, shop: Shop) -> PddClient:
        store = _store(self.paths)
        creds = store.get(shop.name)
        if not creds.configured:
            if shop.auth_state != "unconfigured":
                set_auth_state(shop.id, "unconfigured")
            raise ShopNotConfigured(tr(
                "shop '{s}' has no credentials: add them with `dadan shops add`",
                "店铺“{s}”没有凭证：请用 `dadan shops add` 添加", s=shop.name))
        timeout = self.timeout or (self.settings.sync.timeout_seconds if self.settings else 15.0)
        name = shop.name

        def persist(new: dict) -> None:
            store.update(name, **new)

        kw = {}
        if self.sleep is not None:
            kw["sleep"] = self.sleep
        return PddClient(client_id=shop.client_id, client_secret=creds.client_secret,
                         access_token=creds.access_token, refresh_token=creds.refresh_token,
                         access_token_expires_at=creds.access_token_expires_at,
                         gateway_url=shop.gateway_url or DEFAULT_GATEWAY, timeout=timeout,
                         retry=self.retry, on_tokens=persist, shop_name=name, **kw)


def check_shop(shop: Shop, factory: ClientFactory) -> tuple[bool, str]:
    """Try the credentials with one authorised call; update ``auth_state``. -> (ok, message)."""
    try:
        client = factory(shop)
    except ShopNotConfigured as exc:
        return False, exc.message
    try:
        with client:
            client.platform_time()
            n = len(client.logistics_companies())
    except ReauthorizeRequired as exc:
        set_auth_state(shop.id, "reauthorize")
        return False, exc.message
    except PlatformError as exc:
        return False, exc.message
    set_auth_state(shop.id, "ok")
    return True, tr("credentials work ({n} couriers listed)", "凭证有效（共 {n} 家快递）", n=n)
