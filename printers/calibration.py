"""Calibration print: a millimetre grid to read the offsets off a real label.

Lines every 5 mm (every 10 mm bolder and numbered), a border 1 mm inside the page edge and a
centre cross. Print it, measure how far the border sits from the paper's edges, and set
``offset_x_mm`` / ``offset_y_mm`` in the printer's profile (positive moves right / down). The
grid is drawn with the profile's current offsets applied, so a second print shows the result.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from dadan.printers.profile import PrinterProfile


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def calibration_image(profile: PrinterProfile, *, width_mm: float | None = None,
                      height_mm: float | None = None) -> Image.Image:
    """The grid for ``profile`` as a mode "1" image of the page size (receipt printers:
    their printable width, 60 mm tall)."""
    dpm = profile.dpi / 25.4
    if profile.driver == "escpos":
        width_mm = width_mm or profile.escpos_width_dots / dpm
        height_mm = height_mm or 60.0
    width_mm = width_mm or profile.width_mm
    height_mm = height_mm or profile.height_mm
    w, h = int(round(width_mm * dpm)), int(round(height_mm * dpm))
    img = Image.new("1", (w, h), 255)
    d = ImageDraw.Draw(img)
    ox, oy = profile.offset_x_mm * dpm, profile.offset_y_mm * dpm

    def X(mm: float) -> int:
        return int(round(mm * dpm + ox))

    def Y(mm: float) -> int:
        return int(round(mm * dpm + oy))

    small = _font(max(10, int(2.2 * dpm)))
    step = 5
    for mm in range(0, int(width_mm) + 1, step):
        major = mm % 10 == 0
        d.line([(X(mm), Y(0)), (X(mm), Y(height_mm))], fill=0, width=2 if major else 1)
        if major and 0 < mm < width_mm - 3:
            d.text((X(mm) + 3, Y(2)), str(mm), fill=0, font=small)
    for mm in range(0, int(height_mm) + 1, step):
        major = mm % 10 == 0
        d.line([(X(0), Y(mm)), (X(width_mm), Y(mm))], fill=0, width=2 if major else 1)
        if major and 0 < mm < height_mm - 3:
            d.text((X(2), Y(mm) + 3), str(mm), fill=0, font=small)
    # border 1 mm inside the edge, and a centre cross
    d.rectangle([X(1), Y(1), X(width_mm - 1), Y(height_mm - 1)], outline=0, width=3)
    cx, cy = X(width_mm / 2), Y(height_mm / 2)
    d.line([(cx - int(8 * dpm), cy), (cx + int(8 * dpm), cy)], fill=0, width=4)
    d.line([(cx, cy - int(8 * dpm)), (cx, cy + int(8 * dpm))], fill=0, width=4)
    caption = (f"{profile.name} {width_mm:g}x{height_mm:g}mm {profile.dpi}dpi\n"
               f"offset x={profile.offset_x_mm:+g} y={profile.offset_y_mm:+g} mm")
    big = _font(max(12, int(2.6 * dpm)))
    bbox = d.multiline_textbbox((0, 0), caption, font=big)
    tx = max(X(2), cx - (bbox[2] - bbox[0]) // 2)
    ty = cy + int(10 * dpm)
    bbox = d.multiline_textbbox((tx, ty), caption, font=big)
    d.rectangle([bbox[0] - 4, bbox[1] - 4, bbox[2] + 4, bbox[3] + 4], fill=1)
    d.multiline_text((tx, ty), caption, fill=0, font=big)
    return img
