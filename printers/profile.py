"""A printer profile as the printers/ layer sees it: plain values, no settings machinery.

``core`` maps its ``PrinterSettings`` (a ``[[printers]]`` table of config.toml) onto this
dataclass with :func:`profile_from` (any object with the same attribute names will do), so
printers/ never imports core/.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class PrinterProfile:
    name: str = "preview"
    driver: str = "preview"  # tspl | escpos | preview
    uri: str = ""  # usb://VID:PID, /dev/usb/lp0, tcp://host:9100, cups://QUEUE, file:///path
    dpi: int = 203
    width_mm: float = 100.0  # label width (TSPL) or paper width (ESC/POS: 58 or 80)
    height_mm: float = 150.0  # label height (TSPL); ESC/POS: unused (continuous paper)
    gap_mm: float = 2.0
    bline_mm: float = 0.0  # > 0: black-mark media (BLINE) instead of a gap
    offset_x_mm: float = 0.0
    offset_y_mm: float = 0.0
    density: int = 8  # TSPL 0..15
    speed: int = 4  # TSPL inches per second
    template: str = "waybill_100x150"
    timeout_seconds: float = 10.0

    # -- derived
    def dots(self, mm: float) -> int:
        return int(round(mm * self.dpi / MM_PER_INCH))

    @property
    def width_dots(self) -> int:
        return self.dots(self.width_mm)

    @property
    def height_dots(self) -> int:
        return self.dots(self.height_mm)

    @property
    def escpos_width_dots(self) -> int:
        """Printable width of a receipt printer: 58 mm paper prints 48 mm (384 dots at 203
        dpi), 80 mm paper prints 72 mm (576 dots); other widths lose 10 mm of margins."""
        w = self.width_mm
        printable = 48.0 if w <= 60 else 72.0 if w <= 82 else w - 10.0
        return int(round(printable * self.dpi / MM_PER_INCH / 8)) * 8


def profile_from(obj) -> PrinterProfile:
    """A :class:`PrinterProfile` from any object (e.g. core's ``PrinterSettings``) or mapping
    carrying the same field names; unknown attributes are ignored, missing ones default."""
    names = [f.name for f in dataclasses.fields(PrinterProfile)]
    if isinstance(obj, PrinterProfile):
        return obj
    if isinstance(obj, dict):
        return PrinterProfile(**{k: obj[k] for k in names if k in obj})
    return PrinterProfile(**{k: getattr(obj, k) for k in names if hasattr(obj, k)})
