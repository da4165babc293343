"""The printer test print (Settings F5, `dadan printers test`) fills every element of its
template: it used to print `共件` (the item count missing) and leave other fields blank."""

from __future__ import annotations

import pytest

from dadan.core.config import Paths, SenderSettings, Settings
from dadan.core.context import load_context
from dadan.core.desk_settings import fields_for_test_print, send_test_print
from dadan.printers.layout import Barcode, Rows, Text, list_templates, load_template


def empty_spots(template, values) -> list[str]:
    """Every field an element of ``template`` reads that ``values`` leaves empty, as
    'element N: field' (row cells are checked against each row)."""
    def empty(v) -> bool:
        return v is None or str(v).strip() == ""

    out = []
    for el in template.elements:
        names = list(el.fields)
        if isinstance(el, Rows):
            rows = values.get(el.source) or []
            if not rows:
                out.append(f"element {el.index}: {el.source}")
            for row in rows:
                for cell in el.cells:
                    out += [f"element {el.index} cell {cell.index}: {n}" for n in cell.fields if empty(row.get(n))]
            names.remove(el.source)
        out += [f"element {el.index}: {n}" for n in names if empty(values.get(n))]
    return out


@pytest.mark.parametrize("template", [t.name for t in list_templates()])
def test_every_element_of_every_template_has_a_value(template):
    tpl = load_template(template)
    assert empty_spots(tpl, fields_for_test_print(tpl.kind, Settings())) == []


def test_the_test_print_shows_the_item_count_and_the_configured_sender(tmp_path, monkeypatch):
    import dadan.printers.raster as raster

    seen = []
    real = raster.render_label

    def spy(template, fields, **kw):
        seen.append((template, fields))
        return real(template, fields, **kw)

    monkeypatch.setattr(raster, "render_label", spy)
    ctx = load_context(Paths(config_dir=tmp_path, data_dir=tmp_path))
    ctx.settings.sender = SenderSettings(name="杭州示例仓", phone="0571-88886666", address="浙江省杭州市萧山区")
    where = send_test_print(ctx)
    assert where.endswith("test.png")
    (template, fields), = seen
    tpl = load_template(template)
    texts = [el.text.format_map(fields) for el in tpl.elements if isinstance(el, Text) and el.fields]
    assert any(t.startswith("共3件  ") for t in texts), texts  # was "共件"
    assert "杭州示例仓  0571-88886666" in texts
    assert all(fields[el.field] for el in tpl.elements if isinstance(el, Barcode))
    assert empty_spots(tpl, fields) == []


def test_the_label_preview_without_orders_fills_every_waybill_element(tmp_path):
    """The settings' template preview on an empty database draws a made-up sample (masked
    receiver): no `共件`, no empty element."""
    from dadan.core.db import close_database, open_database
    from dadan.core.desk_settings import sample_fields

    open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        fields = sample_fields(sender=SenderSettings(name="仓库", phone="0571-88888888", address="杭州"))
    finally:
        close_database()
    assert fields["receiver_name"] == "张*" and fields["sender_name"] == "仓库"
    for name in ("waybill_100x150", "waybill_76x130"):
        assert empty_spots(load_template(name), fields) == [], name
