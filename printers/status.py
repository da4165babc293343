"""Printer status in words. :class:`PrinterStatus` holds TSPL's status bits, which other
drivers map their answers onto (:func:`printers.escpos.decode_realtime_status`).

The printer answers ``ESC ! ?`` with one byte, at once (it is an "immediate" command, answered
even while a label is printing):

=====  ==========================
bit 0  print head open
bit 1  paper jam
bit 2  out of paper
bit 3  out of ribbon
bit 4  paused
bit 5  printing (not an error)
bit 6  cover open (some models)
bit 7  other error
=====  ==========================
"""

from __future__ import annotations

from dataclasses import dataclass

from dadan.printers.i18n import tr

STATUS_QUERY = b"\x1b!?"

HEAD_OPEN = 0x01
PAPER_JAM = 0x02
PAPER_OUT = 0x04
RIBBON_OUT = 0x08
PAUSED = 0x10
PRINTING = 0x20
COVER_OPEN = 0x40
OTHER_ERROR = 0x80

ERROR_BITS = HEAD_OPEN | PAPER_JAM | PAPER_OUT | RIBBON_OUT | PAUSED | COVER_OPEN | OTHER_ERROR


def _words(bit: int) -> str:
    return {
        HEAD_OPEN: tr("print head open", "打印头未合上"),
        PAPER_JAM: tr("paper jam", "卡纸"),
        PAPER_OUT: tr("paper out", "缺纸"),
        RIBBON_OUT: tr("ribbon out", "碳带用完"),
        PAUSED: tr("paused on the printer", "打印机已暂停"),
        COVER_OPEN: tr("cover open", "上盖打开"),
        OTHER_ERROR: tr("printer error", "打印机故障"),
        PRINTING: tr("printing", "打印中"),
    }[bit]


@dataclass(frozen=True)
class PrinterStatus:
    """One status reading. ``raw`` is None when the printer gave no answer."""

    raw: int | None

    @property
    def known(self) -> bool:
        return self.raw is not None

    @property
    def ready(self) -> bool:
        """True when nothing stops printing (an unknown status counts as ready)."""
        return self.raw is None or not (self.raw & ERROR_BITS)

    @property
    def printing(self) -> bool:
        return bool(self.raw and self.raw & PRINTING)

    @property
    def problems(self) -> list[str]:
        if self.raw is None:
            return []
        return [_words(b) for b in (PAPER_OUT, HEAD_OPEN, COVER_OPEN, PAPER_JAM, RIBBON_OUT, PAUSED,
                                    OTHER_ERROR) if self.raw & b]

    def text(self) -> str:
        """The status in words: "paper out, print head open", "ready", "printing"."""
        if self.raw is None:
            return tr("status unknown (the printer did not answer)", "状态未知（打印机无应答）")
        problems = self.problems
        if problems:
            return tr(", ", "，").join(problems)
        return _words(PRINTING) if self.printing else tr("ready", "就绪")

    def __str__(self) -> str:
        return self.text()


def decode_status(data: bytes | int | None) -> PrinterStatus:
    """Decode the answer to ``ESC ! ?`` (the last byte counts if several arrived)."""
    if data is None:
        return PrinterStatus(None)
    if isinstance(data, int):
        return PrinterStatus(data & 0xFF)
    return PrinterStatus(data[-1]) if data else PrinterStatus(None)
