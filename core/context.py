"""The application context shared by the CLI and the TUI: where files live, the settings,
the open database."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from dadan.core.config import Paths, Settings, get_paths, load_settings
from dadan.core.i18n import detect_language, set_language


@dataclass
class Context:
    paths: Paths
    settings: Settings
    _db: object = field(default=None, repr=False)
    signed_in: str | None = field(default=None, repr=False)  # the operator (None: not resolved yet)

    @property
    def database_url(self) -> str:
        from dadan.core.db import default_url

        return self.settings.database_url or default_url(self.paths.database_file)

    def open_db(self, *, make: bool = True):
        """Open (and migrate) the database once; later calls return the same one. ``make``
        False: a SQLite file that does not exist yet is not made; an empty database in memory
        stands for it (a dry run that writes nothing, not even a new file)."""
        if self._db is None:
            from dadan.core.db import open_database

            url = self.database_url
            if not make and url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///"):]):
                url = "sqlite:///:memory:"
            self._db = open_database(url, data_dir=self.paths.data_dir)
        return self._db

    @property
    def operator(self) -> str:
        """Who acts: the signed-in operator (the desk sets it, :meth:`sign_in_as`). On the command
        line it is resolved once: with no operator in the database (open mode) the configured or
        OS user name; else ``DADAN_OPERATOR`` with its PIN (``DADAN_PIN``, or asked on a
        terminal), else the operator mapped to the OS login, else the OS login itself (which
        core then refuses every permission, saying how to sign in)."""
        if self.signed_in is None:
            self.signed_in = self._cli_operator()
        return self.signed_in

    def sign_in_as(self, name: str) -> None:
        self.signed_in = name

    def _cli_operator(self) -> str:
        from dadan.core import operators as ops
        from dadan.core.i18n import tr

        self.open_db()
        if not ops.has_operators():
            return self.settings.operator_name()
        name = os.environ.get("DADAN_OPERATOR", "").strip()
        if name:
            pin = os.environ.get("DADAN_PIN")
            if pin is None:
                if not sys.stdin.isatty():
                    raise ops.SignInError(tr("DADAN_OPERATOR={n} needs a PIN: set DADAN_PIN or run in a terminal",
                                             "DADAN_OPERATOR={n} 需要 PIN 码：请设置 DADAN_PIN 或在终端中运行", n=name))
                import getpass

                pin = getpass.getpass(tr("PIN for {n}: ", "{n} 的 PIN 码：", n=name))
            o = self.settings.operators
            return ops.sign_in(name, pin, attempts=o.pin_attempts, lockout_seconds=o.lockout_seconds).name
        login = os_login()
        mapped = ops.operator_for_os_user(login)
        return mapped.name if mapped is not None else login


def os_login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database entry in some containers
        return ""


def load_context(paths: Paths | None = None, settings: Settings | None = None) -> Context:
    paths = (paths or get_paths()).ensure()
    settings = settings or load_settings(paths)
    set_language(detect_language(settings.language))
    return Context(paths=paths, settings=settings)
