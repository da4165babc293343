"""Plain label images for driver tests (independent of the template engine)."""

from __future__ import annotations

from PIL import Image, ImageDraw


def code128_label(text: str, size: tuple[int, int] = (480, 320), module: int = 2,
                  bar_height: int = 120, top: int = 40) -> Image.Image:
    """A mode "1" label with ``text`` as a Code 128 barcode (whole-dot modules) and a frame."""
    import barcode

    modules = barcode.get("code128", text).build()[0]
    img = Image.new("1", size, 255)
    d = ImageDraw.Draw(img)
    width = len(modules) * module
    x0 = max(10, (size[0] - width) // 2)
    for i, m in enumerate(modules):
        if m == "1":
            x = x0 + i * module
            d.rectangle([x, top, x + module - 1, top + bar_height - 1], fill=0)
    d.rectangle([0, 0, size[0] - 1, size[1] - 1], outline=0, width=2)
    d.text((10, top + bar_height + 10), text, fill=0)
    return img
