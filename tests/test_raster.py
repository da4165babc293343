"""The label engine: templates load, every shipped template renders at 203 and 300 dpi, every
barcode decodes (pyzbar, an independent reader) to exactly its value, text stays in its box,
Chinese renders as glyphs, bad templates fail with file, line and element."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from dadan.printers.errors import FontNotFound, TemplateError
from dadan.printers.fonts import draws_cjk, find_cjk_font
from dadan.printers.layout import list_templates, load_template
from dadan.printers.raster import QUIET_MODULES, code128_modules, mm_to_dots, render_label
from tests.test_labels_fields import demo_db, labels_by_kind  # noqa: F401 - fixtures

pyzbar = pytest.importorskip("pyzbar.pyzbar")

FONT = find_cjk_font()

WAYBILL = {
    "courier_name": "中通快递", "tracking_number": "78812345678901", "route_code": "浙A 021-09",
    "receiver_name": "张伟", "receiver_phone": "13812341234",
    "receiver_address": "浙江省杭州市余杭区五常街道文一西路998号海创园18幢501室",
    "sender_name": "杭州示例仓", "sender_phone": "0571-88886666", "sender_address": "浙江省杭州市萧山区建设一路66号",
    "items_summary": "A12 红色,XL ×2；B07 ×1", "item_count": 3, "order_sn": "240501-123456789012345",
    "remark": "送小礼品", "buyer_memo": "尽快发货", "batch_label": "12/200", "print_time": "2024-05-01 14:03",
    "reprint_mark": "R2", "shop_name": "示例旗舰店",
}


def _decode(img: Image.Image) -> list[str]:
    return sorted(d.data.decode() for d in pyzbar.decode(img.convert("L")))


def _black_bbox(img: Image.Image, box: tuple[int, int, int, int]):
    return ImageChops.invert(img.convert("L")).crop(box).getbbox()


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("value", ["78812345678901", "YT7512345678901", "SF1234567890123", "240501-123456789012345"])
def test_waybill_barcode_decodes_exactly(dpi, value):
    img = render_label("waybill_100x150", {**WAYBILL, "tracking_number": value}, dpi=dpi, font_path=FONT)
    assert img.mode == "1"
    assert img.size == (mm_to_dots(100, dpi), mm_to_dots(150, dpi))
    assert _decode(img) == [value]


def test_barcode_modules_are_whole_dots_with_quiet_zones():
    value = "78812345678901"
    img = render_label("waybill_100x150", {"tracking_number": value}, font_path=FONT)
    t = load_template("waybill_100x150")
    bc = next(e for e in t.elements if e.type == "barcode")
    y = mm_to_dots(bc.y, 203) + 5
    row = [img.getpixel((x, y)) for x in range(img.width)]
    inner = range(mm_to_dots(1.5, 203), mm_to_dots(98.5, 203))  # inside the page frame
    blacks = [x for x in inner if row[x] == 0]
    left, right = blacks[0], blacks[-1]
    bits = code128_modules(value)
    module = (right - left + 1) / len(bits.rstrip("0"))
    assert module == int(module) and module >= 2
    module = int(module)
    drawn = "".join("1" if row[x] == 0 else "0" for x in range(left, right + 1, module))
    assert drawn == bits.rstrip("0")
    assert all(row[x] for x in range(left - QUIET_MODULES * module, left))
    assert all(row[x] for x in range(right + 1, right + 1 + QUIET_MODULES * module))


@pytest.mark.parametrize("dpi", [203, 300])
def test_every_shipped_template_renders_and_scans(dpi, labels_by_kind):
    for template in list_templates():
        for _name, fields in labels_by_kind[template.kind][:3]:
            img = render_label(template, fields, dpi=dpi, font_path=FONT)
            assert img.mode == "1" and img.width == mm_to_dots(template.width_mm, dpi)
            if template.height_mm:
                assert img.height == mm_to_dots(template.height_mm, dpi)
            expected = {"waybill": fields.get("tracking_number"), "packing": fields.get("order_sn"),
                        "sku": fields.get("sku")}.get(template.kind)
            if expected:
                assert _decode(img) == [expected], (template.name, dpi)
            # something got drawn and the page is not black
            black = img.histogram()[0]
            assert 0.005 < black / (img.width * img.height) < 0.5


def test_long_address_shrinks_and_stays_in_its_box():
    t = load_template("waybill_100x150")
    addr = next(e for e in t.elements if e.type == "text" and e.text == "{receiver_address}")
    long = "新疆维吾尔自治区乌鲁木齐市沙依巴克区西山路街道友好北路" * 6 + "（门卫代收，到了打电话 13800000000）"
    base = render_label(t, {}, font_path=FONT)
    for text in (WAYBILL["receiver_address"], long, "A" * 400, "x" * 3):
        img = render_label(t, {"receiver_address": text}, font_path=FONT)
        diff = ImageChops.difference(img.convert("L"), base.convert("L")).getbbox()
        assert diff is not None
        x0, y0 = mm_to_dots(addr.x, 203), mm_to_dots(addr.y, 203)
        x1, y1 = x0 + mm_to_dots(addr.w, 203), y0 + mm_to_dots(addr.h, 203)
        assert diff[0] >= x0 and diff[1] >= y0 and diff[2] <= x1 and diff[3] <= y1, (text[:10], diff)


def test_long_text_is_cut_with_ellipsis_at_min_size(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        '[template]\nkind = "sku"\nwidth_mm = 40\nheight_mm = 10\n'
        '[[element]]\ntype = "text"\nfield = "name"\nx = 1\ny = 1\nw = 30\nh = 8\nsize = 12\nmin_size = 10\nmax_lines = 2\n',
        encoding="utf-8",
    )
    img = render_label(str(path), {"name": "很长的商品名称" * 20}, font_path=FONT)
    box = _black_bbox(img, (0, 0, img.width, img.height))
    assert box[0] >= mm_to_dots(1, 203) and box[2] <= mm_to_dots(31, 203) and box[3] <= mm_to_dots(9, 203)


def test_chinese_text_renders_distinct_glyphs_not_boxes(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[template]\nkind = "sku"\nwidth_mm = 20\nheight_mm = 10\n'
                    '[[element]]\ntype = "text"\nfield = "name"\nx = 0\ny = 0\nw = 20\nh = 10\nsize = 20\n',
                    encoding="utf-8")
    shapes = set()
    for ch in "中国快递收寄":
        img = render_label(str(path), {"name": ch}, font_path=FONT)
        bbox = _black_bbox(img, (0, 0, img.width, img.height))
        assert bbox is not None
        shapes.add(img.crop(bbox).tobytes())
    assert len(shapes) == 6
    assert draws_cjk(FONT)


def test_text_is_not_antialiased():
    img = render_label("waybill_100x150", WAYBILL, dpi=203, font_path=FONT)
    assert img.mode == "1" and set(img.convert("L").tobytes()) <= {0, 255}


def test_rotation_and_offset(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[template]\nkind = "sku"\nwidth_mm = 60\nheight_mm = 60\n'
                    '[[element]]\ntype = "barcode"\nfield = "sku"\nx = 10\ny = 5\nw = 12\nh = 50\nrotate = ROT\nhr = false\n'
                    .replace("ROT", "90"), encoding="utf-8")
    img = render_label(str(path), {"sku": "A12-RED-XL"}, font_path=FONT)
    assert _decode(img) == ["A12-RED-XL"]
    bbox = _black_bbox(img, (0, 0, img.width, img.height))
    shifted = render_label(str(path), {"sku": "A12-RED-XL"}, font_path=FONT, offset_x_mm=2, offset_y_mm=-1)
    sb = _black_bbox(shifted, (0, 0, img.width, img.height))
    assert (sb[0] - bbox[0], sb[1] - bbox[1]) == (mm_to_dots(2, 203), -mm_to_dots(1, 203))
    path.write_text(path.read_text().replace("rotate = 90", "rotate = 270"), encoding="utf-8")
    assert _decode(render_label(str(path), {"sku": "A12-RED-XL"}, font_path=FONT)) == ["A12-RED-XL"]
    path.write_text(path.read_text().replace("rotate = 270", "rotate = 180").replace("w = 12", "w = 50")
                    .replace("h = 50", "h = 12"), encoding="utf-8")
    assert _decode(render_label(str(path), {"sku": "A12-RED-XL"}, font_path=FONT)) == ["A12-RED-XL"]


def test_missing_fields_render_empty_and_when_hides():
    img = render_label("waybill_100x150", {}, font_path=FONT)
    full = render_label("waybill_100x150", WAYBILL, font_path=FONT)
    assert img.histogram()[0] < full.histogram()[0]
    assert _decode(img) == []


def test_render_is_thread_safe():
    expected = render_label("waybill_100x150", WAYBILL, font_path=FONT).tobytes()
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(render_label("waybill_100x150", WAYBILL, font_path=FONT).tobytes())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 20 and all(r == expected for r in results)


def test_image_element_and_inverse(tmp_path):
    logo = Image.new("L", (40, 20), 255)
    logo.paste(0, (5, 5, 35, 15))
    logo.save(tmp_path / "logo.png")
    (tmp_path / "t.toml").write_text(
        '[template]\nkind = "sku"\nwidth_mm = 30\nheight_mm = 20\n'
        '[[element]]\ntype = "image"\nsrc = "logo.png"\nx = 0\ny = 0\nw = 20\nh = 10\n'
        '[[element]]\ntype = "inverse"\ntext = "R2"\nx = 21\ny = 1\nw = 8\nh = 6\nsize = 10\n', encoding="utf-8")
    img = render_label(str(tmp_path / "t.toml"), {}, font_path=FONT)
    assert img.getpixel((mm_to_dots(10, 203), mm_to_dots(5, 203))) == 0  # logo centre black
    assert img.getpixel((2, 2)) == 255 or img.getpixel((2, 2)) == 1
    block = img.crop((mm_to_dots(21, 203), mm_to_dots(1, 203), mm_to_dots(29, 203), mm_to_dots(7, 203)))
    hist = block.convert("L").histogram()
    assert hist[0] > hist[255] > 0  # mostly black with white text


BAD = [
    ('kind = "waybill"\nwidth_mm = 100\nheight_mm = 150\n[[element]]\ntype = "text"\nx = 1\ny = 1\nw = 5\nh = 5\n'
     'text = "{reciever_name}"\n', ":11: element 1 (text)", "reciever_name"),
    ('kind = "waybill"\nwidth_mm = 100\nheight_mm = 150\n[[element]]\ntype = "box"\nx = 1\ny = 1\nw = 5\nh = 5\n'
     '[[element]]\ntype = "barcode"\nfield = "tracking_number"\nx = 1\ny = 1\nw = 5\nh = 5\nmodul = 3\n',
     ":18: element 2 (barcode)", "modul"),
    ('kind = "waybill"\nwidth_mm = 100\nheight_mm = 150\n[[element]]\ntype = "circle"\n', ":6: element 1", "circle"),
    ('kind = "sku"\nwidth_mm = 40\nheight_mm = 30\n[[element]]\ntype = "text"\nfield = "name"\nx = 1\ny = 1\nw = "wide"\nh = 5\n',
     ":10: element 1 (text)", "'w' must be a number"),
    ('kind = "picklist"\nwidth_mm = 80\n[[element]]\ntype = "rows"\nsource = "items"\nx = 0\ny = 0\nw = 80\n'
     '  [[element.cell]]\n  type = "text"\n  text = "{sku} {colour}"\n  x = 0\n  y = 0\n  w = 5\n  h = 5\n',
     ":12: element 1, cell 1 (text)", "colour"),
    ('kind = "sku"\nwidth_mm = 40\nheight_mm = 30\n[[element]]\ntype = "text"\ntext = "{name"\nx = 1\ny = 1\nw = 5\nh = 5\n',
     ":7: element 1 (text)", "format"),
    ('kind = "waybill"\nwidth_mm = 100\nheight_mm = 150\n[[element]\n', ":", "line"),
]


@pytest.mark.parametrize("body,where,what", BAD)
def test_bad_templates_name_file_line_and_element(tmp_path, body, where, what):
    path = tmp_path / "bad.toml"
    path.write_text("[template]\n" + body, encoding="utf-8")
    with pytest.raises(TemplateError) as info:
        load_template(str(path))
    msg = info.value.message
    assert str(path) in msg and where in msg and what in msg, msg


def test_unknown_template_name_lists_the_shipped_ones():
    with pytest.raises(TemplateError, match="waybill_100x150"):
        load_template("waybill_99x99")


def test_shipped_templates_contract():
    kinds = {t.name: (t.kind, t.width_mm, t.height_mm) for t in list_templates()}
    assert kinds["waybill_100x150"] == ("waybill", 100, 150)
    assert kinds["waybill_76x130"] == ("waybill", 76, 130)
    assert kinds["packing_80"] == ("packing", 80, None)
    assert kinds["picklist_80"] == ("picklist", 80, None)
    assert kinds["sku_40x30"] == ("sku", 40, 30) and kinds["sku_60x40"] == ("sku", 60, 40)
    assert all(t.title and t.path.is_file() for t in list_templates())


def test_font_not_found_for_a_bad_configured_path(tmp_path):
    with pytest.raises(FontNotFound, match="fonts.cjk"):
        find_cjk_font(str(tmp_path / "missing.ttf"))
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if Path(latin).exists():
        with pytest.raises(FontNotFound):
            find_cjk_font(latin)


def test_no_font_anywhere_raises_font_not_found(monkeypatch):
    import dadan.printers.fonts as fonts

    monkeypatch.setattr(fonts, "_fontconfig_cjk", lambda: None)
    monkeypatch.setattr(fonts, "WELL_KNOWN", ())
    fonts.find_cjk_font.cache_clear()
    try:
        with pytest.raises(FontNotFound, match="fonts-wqy-microhei"):
            fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()


def test_printers_never_imports_core():
    code = ("import sys, printers.raster, printers.layout, printers.fonts, printers.fields; "
            "bad = [m for m in sys.modules if m == 'core' or m.startswith(('core.', 'tui', 'textual'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    root = Path(__file__).resolve().parent.parent
    res = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
