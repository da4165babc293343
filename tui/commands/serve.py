"""``dadan serve``: the same shipping desk in a browser (textual-serve), bound to localhost
unless ``--host`` says otherwise. Each browser tab runs its own ``dadan ui`` process on the same
database."""

from __future__ import annotations

import shlex
import sys


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the desk in a browser, on localhost by default (在浏览器中使用)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--public-url", default=None, help="the URL browsers use, when behind a proxy")
    p.set_defaults(func=run)


def command_line() -> str:
    """The command each browser session runs: this Python, this dadan."""
    return f"{shlex.quote(sys.executable)} -m dadan.tui ui"


def run(args, ctx) -> int:
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr

    try:
        from textual_serve.server import Server
    except ImportError:
        raise DadanError(tr("textual-serve is not installed: pip install 'dadan[serve]'",
                            "未安装 textual-serve：pip install 'dadan[serve]'")) from None
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(tr("warning: serving on {h}: anyone who can reach this address can use the desk",
                 "警告：在 {h} 上提供服务：能访问此地址的人都能使用打单", h=args.host), file=sys.stderr)
    Server(command_line(), host=args.host, port=args.port, title="dadan 打单", public_url=args.public_url).serve()
    return 0
