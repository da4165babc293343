"""The goods screen's edit form: one SKU's name, spec, bin, weight, safety stock, managed and
barcodes, saved through :func:`dadan.core.goods.catalogue.edit` (audited). Bad input (a number
that is not one, a barcode another SKU holds) shows one line in red and changes nothing.
Ctrl+S or Enter saves, Escape closes without saving."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from dadan.core.errors import DadanError
from dadan.core.goods.listing import GoodsRow
from dadan.core.i18n import Bilingual, tr
from dadan.tui.widgets.desk_base import DeskMixin

YES = ("y", "yes", "1", "true", "是", "对")
NO = ("n", "no", "0", "false", "否", "", "不")


def _fields(row: GoodsRow, barcodes: list[str]) -> list[tuple[str, str, str]]:
    return [
        ("name", tr("Name", "名称"), row.name),
        ("spec", tr("Spec", "规格"), row.spec),
        ("bin", tr("Bin", "库位"), row.bin),
        ("weight_g", tr("Weight (g)", "重量（克）"), str(row.weight_g)),
        ("safety_stock", tr("Safety stock", "安全库存"), str(row.safety_stock)),
        ("managed", tr("Managed (y/n)", "同步平台(y/n)"), "y" if row.managed else "n"),
        ("barcodes", tr("Barcodes", "条码"), " ".join(barcodes)),
    ]


def parse_form(values: dict[str, str]) -> tuple[dict, list[str]]:
    """(fields for ``catalogue.edit``, barcodes) from the form's text; DadanError on bad input."""
    from dadan.core.goods.catalogue import split_barcodes

    out: dict = {"name": values["name"].strip(), "spec": values["spec"].strip(), "bin": values["bin"].strip()}
    for key, label in (("weight_g", tr("weight", "重量")), ("safety_stock", tr("safety stock", "安全库存"))):
        text = values[key].strip() or "0"
        if not text.isdigit():
            raise DadanError(tr("{f}: “{v}” is not a whole number of 0 or more", "{f}：“{v}”不是 0 或以上的整数",
                                f=label, v=values[key].strip()))
        out[key] = int(text)
    managed = values["managed"].strip().lower()
    if managed not in YES + NO:
        raise DadanError(tr("managed: type y or n", "同步平台：请输入 y 或 n"))
    out["managed"] = managed in YES
    return out, split_barcodes(values["barcodes"])


class GoodsForm(DeskMixin, ModalScreen[bool]):
    DEFAULT_CSS = """
    GoodsForm { align: center middle; }
    GoodsForm > Vertical { width: 76; max-width: 100%; height: auto; border: round $accent;
                           background: $surface; padding: 0 1; }
    GoodsForm .gf-title { text-style: bold; width: 100%; }
    GoodsForm .gf-row { height: 1; }
    GoodsForm .gf-row Label { width: 16; }
    GoodsForm .gf-row Input { width: 1fr; height: 1; border: none; padding: 0 1; }
    GoodsForm .gf-row Input:focus { background: $accent 30%; }
    GoodsForm #gf-error { color: $error; height: auto; width: 100%; }
    """
    BINDINGS = [
        Binding("escape", "cancel", Bilingual("Cancel", "取消"), id="goods_form.cancel",
                tooltip=Bilingual("Close without saving", "关闭，不保存")),
        Binding("ctrl+s", "save", Bilingual("Save", "保存"), id="goods_form.save",
                tooltip=Bilingual("Save the SKU (audited)", "保存商品（记录审计）")),
        Binding("down", "focus_next", "", show=False, id="goods_form.next", tooltip=Bilingual("Next field", "下一项")),
        Binding("up", "focus_previous", "", show=False, id="goods_form.prev",
                tooltip=Bilingual("Previous field", "上一项")),
    ]

    def __init__(self, row: GoodsRow, barcodes: list[str]) -> None:
        super().__init__()
        self.row, self.barcodes = row, barcodes
        self.error = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("Edit SKU {c}", "编辑商品 {c}", c=self.row.code), classes="gf-title", markup=False)
            for key, label, value in _fields(self.row, self.barcodes):
                with Horizontal(classes="gf-row"):
                    yield Label(label)
                    yield Input(value, id=f"gf-{key}")
            yield Label("", id="gf-error", markup=False)
            yield Label(tr("Enter / Ctrl+S: save · Esc: cancel", "回车 / Ctrl+S：保存 · Esc：取消"))

    def on_mount(self) -> None:
        self.query_one("#gf-name", Input).focus()

    def values(self) -> dict[str, str]:
        return {i.id.removeprefix("gf-"): i.value for i in self.query(".gf-row Input").results(Input)}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        try:
            fields, barcodes = parse_form(self.values())
        except DadanError as exc:
            self._refused(str(exc))
            return
        self.save(fields, barcodes)

    @work(thread=True, exclusive=True, exit_on_error=False, group="goods-form")
    def save(self, fields: dict, barcodes: list[str]) -> None:
        from dadan.core.db import connection
        from dadan.core.goods import catalogue

        try:
            with connection():
                catalogue.edit(self.row.id, actor=self.actor, barcodes=barcodes, **fields)
        except DadanError as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        self.app.call_from_thread(self.dismiss, True)

    def _refused(self, text: str) -> None:
        self.error = text
        self.query_one("#gf-error", Label).update("✖ " + text)
        self.app.bell()

    def action_cancel(self) -> None:
        self.dismiss(False)
