"""Transports: URI parsing, clear errors, file, TCP, CUPS (with a stand-in lp), preview."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from dadan.printers.calibration import calibration_image
from dadan.printers.device import PrinterSession
from dadan.printers.errors import TransportError
from dadan.printers.profile import PrinterProfile
from dadan.printers.transports import (
    CupsTransport,
    DeviceFileTransport,
    FileTransport,
    TcpTransport,
    UsbTransport,
    open_transport,
)
from tests.fakes.labels import code128_label


def test_uri_picks_transport():
    assert isinstance(open_transport("tcp://10.0.0.5"), TcpTransport)
    t = open_transport("tcp://10.0.0.5:9101")
    assert (t.host, t.port) == ("10.0.0.5", 9101)
    u = open_transport("usb://0x0483:5743") if False else open_transport("usb://0483:5743")
    assert isinstance(u, UsbTransport) and (u.vendor_id, u.product_id) == (0x0483, 0x5743)
    assert isinstance(open_transport("/dev/usb/lp0"), DeviceFileTransport)
    c = open_transport("cups://Label_Printer")
    assert isinstance(c, CupsTransport) and c.queue == "Label_Printer"
    f = open_transport("file:///tmp/x.prn")
    assert isinstance(f, FileTransport) and str(f.path) == "/tmp/x.prn"


@pytest.mark.parametrize("bad", ["", "tcp://", "usb://nothex", "ftp://x", "cups://"])
def test_bad_uri_explains(bad):
    with pytest.raises(TransportError, match="usb://VID:PID"):
        open_transport(bad)


def test_refused_connection_in_words():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(TransportError, match="refused the connection"):
        TcpTransport("127.0.0.1", port, timeout=1).open()


def test_missing_device_file_in_words(tmp_path):
    with pytest.raises(TransportError, match="does not exist"):
        DeviceFileTransport(str(tmp_path / "lp9")).open()


def test_device_file_write(tmp_path):
    p = tmp_path / "lp0"
    p.write_bytes(b"")
    t = DeviceFileTransport(str(p))
    with t:
        t.write(b"SIZE 1\r\n")
    assert p.read_bytes() == b"SIZE 1\r\n"


def test_file_transport_appends(tmp_path):
    out = tmp_path / "spool" / "out.prn"
    prof = PrinterProfile(driver="tspl", uri=out.as_uri(), width_mm=60, height_mm=40)
    with PrinterSession(prof) as s:
        assert not s.acks
        s.send(s.encode(code128_label("F1")))
    data = out.read_bytes()
    assert data.startswith(b"SIZE 60 mm,40 mm") and data.count(b"PRINT 1,1") == 1


def test_cups_runs_lp_raw(tmp_path):
    log = tmp_path / "lp.log"
    lp = tmp_path / "lp"
    lp.write_text(f'#!/bin/sh\necho "$@" >> {log}\ncat >> {tmp_path}/jobs\n')
    lp.chmod(lp.stat().st_mode | stat.S_IEXEC)
    t = CupsTransport("Q1", lp=str(lp))
    t.write(b"abc")
    assert log.read_text().strip() == "-d Q1 -o raw -s"
    assert (tmp_path / "jobs").read_bytes() == b"abc"
    bad = tmp_path / "lpbad"
    bad.write_text("#!/bin/sh\necho 'lp: The printer or class does not exist.' >&2\nexit 1\n")
    bad.chmod(0o755)
    with pytest.raises(TransportError, match="refused the job: lp: The printer"):
        CupsTransport("Nope", lp=str(bad)).write(b"x")


def test_cups_missing_lp(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(TransportError, match="CUPS is not installed"):
        CupsTransport("Q").write(b"x")


def test_usb_not_found_in_words(monkeypatch):
    # the true edge: no USB hardware here; pyusb finds nothing
    import escpos.printer.usb as escusb

    class _Core:
        class USBError(Exception):
            pass

        @staticmethod
        def find(**kw):
            return None

    monkeypatch.setattr(escusb, "is_usable", lambda: True)
    monkeypatch.setattr(escusb, "usb", type("usb", (), {"core": _Core, "util": None}), raising=False)
    with pytest.raises(TransportError, match="not found or not accessible"):
        UsbTransport(0x0483, 0x5743).open()
    import gc

    gc.collect()  # python-escpos's Usb.__del__ must run while the stand-in is in place


def test_preview_writes_png_and_pdf(tmp_path):
    prof = PrinterProfile(driver="preview", uri=str(tmp_path / "pv"), width_mm=60, height_mm=40)
    with PrinterSession(prof) as s:
        for i in range(3):
            s.send(s.encode(code128_label(f"P{i}")), name=f"job1-{i + 1:04d}")
        pdf = s.write_pdf(tmp_path / "pv" / "job1.pdf")
    assert sorted(os.listdir(tmp_path / "pv")) == ["job1-0001.png", "job1-0002.png", "job1-0003.png", "job1.pdf"]
    assert pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type /Page ") >= 1
    from PIL import Image

    with Image.open(tmp_path / "pv" / "job1-0002.png") as im:
        assert im.size == (480, 320)


def test_calibration_grid_size_and_offsets():
    prof = PrinterProfile(driver="tspl", width_mm=60, height_mm=40)
    im = calibration_image(prof)
    assert im.mode == "1" and im.size == (480, 320)
    shifted = calibration_image(PrinterProfile(driver="tspl", width_mm=60, height_mm=40, offset_x_mm=2))
    assert im.tobytes() != shifted.tobytes()
    r = calibration_image(PrinterProfile(driver="escpos", width_mm=80))
    assert r.width == 576
