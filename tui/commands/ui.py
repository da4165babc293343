"""``dadan`` / ``dadan ui``: the full-screen shipping desk."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("ui", help="open the shipping desk (打开打单界面)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from tui.app import DadanApp

    ctx.open_db()  # migrate / fail before the screen takes over the terminal
    DadanApp(ctx).run()
    return 0
