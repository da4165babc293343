"""Column mappings saved in the database: a name, the header signature of the files it fits,
and {field: header text}."""

from __future__ import annotations

import json
from typing import Sequence

from dadan.core.db import write
from dadan.core.i18n import tr
from dadan.core.models import ColumnMapping
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.fields import header_signature, resolve_mapping


class SavedMappings:
    """The saved column mappings of the open database. :func:`layout.prepare` looks mappings up
    here only when the caller hands it one (parsing alone never touches the database)."""

    def save(self, name: str, headers: Sequence[str], mapping: dict[str, int | str]) -> None:
        """Save (or replace) a column mapping under ``name`` for files with these headers."""
        name = name.strip()
        if not name:
            raise SpreadsheetError(tr("a mapping needs a name", "列映射需要一个名称"))
        by_header = {k: headers[v] for k, v in resolve_mapping(headers, mapping).items()}
        sig = header_signature(headers)
        with write():
            ColumnMapping.delete().where(ColumnMapping.name == name).execute()
            ColumnMapping.create(name=name, header_signature=sig,
                                 mapping=json.dumps(by_header, ensure_ascii=False))

    def load(self, name: str) -> dict[str, str] | None:
        """The mapping saved under ``name`` (None: no such mapping)."""
        row = ColumnMapping.get_or_none(ColumnMapping.name == name)
        return json.loads(row.mapping) if row else None

    def find(self, headers: Sequence[str]) -> tuple[str, dict[str, str]] | None:
        """A saved mapping for files with exactly these headers (in any order), newest first."""
        row = (ColumnMapping.select().where(ColumnMapping.header_signature == header_signature(headers))
               .order_by(ColumnMapping.created_at.desc(), ColumnMapping.id.desc()).first())
        return (row.name, json.loads(row.mapping)) if row else None

    def all(self) -> list[tuple[str, dict[str, str]]]:
        """Every saved mapping, by name."""
        return [(r.name, json.loads(r.mapping)) for r in ColumnMapping.select().order_by(ColumnMapping.name)]
