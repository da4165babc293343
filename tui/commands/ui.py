"""``dadan`` / ``dadan ui``: the full-screen shipping desk."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("ui", help="open the shipping desk (打开打单界面)")
    p.add_argument("--no-sync", action="store_true", help="do not run background sync and ship confirmations")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from dadan.tui.app import DadanApp

    ctx.open_db()  # migrate / fail before the screen takes over the terminal
    DadanApp(ctx, background=not getattr(args, "no_sync", False)).run()
    return 0
