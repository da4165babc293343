"""Printer-side errors. Same shape as core's errors (``message``, ``title``) so the CLI and the
TUI show them as one clear line; printers/ never imports core/."""

from __future__ import annotations

from dadan.printers.i18n import tr


class PrinterError(Exception):
    title = "Printer error"

    def __init__(self, message: str, title: str | None = None):
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class TemplateError(PrinterError):
    """A template file that is malformed or names an unknown field. The message names the
    file, the line (when known) and the element."""

    title = "Template error"


class FontNotFound(PrinterError):
    title = "Font missing"

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

    title = "Printer not reachable"


class PrinterStatusError(PrinterError):
    """The printer answered but cannot print (paper out, head open, jam, paused)."""

    title = "Printer not ready"
