"""Tracking entry: type or scan tracking numbers for a selection of orders; the courier is
picked once. Each number goes to the highlighted order (``core.shipping.outbox.assign_tracking``,
which queues the ship confirmation and refuses blocked orders, numbers not shaped like the
courier's and numbers already on another order), then the cursor moves on. Once the courier is
picked, the number field has the focus; a number scanned before it is kept in the field; a scan
that lands on the courier box goes to the number field."""

from __future__ import annotations

from rich.markup import escape
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter


class CourierSelect(Select):
    """The courier box. When its menu closes on a courier it says so (``Picked``, also when the
    courier picked is the one already shown, which changes nothing). Keys typed on the closed
    box (a scan that came before the focus moved on) are not lost and do not open the menu: they
    are the number (``Typed``; ``done`` at its Enter), from a first digit or capital on (a
    lower-case letter first is a hotkey)."""

    class Picked(Message):
        pass

    class Typed(Message):
        def __init__(self, text: str, done: bool) -> None:
            super().__init__()
            self.text, self.done = text, done

    typed = ""

    def watch_expanded(self, expanded: bool) -> None:
        if not expanded and not self.is_blank():
            self.post_message(self.Picked())

    def on_blur(self, _event: events.Blur) -> None:
        self.typed = ""  # what was typed stays in the number field; the box starts afresh

    def on_key(self, event: events.Key) -> None:
        if self.expanded:
            return
        ch = event.character
        # a number starts with a digit or a capital (a lower-case letter first is a hotkey, as
        # the footer says: q quits); then any character of it
        if event.is_printable and ch and not ch.isspace() and (self.typed or not ch.islower()):
            self.typed += ch
        elif event.key == "backspace" and self.typed:
            self.typed = self.typed[:-1]
        elif event.key == "enter" and self.typed:
            self.post_message(self.Typed(self.typed, True))
            self.typed = ""
            event.stop()
            event.prevent_default()
            return
        else:
            return
        event.stop()
        event.prevent_default()
        self.post_message(self.Typed(self.typed, False))


