"""The format of a file a command writes (``--out``) where it may be text or a spreadsheet: told
by ``--format`` or the name's ending, one rule for ``dadan report`` and ``dadan wave``."""

from __future__ import annotations

from pathlib import Path

ENDINGS = {"csv": "csv", "xlsx": "xlsx", "txt": "text", "text": "text", "": "text"}


def text_or_sheet_format(fmt: str | None, out: str | None) -> str:
    """``fmt`` when given, else the format ``out``'s ending names (text without one); an ending
    that names another kind of file (``.pdf``) is refused in one line."""
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr

    if fmt:
        return fmt
    if not out:
        return "text"
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix not in ENDINGS:
        raise DadanError(tr("cannot write .{s}: name a .xlsx, .csv or .txt file (or give --format)",
                            "无法写入 .{s} 文件：请用 .xlsx、.csv 或 .txt 文件名（或指定 --format）", s=suffix))
    return ENDINGS[suffix]
