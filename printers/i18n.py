"""Language switch for printer messages (printers/ never imports core/; core sets this)."""

from __future__ import annotations

_LANG = "en"


def set_language(lang: str) -> None:
    global _LANG
    _LANG = "zh" if lang == "zh" else "en"


def tr(en: str, zh: str, /, **kwargs) -> str:
    text = zh if _LANG == "zh" else en
    return text.format(**kwargs) if kwargs else text
