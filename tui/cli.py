"""``dadan`` command line: the TUI by default, headless subcommands for everything else.

Each subcommand lives in its own module under ``tui/commands/`` exposing
``register(subparsers)``; the module adds its parser and sets ``func=run(args, ctx)``.
Command modules import heavy libraries inside ``run`` so that ``dadan --help`` stays fast.
Every expected failure is a :class:`DadanError` (printer errors included) and is printed as
``dadan: title: message``, one line in the current language, with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from dadan.core.errors import DadanError

COMMAND_MODULES = [
    "dadan.tui.commands.ui",
    "dadan.tui.commands.demo",
    "dadan.tui.commands.sync",
    "dadan.tui.commands.render",
    "dadan.tui.commands.serve",
    "dadan.tui.commands.importing",
    "dadan.tui.commands.export",
    "dadan.tui.commands.report",
    "dadan.tui.commands.print",
    "dadan.tui.commands.waybills",
    "dadan.tui.commands.archive",
    "dadan.tui.commands.goods",
    "dadan.tui.commands.stock",
    "dadan.tui.commands.wave",
    "dadan.tui.commands.split",
    "dadan.tui.commands.handover",
    "dadan.tui.commands.backup",
    "dadan.tui.commands.db",
    "dadan.tui.commands.audit",
    "dadan.tui.commands.operators",
    "dadan.tui.commands.release",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage + message, exit 2 (argparse's behaviour, made explicit)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dadan", description="打单 dadan — the shipping desk for Pinduoduo orders")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"dadan {version('dadan')}")
        except PackageNotFoundError:
            print("dadan (not installed)")
        return 0
    if not getattr(args, "func", None):
        args = parser.parse_args(["ui", *(argv or [])])
    try:
        from dadan.core.context import load_context

        ctx = load_context()
        rc = args.func(args, ctx)
        return int(rc or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except DadanError as exc:
        from dadan.core.visible import visible

        print(f"dadan: {visible(exc.title)}: {visible(exc.message)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file the command could not read or write, for a reason it did not foresee
        from dadan.core.i18n import tr
        from dadan.core.visible import visible

        name = f" ({visible(str(exc.filename))[:120]})" if exc.filename else ""
        print(f"dadan: {tr('File error', '文件错误')}: {visible(exc.strerror or str(exc))}{name}", file=sys.stderr)
        return 1
    except Exception as exc:  # a storage fault outside a write transaction: one line too
        from dadan.core.db import database_fault
        from dadan.core.visible import visible

        fault = database_fault(exc)
        if fault is None:
            raise
        print(f"dadan: {fault.title}: {visible(fault.message)}", file=sys.stderr)
        return 1


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
