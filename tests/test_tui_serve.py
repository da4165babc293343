import asyncio
import socket
import sys

import aiohttp
import pytest
from aiohttp import web

from dadan.tui.cli import build_parser
from dadan.tui.commands import serve


def test_serve_binds_localhost_by_default(monkeypatch):
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 8000
    seen = {}

    class FakeServer:
        def __init__(self, command, host, port, title=None, public_url=None):
            seen.update(command=command, host=host, port=port)

        def serve(self):
            seen["served"] = True

    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    assert serve.run(args, ctx=None) == 0
    assert seen["host"] == "127.0.0.1" and seen["served"] and seen["command"].endswith("-m dadan.tui ui")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _probe(capsys) -> dict:
    """Run the real server on loopback and knock on it as a browser and as other programs would."""
    port = _free_port()
    # a harmless stand-in for `dadan ui`: the test is about who may open the session
    command = f"{sys.executable} -c \"import sys; sys.stdin.buffer.read(1)\""
    server = serve.desk_server(command, host="127.0.0.1", port=port)
    runner = web.AppRunner(await server._make_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    ws_url = f"ws://127.0.0.1:{port}/ws"
    out: dict = {"printed": capsys.readouterr().out, "token": server.token}
    try:
        async with aiohttp.ClientSession() as anon:
            out["no_token"] = (await anon.get(base + "/")).status
            out["wrong_token"] = (await anon.get(base + "/?token=nope")).status
            out["ws_no_token"] = await _ws_status(anon, ws_url, base)
            out["ws_wrong_token"] = await _ws_status(anon, ws_url + "?token=nope", base)
        # a browser keeps cookies of IP-address hosts (aiohttp's jar does only when "unsafe")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            page = await browser.get(f"{base}/?token={server.token}")
            out["page"], out["page_text"] = page.status, await page.text()
            # the browser now holds the page's cookie: a page from elsewhere still cannot get in
            out["ws_evil_origin"] = await _ws_status(browser, ws_url, "http://evil.example")
            out["ws_evil_origin_token"] = await _ws_status(browser, f"{ws_url}?token={server.token}",
                                                           "http://evil.example")
            out["ws_same_origin"] = await _ws_status(browser, ws_url, base)
        async with aiohttp.ClientSession() as other_name:
            r = await other_name.get(f"http://localhost:{port}/?token={server.token}", allow_redirects=False)
            out["other_name"], out["other_name_to"] = r.status, r.headers.get("Location")
    finally:
        await runner.cleanup()
    return out


async def _ws_status(session: aiohttp.ClientSession, url: str, origin: str):
    try:
        ws = await session.ws_connect(url, origin=origin, timeout=aiohttp.ClientWSTimeout(ws_close=5))
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    await ws.close()
    return 101


def test_serve_needs_the_token_and_the_served_origin(capsys):
    """Issue #14 item 13: over real HTTP and WebSocket on loopback, nobody without the printed
    token, and no page from another origin, gets a desk session."""
    pytest.importorskip("textual_serve")
    r = asyncio.run(_probe(capsys))
    assert f"/?token={r['token']}" in r["printed"] and len(r["token"]) >= 24
    assert r["no_token"] == 403 and r["wrong_token"] == 403
    assert r["ws_no_token"] == 403 and r["ws_wrong_token"] == 403
    assert r["ws_evil_origin"] == 403 and r["ws_evil_origin_token"] == 403
    assert r["page"] == 200 and "data-session-websocket-url" in r["page_text"]
    assert r["ws_same_origin"] == 101
    assert r["other_name"] == 302 and r["other_name_to"].endswith(f"/?token={r['token']}")


def test_each_server_has_its_own_random_token():
    a = serve.desk_server("true", host="127.0.0.1", port=8000)
    b = serve.desk_server("true", host="127.0.0.1", port=8000)
    assert a.token != b.token and a.url == f"http://127.0.0.1:8000/?token={a.token}"
