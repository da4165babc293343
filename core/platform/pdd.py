"""The Pinduoduo open-platform client: signed calls, typed errors, retries, token refresh.

Every call is ``POST <gateway>`` with form-encoded common parameters (``type``, ``client_id``,
``access_token``, ``timestamp``, ``data_type=JSON``, ``version=V1``) plus the API's own, signed
with :func:`sign`. Object/array parameters are JSON-encoded once; that exact string is signed
and sent.

Errors never surface as tracebacks: :class:`PlatformError` and its subclasses carry the
platform's ``error_code``, ``sub_code``, ``sub_msg`` and ``request_id`` and a bilingual message.
Busy and rate-limit codes, timeouts, 5xx answers and unreadable bodies are retried with
exponential backoff and full jitter. An expired access token (10019) is refreshed with the
refresh token when there is one, and once more if the fresh token is refused too (the platform
has expired a just-issued token); only then, or without a refresh token,
:class:`ReauthorizeRequired` tells the caller to put the shop in the "re-authorise" state.

Secrets (client secret, tokens) are never logged: log lines name the API, the outcome and the
platform's request id only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr

log = logging.getLogger("dadan.platform")

DEFAULT_GATEWAY = "https://gw-api.pinduoduo.com/api/router"

TOKEN_EXPIRED_CODES = {10019}
AUTH_CODES = {20032, 10016}
SIGN_CODES = {20004}
PERMISSION_CODES = {20031, 20005}
PARAM_CODES = {10000, 10001, 21001, 21002}
RATE_LIMIT_CODES = {52101, 70031}
BUSY_CODES = {50000, 50001, 50002, 52001, 52002, 52102, 52103}
BLOCKED_CODES = {70032, 70033, 70034, 70035}
TOKEN_REFRESHES_PER_CALL = 2  # a token refused right after a refresh gets one more refresh


# ------------------------------------------------------------------ errors
class PlatformError(DadanError):
    """An error answer from the platform (or no usable answer at all)."""

    TITLE = Bilingual("Platform error", "平台错误")
    retryable = False

    def __init__(self, message: str, *, api: str = "", error_code: int | None = None,
                 error_msg: str = "", sub_code: str = "", sub_msg: str = "", request_id: str = ""):
        super().__init__(message)
        self.api = api
        self.error_code = error_code
        self.error_msg = error_msg
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.request_id = request_id

    @property
    def platform_message(self) -> str:
        """The platform's own words, as shown to the operator (sub_msg, else error_msg)."""
        return self.sub_msg or self.error_msg or self.message

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(api={self.api!r}, error_code={self.error_code!r}, "
                f"sub_code={self.sub_code!r}, request_id={self.request_id!r})")


class PlatformBusy(PlatformError):
    TITLE = Bilingual("Platform busy", "平台繁忙")
    retryable = True


class RateLimited(PlatformError):
    TITLE = Bilingual("Rate limited", "调用过于频繁")
    retryable = True


class TransportError(PlatformError):
    """No usable answer: timeout, connection refused, HTTP 5xx, truncated or non-JSON body."""

    TITLE = Bilingual("Network error", "网络错误")
    retryable = True


class TokenExpired(PlatformError):
    TITLE = Bilingual("Access token expired", "授权已过期")


class ReauthorizeRequired(PlatformError):
    """The shop's authorisation is gone (expired without refresh, revoked, wrong token)."""

    TITLE = Bilingual("Re-authorise this shop", "请重新授权店铺")


class PermissionDenied(PlatformError):
    TITLE = Bilingual("No permission", "无权限")


class BadRequest(PlatformError):
    TITLE = Bilingual("Bad request", "请求参数错误")


