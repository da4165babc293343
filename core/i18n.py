"""The language of the program, chosen from the settings: the ``language`` setting
(``zh``/``en``) wins, ``auto`` follows the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``).

The language state, ``tr`` and :class:`Bilingual` live in :mod:`dadan.printers.i18n` (the lowest
layer, so printer messages switch with everything else); core/ and tui/ use them from here.
"""

from __future__ import annotations

import os

from dadan.printers.i18n import Bilingual, language, set_language, tr

__all__ = ["Bilingual", "detect_language", "language", "set_language", "tr"]


def detect_language(setting: str = "auto", environ: dict | None = None) -> str:
    if setting in ("zh", "en"):
        return setting
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
