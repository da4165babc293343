"""Two-language UI text: Simplified Chinese and English.

Strings are written as pairs at the place they are used, ``tr("Paper out", "缺纸")``, so no
string can lack its translation and no catalogue file is shared between modules.
The language is chosen at start-up: the ``language`` setting (``zh``/``en``) wins, ``auto``
follows the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``); the settings screen can switch it
while the app runs. Text kept from before a switch (key binding labels, which are class
attributes) is written as :class:`Bilingual`, which remembers both languages.
"""

from __future__ import annotations

import os

_LANG = "en"


def detect_language(setting: str = "auto", environ: dict | None = None) -> str:
    if setting in ("zh", "en"):
        return setting
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str) -> None:
    global _LANG
    _LANG = "zh" if lang == "zh" else "en"
    try:  # printers/ keeps its own copy (it never imports core)
        from dadan.printers import i18n as _pi18n

        _pi18n.set_language(_LANG)
    except ImportError:  # pragma: no cover - printers always ships with core
        pass


def language() -> str:
    return _LANG


def tr(en: str, zh: str, /, **kwargs) -> str:
    text = zh if _LANG == "zh" else en
    return text.format(**kwargs) if kwargs else text


class Bilingual(str):
    """``tr()`` that keeps both texts: the string is the text in the current language, and
    :meth:`again` gives it in the language current now (used for key binding labels, built once
    at import time and relabelled after a language switch)."""

    def __new__(cls, en: str, zh: str, /, **kwargs) -> "Bilingual":
        obj = super().__new__(cls, tr(en, zh, **kwargs))
        obj.en, obj.zh, obj.kwargs = en, zh, kwargs
        return obj

    def again(self) -> "Bilingual":
        """The same text in the current language (``self`` if it is already)."""
        if str(self) == tr(self.en, self.zh, **self.kwargs):
            return self
        return Bilingual(self.en, self.zh, **self.kwargs)

    def __reduce__(self):
        return (_bilingual, (self.en, self.zh, self.kwargs))


def _bilingual(en: str, zh: str, kwargs: dict) -> Bilingual:
    return Bilingual(en, zh, **kwargs)
