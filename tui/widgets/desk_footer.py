"""The desk's footer: Textual's footer of key bindings, showing only the keys that fit whole.

Textual's footer lays every key out in one row and lets the command-palette key (docked right)
cover whatever does not fit, so a narrow terminal showed ``f▏^p Commands``. Here the keys are
kept in the screen's order (the screen's own keys first, the app's after) and the trailing ones
that would not fit whole are hidden; every key is still in F1 help and the command palette."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Footer


class DeskFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self.fit_keys()

    def on_resize(self, event) -> None:
        self.fit_keys()

    def fit_keys(self) -> None:
        """Hide the trailing keys that do not fit whole beside the command-palette key."""
        width = self.size.width
        if not width:
            return
        keys = list(self.query_children("FooterKey"))  # Textual's key widget (not exported)
        palette = [k for k in keys if k.has_class("-command-palette")]
        room = width - sum(_cells(k) + 2 for k in palette)  # its border and right padding
        used = 0
        for key in keys:
            if key in palette:
                continue
            cells = _cells(key) + (1 if self.compact else 0)
            fits = used + cells <= room
            key.display = fits
            if fits:
                used += cells
            else:
                room = used  # keys stay in order: none after the first that does not fit


def _cells(key: Widget) -> int:
    return key.render().cell_len
