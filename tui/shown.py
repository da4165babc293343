"""File and platform text as a screen shows it: control characters made visible
(:func:`dadan.core.visible.visible`) and Rich markup escaped, so a cell can neither drive the
terminal nor style the screen."""

from __future__ import annotations

from rich.markup import escape

from dadan.core.visible import visible


def shown(text) -> str:
    """``text`` safe to put in a Static, a table cell or a notification."""
    return escape(visible(text))
