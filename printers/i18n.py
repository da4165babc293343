"""Two-language UI text: Simplified Chinese and English, for every layer.

Strings are written as pairs at the place they are used, ``tr("Paper out", "缺纸")``, so no
string can lack its translation and no catalogue file is shared between modules.
This module holds the one language state of the whole program: printers/ is the lowest layer, so
core/ and tui/ read and switch the same state through :mod:`dadan.core.i18n` (which adds the rule
choosing the language from the settings and the locale). The settings screen can switch the
language while the app runs. Text kept from before a switch (key binding labels, error titles,
which are class attributes) is written as :class:`Bilingual`, which remembers both languages.
"""

from __future__ import annotations

_LANG = "en"


def set_language(lang: str) -> None:
    global _LANG
    _LANG = "zh" if lang == "zh" else "en"


def language() -> str:
    return _LANG


def tr(en: str, zh: str, /, **kwargs) -> str:
    text = zh if _LANG == "zh" else en
    return text.format(**kwargs) if kwargs else text


class Bilingual(str):
    """``tr()`` that keeps both texts: the string is the text in the current language, and
    :meth:`again` gives it in the language current now (used for key binding labels and error
    titles, built once at import time and shown in the language of the moment)."""

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
