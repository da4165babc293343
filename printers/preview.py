"""Preview "printer": labels become PNG files (and a multi-page PDF for a whole batch), owner-only
(they show receivers' names, phones and addresses).

Used when no printer is configured, and to check a template or a batch on screen.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Iterable

from PIL import Image

from dadan.printers.errors import PrinterError
from dadan.printers.i18n import tr
from dadan.printers.private_files import make_private_dir, open_private
from dadan.printers.profile import PrinterProfile


def safe_name(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", text).strip("_")[:80] or "label"


class PreviewDriver:
    name = "preview"
    supports_status = False
    status_query = b""

    def __init__(self, profile: PrinterProfile):
        self.profile = profile

    def setup(self) -> bytes:
        return b""

    def label(self, img: Image.Image, copies: int = 1) -> bytes:
        """PNG bytes of the label (mode "1", with the profile's dpi)."""
        if img.mode != "1":
            img = img.convert("1")
        buf = io.BytesIO()
        img.save(buf, format="PNG", dpi=(self.profile.dpi, self.profile.dpi), optimize=False)
        return buf.getvalue()

    def end(self) -> bytes:
        return b""


def write_png(img: Image.Image, path: str | Path, dpi: int = 203) -> Path:
    path = Path(path)
    make_private_dir(path.parent)
    with open_private(path) as fh:
        img.save(fh, format="PNG", dpi=(dpi, dpi))
    return path


def write_pdf(pages: Iterable[Image.Image | str | Path], path: str | Path, dpi: int = 203) -> Path:
    """A multi-page PDF, one label per page, at the labels' real size."""
    path = Path(path)
    images = []
    for p in pages:
        images.append(Image.open(p) if isinstance(p, (str, Path)) else p)
    if not images:
        raise PrinterError(tr("nothing to put in the PDF", "没有可写入 PDF 的页面"))
    make_private_dir(path.parent)
    first, rest = images[0].convert("1"), [im.convert("1") for im in images[1:]]
    with open_private(path) as fh:
        first.save(fh, format="PDF", save_all=True, append_images=rest, resolution=float(dpi))
    return path
