"""Label preview in the terminal: the rasterised label drawn with half-block characters, so a
template can be checked over SSH. ``t`` switches template; the receiver stays masked."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label

from dadan.core.i18n import Bilingual, tr
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.halfblock import HalfBlockLabel


class PreviewScreen(DeskScreen):
    DEFAULT_CSS = """
    PreviewScreen HalfBlockLabel { height: 1fr; padding: 0 1; }
    PreviewScreen #pv-info { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="preview.back", tooltip=Bilingual("Back", "返回")),
        Binding("t", "next_template", Bilingual("Template", "模板"), id="preview.template",
                tooltip=Bilingual("Preview the next template", "预览下一个模板")),
    ]

    def __init__(self, template: str | None = None, *, order_id: int | None = None) -> None:
        super().__init__()
        self.template = template
        self.order_id = order_id

    def compose(self) -> ComposeResult:
        yield Label(tr("Label preview", "标签预览"), classes="desk-title")
        yield Label(tr("Rendering…", "正在绘制…"), id="pv-info")
        yield HalfBlockLabel(id="pv-label")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.template = self.template or self.ctx.settings.printer().template
        self.render_label()

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def render_label(self) -> None:
        from dadan.core.db import connection
        from dadan.core.desk_settings import sample_fields
        from dadan.printers.layout import load_template
        from dadan.printers.raster import render_label

        s = self.ctx.settings
        tpl = load_template(self.template)
        with connection():
            fields = sample_fields(self.order_id, tz=self.tz, sender=s.sender, now=self.now())
        img = render_label(tpl, fields, dpi=s.printer().dpi, font_path=s.fonts.cjk or None)
        info = f"{tpl.name} · {tpl.size_text} · {img.size[0]}×{img.size[1]} dots"
        self.app.call_from_thread(self._show, img, info)

    def _show(self, img, info: str) -> None:
        self.query_one("#pv-info", Label).update(info)
        self.query_one(HalfBlockLabel).set_image(img)

    def action_next_template(self) -> None:
        from dadan.printers.template_choice import template_names

        names = template_names()
        i = names.index(self.template) if self.template in names else -1
        self.template = names[(i + 1) % len(names)]
        self.render_label()

    def action_back(self) -> None:
        self.dismiss()
