"""A rasterised label drawn with half-block characters, so staff can check a template over SSH.

Each character cell shows two vertical pixels (``▀ ▄ █`` or a space); black dots are drawn in
the foreground colour, so it works in 16 colours and with NO_COLOR. The image is scaled down
with area averaging and a generous threshold so thin lines and barcodes stay visible.
"""

from __future__ import annotations

from textual.widgets import Static

_CHARS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def halfblock_lines(img, width: int, *, max_height: int | None = None, threshold: int = 215) -> list[str]:
    """A Pillow image (mode "1", white 1 / black 0) -> text lines ``width`` characters wide
    (or narrower, to keep the aspect ratio within ``max_height`` lines)."""
    from PIL import Image

    w, h = img.size
    width = max(1, min(width, w))
    rows2 = max(2, round(h * width / w))  # pixel rows at 1 char = 1 px wide, 2 px tall (square dots)
    if max_height and rows2 > max_height * 2:
        rows2 = max_height * 2
        width = max(1, round(w * rows2 / h))
    rows2 += rows2 % 2
    grey = img.convert("L").resize((width, rows2), Image.Resampling.BOX)
    px = grey.load()
    lines = []
    for y in range(0, rows2, 2):
        lines.append("".join(_CHARS[(px[x, y] < threshold, px[x, y + 1] < threshold)] for x in range(width)))
    return lines


class HalfBlockLabel(Static):
    """Shows one label image; redraws to fit when resized."""

    DEFAULT_CSS = """
    HalfBlockLabel { width: 1fr; height: 1fr; color: $foreground; }
    """

    def __init__(self, image=None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.image = image

    def set_image(self, image) -> None:
        self.image = image
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if self.image is None:
            self.update("")
            return
        width = max(8, self.content_size.width or 40)
        height = max(4, self.content_size.height or 20)
        self.update("\n".join(halfblock_lines(self.image, width, max_height=height)))
