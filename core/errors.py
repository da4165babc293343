"""dadan's error hierarchy. Every expected failure is one of these: the CLI prints
``title: message`` and exits non-zero, the TUI opens an error modal. Nothing else should
reach a user as a traceback."""

from __future__ import annotations


class DadanError(Exception):
    title = "Error"

    def __init__(self, message: str, title: str | None = None):
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class ConfigError(DadanError):
    title = "Configuration error"


class DatabaseError(DadanError):
    title = "Database error"


class QuerySyntaxError(DadanError):
    """A filter expression that does not parse. ``position`` is the 0-based character
    offset of the bad token, ``token`` its text."""

    title = "Filter error"

    def __init__(self, message: str, position: int = 0, token: str = "", source: str = ""):
        super().__init__(message)
        self.position = position
        self.token = token
        self.source = source

    def pointer(self) -> str:
        """The query with a caret under the bad token, for CLI output."""
        return f"{self.source}\n{' ' * self.position}^{'~' * max(0, len(self.token) - 1)}"


class NotFound(DadanError):
    title = "Not found"


class BlockedOrder(DadanError):
    title = "Blocked order"
