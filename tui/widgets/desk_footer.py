"""The desk's footer: Textual's footer of key bindings, showing only the keys that fit whole.

Textual's footer lays every key out in one row and lets the command-palette key (docked right)
cover whatever does not fit, so a narrow terminal showed ``f▏^p Commands``. Here the keys are
kept in the screen's order (the screen's own keys first, the app's after) and the trailing ones
that would not fit whole are hidden; every key is still in F1 help and the command palette.

Textual rebuilds the footer at every move of the focus (the filter bar's Enter hands the focus
to the table). Rebuilding a dozen key widgets lays the whole screen out again, the cost of a
keystroke on a weak terminal, and it came before the new rows. Here the keys are rebuilt only
when what they show changed, and only once the focus has rested for ``SETTLE_S``: the rows
painted after a key come first, the footer follows."""

from __future__ import annotations

from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer

SETTLE_S = 0.15


class DeskFooter(Footer):
    _shown: tuple | None = None  # what the keys last composed show
    _settle: Timer | None = None

    @property
    def pending(self) -> bool:
        """True while a change of the keys waits for the focus to rest."""
        return self._settle is not None

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(SETTLE_S, self._settled)

    async def _settled(self) -> None:
        self._settle = None
        await self.recompose()

    async def recompose(self) -> None:
        if not self.is_attached:
            return  # removed meanwhile (a language switch rebuilds the screen)
        shown = self._showing()
        if shown == self._shown:
            return
        self._shown = shown
        await super().recompose()
        self.fit_keys()

    def _showing(self) -> tuple:
        """What ``compose`` would show now: each shown key, its text and whether it is enabled."""
        if not self._bindings_ready:
            return ()
        return tuple(
            (binding.key, str(binding.description), binding.action, enabled, str(tooltip),
             binding.group.description if binding.group else None)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show or binding.key == self.app.COMMAND_PALETTE_BINDING
        ) + (self.show_command_palette, self.compact)

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
