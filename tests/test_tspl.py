"""TSPL driver, status decoding and the loopback TSPL printer."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from dadan.printers.device import PrinterSession, SendUnconfirmed
from dadan.printers.errors import PrinterStatusError
from dadan.printers.i18n import set_language
from dadan.printers.profile import PrinterProfile, profile_from
from dadan.printers.status import decode_status
from dadan.printers.tspl import TsplDriver
from tests.fakes import FakeTsplPrinter, decode_barcodes
from tests.fakes.labels import code128_label

PROFILE = PrinterProfile(name="t", driver="tspl", width_mm=60, height_mm=40, gap_mm=2, density=10, speed=3)


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def test_setup_commands():
    text = TsplDriver(PROFILE).setup().decode()
    assert text.splitlines() == ["SIZE 60 mm,40 mm", "GAP 2 mm,0 mm", "DIRECTION 0,0", "REFERENCE 0,0",
                                 "DENSITY 10", "SPEED 3"]
    bline = TsplDriver(PrinterProfile(driver="tspl", bline_mm=3)).setup().decode()
    assert "BLINE 3 mm,0 mm" in bline and "GAP" not in bline


def test_label_bytes_bit0_is_black():
    img = Image.new("1", (16, 2), 1)
    img.putpixel((0, 0), 0)  # one black dot top-left
    data = TsplDriver(PROFILE).label(img)
    assert data.startswith(b"CLS\r\nBITMAP 0,0,2,2,0,")
    body = data[len(b"CLS\r\nBITMAP 0,0,2,2,0,"):][:4]
    assert body == bytes([0b01111111, 0xFF, 0xFF, 0xFF])
    assert data.endswith(b"\r\nPRINT 1,1\r\n")


def test_odd_width_padded_white_and_clipped_to_page():
    img = Image.new("1", (13, 5), 0)  # all black, 13 dots wide
    page = TsplDriver(PROFILE).page_image(img)
    assert page.size == (16, 5)
    assert page.getpixel((12, 0)) == 0 and page.getpixel((13, 0)) != 0
    big = Image.new("1", (2000, 2000), 1)
    assert TsplDriver(PROFILE).page_image(big).size == (480, 320)


def test_status_words_bilingual():
    assert decode_status(b"\x00").ready and decode_status(b"\x00").text() == "ready"
    s = decode_status(b"\x05")
    assert not s.ready and s.text() == "paper out, print head open"
    assert decode_status(0x20).ready and decode_status(0x20).text() == "printing"
    assert not decode_status(None).known and decode_status(None).ready
    set_language("zh")
    try:
        assert decode_status(b"\x04").text() == "缺纸"
        assert decode_status(b"\x12").text() == "卡纸，打印机已暂停"
    finally:
        set_language("en")


def test_profile_from_settings_like_object():
    class S:
        name, driver, uri, dpi, width_mm, height_mm = "x", "tspl", "tcp://h", 300, 76.0, 130.0
        extra = "ignored"

    p = profile_from(S())
    assert (p.name, p.dpi, p.width_mm, p.gap_mm) == ("x", 300, 76.0, 2.0)
    assert p.width_dots == 898


def test_round_trip_through_loopback_printer():
    labels = [code128_label(f"SN{i:05d}-X") for i in range(5)]
    with FakeTsplPrinter() as printer:
        prof = PrinterProfile(name="t", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40)
        with PrinterSession(prof) as session:
            assert session.acks  # the fake answers ESC ! ?
            for img in labels:
                status = session.send(session.encode(img))
                assert status.ready
        assert printer.wait_printed(5, 5)
    assert printer.errors == []
    assert printer.settings["DENSITY"] == "8" and printer.size_mm == (60.0, 40.0)
    assert [decode_barcodes(im) for im in printer.labels] == [[f"SN{i:05d}-X"] for i in range(5)]
    assert all(same(a, b) for a, b in zip(printer.labels, labels))


def test_paper_out_refused_before_batch_in_words():
    with FakeTsplPrinter(paper_out=True) as printer:
        prof = PrinterProfile(name="lbl", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40)
        with pytest.raises(PrinterStatusError) as exc:
            PrinterSession(prof).open()
        assert exc.value.message == "printer 'lbl': paper out"
        assert printer.labels == []


def test_closed_mid_label_is_unconfirmed_and_diagnose_reconnects():
    # every byte of label 3 left dadan, the printer dropped the connection in its middle: from
    # here nobody can tell whether it printed, so it is unconfirmed (never silently resent)
    with FakeTsplPrinter(close_after=2) as printer:
        prof = PrinterProfile(name="t", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40)
        session = PrinterSession(prof)
        session.open()
        session.send(session.encode(code128_label("A1")))
        with pytest.raises(SendUnconfirmed) as exc:
            session.send(session.encode(code128_label("A2")))
            session.send(session.encode(code128_label("A3")))
        assert "closed the connection" in exc.value.message and "check whether it printed" in exc.value.message
        # the two whole labels finish on the engine first (a busy engine answers "printing")
        assert printer.wait_printed(2)
        assert session.diagnose().text() == "ready"
        assert len(printer.labels) == 2


def test_silent_printer_after_bytes_is_unconfirmed():
    with FakeTsplPrinter() as printer:
        prof = PrinterProfile(name="t", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40,
                              timeout_seconds=0.3)
        session = PrinterSession(prof)
        session.open()
        printer.answer_status = False
        with pytest.raises(SendUnconfirmed):
            session.send(session.encode(code128_label("A1")))
        session.close()


def test_printer_without_status_support_still_prints():
    with FakeTsplPrinter(answer_status=False) as printer:
        prof = PrinterProfile(name="t", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40)
        session = PrinterSession(prof)
        status = session.open()
        assert status is not None and not status.known and not session.acks
        session.send(session.encode(code128_label("A1")))
        session.close()
        assert printer.wait_printed(1, 5)
