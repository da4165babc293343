"""The barcode scanner of the home (order) screen: the scan indicator plus what drives it.

The scan field is always ready: a fast burst of code characters ending with Enter (or a pause)
is an order or tracking number; a person's hotkeys keep working
(:class:`~dadan.tui.widgets.scan_burst.BurstReader` tells them apart by timing). The screen
hands every key it sees to :meth:`HomeScanner.key` (a widget only sees keys while focused);
held keys that turn out to be a person's are replayed as the screen's hotkeys. A complete code
is looked up in a thread worker; the answer is announced with
:class:`~dadan.tui.messages.OrderScanned` (the screen opens the order). A code that matches no
order warns loudly here (error colours, crosses, the bell) until the next key or
``SCAN_WARN_SECONDS``. While a text field has focus the scanner is off (it watches the
screen's focus): typing goes there.
"""

from __future__ import annotations

import time

from textual import events, on, work
from textual.widgets import Input
from textual.worker import Worker, WorkerState, get_current_worker

from dadan.core.i18n import tr
from dadan.tui.messages import OrderScanned
from dadan.tui.widgets.scan_burst import BurstReader, ScanIndicator, Step

SCAN_WARN_SECONDS = 15.0  # a "not found" stays on the info line this long (or until the next key)
STARVED_GRACE_S = 1.0  # how long after its last key a burst waits for keys a starved app has not read


class HomeScanner(ScanIndicator):
    """``scan ready`` at the end of the info line, and the reader behind it."""

    def __init__(self, ctx, **kwargs) -> None:
        super().__init__(**kwargs)
        ui = ctx.settings.ui
        self.ctx = ctx
        self._burst = BurstReader(ui.scan_gap_ms / 1000, ui.scan_min_length)
        self._burst_timer = None
        self._burst_due_at = 0.0  # when the armed burst timer should fire
        self._warn_timer = None
        self._pending = False  # a scanned code is being looked up
        self.last_key = 0.0  # monotonic time of the last key the screen saw (tui.change_watch)

    def on_mount(self) -> None:
        self.show_idle()
        self.watch(self.screen, "focused", self._focus_moved, init=False)

    def _focus_moved(self, _focused) -> None:
        """Into a text field: ``scan off``; out of it: ``scan ready`` (after the repaint)."""
        self.show_idle()
        self.call_after_refresh(self.show_idle)

    def _typing(self) -> bool:
        """A text field has focus: keys go there, not to the scanner or the hotkeys."""
        return isinstance(self.screen.focused, Input)

    async def key(self, event: events.Key) -> None:
        """A key the screen saw (after the focused widget, before its non-priority bindings):
        held keys are stopped here, so no hotkey sees them."""
        self.last_key = time.monotonic()
        if self._typing():
            return
        if self._warn_timer is not None:  # the next key clears a "not found"
            self._clear_warning()
        if event.key == "enter" and self._pending:
            event.prevent_default()  # a scanner's Enter while its code is looked up: the scan
            event.stop()  # opens the order, this Enter must not open the row under the cursor
            return
        step = self._burst.feed(event.key, event.character, event.time, enter=event.key == "enter")
        if not step.passes:
            event.prevent_default()
            event.stop()
        await self._step(step)
        self._arm_burst_timer()

    async def _burst_timeout(self) -> None:
        self._burst_timer = None
        now = time.monotonic()  # the clock of events.Key.time
        if now - self._burst_due_at > self._burst.gap and now - self._burst.last < STARVED_GRACE_S:
            # the timer fired late: the app was starved (a busy machine), and the rest of a scan
            # may already wait in the queue, typed in time; let those keys in before deciding
            self._burst_due_at = now + self._burst.gap
            self._burst_timer = self.set_timer(self._burst.gap, self._burst_timeout)
            return
        step = self._burst.timeout(now)
        if step is None:
            self._arm_burst_timer()
            return
        await self._step(step)

    def _arm_burst_timer(self) -> None:
        if self._burst_timer is not None:
            self._burst_timer.stop()
            self._burst_timer = None
        now = time.monotonic()
        due = self._burst.due(now)
        if due is not None:
            self._burst_due_at = now + due
            self._burst_timer = self.set_timer(due, self._burst_timeout)

    async def _step(self, step: Step) -> None:
        """Replay held keys as the hotkeys they are, then look a complete code up."""
        screen = self.screen
        if step.replay and self.app.screen is screen:
            active = screen.active_bindings
            for key in step.replay:
                binding = active.get(key)
                if binding is not None and binding.enabled:
                    await self.app.run_action(binding.binding.action, binding.node)
        if step.scan:
            self.show("looking", step.scan)
            self._pending = True
            self._lookup(step.scan)
        elif self._burst.held:
            self.show("reading" if len(self._burst.held) > 1 else "", self._burst.reading)
        else:
            self.show_idle()

    def show(self, state: str, code: str = "") -> None:
        if not state:
            if self.state in ("looking", "warn"):
                return  # a look-up is on its way, or a warning stays for a while
            state = "off" if self._typing() else "ready"
        super().show(state, code)

    def show_idle(self) -> None:
        """``scan ready``, or ``scan off`` while a text field has focus (a warning stays)."""
        if self.is_attached:  # not after a recompose removed it
            self.show("")

    def _clear_warning(self) -> None:
        if self._warn_timer is not None:
            self._warn_timer.stop()
            self._warn_timer = None
        if self.state == "warn":
            super().show("off" if self._typing() else "ready")

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan", description="scan look-up")
    def _lookup(self, code: str) -> None:
        from dadan.core.archive.lookup import archived_note
        from dadan.core.db import connection
        from dadan.core.shipping.scan import lookup, normalise

        code = normalise(code)
        with connection():
            found = lookup(code)
            order_id, sn = (found.order.id, found.order.order_sn) if found is not None else (None, "")
            note = archived_note(code, self.ctx.settings.timezone) if found is None else ""
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._result, code, order_id, sn, note)

    def _result(self, code: str, order_id: int | None, sn: str, note: str = "") -> None:
        """Found: announce it (the screen opens the order; blocked orders too: the detail shows
        why). Not found: a loud warning (error colours, crosses, the bell), nothing else changes;
        ``note`` says when the archive has it."""
        self._pending = False
        if order_id is None:
            super().show("warn", code)
            if self._warn_timer is not None:
                self._warn_timer.stop()
            self._warn_timer = self.set_timer(SCAN_WARN_SECONDS, self._clear_warning)
            if self.ctx.settings.ui.scan_bell:
                self.app.bell()
            self.notify(tr("No order has the number {c}", "没有订单的单号是 {c}", c=code) + (f"; {note}" if note else ""),
                        title=tr("Scan: not found", "扫码：找不到"), severity="error", timeout=8)
        else:
            super().show("off" if self._typing() else "ready")
        self.post_message(OrderScanned(code, order_id, sn))

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        # worker messages do not bubble: hand failures to the app's one error modal
        if event.state == WorkerState.ERROR:
            self._pending = False
            super().show("ready")
            self.app.show_error(event.worker.error)
