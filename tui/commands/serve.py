"""``dadan serve``: the same shipping desk in a browser (textual-serve), bound to localhost
unless ``--host`` says otherwise. Each browser tab runs its own ``dadan ui`` process on the same
database.

Only the person who started the server can use it (:class:`DeskServer`): a random token is
printed at start in the URL to open (``http://127.0.0.1:8000/?token=...``, as notebook servers
do); the page is refused without it, and the page sets an HTTP-only cookie that the desk's
WebSocket must carry (or the same ``token`` in its query). The WebSocket must also come from the
served origin, so a web page from elsewhere open in a local browser cannot drive the desk.
"""

from __future__ import annotations

import hmac
import secrets
import shlex
import sys
from urllib.parse import urlsplit

from dadan.core.errors import DadanError
from dadan.core.i18n import tr

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the desk in a browser, on localhost by default (在浏览器中使用)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--public-url", default=None, help="the URL browsers use, when behind a proxy")
    p.set_defaults(func=run)


def command_line() -> str:
    """The command each browser session runs: this Python, this dadan."""
    return f"{shlex.quote(sys.executable)} -m dadan.tui ui"


def _netloc(host: str, port: int) -> str:
    name = f"[{host}]" if ":" in host else host
    return f"{name}:{port}"


def served_origins(host: str, port: int, public_url: str | None) -> set[str]:
    """The origins a browser page of this server has: the public URL's, and for a loopback
    bind every loopback name at the port."""
    names = {host}
    if host in LOOPBACK_HOSTS:
        names |= set(LOOPBACK_HOSTS)
    origins = {f"http://{_netloc(n, port)}" for n in names if n not in WILDCARD_HOSTS}
    if public_url:
        u = urlsplit(public_url)
        origins.add(f"{u.scheme}://{u.netloc}")
    return origins


def _server_class():
    try:
        from textual_serve.server import Server
    except ImportError:
        raise DadanError(tr("textual-serve is not installed: pip install 'dadan[serve]'",
                            "未安装 textual-serve：pip install 'dadan[serve]'")) from None
    return Server


def desk_server(command: str, *, host: str, port: int, public_url: str | None = None, token: str | None = None):
    """A textual-serve server that asks for ``token`` (random unless given) and the served
    origin (see the module doc)."""
    from aiohttp import web

    Server = _server_class()

    class DeskServer(Server):
        def __init__(self) -> None:
            super().__init__(command, host=host, port=port, title="dadan 打单", public_url=public_url)
            self.token = token or secrets.token_urlsafe(24)
            self.cookie_name = f"dadan_token_{port}"
            self.origins = served_origins(host, port, public_url)

        @property
        def url(self) -> str:
            """The URL to open (it carries the token)."""
            return f"{self.public_url}/?token={self.token}"

        def _token_ok(self, given: str | None) -> bool:
            return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

        def _origin_ok(self, request: web.Request) -> bool:
            origin = request.headers.get("Origin")
            if origin is None:
                return True  # not a browser (browsers always send Origin on a WebSocket)
            if origin in self.origins:
                return True
            return host in WILDCARD_HOSTS and origin == f"{request.scheme}://{request.host}"

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()

            @web.middleware
            async def guard(request: web.Request, handler):
                if request.path.startswith("/static/"):
                    return await handler(request)  # the page's scripts and fonts: nothing private
                if request.path == "/":
                    if not self._token_ok(request.query.get("token")):
                        raise web.HTTPForbidden(text=tr(
                            "dadan serve: open the URL with the token that `dadan serve` printed",
                            "dadan serve：请打开 `dadan serve` 打印的带令牌的地址"))
                    if public_url is None and request.host != urlsplit(self.public_url).netloc:
                        raise web.HTTPFound(self.url)  # the page's WebSocket goes to the served host: the cookie too
                    response = await handler(request)
                    response.set_cookie(self.cookie_name, self.token, httponly=True, samesite="Strict", path="/")
                    return response
                if not self._origin_ok(request):
                    raise web.HTTPForbidden(text="dadan serve: cross-origin request refused")
                given = request.cookies.get(self.cookie_name) or request.query.get("token")
                if not self._token_ok(given):
                    raise web.HTTPForbidden(text="dadan serve: token required")
                return await handler(request)

            app.middlewares.append(guard)
            return app

        async def on_startup(self, app: web.Application) -> None:
            print(tr("dadan serve: open {u}", "dadan serve：请打开 {u}", u=self.url), flush=True)
            print(tr("(the token in the URL is the key to the desk: do not share it; Ctrl+C to stop)",
                     "（地址中的令牌就是打单的钥匙：请勿外传；Ctrl+C 停止）"), flush=True)

    return DeskServer()


def run(args, ctx) -> int:
    server = desk_server(command_line(), host=args.host, port=args.port, public_url=args.public_url)
    if args.host not in LOOPBACK_HOSTS:
        print(tr("warning: serving on {h}: anyone who can reach this address and has the token can use the desk",
                 "警告：在 {h} 上提供服务：能访问此地址且持有令牌的人都能使用打单", h=args.host), file=sys.stderr)
    server.serve()
    return 0
