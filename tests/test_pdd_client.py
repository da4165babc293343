"""The signed client: signature test vector, typed errors, retries, token refresh."""

from __future__ import annotations

import hashlib
import logging

import pytest

from dadan.core.models import Shop
from dadan.core.platform import pdd
from dadan.core.platform.pdd import (
    PddClient,
    PlatformBusy,
    RateLimited,
    ReauthorizeRequired,
    RetryPolicy,
    TransportError,
    error_from_response,
    sign,
    sign_string,
)
from dadan.core.platform.sync import sync_shop
from tests.test_sync_support import FAST_RETRY, env, make_env  # noqa: F401

VECTOR = ("testSecretaccess_tokenasd78172s8ds9a921j9qqwda12312w1w21211client_id1data_typeXMLorder_status1"
          "page1page_size10timestamp1480411125typepdd.order.number.list.gettestSecret")


def test_signature_matches_published_vector():
    params = {"type": "pdd.order.number.list.get", "client_id": "1", "data_type": "XML",
              "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211", "timestamp": "1480411125",
              "order_status": "1", "page": "1", "page_size": "10", "sign": "ignored"}
    assert sign_string(params, "testSecret") == VECTOR
    assert hashlib.md5(VECTOR.encode()).hexdigest().upper() == "E4DE3ED21002510DED352819E7AE6775"
    assert sign(params, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def test_object_params_are_json_encoded_once():
    c = PddClient(client_id="1", client_secret="s", access_token="t")
    p = c.signed_params("pdd.open.decrypt.batch", {"data_list": [{"data_tag": "x", "encrypted_data": "~a~"}]})
    assert p["data_list"] == '[{"data_tag":"x","encrypted_data":"~a~"}]'
    assert p["sign"] == sign(p, "s")


def test_error_response_decoded_into_typed_errors():
    e = error_from_response("pdd.x", {"error_code": 52101, "error_msg": "限流", "sub_msg": "too many",
                                      "request_id": "r1", "sub_code": "isv.limit"})
    assert isinstance(e, RateLimited) and e.retryable
    assert (e.error_code, e.sub_msg, e.request_id, e.sub_code) == (52101, "too many", "r1", "isv.limit")
    assert "52101" in e.message and "r1" in e.message
    assert isinstance(error_from_response("a", {"error_code": 52001}), PlatformBusy)
    assert isinstance(error_from_response("a", {"error_code": 20032}), ReauthorizeRequired)
    assert type(error_from_response("a", {"error_code": 99999, "error_msg": "x"})) is pdd.PlatformError


def test_client_repr_and_logs_never_show_secrets(env, caplog):
    caplog.set_level(logging.DEBUG)
    c = env.client()
    secret, token = env.platform.client_secret, env.mall.access_token
    env.platform.faults.queue.extend(["busy", "ratelimit"])
    c.logistics_companies()
    text = repr(c) + repr(env.store.get("shop-a")) + caplog.text
    assert secret not in text and token not in text
    assert "retry" in caplog.text


def test_busy_and_rate_limit_are_retried_with_growing_backoff(env):
    sleeps = []
    env.factory.sleep = sleeps.append
    env.factory.retry = RetryPolicy(attempts=6, base_seconds=0.5, rate_limit_base_seconds=1.0, max_seconds=20)
    c = env.client()
    env.platform.faults.queue.extend(["ratelimit", "ratelimit", "ratelimit", "busy"])
    assert c.logistics_companies()
    assert len(sleeps) == 4
    # rate limits: equal jitter in [cap/2, cap] with cap 1, 2, 4 s
    assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2 and 2 <= sleeps[2] <= 4
    assert 2 <= sleeps[3] <= 4  # busy, 4th attempt: cap 0.5 * 2**3


def test_retries_give_up_with_a_typed_error(env):
    env.factory.sleep = lambda s: None
    env.factory.retry = RetryPolicy(attempts=3)
    c = env.client()
    env.platform.faults.queue.extend(["busy"] * 5)
    with pytest.raises(PlatformBusy) as ei:
        c.logistics_companies()
    assert ei.value.error_code == 52001 and ei.value.request_id


@pytest.mark.parametrize("fault", ["timeout", "http500", "truncated", "reset"])
def test_transport_faults_are_typed_and_retried(env, fault):
    c = env.client()
    env.platform.faults.queue.append(fault)
    assert len(c.logistics_companies()) == 10  # retried through
    env.factory.retry = RetryPolicy(attempts=1)
    c = env.client()
    env.platform.faults.queue.append(fault)
    with pytest.raises(TransportError) as ei:
        c.logistics_companies()
    assert ei.value.title and ei.value.message


def test_bad_signature_means_reauthorise(env):
    c = PddClient(client_id=env.platform.client_id, client_secret="wrong", access_token=env.mall.access_token,
                  gateway_url=env.server.url, retry=FAST_RETRY)
    with pytest.raises(ReauthorizeRequired) as ei:
        c.logistics_companies()
    assert ei.value.error_code == 20004


def test_expired_token_is_refreshed_and_persisted(env):
    old = env.mall.access_token
    c = env.client()
    env.platform.expire_token(old)
    assert c.logistics_companies()
    creds = env.store.get("shop-a")
    assert creds.access_token == env.mall.access_token != old
    assert creds.refresh_token == env.mall.refresh_token
    assert creds.access_token_expires_at > 0
    assert env.platform.requests["pdd.pop.auth.token.refresh"] == 1
    # a new client reads the refreshed pair
    assert env.client().logistics_companies()
    assert env.platform.requests["pdd.pop.auth.token.refresh"] == 1
    assert (env.paths.credentials_file.stat().st_mode & 0o777) == 0o600


def test_expired_token_mid_sync_refreshes_and_sync_completes(env):
    env.platform.generate_orders(env.mall, 50, spread_hours=20)
    env.platform.faults.queue.append(("expire_token", "pdd.order.number.list.increment.get"))
    from tests.test_sync_support import sync

    r = sync(env)
    assert r.ok, r.error
    assert Shop.get_by_id(env.shop.id).auth_state == "ok"


def test_expired_token_without_refresh_token_sets_reauthorize_state(tmp_path):
    e = make_env(tmp_path, refresh=False)
    try:
        e.platform.expire_token(e.mall.access_token)
        shop = Shop.get_by_id(e.shop.id)
        with e.client() as c:
            r = sync_shop(shop, c, e.settings)
        assert not r.ok and r.reauthorize
        assert "re-authorise" in r.error
        shop = Shop.get_by_id(e.shop.id)
        assert shop.auth_state == "reauthorize" and shop.last_sync_ok is False
        assert shop.sync_cursor is None
    finally:
        e.server.stop()


def test_revoked_refresh_token_sets_reauthorize_state(env):
    env.platform.expire_token(env.mall.access_token)
    env.platform.revoke_refresh(env.mall)
    from tests.test_sync_support import sync

    r = sync(env)
    assert r.reauthorize and Shop.get_by_id(env.shop.id).auth_state == "reauthorize"


def test_token_expiring_right_after_a_refresh_is_refreshed_once_more(env):
    """The platform expired the fresh token at once (issue #14 item 12): the refresh token is still
    valid, so the client refreshes again instead of declaring the shop unauthorised."""
    env.platform.generate_orders(env.mall, 20, spread_hours=20)
    api = "pdd.order.number.list.increment.get"
    env.platform.faults.queue.extend([("expire_token", api), ("expire_token", api)])
    from tests.test_sync_support import sync

    r = sync(env)
    assert r.ok and not r.reauthorize, r.error
    assert env.platform.requests["pdd.pop.auth.token.refresh"] == 2
    assert Shop.get_by_id(env.shop.id).auth_state == "ok"
    assert env.store.get("shop-a").access_token == env.mall.access_token


def test_a_refresh_by_another_thread_is_not_repeated(env):
    """A call that failed with a token another thread has already replaced retries with the new
    token; it does not refresh (and so expire) the new pair again."""
    c = env.client()
    old = env.mall.access_token
    env.platform.expire_token(old)
    c.refresh_tokens()  # "another thread" refreshes first
    assert env.platform.requests["pdd.pop.auth.token.refresh"] == 1
    c.refresh_tokens(failed_token=old)  # the late thread's refresh for the token it used
    assert env.platform.requests["pdd.pop.auth.token.refresh"] == 1
    assert c.logistics_companies()