def error_from_response(api: str, err: Mapping) -> PlatformError:
    """``error_response`` -> the matching typed error."""

    def _int(v):
        try:
            return int(v)
        except (TypeError, ValueError):
            return None

    code = _int(err.get("error_code"))
    kw = dict(api=api, error_code=code, error_msg=str(err.get("error_msg") or ""),
              sub_code=str(err.get("sub_code") or ""), sub_msg=str(err.get("sub_msg") or ""),
              request_id=str(err.get("request_id") or ""))
    said = kw["sub_msg"] or kw["error_msg"] or "?"
    ref = tr(" (code {c}, request {r})", "（错误码 {c}，请求 {r}）", c=code, r=kw["request_id"] or "-")
    if code in TOKEN_EXPIRED_CODES:
        cls, msg = TokenExpired, tr("the shop's access token has expired", "店铺授权已过期")
    elif code in AUTH_CODES or code in SIGN_CODES:
        cls, msg = ReauthorizeRequired, tr(
            "the platform refused the shop's credentials: {m}; re-authorise this shop",
            "平台拒绝了店铺凭证：{m}；请重新授权店铺", m=said)
    elif code in PERMISSION_CODES or code in BLOCKED_CODES:
        cls, msg = PermissionDenied, tr("the platform refused {api}: {m}", "平台拒绝调用 {api}：{m}", api=api, m=said)
    elif code in RATE_LIMIT_CODES:
        cls, msg = RateLimited, tr("rate limited by the platform: {m}", "平台限流：{m}", m=said)
    elif code in BUSY_CODES:
        cls, msg = PlatformBusy, tr("the platform is busy: {m}", "平台繁忙：{m}", m=said)
    elif code in PARAM_CODES:
        cls, msg = BadRequest, tr("{api}: bad parameters: {m}", "{api}：参数错误：{m}", api=api, m=said)
    else:
        cls, msg = PlatformError, tr("{api} failed: {m}", "{api} 调用失败：{m}", api=api, m=said)
    return cls(msg + ref, **kw)


