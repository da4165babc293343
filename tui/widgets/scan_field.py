"""A text field for a barcode scanner: each Enter hands over exactly the characters typed
before it, and empties the field at once.

A scanner types a code and Enter a few milliseconds apart, then the next code; a terminal may
hand a whole burst to the app together. An ``Input`` submits on its ``enter`` key binding,
which runs only once the key has bubbled back up to the app, after the keys that followed it
have already been typed into the field: two codes would arrive glued together as one. Here the
field takes Enter itself, in turn with the characters, submits what it holds and empties
itself before the next key is read, so every scan arrives whole, once, in order."""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class ScanField(Input):
    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            await self.action_submit()
            return
        await super()._on_key(event)

    async def action_submit(self) -> None:
        value = self.value
        self.value = ""
        self.post_message(self.Submitted(self, value))
