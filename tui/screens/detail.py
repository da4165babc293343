"""Order detail: items, amounts, remark and buyer memo, masked receiver, tracking number, print
history, sync/import history and audit events. Actions: print, reprint (with a reason), note,
hold, release, tracking number."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from dadan.core.audit_query import detail_words
from dadan.core.i18n import Bilingual, tr
from dadan.core.orders.detail import OrderDetail, order_detail
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.desk_printing import item_state_label
from dadan.tui.widgets.desk_prompt import DeskPrompt


class DetailScreen(DeskScreen):
    DEFAULT_CSS = """
    DetailScreen #detail-body { height: 1fr; padding: 0 1; }
    DetailScreen .section { height: auto; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="detail.back", tooltip=Bilingual("Back to the list", "返回列表")),
        Binding("p", "print", Bilingual("Print", "打印"), id="detail.print", tooltip=Bilingual("Print this order's label", "打印此订单面单")),
        Binding("r", "reprint", Bilingual("Reprint", "补打"), id="detail.reprint",
                tooltip=Bilingual("Reprint with a reason (audited)", "填写原因后补打（记录审计）")),
        Binding("n", "note", Bilingual("Note", "备注"), id="detail.note", tooltip=Bilingual("Edit the internal note", "编辑内部备注")),
        Binding("h", "hold", Bilingual("Hold", "挂起"), id="detail.hold", tooltip=Bilingual("Hold: block printing and shipping", "挂起：禁止打印和发货")),
        Binding("l", "release", Bilingual("Release", "解除"), id="detail.release",
                tooltip=Bilingual("Release its exceptions with a reason (audited)", "填写原因解除异常（记录审计）")),
        Binding("s", "split", Bilingual("Split", "拆单"), id="detail.split",
                tooltip=Bilingual("Split the order into parcels (or undo a split)", "把订单拆成多个包裹（或撤销拆单）")),
        Binding("t", "tracking", Bilingual("Tracking no.", "运单号"), id="detail.tracking",
                tooltip=Bilingual("Enter the tracking number", "录入运单号")),
    ]

    def __init__(self, order_id: int) -> None:
        super().__init__()
        self.order_id = order_id
        self.data: OrderDetail | None = None

    def compose(self) -> ComposeResult:
        yield Label(tr("Order", "订单"), classes="desk-title", id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static(tr("Loading…", "加载中…"), id="detail-main", classes="section")
            yield Static("", id="detail-items", classes="section")
            yield Static("", id="detail-history", classes="section")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.goods.guard import shortfalls
        from dadan.core.operators import PermissionDenied
        from dadan.core.orders.rules import Flag

        try:
            with connection():
                data = order_detail(self.order_id, actor=self.actor)
                courier = data.courier
                short = shortfalls(self.order_id) if data.order.exception_flags & int(Flag.STOCK_SHORT) else []
        except PermissionDenied as exc:  # (nobody signed in, a role without view): said once, and closed
            self.app.call_from_thread(self._refused, exc.message)
            return
        self.app.call_from_thread(self._show, data, courier, short)

    def _refused(self, message: str) -> None:
        """The order may not be shown: back where the operator came from, the reason said once
        (an error box over this screen brought the refusal back each time it closed)."""
        if getattr(self, "_closing_refused", False):  # (a second read on its way: said already)
            return
        self._closing_refused = True
        self.app.bell()
        self.app.notify(message, title=tr("Not permitted", "无权操作"), severity="error", timeout=8, markup=False)
        if self.app.screen is self:
            self.dismiss()

    # -- rendering
    def _show(self, data: OrderDetail, courier: str, short: list[tuple[str, int]] = ()) -> None:
        from dadan.core.orders.rules import flags_text, order_status_label, refund_status_label, state_label
        from dadan.core.timeutil import fen_to_yuan, humanize_delta

        self.data = data
        o = data.order
        e = shown
        self.query_one("#detail-title", Label).update(tr("Order {sn}", "订单 {sn}", sn=o.order_sn))
        due = ""
        if o.last_ship_time and o.state in ("new", "printed"):
            due = f" ({humanize_delta(o.last_ship_time - self.now())})"
        flags = flags_text(o.exception_flags)
        lines = [
            f"[b]{e(o.order_sn)}[/b]  {e(data.shop)}  " + tr("source {s}", "来源 {s}", s=o.source),
            tr("Status: {a} · {b} · after-sale: {c}", "状态：{a} · {b} · 售后：{c}", a=state_label(o.state),
               b=order_status_label(o.order_status), c=refund_status_label(o.refund_status)),
            (tr("[b]Exceptions: {f}[/b]", "[b]异常：{f}[/b]", f=e(flags)) if flags else tr("Exceptions: none", "异常：无")),
            *([tr("[b]Stock short: {s}[/b]", "[b]缺库存：{s}[/b]", s=e(", ".join(f"{c} ×{n:,}" for c, n in short)))]
              if short else []),
            tr("Paid {p} · ship by {d}{r}", "付款 {p} · 最晚发货 {d}{r}", p=self.fmt(o.pay_time), d=self.fmt(o.last_ship_time), r=due),
            tr("Amount ¥{a} (goods ¥{g}, discount ¥{d}, postage ¥{s})", "实付 ¥{a}（商品 ¥{g}，优惠 ¥{d}，运费 ¥{s}）",
               a=fen_to_yuan(o.pay_amount_fen), g=fen_to_yuan(o.goods_amount_fen), d=fen_to_yuan(o.discount_amount_fen),
               s=fen_to_yuan(o.postage_fen)),
            tr("Receiver: {n} {p}", "收件人：{n} {p}", n=e(o.receiver_name_mask or "—"), p=e(o.receiver_phone_mask or "")),
            tr("Address: {a}", "地址：{a}", a=e(o.address_mask or f"{o.province}{o.city}{o.town}")),
            tr("Courier: {c} · tracking: {t}", "快递：{c} · 运单号：{t}", c=e(courier or "—"),
               t=e(o.tracking_number or "—")),
            tr("Buyer memo: {m}", "买家留言：{m}", m=e(o.buyer_memo or "—")),
            tr("Remark: {m}{f}", "商家备注：{m}{f}", m=e(o.remark or "—"), f=(f" [flag {o.remark_tag}]" if o.remark_tag else "")),
            tr("Note: {m}", "内部备注：{m}", m=e(o.note or "—")),
            tr("Tags: {t}", "标签：{t}", t=e("、".join(data.tags) or "—")),
            tr("Printed {n}× (first {f}, last {l})", "已打印 {n} 次（首次 {f}，最近 {l}）", n=o.print_count,
               f=self.fmt(o.first_printed_at), l=self.fmt(o.last_printed_at)),
        ]
        self.query_one("#detail-main", Static).update("\n".join(lines))
        items = [tr("[b]Items[/b]", "[b]商品[/b]")]
        for it in data.items:
            code = it.outer_id or it.sku_id or it.goods_id
            items.append(f"  {e(code):<6} {e(it.goods_name[:24])} {e(it.goods_spec)} ×{it.goods_count}  "
                         f"¥{fen_to_yuan(it.goods_price_fen)}")
        if data.parcels:
            from dadan.core.waybills.accounts import courier_name
            from dadan.core.waybills.parcels import state_label as parcel_state_label

            items.append(tr("[b]Parcels[/b]", "[b]包裹[/b]"))
            for n, pv in enumerate(data.parcels, 1):
                w = pv.waybill
                extra = ""
                if pv.mates:
                    extra += " " + tr("with {s}", "合单：{s}", s=e(", ".join(pv.mates)))
                if pv.holds:
                    extra += " " + tr("holds {h}", "内含 {h}", h=e(pv.holds))
                state = tr("closed", "已关闭") if w.state == "cancelled" and not w.code else parcel_state_label(w.state)
                items.append(f"  {n}. {e(courier_name(w.wp_code))} {e(w.code or '—')} {e(state)}"
                             + extra)
        self.query_one("#detail-items", Static).update("\n".join(items))
        hist = [tr("[b]Print history[/b]", "[b]打印记录[/b]")]
        for pi in data.prints:
            mark = f" R{pi.reprint_no}" if pi.is_reprint else ""
            hist.append(f"  #{pi.job_id} {pi.seq}/{pi.job.total}{mark} {item_state_label(pi.state)} "
                        f"{e(pi.job.printer)} {self.fmt(pi.sent_at or pi.job.created_at)} {e(pi.reason)}")
        if not data.prints:
            hist.append("  " + tr("none", "无"))
        hist.append(tr("[b]Ship confirmations[/b]", "[b]发货回传[/b]"))
        for sh in data.shipments:
            hist.append(f"  {e(sh.tracking_number)} {sh.state} {self.fmt(sh.created_at)} {e(sh.last_error)}")
        if not data.shipments:
            hist.append("  " + tr("none", "无"))
        hist.append(tr("[b]Sync / import history[/b]", "[b]同步 / 导入记录[/b]"))
        hist.append("  " + tr("synced {s} · imported {i} · platform update {u}", "同步 {s} · 导入 {i} · 平台更新 {u}",
                              s=self.fmt(o.synced_at), i=self.fmt(o.imported_at), u=self.fmt(o.updated_at)))
        for ev in data.events:
            hist.append(f"  {self.fmt(ev.at)} {e(ev.kind)} {e(ev.text)}")
        hist.append(tr("[b]Audit[/b]", "[b]审计[/b]"))
        for a in data.audit:
            why = f" — {e(a.reason)}" if a.reason else ""
            words = detail_words(a.detail, skip=("order_sn",))
            detail = f" {e(words)}" if words else ""
            hist.append(f"  {self.fmt(a.at)} {e(a.actor)} {e(a.action)}{why}{detail}")
        if not data.audit:
            hist.append("  " + tr("none", "无"))
        self.query_one("#detail-history", Static).update("\n".join(hist))

    # -- actions
    def action_back(self) -> None:
        self.dismiss()

    def action_print(self) -> None:
        from dadan.tui.screens.print_dialog import PrintDialog

        self.app.push_screen(PrintDialog([self.order_id]), lambda _job: self.load())

    def action_reprint(self) -> None:
        def go(reason: str | None) -> None:
            if reason:
                self._reprint(reason)

        self.app.push_screen(DeskPrompt(tr("Reprint: why?", "补打：原因？"), placeholder=tr("e.g. label jammed", "例如：卡纸")), go)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-action")
    def _reprint(self, reason: str) -> None:
        from dadan.core.db import connection
        from dadan.core.printing import queue as printing

        p = self.ctx.settings.printer()
        with connection():
            job = printing.create_reprint_job([self.order_id], reason=reason, printer=p.name, template=p.template,
                                              actor=self.actor)
        self.app.call_from_thread(self._after_print, job.id, p.name)

    def _after_print(self, job_id: int, printer: str) -> None:
        self.app.print_pool.wake(printer)
        self.notify(tr("Reprint queued (job #{j})", "补打已加入队列（任务 #{j}）", j=job_id))
        self.load()

    def action_note(self) -> None:
        note = self.data.order.note if self.data else ""

        def go(text: str | None) -> None:
            if text is not None:
                self._do("note", text)

        self.app.push_screen(DeskPrompt(tr("Internal note", "内部备注"), value=note, required=False), go)

    def action_hold(self) -> None:
        self.app.push_screen(DeskPrompt(tr("Hold: why?", "挂起：原因？")), lambda r: r and self._do("hold", r))

    def action_release(self) -> None:
        self.app.push_screen(DeskPrompt(tr("Release the exceptions: why?", "解除异常：原因？"),
                                        hint=tr("Recorded with your name.", "将记录操作人。")),
                             lambda r: r and self._do("release", r))

    def action_split(self, value: str = "", error: str = "") -> None:
        """The split prompt; opened again with the typed text and the error when it is refused."""
        def go(text: str | None) -> None:
            if text:
                self._split(text)

        self.app.push_screen(DeskPrompt(
            tr("Split: what goes in the first parcel?", "拆单：第一个包裹放哪些商品？"),
            placeholder=tr("e.g. A12*1 or #2; 'undo' undoes a split", "例如 A12*1 或 #2；输入 undo 撤销拆单"),
            hint=tr("The rest goes in a second parcel; ';' starts another. The first parcel's number confirms the "
                    "shipment.", "其余商品放第二个包裹；用“;”再分一个。以第一个包裹的单号回传发货。"),
            value=value, error=error), go)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-action")
    def _split(self, text: str) -> None:
        from dadan.core.db import connection
        from dadan.core.errors import DadanError
        from dadan.core.models import Order
        from dadan.core.waybills import split

        with connection():
            try:
                if text.strip().lower() in ("undo", "撤销"):
                    split.unsplit(self.order_id, actor=self.actor)
                    msg = tr("Split undone", "已撤销拆单")
                else:
                    order = Order.get_by_id(self.order_id)
                    made = split.split_order(self.order_id, split.parse_text(order, text), actor=self.actor)
                    msg = tr("Split into {n} parcels", "已拆为 {n} 个包裹", n=len(made))
            except DadanError as e:  # (a typing slip, an order that cannot be split): mended in the prompt
                self.app.call_from_thread(self.action_split, text, str(e))
                return
        self.app.call_from_thread(self.notify, msg)
        self.app.call_from_thread(self.load)

    def action_tracking(self) -> None:
        from dadan.tui.screens.tracking import TrackingScreen

        self.app.push_screen(TrackingScreen([self.order_id]), lambda _r: self.load())

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-action")
    def _do(self, what: str, text: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders import actions as orders

        with connection():
            if what == "note":
                orders.set_note(self.order_id, text, actor=self.actor)
            elif what == "hold":
                orders.hold([self.order_id], reason=text, actor=self.actor)
            elif what == "release":
                orders.release([self.order_id], reason=text, actor=self.actor)
        self.app.call_from_thread(self.load)


OrderDetailScreen = DetailScreen  # the name the order screen opens
