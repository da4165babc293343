"""Code128: the bar pattern of a value (python-barcode encodes; the label renderer draws the bars
at a whole number of dots per module: python-barcode's ImageWriter puts bars at fractional
pixels, which do not scan at 203 dpi)."""

from __future__ import annotations

from dadan.printers.errors import PrinterError
from dadan.printers.i18n import tr

QUIET_MODULES = 10  # the quiet zone each side, in modules


def code128_modules(value: str) -> str:
    """The Code128 bar pattern of ``value`` as a string of '1' (bar) and '0' (space), start,
    check and stop characters included."""
    from barcode.codex import Code128
    from barcode.errors import BarcodeError

    try:
        return Code128(value).build()[0]
    except (BarcodeError, ValueError, KeyError) as exc:
        raise PrinterError(tr("cannot encode {v!r} as Code128: {e}", "无法将 {v!r} 编为 Code128：{e}",
                              v=value, e=exc)) from None


def bar_runs(bits: str) -> list[tuple[int, int]]:
    """(start, length) of each bar."""
    out = []
    i, n = 0, len(bits)
    while i < n:
        if bits[i] == "1":
            j = i
            while j < n and bits[j] == "1":
                j += 1
            out.append((i, j - i))
            i = j
        else:
            i += 1
    return out
