"""ESC/POS receipt printers (58 and 80 mm): 1-bit images -> ``GS v 0`` raster bytes.

The bytes are the ones python-escpos's ``image(impl="bitImageRaster")`` produces (a test
compares them), built straight from Pillow's packed bits instead of python-escpos's RGBA ->
grey -> invert -> 1-bit round trip. Two things of python-escpos are deliberately not used:
its ``center`` flag (it rebuilds the image at the wrong size for tall labels, so the image is
centred here, on a canvas of the printable width) and its "graphics" (``GS ( L``)
implementation, whose 16-bit length field overflows on large images.

Status, on transports that read back (TCP, USB): ``DLE EOT 1``, ``DLE EOT 2`` and
``DLE EOT 4`` give the printer's state, its offline cause and its paper sensor, one byte each,
decoded into :class:`~printers.status.PrinterStatus` words. They are real-time commands: the
printer answers them as they enter its receive buffer, even while offline (paper out, cover
open), where ``GS r`` would wait. The byte stream is ordered, so the answer to ``DLE EOT 2``
sent after a label proves that the printer holds every byte of that label: it is the label's
acknowledgement (one byte, so one round trip a label). Without it the label may have been lost in a socket buffer when the printer
dropped the connection.
"""

from __future__ import annotations

from PIL import Image

from dadan.printers.errors import PrinterError
from dadan.printers.i18n import tr
from dadan.printers.profile import PrinterProfile
from dadan.printers.status import COVER_OPEN, OTHER_ERROR, PAPER_OUT, PAUSED, PrinterStatus

ESC = b"\x1b"
GS = b"\x1d"
INIT = ESC + b"@"
BAND_HEIGHT = 960  # lines per GS v 0 command (python-escpos's fragment height)
FEED_LINES = 4
CUT = GS + b"V" + b"\x42" + b"\x00"  # feed to the cutter and cut (partial)
DLE_EOT = b"\x10\x04"
STATUS_QUERY = DLE_EOT + b"\x01" + DLE_EOT + b"\x02" + DLE_EOT + b"\x04"  # printer, offline cause, paper
ACK_QUERY = DLE_EOT + b"\x02"  # after each label: one byte, one round trip (offline cause)

_FIXED_MASK, _FIXED_BITS = 0x93, 0x12  # DLE EOT answers: bits 1 and 4 set, bits 0 and 7 clear

_INVERT = bytes(255 - i for i in range(256))  # Pillow: 1 = white; ESC/POS raster: 1 = black


def raster_bands(img: Image.Image, band_height: int = BAND_HEIGHT) -> bytes:
    """``GS v 0`` commands for a mode "1" image (width a multiple of 8)."""
    wb = img.width // 8
    data = img.tobytes().translate(_INVERT)
    out = []
    row = wb
    for top in range(0, img.height, band_height):
        h = min(band_height, img.height - top)
        out.append(GS + b"v0\x00" + bytes((wb & 0xFF, wb >> 8, h & 0xFF, h >> 8)))
        out.append(data[top * row:(top + h) * row])
    return b"".join(out)


def _offline_cause(byte: int) -> int:
    raw = 0
    if byte & 0x04:
        raw |= COVER_OPEN
    if byte & 0x20:
        raw |= PAPER_OUT
    if byte & 0x40:
        raw |= OTHER_ERROR
    return raw


def decode_realtime_status(data: bytes | None) -> PrinterStatus:
    """The answers to :data:`STATUS_QUERY` (three bytes) in words; unknown when they are
    missing or not status bytes."""
    if not data or len(data) < 3 or any(b & _FIXED_MASK != _FIXED_BITS for b in data[-3:]):
        return PrinterStatus(None)
    printer, offline, paper = data[-3:]
    raw = _offline_cause(offline) | (PAPER_OUT if paper & 0x60 else 0)
    if printer & 0x08 and not raw:  # offline for no reason it names (feed button held...)
        raw |= PAUSED
    return PrinterStatus(raw)


def decode_offline_cause(data: bytes | None) -> PrinterStatus:
    """The answer to :data:`ACK_QUERY` (``DLE EOT 2``) in words; unknown when it is not a
    status byte."""
    if not data or data[-1] & _FIXED_MASK != _FIXED_BITS:
        return PrinterStatus(None)
    return PrinterStatus(_offline_cause(data[-1]))


class EscposDriver:
    name = "escpos"
    supports_status = True
    status_query = STATUS_QUERY
    status_reply_len = 3
    ack_query = ACK_QUERY
    ack_reply_len = 1
    decode_status = staticmethod(decode_realtime_status)
    decode_ack = staticmethod(decode_offline_cause)

    def __init__(self, profile: PrinterProfile, *, cut: bool = True):
        self.profile = profile
        self.cut = cut

    @property
    def width_dots(self) -> int:
        return self.profile.escpos_width_dots

    def setup(self) -> bytes:
        return INIT

    def page_image(self, img: Image.Image) -> Image.Image:
        """The label centred on a white canvas of the printable width."""
        if img.mode != "1":
            img = img.convert("1")
        width = self.width_dots
        if img.width > width:
            # a label wider than the paper: trim white margins first, then refuse
            bbox = Image.eval(img.convert("L"), lambda v: 255 - v).getbbox()
            if bbox and bbox[2] - bbox[0] <= width:
                img = img.crop((bbox[0], 0, bbox[2], img.height))
            else:
                raise PrinterError(tr(
                    "the label is {w} dots wide but printer '{p}' prints {pw} dots ({mm:g} mm paper); "
                    "choose a narrower template",
                    "标签宽 {w} 点，但打印机 '{p}' 只能打印 {pw} 点（{mm:g} 毫米纸）；请选用更窄的模板",
                    w=img.width, p=self.profile.name, pw=width, mm=self.profile.width_mm))
        canvas = Image.new("1", (width, img.height), 255)
        canvas.paste(img, ((width - img.width) // 2, 0))
        return canvas

    def label(self, img: Image.Image, copies: int = 1) -> bytes:
        page = self.page_image(img)
        one = raster_bands(page) + ESC + b"d" + bytes((FEED_LINES,)) + (CUT if self.cut else b"")
        return one * max(1, int(copies))

    def end(self) -> bytes:
        return b""
