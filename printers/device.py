"""A printer session: driver (bytes) + transport (delivery) + status, for one profile.

``encode`` is pure and thread-safe (the print worker encodes the next label while the current
one is being sent). ``send`` returns only once the transport accepted the bytes:

* on a printer that reads back (TCP, USB) and answered the status query when the session
  opened, each label is followed by the driver's status query (TSPL ``ESC ! ?``, ESC/POS
  ``DLE EOT 2``); the answer arrives after the printer took every byte before it (one
  ordered stream), so it is both an acknowledgement and a fresh status. A returned write alone
  proves nothing there: the bytes may still sit in a socket buffer when the printer drops;
* elsewhere, when the write returned (the bytes are in the device, the socket or CUPS).

Failures:

* :class:`~printers.errors.TransportError` - the label was not (completely) delivered;
* :class:`SendUnconfirmed` (a TransportError) - every byte was written but the printer never
  confirmed: it may or may not print; the caller must not resend it on its own;
* :class:`~printers.errors.PrinterStatusError` - the printer answered that it cannot print
  (paper out, head open...); ``.status`` holds the reading.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from dadan.printers.errors import PrinterError, PrinterStatusError, TransportError
from dadan.printers.i18n import Bilingual, tr
from dadan.printers.private_files import make_private_dir, write_private_bytes
from dadan.printers.profile import PrinterProfile, profile_from
from dadan.printers.status import PrinterStatus
from dadan.printers.transports import Transport, open_transport

PROBE_TIMEOUT_S = 2.0


class SendUnconfirmed(TransportError):
    """All bytes written, no confirmation from the printer: it may have printed."""

    TITLE = Bilingual("Printer did not confirm", "打印机未确认")


def make_driver(profile: PrinterProfile):
    if profile.driver == "tspl":
        from dadan.printers.tspl import TsplDriver

        return TsplDriver(profile)
    if profile.driver == "escpos":
        from dadan.printers.escpos import EscposDriver

        return EscposDriver(profile)
    if profile.driver == "preview":
        from dadan.printers.preview import PreviewDriver

        return PreviewDriver(profile)
    raise PrinterError(tr("unknown printer driver '{d}' (tspl, escpos or preview)",
                          "未知的打印机驱动 '{d}'（tspl、escpos 或 preview）", d=profile.driver))


def status_error(status: PrinterStatus, printer: str) -> PrinterStatusError:
    err = PrinterStatusError(tr("printer '{p}': {s}", "打印机 '{p}'：{s}", p=printer, s=status.text()))
    err.status = status
    return err


class PrinterSession:
    """Use as a context manager, or ``open()`` / ``close()``."""

    def __init__(self, profile, *, transport: Transport | None = None,
                 preview_dir: str | os.PathLike | None = None):
        self.profile: PrinterProfile = profile_from(profile)
        self.driver = make_driver(self.profile)
        self.is_preview = self.profile.driver == "preview"
        self._transport = transport
        self.preview_dir = Path(preview_dir or self.profile.uri or ".") if self.is_preview else None
        self.preview_files: list[Path] = []
        self.acks = False  # per-label acknowledgement through a status query
        self.last_status: PrinterStatus | None = None
        self._opened = False

    # -- plumbing
    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = open_transport(self.profile.uri, timeout=self.profile.timeout_seconds)
        return self._transport

    @property
    def can_query(self) -> bool:
        return bool(self.driver.supports_status) and not self.is_preview and self.transport.can_read

    def encode(self, img: Image.Image, copies: int = 1) -> bytes:
        return self.driver.label(img, copies)

    # -- session
    def open(self, *, check: bool = True) -> PrinterStatus | None:
        """Connect, read the status (where the printer can answer) and send the media set-up.
        Raises PrinterStatusError when the printer says it cannot print."""
        if self.is_preview:
            try:
                make_private_dir(self.preview_dir)
            except OSError as exc:
                raise TransportError(tr("cannot create {p}: {e}", "无法创建 {p}：{e}", p=self.preview_dir,
                                        e=exc.strerror or exc)) from None
            self._opened = True
            return None
        self.transport.open()
        self._opened = True
        status = None
        if self.can_query:
            status = self.query_status(PROBE_TIMEOUT_S)
            self.acks = status.known
            if check and not status.ready:
                raise status_error(status, self.profile.name)
        setup = self.driver.setup()
        if setup:
            self.transport.write(setup)
        return status

    def query_status(self, timeout: float = PROBE_TIMEOUT_S) -> PrinterStatus:
        if not self.can_query:
            return PrinterStatus(None)
        driver = self.driver
        status = driver.decode_status(self.transport.query(driver.status_query, driver.status_reply_len, timeout))
        self.last_status = status
        return status

    def send(self, payload: bytes, *, name: str = "label") -> PrinterStatus | None:
        """Deliver one encoded label; see the module docstring for what "delivered" means."""
        if not self._opened:
            self.open()
        if self.is_preview:
            path = self.preview_dir / f"{name}.png"
            try:
                write_private_bytes(path, payload)
            except OSError as exc:
                raise TransportError(tr("cannot write {p}: {e}", "无法写入 {p}：{e}", p=path,
                                        e=exc.strerror or exc)) from None
            self.preview_files.append(path)
            return None
        self.transport.write(payload)
        if not self.acks:
            return None
        # the answer follows every byte before it; wait as long as the printer may need to
        # make room in its buffer (a label or two of printing). Every byte of the label is out:
        # a connection that breaks now leaves it unconfirmed, never "not sent" (a resend could
        # print it twice)
        try:
            reply = self.transport.query(self.driver.ack_query, self.driver.ack_reply_len,
                                         max(self.profile.timeout_seconds, PROBE_TIMEOUT_S))
        except TransportError as exc:
            raise SendUnconfirmed(tr(
                "printer '{p}': the label was sent, but the connection broke before the printer confirmed "
                "it ({e}); check whether it printed",
                "打印机 '{p}'：标签已发出，但打印机确认前连接中断（{e}）；请检查是否已打印",
                p=self.profile.name, e=exc.message)) from None
        if not reply:
            raise SendUnconfirmed(tr(
                "printer '{p}' took the label but did not confirm it; check whether it printed",
                "打印机 '{p}' 已接收标签但未确认；请检查是否已打印", p=self.profile.name))
        status = self.driver.decode_ack(reply)
        self.last_status = status
        return status

    def diagnose(self) -> PrinterStatus:
        """After a failed send: reconnect and ask the printer what is wrong (never raises)."""
        self.close()
        if not self.can_query:
            return PrinterStatus(None)
        try:
            self.transport.open()
            return self.query_status(PROBE_TIMEOUT_S)
        except PrinterError:
            return PrinterStatus(None)
        finally:
            self.close()

    def write_pdf(self, path: str | os.PathLike) -> Path:
        from dadan.printers.preview import write_pdf

        return write_pdf(self.preview_files, path, dpi=self.profile.dpi)

    def close(self) -> None:
        self._opened = False
        self.acks = False
        if self._transport is not None:
            try:
                end = self.driver.end()
                if end:
                    self._transport.write(end)
            except PrinterError:
                pass
            self._transport.close()

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
