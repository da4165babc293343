"""The errors of a spreadsheet import: a bad file, a question the caller must answer (which
sheet, which columns), and one bad cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual

if TYPE_CHECKING:
    from dadan.core.spreadsheets.layout import Layout


class SpreadsheetError(DadanError):
    TITLE = Bilingual("Import error", "导入错误")


class NeedsSheet(SpreadsheetError):
    """The workbook has several sheets and none (or more than one) is clearly the orders
    sheet: the caller must pick one (``--sheet NAME`` or the TUI's sheet list)."""

    TITLE = Bilingual("Choose a sheet", "请选择工作表")

    def __init__(self, message: str, sheets: list[str]):
        super().__init__(message)
        self.sheets = sheets


class NeedsMapping(SpreadsheetError):
    """The columns were not recognised: the caller must map them (the TUI's mapping step, or
    ``--mapping NAME`` with a saved mapping)."""

    TITLE = Bilingual("Unknown columns", "无法识别的列")

    def __init__(self, message: str, layout: "Layout"):
        super().__init__(message)
        self.layout = layout


class CellError(Exception):
    """One cell's value is not acceptable (message is user-facing)."""