# ------------------------------------------------------------------ signing
def encode_param(value: Any) -> str:
    """A parameter as the string that is signed and sent."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def sign_string(params: Mapping[str, str], client_secret: str) -> str:
    body = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return f"{client_secret}{body}{client_secret}"


def sign(params: Mapping[str, str], client_secret: str) -> str:
    """MD5 of ``secret + k1v1k2v2... + secret`` (keys in ASCII order, ``sign`` left out),
    upper-case hex."""
    return hashlib.md5(sign_string(params, client_secret).encode("utf-8")).hexdigest().upper()


# ------------------------------------------------------------------ client
@dataclass
class RetryPolicy:
    attempts: int = 5  # total tries for a retryable failure
    base_seconds: float = 0.5
    rate_limit_base_seconds: float = 1.0
    max_seconds: float = 20.0

    def delay(self, attempt: int, exc: PlatformError, rng: random.Random) -> float:
        """Full jitter: uniform(0, min(max, base * 2**attempt)); rate limits back off longer.
        ``attempt`` counts from 0."""
        base = self.rate_limit_base_seconds if isinstance(exc, RateLimited) else self.base_seconds
        cap = min(self.max_seconds, base * (2**attempt))
        return rng.uniform(cap / 2, cap)  # "equal jitter": never a zero wait for rate limits


TokenCallback = Callable[[dict], None]


class PddClient:
    """A signed client for one shop. Thread-safe (detail fetches run in a small pool)."""

    def __init__(self, *, client_id: str, client_secret: str, access_token: str = "",
                 refresh_token: str = "", access_token_expires_at: int = 0,
                 gateway_url: str = DEFAULT_GATEWAY, timeout: float = 15.0,
                 retry: RetryPolicy | None = None, on_tokens: TokenCallback | None = None,
                 sleep: Callable[[float], None] = time.sleep, shop_name: str = "",
                 http: Any = None, rng: random.Random | None = None):
        self.client_id = client_id
        self._secret = client_secret
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._access_expires = int(access_token_expires_at or 0)
        self.gateway_url = gateway_url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.on_tokens = on_tokens
        self.sleep = sleep
        self.shop_name = shop_name
        self._rng = rng or random.Random()
        self._token_lock = threading.Lock()
        self._http = http
        self._own_http = http is None
        self.calls = 0  # successful + failed HTTP exchanges (for tests and the bench)

    def __repr__(self) -> str:
        return f"PddClient(shop={self.shop_name!r}, client_id={self.client_id!r}, gateway={self.gateway_url!r})"

    # -- plumbing
    @property
    def http(self):
        if self._http is None:
            import httpx  # imported lazily: start-up stays fast

            self._http = httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                headers={"user-agent": "dadan"},
            )
        return self._http

    def close(self) -> None:
        if self._http is not None and self._own_http:
            self._http.close()
            self._http = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def has_refresh_token(self) -> bool:
        return bool(self._refresh_token)

    def signed_params(self, api: str, params: Mapping[str, Any], *, with_token: bool = True) -> dict[str, str]:
        p = {k: encode_param(v) for k, v in params.items() if v is not None}
        p.update(type=api, client_id=self.client_id, timestamp=str(int(time.time())),
                 data_type="JSON", version="V1")
        if with_token and self._access_token:
            p["access_token"] = self._access_token
        p["sign"] = sign(p, self._secret)
        return p

    def _exchange(self, api: str, params: Mapping[str, Any], *, with_token: bool = True) -> dict:
        """One HTTP exchange. Returns the parsed JSON or raises a typed error."""
        import httpx

        body = self.signed_params(api, params, with_token=with_token)
        self.calls += 1
        try:
            resp = self.http.post(self.gateway_url, data=body)
        except httpx.TimeoutException:
            raise TransportError(
                tr("{api}: no answer from the platform within {t:g} s", "{api}：平台 {t:g} 秒内无响应",
                   api=api, t=self.timeout), api=api) from None
        except httpx.HTTPError as exc:
            raise TransportError(
                tr("{api}: cannot reach the platform ({e})", "{api}：无法连接平台（{e}）",
                   api=api, e=type(exc).__name__), api=api) from None
        if resp.status_code >= 500 or resp.status_code in (408, 429):
            raise TransportError(tr("{api}: the platform answered HTTP {s}", "{api}：平台返回 HTTP {s}",
                                    api=api, s=resp.status_code), api=api)
        try:
            data = json.loads(resp.content)
        except ValueError:
            raise TransportError(tr("{api}: the platform's answer was cut off or is not JSON",
                                    "{api}：平台响应不完整或不是 JSON", api=api), api=api) from None
        if not isinstance(data, dict):
            raise TransportError(tr("{api}: unexpected answer from the platform", "{api}：平台响应格式异常",
                                    api=api), api=api)
        if "error_response" in data:
            raise error_from_response(api, data["error_response"] or {})
        if resp.status_code >= 400:
            raise PlatformError(tr("{api}: the platform answered HTTP {s}", "{api}：平台返回 HTTP {s}",
                                   api=api, s=resp.status_code), api=api)
        return data

    # -- public
    def call(self, api: str, params: Mapping[str, Any] | None = None, *, with_token: bool = True,
             retry: bool = True) -> dict:
        """Call ``api`` and return its ``*_response`` object (the one wrapper key).

        Retries busy/rate-limit/transport failures with backoff; refreshes an expired token (up to
        :data:`TOKEN_REFRESHES_PER_CALL` times).
        """
        params = dict(params or {})
        attempt = 0
        refreshes = 0
        while True:
            if with_token:
                self._refresh_if_due()
            token_used = self._access_token
            try:
                data = self._exchange(api, params, with_token=with_token)
            except TokenExpired as exc:
                if refreshes >= TOKEN_REFRESHES_PER_CALL or not with_token:
                    raise self._reauthorize_error(exc) from None
                self.refresh_tokens(expired=exc, failed_token=token_used)
                refreshes += 1
                continue
            except PlatformError as exc:
                if not (retry and exc.retryable) or attempt + 1 >= self.retry.attempts:
                    raise
                delay = self.retry.delay(attempt, exc, self._rng)
                log.info("%s: %s (code %s, request %s); retry %d in %.2fs", api, type(exc).__name__,
                         exc.error_code, exc.request_id or "-", attempt + 1, delay)
                attempt += 1
                self.sleep(delay)
                continue
            return _unwrap(api, data)

    def _reauthorize_error(self, exc: PlatformError | None = None) -> ReauthorizeRequired:
        kw = {}
        if exc is not None:
            kw = dict(api=exc.api, error_code=exc.error_code, error_msg=exc.error_msg, sub_code=exc.sub_code,
                      sub_msg=exc.sub_msg, request_id=exc.request_id)
        return ReauthorizeRequired(
            tr("the access token of shop '{s}' has expired and cannot be refreshed: re-authorise this shop",
               "店铺“{s}”的授权已过期且无法刷新：请重新授权", s=self.shop_name or self.client_id), **kw)

    def _refresh_if_due(self) -> None:
        if self._access_expires and self._refresh_token and self._access_expires < time.time() + 60:
            try:
                self.refresh_tokens()
            except ReauthorizeRequired:
                raise
            except PlatformError as exc:  # a transient failure: try the old token anyway
                log.info("proactive token refresh failed: %s", type(exc).__name__)

    def refresh_tokens(self, expired: PlatformError | None = None, failed_token: str | None = None) -> None:
        """``pdd.pop.auth.token.refresh``: swap in a new token pair and hand it to ``on_tokens``
        (which persists it). Without a refresh token: :class:`ReauthorizeRequired`.

        ``failed_token`` is the access token the platform refused: if another thread has replaced
        it meanwhile, the new pair is used as it is (refreshing again would expire it under the
        other thread's feet)."""
        used = self._access_token if failed_token is None else failed_token
        with self._token_lock:
            if self._access_token != used:  # another thread refreshed meanwhile
                return
            if not self._refresh_token:
                raise self._reauthorize_error(expired)
            try:
                r = self.call("pdd.pop.auth.token.refresh", {"refresh_token": self._refresh_token},
                              with_token=False)
            except (ReauthorizeRequired, TokenExpired, BadRequest, PermissionDenied) as exc:
                raise self._reauthorize_error(exc) from None
            token = str(r.get("access_token") or "")
            if not token:
                raise self._reauthorize_error(expired)
            new = {
                "access_token": token,
                "refresh_token": str(r.get("refresh_token") or self._refresh_token),
                "access_token_expires_at": _as_int(r.get("expires_at")),
                "refresh_token_expires_at": _as_int(r.get("refresh_token_expires_at")),
            }
            if self.on_tokens is not None:
                self.on_tokens(new)  # persist first: a crash now must not lose the new pair
            self._access_token = new["access_token"]
            self._refresh_token = new["refresh_token"]
            self._access_expires = new["access_token_expires_at"]
            log.info("shop %s: access token refreshed", self.shop_name or self.client_id)

    # -- typed helpers for the APIs dadan uses
    def platform_time(self) -> int:
        """Platform time as Unix seconds (``pdd.time.get``)."""
        r = self.call("pdd.time.get", with_token=False)
        t = r.get("time")
        if isinstance(t, (int, float)):
            return int(t / 1000 if t > 10**11 else t)
        from dadan.core.timeutil import parse_china_time

        try:
            utc = parse_china_time(str(t))
        except ValueError:
            raise PlatformError(tr("pdd.time.get: unreadable time {t!r}", "pdd.time.get：无法识别的时间 {t!r}",
                                   t=t), api="pdd.time.get") from None
        import datetime as dt

        return int(utc.replace(tzinfo=dt.UTC).timestamp())

    def increment_orders(self, start: int, end: int, page: int, page_size: int = 100) -> dict:
        return self.call("pdd.order.number.list.increment.get", {
            "start_updated_at": start, "end_updated_at": end, "is_lucky_flag": 0,
            "order_status": 5, "refund_status": 5, "page": page, "page_size": page_size,
            "use_has_next": "true",
        })

    def order_info(self, order_sn: str) -> dict:
        r = self.call("pdd.order.information.get", {"order_sn": order_sn})
        return r.get("order_info") or {}

    def logistics_companies(self) -> list[dict]:
        r = self.call("pdd.logistics.companies.get")
        return list(r.get("logistics_companies") or [])

    def online_send(self, order_sn: str, logistics_id: int, tracking_number: str,
                    redelivery_type: int | None = None) -> dict:
        return self.call("pdd.logistics.online.send", {
            "order_sn": order_sn, "logistics_id": logistics_id, "tracking_number": tracking_number,
            "redelivery_type": redelivery_type,
        })

    def goods_quantity_update(self, goods_id: str, quantity: int, *, sku_id: str = "", outer_id: str = "",
                              update_type: int = 1) -> dict:
        """``pdd.goods.quantity.update``: set (1) or add/subtract (2) a SKU's stock on the platform,
        named by ``sku_id``, else ``outer_id``."""
        params = {"goods_id": goods_id, "quantity": quantity, "update_type": update_type}
        params.update({"sku_id": sku_id} if sku_id else {"outer_id": outer_id})
        return self.call("pdd.goods.quantity.update", params)

    def decrypt_batch(self, items: list[dict]) -> list[dict]:
        r = self.call("pdd.open.decrypt.batch", {"data_list": items})
        return list(r.get("data_decrypt_list") or [])


def _as_int(v) -> int:
    try:
        v = int(float(v))
    except (TypeError, ValueError):
        return 0
    return v // 1000 if v > 10**11 else v  # milliseconds -> seconds


def _unwrap(api: str, data: dict) -> dict:
    for k, v in data.items():
        if k.endswith("_response") and isinstance(v, dict):
            return v
    raise TransportError(tr("{api}: unexpected answer from the platform", "{api}：平台响应格式异常", api=api),
                         api=api)
