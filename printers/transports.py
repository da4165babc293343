"""Transports: how printer bytes reach a printer.

The printer URI of a profile picks one:

``usb://VID:PID``     USB through python-escpos (pyusb); reads back (status)
``/dev/usb/lp0``      the kernel's usblp device file; reads back when the device allows it
``tcp://host:9100``   raw TCP ("JetDirect", port 9100 by default); reads back
``cups://QUEUE``      a CUPS queue, each write one raw job (``lp -d QUEUE -o raw``); no read-back
``file:///path``      append to a plain file (tests, spooling); no read-back

Every failure is a :class:`~printers.errors.TransportError` whose message says in words what
happened ("printer 192.168.1.50:9100 refused the connection"), never a bare OSError.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

from dadan.printers.errors import TransportError
from dadan.printers.i18n import tr

DEFAULT_TCP_PORT = 9100


class Transport:
    """Base class: ``open``/``write``/``read``/``close``; usable as a context manager."""

    can_read = False
    uri = ""

    def open(self) -> "Transport":
        return self

    def write(self, data: bytes) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def read(self, n: int = 64, timeout: float = 1.0) -> bytes:
        """Up to ``n`` bytes, or b"" if nothing arrived within ``timeout`` seconds."""
        return b""

    def drain(self) -> None:
        """Discard bytes that arrived unasked (late answers)."""
        if self.can_read:
            while self.read(256, timeout=0.0):
                pass

    def query(self, data: bytes, n: int = 1, timeout: float = 2.0) -> bytes | None:
        """Send ``data`` and wait for an answer of ``n`` bytes; None without read-back or when
        the printer did not answer in time."""
        if not self.can_read:
            return None
        self.drain()
        self.write(data)
        got = b""
        import time

        deadline = time.monotonic() + timeout
        while len(got) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return got or None
            got += self.read(n - len(got), timeout=left)
        return got

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return self.uri

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------ tcp
class TcpTransport(Transport):
    can_read = True

    def __init__(self, host: str, port: int = DEFAULT_TCP_PORT, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.uri = f"tcp://{host}:{port}"
        self._sock: socket.socket | None = None

    def describe(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> "TcpTransport":
        if self._sock is not None:
            return self
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except ConnectionRefusedError:
            raise TransportError(tr("printer {p} refused the connection (is it on, and is this its address?)",
                                    "打印机 {p} 拒绝连接（是否开机？地址是否正确？）", p=self.describe())) from None
        except (TimeoutError, socket.timeout):
            raise TransportError(tr("printer {p} did not answer within {t:g} s", "打印机 {p} 在 {t:g} 秒内无应答",
                                    p=self.describe(), t=self.timeout)) from None
        except OSError as exc:
            raise TransportError(tr("cannot reach printer {p}: {e}", "无法连接打印机 {p}：{e}",
                                    p=self.describe(), e=exc.strerror or exc)) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        return self

    def _closed_error(self, exc: BaseException | None = None) -> TransportError:
        self.close()
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return TransportError(tr("printer {p} stopped taking data (timed out after {t:g} s)",
                                     "打印机 {p} 停止接收数据（{t:g} 秒超时）", p=self.describe(), t=self.timeout))
        return TransportError(tr("printer {p} closed the connection", "打印机 {p} 断开了连接", p=self.describe()))

    def write(self, data: bytes) -> None:
        if self._sock is None:
            self.open()
        try:
            self._sock.settimeout(self.timeout)
            self._sock.sendall(data)
        except OSError as exc:
            raise self._closed_error(exc) from None

    def read(self, n: int = 64, timeout: float = 1.0) -> bytes:
        if self._sock is None:
            self.open()
        try:
            ready, _, _ = select.select([self._sock], [], [], max(0.0, timeout))
            if not ready:
                return b""
            data = self._sock.recv(n)
        except OSError as exc:
            raise self._closed_error(exc) from None
        if not data:
            raise self._closed_error()
        return data

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


# ------------------------------------------------------------------ usb (pyusb via python-escpos)
class UsbTransport(Transport):
    can_read = True

    def __init__(self, vendor_id: int, product_id: int, timeout: float = 10.0,
                 in_ep: int = 0x82, out_ep: int = 0x01):
        self.vendor_id, self.product_id = vendor_id, product_id
        self.timeout = timeout
        self.in_ep, self.out_ep = in_ep, out_ep
        self.uri = f"usb://{vendor_id:04x}:{product_id:04x}"
        self._printer = None

    def open(self) -> "UsbTransport":
        if self._printer is not None:
            return self
        try:
            from escpos.printer import Usb
        except ImportError as exc:  # pragma: no cover - dependency
            raise TransportError(f"python-escpos is not installed: {exc}") from None
        if not Usb.is_usable():
            raise TransportError(tr("USB printing needs pyusb (pip install pyusb) and libusb",
                                    "USB 打印需要 pyusb（pip install pyusb）和 libusb"))
        printer = Usb(self.vendor_id, self.product_id, timeout=int(self.timeout * 1000),
                      in_ep=self.in_ep, out_ep=self.out_ep)
        try:
            printer.open()
        except Exception as exc:  # noqa: BLE001 - DeviceNotFoundError, USBError, permission
            raise TransportError(tr("USB printer {p} not found or not accessible (plugged in? udev permission?): {e}",
                                    "找不到或无法访问 USB 打印机 {p}（是否插好？udev 权限？）：{e}",
                                    p=self.uri, e=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)) from None
        self._printer = printer
        return self

    def write(self, data: bytes) -> None:
        self.open()
        try:
            self._printer._raw(data)
        except Exception as exc:  # noqa: BLE001 - usb.core.USBError
            self.close()
            raise TransportError(tr("USB printer {p} stopped taking data: {e}", "USB 打印机 {p} 停止接收数据：{e}",
                                    p=self.uri, e=exc)) from None

    def read(self, n: int = 64, timeout: float = 1.0) -> bytes:
        self.open()
        try:
            dev = self._printer.device
            return bytes(dev.read(self.in_ep, max(n, 16), int(max(timeout, 0.001) * 1000)))[:n]
        except Exception as exc:  # noqa: BLE001
            if "timeout" in str(exc).lower() or "timed out" in str(exc).lower():
                return b""
            raise TransportError(tr("USB printer {p}: {e}", "USB 打印机 {p}：{e}", p=self.uri, e=exc)) from None

    def close(self) -> None:
        if self._printer is not None:
            try:
                self._printer.close()
            except Exception:  # noqa: BLE001 - already gone (unplugged)
                pass
            self._printer = None


# ------------------------------------------------------------------ /dev/usb/lp*
class DeviceFileTransport(Transport):
    def __init__(self, path: str, timeout: float = 10.0):
        self.path = path
        self.timeout = timeout
        self.uri = path
        self._fd: int | None = None

    def open(self) -> "DeviceFileTransport":
        if self._fd is not None:
            return self
        try:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
                self.can_read = True
            except PermissionError:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                self.can_read = False
        except FileNotFoundError:
            raise TransportError(tr("{p} does not exist (printer unplugged or switched off?)",
                                    "{p} 不存在（打印机未连接或未开机？）", p=self.path)) from None
        except PermissionError:
            raise TransportError(tr("no permission to write {p} (add yourself to the 'lp' group)",
                                    "没有写入 {p} 的权限（请把当前用户加入 lp 组）", p=self.path)) from None
        except OSError as exc:
            raise TransportError(tr("cannot open {p}: {e}", "无法打开 {p}：{e}", p=self.path, e=exc.strerror)) from None
        return self

    def write(self, data: bytes) -> None:
        self.open()
        view = memoryview(data)
        import time

        deadline = time.monotonic() + self.timeout
        while view:
            try:
                _, w, _ = select.select([], [self._fd], [], max(0.0, deadline - time.monotonic()))
                if not w:
                    raise TransportError(tr("{p} stopped taking data (timed out after {t:g} s)",
                                            "{p} 停止接收数据（{t:g} 秒超时）", p=self.path, t=self.timeout))
                n = os.write(self._fd, view)
            except BlockingIOError:
                continue
            except OSError as exc:
                self.close()
                raise TransportError(tr("{p}: {e} (printer unplugged?)", "{p}：{e}（打印机已断开？）",
                                        p=self.path, e=exc.strerror)) from None
            view = view[n:]

    def read(self, n: int = 64, timeout: float = 1.0) -> bytes:
        if not self.can_read:
            return b""
        self.open()
        try:
            r, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
            return os.read(self._fd, n) if r else b""
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            return b""  # many usblp devices are write-only in practice

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None


# ------------------------------------------------------------------ cups
class CupsTransport(Transport):
    """Each write is one raw CUPS job. Accepted = ``lp`` exited 0 (the job is in CUPS's queue)."""

    def __init__(self, queue: str, timeout: float = 30.0, lp: str | None = None):
        self.queue = queue
        self.timeout = timeout
        self.uri = f"cups://{queue}"
        self._lp = lp

    def open(self) -> "CupsTransport":
        if self._lp is None:
            self._lp = shutil.which("lp")
            if self._lp is None:
                raise TransportError(tr("CUPS is not installed (no 'lp' command); install cups-client",
                                        "未安装 CUPS（找不到 lp 命令），请安装 cups-client"))
        return self

    def write(self, data: bytes) -> None:
        self.open()
        try:
            proc = subprocess.run([self._lp, "-d", self.queue, "-o", "raw", "-s"], input=data,
                                  capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TransportError(tr("CUPS did not accept the job within {t:g} s", "CUPS 在 {t:g} 秒内未接收任务",
                                    t=self.timeout)) from None
        except OSError as exc:
            raise TransportError(tr("cannot run lp: {e}", "无法运行 lp：{e}", e=exc)) from None
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
            raise TransportError(tr("CUPS queue {q} refused the job: {e}", "CUPS 队列 {q} 拒绝了任务：{e}",
                                    q=self.queue, e=msg))


# ------------------------------------------------------------------ file
class FileTransport(Transport):
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.uri = self.path.as_uri() if self.path.is_absolute() else f"file://{self.path}"
        self._fh = None

    def open(self) -> "FileTransport":
        if self._fh is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open across writes
            except OSError as exc:
                raise TransportError(tr("cannot write {p}: {e}", "无法写入 {p}：{e}", p=self.path,
                                        e=exc.strerror or exc)) from None
        return self

    def write(self, data: bytes) -> None:
        self.open()
        try:
            self._fh.write(data)
            self._fh.flush()
        except OSError as exc:
            raise TransportError(tr("cannot write {p}: {e}", "无法写入 {p}：{e}", p=self.path,
                                    e=exc.strerror or exc)) from None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


# ------------------------------------------------------------------ uri
def _bad_uri(uri: str) -> TransportError:
    return TransportError(tr(
        "printer address '{u}' is not understood; use usb://VID:PID, /dev/usb/lp0, tcp://HOST:9100, "
        "cups://QUEUE or file:///PATH",
        "无法识别打印机地址 '{u}'；请使用 usb://VID:PID、/dev/usb/lp0、tcp://主机:9100、cups://队列 或 file:///路径",
        u=uri))


def open_transport(uri: str, *, timeout: float = 10.0) -> Transport:
    """The transport for a printer URI (not yet connected: the first write or ``open()``
    connects)."""
    uri = (uri or "").strip()
    if not uri:
        raise _bad_uri(uri)
    if uri.startswith("/"):
        return DeviceFileTransport(uri, timeout=timeout)
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "tcp":
        if not parsed.hostname:
            raise _bad_uri(uri)
        try:
            port = parsed.port or DEFAULT_TCP_PORT
        except ValueError:
            raise _bad_uri(uri) from None
        return TcpTransport(parsed.hostname, port, timeout=timeout)
    if scheme == "usb":
        ids = (parsed.netloc + parsed.path).strip("/")
        try:
            vid, pid = (int(x, 16) for x in ids.split(":"))
        except ValueError:
            raise _bad_uri(uri) from None
        return UsbTransport(vid, pid, timeout=timeout)
    if scheme == "cups":
        queue = unquote(parsed.netloc + parsed.path).strip("/")
        if not queue:
            raise _bad_uri(uri)
        return CupsTransport(queue, timeout=max(timeout, 30.0))
    if scheme == "file":
        path = unquote(parsed.path)
        if not path:
            raise _bad_uri(uri)
        return FileTransport(path)
    raise _bad_uri(uri)