class TrackingScreen(DeskScreen):
    DEFAULT_CSS = """
    TrackingScreen #trk-courier { width: 40; }
    TrackingScreen #trk-table { height: 1fr; }
    TrackingScreen #trk-status { height: auto; padding: 0 1; }
    TrackingScreen #trk-status.-warn { background: $error; color: $text; text-style: bold; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Done", "完成"), id="tracking.back", tooltip=Bilingual("Back", "返回")),
        Binding("f4", "courier", Bilingual("Courier", "快递"), id="tracking.courier",
                tooltip=Bilingual("Pick the courier for every number typed here", "选择快递（本页录入都用它）")),
        Binding("up", "move(-1)", "", show=False, id="tracking.up", tooltip=Bilingual("Previous order", "上一单")),
        Binding("down", "move(1)", "", show=False, id="tracking.down", tooltip=Bilingual("Next order", "下一单")),
    ]

    def __init__(self, order_ids: list[int] | None = None, *, selection=None, logistics_id: int | None = None) -> None:
        super().__init__()
        self.order_ids = list(order_ids or [])
        self.selection = selection
        self.logistics_id = logistics_id
        self.rows: list[dict] = []
        self.couriers: dict[int, str] = {}
        self.assigned = 0

    def compose(self) -> ComposeResult:
        yield Label(tr("Tracking numbers", "录入运单号"), classes="desk-title")
        yield CourierSelect([], prompt=tr("Courier", "快递公司"), id="trk-courier", allow_blank=True)
        yield DataTable(id="trk-table", cursor_type="row", zebra_stripes=False)
        yield Input(placeholder=tr("Scan or type the tracking number, Enter", "扫描或输入运单号，回车"), id="trk-input")
        yield Static("", id="trk-status")
        yield DeskFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column(tr("Order", "订单号"), width=22)
        t.add_column(tr("Receiver", "收件人"), width=8)
        t.add_column(tr("Items", "商品"), width=20)
        t.add_column(tr("Tracking", "运单号"), width=18)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="tracking")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.models import Order
        from dadan.core.shipping.outbox import courier_choices

        with connection():
            if not self.order_ids and self.selection is not None:
                self.order_ids = self.selection.order_ids(tz=self.tz, now=self.now(), limit=500)
            couriers = courier_choices()
            orders = {o.id: o for o in Order.select().where(Order.id.in_(self.order_ids))}
        rows = [{"id": i, "sn": orders[i].order_sn, "recv": orders[i].receiver_name_mask,
                 "items": orders[i].items_summary, "tracking": orders[i].tracking_number,
                 "logistics_id": orders[i].logistics_id} for i in self.order_ids if i in orders]
        self.app.call_from_thread(self._show, couriers, rows)

    def _show(self, couriers: list[tuple[str, int]], rows: list[dict]) -> None:
        self.rows = rows
        self.couriers = {value: label for label, value in couriers}
        sel = self.query_one(CourierSelect)
        sel.set_options(couriers)
        default = self.logistics_id or next((r["logistics_id"] for r in rows if r["logistics_id"]), None)
        if default in {c[1] for c in couriers}:
            sel.value = default
            self.logistics_id = default
        t = self.query_one(DataTable)
        t.clear()
        for r in rows:
            t.add_row(r["sn"], r["recv"], r["items"][:20], r["tracking"] or "—", key=str(r["id"]))
        first = next((i for i, r in enumerate(rows) if not r["tracking"]), 0)
        if rows:
            t.move_cursor(row=first)
        self.query_one(Input).focus()
        self._status(tr("{n} order(s); courier picked once, then scan numbers one after another",
                        "{n} 单；快递选一次，然后依次扫描运单号", n=len(rows)))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK:
            self.logistics_id = int(event.value)

    def on_courier_select_picked(self, event: CourierSelect.Picked) -> None:
        """A courier picked: on to the number field (unless the focus went elsewhere, as Tab
        sends it), and the hint says what comes next."""
        sel = self.query_one(CourierSelect)
        self.logistics_id = int(sel.value)
        focused = self.focused
        if focused is not None and focused is not sel and sel not in focused.ancestors:
            return
        number = self.query_one(Input)
        number.focus()
        courier = self.couriers.get(self.logistics_id, "")
        row = self._row()
        if row is None:
            return
        if number.value.strip():
            self._status(tr("{c} ✔ Enter gives {t} to {sn}", "{c} ✔ 回车：{t} 录入订单 {sn}", c=courier,
                            t=number.value.strip(), sn=row["sn"]))
        else:
            self._status(tr("{c} ✔ scan the number for {sn}", "{c} ✔ 请扫描订单 {sn} 的运单号", c=courier,
                            sn=row["sn"]))

    def on_courier_select_typed(self, event: CourierSelect.Typed) -> None:
        number = self.query_one(Input)
        number.value = event.text
        if event.done:
            if self.logistics_id:
                number.focus()
            self._take(number)

    def _row(self) -> dict | None:
        if not self.rows:
            return None
        return self.rows[min(max(self.query_one(DataTable).cursor_row, 0), len(self.rows) - 1)]

    def action_courier(self) -> None:
        self.query_one(CourierSelect).focus()

    def action_move(self, delta: int) -> None:
        t = self.query_one(DataTable)
        t.move_cursor(row=max(0, min(len(self.rows) - 1, t.cursor_row + delta)))

    def action_back(self) -> None:
        self.dismiss(self.assigned)

    def _status(self, text: str, warn: bool = False) -> None:
        st = self.query_one("#trk-status", Static)
        st.set_class(warn, "-warn")
        st.update(escape(text))
        if warn:
            self.app.bell()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._take(event.input)

    def _take(self, number: Input) -> None:
        """The number in the field for the highlighted order; without a courier it stays in the
        field (selected: the next scan replaces it) and the operator is asked for the courier."""
        from dadan.core.shipping.scan import normalise

        code = normalise(number.value)
        if not code or not self.rows:
            return
        if not self.logistics_id:
            number.select_all()
            self._status(tr("Pick the courier first (F4); {t} is kept", "请先选择快递公司（F4）；{t} 已保留", t=code),
                         warn=True)
            return
        number.value = ""
        self.assign(self._row()["id"], code, self.logistics_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tracking-assign")
    def assign(self, order_id: int, code: str, logistics_id: int) -> None:
        from dadan.core.db import connection
        from dadan.core.operators import require
        from dadan.core.shipping.outbox import assign_tracking

        try:
            with connection():
                require(self.actor, "ship", what=f"tracking {code}")  # typed by a person
                assign_tracking(order_id, code, logistics_id, actor=self.actor)
        except DadanError as exc:  # refused (blocked, duplicate...): say why
            self.app.call_from_thread(self._status, exc.message, True)
            return
        self.app.call_from_thread(self._assigned, order_id, code)

    def _assigned(self, order_id: int, code: str) -> None:
        t = self.query_one(DataTable)
        idx = next(i for i, r in enumerate(self.rows) if r["id"] == order_id)
        self.rows[idx]["tracking"] = code
        t.update_cell(str(order_id), t.ordered_columns[3].key, code)
        self.assigned += 1
        nxt = next((i for i in range(idx + 1, len(self.rows)) if not self.rows[i]["tracking"]), None)
        if nxt is not None:
            t.move_cursor(row=nxt)
            self._status(tr("{sn} ← {t} ✔ next: {n}", "{sn} ← {t} ✔ 下一单：{n}", sn=self.rows[idx]["sn"], t=code,
                            n=self.rows[nxt]["sn"]))
        else:
            self._status(tr("{sn} ← {t} ✔ all done", "{sn} ← {t} ✔ 全部完成", sn=self.rows[idx]["sn"], t=code))
        self.query_one(Input).focus()
