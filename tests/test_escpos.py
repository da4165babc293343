"""ESC/POS driver: GS v 0 raster, centring, and byte-equality with python-escpos."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from dadan.printers.device import PrinterSession
from dadan.printers.errors import PrinterError
from dadan.printers.escpos import CUT, INIT, EscposDriver, raster_bands
from dadan.printers.profile import PrinterProfile
from tests.fakes import FakeEscposPrinter, decode_barcodes
from tests.fakes.labels import code128_label

P58 = PrinterProfile(name="r58", driver="escpos", width_mm=58)
P80 = PrinterProfile(name="r80", driver="escpos", width_mm=80)


def test_printable_widths():
    assert P58.escpos_width_dots == 384 and P80.escpos_width_dots == 576


def test_raster_matches_python_escpos_bytes():
    from escpos.printer import Dummy

    img = code128_label("X123", size=(384, 2100))  # taller than one band
    d = Dummy()
    d.image(img, impl="bitImageRaster", center=False)
    assert raster_bands(img) == d.output


def test_centred_on_printable_width():
    img = Image.new("1", (200, 10), 0)
    page = EscposDriver(P58).page_image(img)
    assert page.size == (384, 10)
    assert page.getpixel((91, 5)) != 0 and page.getpixel((92, 5)) == 0
    assert page.getpixel((291, 5)) == 0 and page.getpixel((292, 5)) != 0


def test_too_wide_label_refused_in_words():
    with pytest.raises(PrinterError, match="prints 384 dots"):
        EscposDriver(P58).page_image(Image.new("1", (800, 10), 0))


def test_label_ends_with_feed_and_cut():
    data = EscposDriver(P58).label(Image.new("1", (384, 4), 1))
    assert data.startswith(b"\x1dv0\x00\x30\x00\x04\x00") and data.endswith(CUT)
    assert EscposDriver(P58).setup() == INIT


def test_round_trip_through_loopback_escpos_printer():
    labels = [code128_label(f"E{i:04d}", size=(376, 1100)) for i in range(4)]
    with FakeEscposPrinter() as printer:
        prof = PrinterProfile(name="r", driver="escpos", uri=printer.uri, width_mm=58)
        with PrinterSession(prof) as s:
            for img in labels:
                s.send(s.encode(img))
        import time

        for _ in range(200):
            if len(printer.labels) == 4:
                break
            time.sleep(0.01)
    assert printer.errors == [] and printer.cuts == 4
    assert [decode_barcodes(im) for im in printer.labels] == [[f"E{i:04d}"] for i in range(4)]
    got = printer.labels[0].crop((4, 0, 380, 1100))
    assert ImageChops.difference(got.convert("L"), labels[0].convert("L")).getbbox() is None


def test_realtime_status_decoded_into_words():
    from dadan.printers.escpos import STATUS_QUERY, decode_realtime_status

    assert STATUS_QUERY == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
    assert decode_realtime_status(b"\x12\x12\x12").text() == "ready"
    assert decode_realtime_status(b"\x1a\x32\x72").text() == "paper out"
    assert decode_realtime_status(b"\x1a\x16\x12").text() == "cover open"
    assert decode_realtime_status(b"\x1a\x52\x12").problems == ["printer error"]
    assert decode_realtime_status(b"\x1a\x12\x12").problems == ["paused on the printer"]
    assert not decode_realtime_status(b"\x12\x12").known  # an answer cut short
    assert not decode_realtime_status(b"\x00\x00\x00").known  # not status bytes
    assert not decode_realtime_status(None).known


def test_label_acknowledgement_is_one_status_byte():
    from dadan.printers.escpos import ACK_QUERY, decode_offline_cause

    assert EscposDriver(P58).ack_query == ACK_QUERY == b"\x10\x04\x02" and EscposDriver(P58).ack_reply_len == 1
    assert decode_offline_cause(b"\x12").text() == "ready"
    assert decode_offline_cause(b"\x32").text() == "paper out"
    assert decode_offline_cause(b"\x16").text() == "cover open"
    assert not decode_offline_cause(b"\x00").known and not decode_offline_cause(None).known
