"""One-key ship (一键发货) from the home screen: count the printed parcels of the view or the
selection (the same selection ``p`` prints), ask, then confirm their shipment with
:func:`dadan.core.waybills.shipping.ship_printed` in a thread worker and say how it went:
"N shipped, M skipped: first reason". Blocked or already shipped orders are skipped by the core
with the reason."""

from __future__ import annotations

import datetime as dt

from dadan.core.i18n import tr
from dadan.core.orders.selection import Selection


class ShipRunner:
    """The one-key ship of one screen (``node``); the dialog and the workers belong to its app."""

    def __init__(self, node, *, done=None) -> None:
        self.node = node
        self.done = done  # called after a ship ran (the screen re-reads its rows)
        self.running = False

    @property
    def app(self):
        return self.node.app

    def open(self, selection: Selection, *, now: dt.datetime, tz: str) -> None:
        if self.running:
            self.app.bell()
            return
        self.running = True
        self.app.run_worker(lambda: self._count(selection, now, tz), thread=True, exclusive=True,
                            exit_on_error=False, group="ship-count", description="one-key ship: count")

    def _count(self, selection: Selection, now: dt.datetime, tz: str) -> None:
        from dadan.core.db import connection
        from dadan.core.waybills.shipping import shippable

        try:
            with connection():
                ids = selection.order_ids(tz=tz, now=now)
                printed = shippable(ids)
        except BaseException:
            self.app.call_from_thread(self._stop)
            raise
        self.app.call_from_thread(self._ask, printed)

    def _stop(self) -> None:
        self.running = False

    def _ask(self, ids: list[int]) -> None:
        from dadan.tui.widgets.desk_confirm import DeskConfirm

        if not ids:
            self.running = False
            self.app.bell()
            self.app.notify(tr("No printed parcel to ship here.", "这里没有已打印待发货的包裹。"), severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                self.running = False
                return
            self.app.run_worker(lambda: self._ship(ids), thread=True, exclusive=True, exit_on_error=False,
                                group="ship", description="one-key ship")

        self.app.push_screen(DeskConfirm(
            tr("Ship {n} printed parcel(s) now?", "立即发货 {n} 个已打印的包裹？", n=len(ids)),
            hint=tr("Each ships with its waybill number; blocked or shipped orders are skipped with the reason.",
                    "每个包裹用其面单号发货；被拦截或已发货的订单会跳过并说明原因。")), answered)

    def _ship(self, ids: list[int]) -> None:
        from dadan.core.db import connection
        from dadan.core.waybills.shipping import ship_printed

        actor = self.app.ctx.operator
        try:
            with connection():
                report = ship_printed(ids, actor=actor)
        except BaseException:
            self.app.call_from_thread(self._stop)
            raise
        self.app.call_from_thread(self._shipped, report)

    def _shipped(self, report) -> None:
        self.running = False
        text = tr("{n} shipped, {m} skipped", "已发货 {n} 单，跳过 {m} 单", n=len(report.shipped), m=len(report.skipped))
        if report.skipped:
            sn, why = report.skipped[0]
            text += tr(": {sn} {why}", "：{sn} {why}", sn=sn, why=why)
        self.app.notify(text, title=tr("One-key ship", "一键发货"), severity="warning" if report.skipped else "information",
                        timeout=10, markup=False)
        if self.done is not None:
            self.done()
