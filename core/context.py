"""The application context shared by the CLI and the TUI: where files live, the settings,
the open database."""

from __future__ import annotations

from dataclasses import dataclass, field

from dadan.core.config import Paths, Settings, get_paths, load_settings
from dadan.core.i18n import detect_language, set_language


@dataclass
class Context:
    paths: Paths
    settings: Settings
    _db: object = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        from dadan.core.db import default_url

        return self.settings.database_url or default_url(self.paths.database_file)

    def open_db(self):
        """Open (and migrate) the database once; later calls return the same one."""
        if self._db is None:
            from dadan.core.db import open_database

            self._db = open_database(self.database_url)
        return self._db

    @property
    def operator(self) -> str:
        return self.settings.operator_name()


def load_context(paths: Paths | None = None, settings: Settings | None = None) -> Context:
    paths = (paths or get_paths()).ensure()
    settings = settings or load_settings(paths)
    set_language(detect_language(settings.language))
    return Context(paths=paths, settings=settings)
