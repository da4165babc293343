"""dadan's error base and the printer-side errors.

Every expected failure is a :class:`DadanError`: the CLI prints ``title: message`` and exits
non-zero, the TUI opens an error modal. Nothing else should reach a user as a traceback.
The base lives here, in the lowest layer, so that printers/ (which never imports core/) and
core/ (whose errors subclass it in :mod:`dadan.core.errors`) share one hierarchy: whoever shows
errors catches ``DadanError`` and nothing else.

A class's ``TITLE`` is a :class:`Bilingual` and :attr:`DadanError.title` gives it in the language
current when the error is shown; the message is written with ``tr`` where the error is raised.
"""

from __future__ import annotations

from dadan.printers.i18n import Bilingual, tr


class DadanError(Exception):
    TITLE = Bilingual("Error", "错误")

    def __init__(self, message: str, title: str | Bilingual | None = None):
        super().__init__(message)
        self.message = message
        self.given_title = title

    @property
    def title(self) -> str:
        """The heading shown above the message, in the current language."""
        title = self.TITLE if self.given_title is None else self.given_title
        return str(title.again()) if isinstance(title, Bilingual) else str(title)

    def __str__(self) -> str:
        return self.message


class PrinterError(DadanError):
    TITLE = Bilingual("Printer error", "打印机错误")


class TemplateError(PrinterError):
    """A template file that is malformed or names an unknown field. The message names the
    file, the line (when known) and the element."""

    TITLE = Bilingual("Template error", "模板错误")


class FontNotFound(PrinterError):
    TITLE = Bilingual("Font missing", "缺少字体")

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or tr(
                "no font with Chinese characters was found; install one "
                "(Debian/Ubuntu: apt-get install fonts-wqy-microhei) or set fonts.cjk in config.toml",
                "未找到含中文字形的字体；请安装（Debian/Ubuntu：apt-get install fonts-wqy-microhei）"
                "或在 config.toml 中设置 fonts.cjk",
            )
        )


class TransportError(PrinterError):
    """The bytes could not be delivered (unplugged, refused, closed mid-way, timed out)."""

    TITLE = Bilingual("Printer not reachable", "无法连接打印机")


class PrinterStatusError(PrinterError):
    """The printer answered but cannot print (paper out, head open, jam, paused)."""

    TITLE = Bilingual("Printer not ready", "打印机未就绪")
