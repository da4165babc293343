"""TSPL (TSC, Xprinter, Gprinter, HPRT... label printers): 1-bit images -> bytes.

A session starts with the media set-up (``SIZE``, ``GAP`` or ``BLINE``, ``DIRECTION``,
``REFERENCE``, ``DENSITY``, ``SPEED``); each label is then self-contained: ``CLS``, one
``BITMAP`` of the whole page, ``PRINT 1,1``. In a TSPL bitmap a 0 bit is black, which is
exactly Pillow's mode "1" byte layout, so a label is encoded without touching its pixels.
Offsets are applied by the rasteriser (``render_label(offset_x_mm=...)``), not here, so that
every driver honours them the same way.
"""

from __future__ import annotations

from PIL import Image

from dadan.printers.profile import PrinterProfile
from dadan.printers.status import STATUS_QUERY, decode_status

CRLF = b"\r\n"


def _mm(v: float) -> str:
    return f"{v:g}"


class TsplDriver:
    name = "tspl"
    supports_status = True
    status_query = STATUS_QUERY
    status_reply_len = 1
    ack_query = STATUS_QUERY  # answered after every byte before it: the label's acknowledgement
    ack_reply_len = 1
    decode_status = staticmethod(decode_status)
    decode_ack = staticmethod(decode_status)

    def __init__(self, profile: PrinterProfile):
        self.profile = profile

    def setup(self) -> bytes:
        p = self.profile
        lines = [f"SIZE {_mm(p.width_mm)} mm,{_mm(p.height_mm)} mm"]
        if p.bline_mm > 0:
            lines.append(f"BLINE {_mm(p.bline_mm)} mm,0 mm")
        else:
            lines.append(f"GAP {_mm(p.gap_mm)} mm,0 mm")
        lines += [
            "DIRECTION 0,0",
            "REFERENCE 0,0",
            f"DENSITY {int(p.density)}",
            f"SPEED {int(p.speed)}",
        ]
        return CRLF.join(s.encode("ascii") for s in lines) + CRLF

    def page_image(self, img: Image.Image) -> Image.Image:
        """The label as a mode "1" image whose width is a whole number of bytes (padding is
        white) and no larger than the page."""
        if img.mode != "1":
            img = img.convert("1")
        page_w, page_h = self.profile.width_dots, self.profile.height_dots
        w = min(img.width, page_w) if page_w else img.width
        h = min(img.height, page_h) if page_h else img.height
        wb = (w + 7) // 8
        if (w, h) != img.size or wb * 8 != w:
            canvas = Image.new("1", (wb * 8, h), 255)
            canvas.paste(img.crop((0, 0, w, h)), (0, 0))
            img = canvas
        return img

    def label(self, img: Image.Image, copies: int = 1) -> bytes:
        img = self.page_image(img)
        wb = img.width // 8
        return b"".join((
            b"CLS\r\n",
            f"BITMAP 0,0,{wb},{img.height},0,".encode("ascii"),
            img.tobytes(),  # mode "1": 1 = white, 0 = black (TSPL's convention)
            b"\r\nPRINT 1,", str(max(1, int(copies))).encode("ascii"), b"\r\n",
        ))

    def end(self) -> bytes:
        return b""
