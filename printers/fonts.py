"""Finding a font that can draw Chinese, for labels.

Order of search: the configured path (``fonts.cjk``), fontconfig (``fc-match`` for the
preferred family, accepted only if ``fc-list :lang=zh-cn:lang=en`` lists it, since
``fc-match`` falls back to a Latin-only font when nothing better exists), then well-known paths. Nothing found raises
:class:`printers.errors.FontNotFound` — printing boxes instead of a receiver's address is worse
than not printing.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from dadan.printers.errors import FontNotFound
from dadan.printers.i18n import tr

WELL_KNOWN = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)

_FC_TIMEOUT_S = 5.0


def _fc(*args: str) -> list[str]:
    exe = shutil.which(args[0])
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, *args[1:]], capture_output=True, text=True, timeout=_FC_TIMEOUT_S, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


@functools.lru_cache(maxsize=1)
def _fontconfig_cjk() -> str | None:
    """Fontconfig's choice among fonts covering both Chinese and Latin (a CJK-only fallback
    font such as DroidSansFallback has no digits: tracking numbers would print as boxes)."""
    both = _fc("fc-list", ":lang=zh-cn:lang=en", "-f", "%{file}\n")
    if not both:
        return None
    best = _fc("fc-match", "sans-serif:lang=zh-cn", "-f", "%{file}\n")
    if best and best[0] in both:
        return best[0]
    preferred = [p for p in WELL_KNOWN if p in both]
    return preferred[0] if preferred else sorted(both)[0]


def draws_cjk(path: str) -> bool:
    """True when the font at ``path`` draws distinct shapes for Chinese characters and Latin
    letters/digits (not the same 'missing glyph' box for each)."""
    from PIL import ImageFont

    try:
        font = ImageFont.truetype(path, 24, layout_engine=ImageFont.Layout.BASIC)
    except OSError:
        return False
    masks = [bytes(font.getmask(ch, mode="1")) for ch in "中国A1"]
    return len(set(masks)) == len(masks)


@functools.lru_cache(maxsize=8)
def find_cjk_font(configured: str | None = None) -> str:
    """Path of a font that can draw Chinese. Raises FontNotFound."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontNotFound(tr("font file not found: {p} (setting fonts.cjk)",
                                  "找不到字体文件：{p}（设置 fonts.cjk）", p=path))
        if not draws_cjk(str(path)):
            raise FontNotFound(tr("the font {p} (setting fonts.cjk) cannot draw Chinese characters",
                                  "字体 {p}（设置 fonts.cjk）不含中文字形", p=path))
        return str(path)
    found = _fontconfig_cjk()
    candidates = ([found] if found else []) + [p for p in WELL_KNOWN if p != found]
    for candidate in candidates:
        if Path(candidate).is_file() and draws_cjk(candidate):
            return candidate
    raise FontNotFound()
