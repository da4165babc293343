"""Loopback printers that behave like the real thing, for tests and benchmarks.

:class:`FakeTsplPrinter` parses a TSPL stream (SIZE, GAP/BLINE, DIRECTION, REFERENCE, DENSITY,
SPEED, CLS, BITMAP, TEXT, BARCODE "128", BAR, BOX, PRINT; text lines in GB18030) back into one
image per printed label (Code128 bars drawn for real, so zbar reads them; TEXT recorded, not
drawn; the texts and barcode contents of each label kept beside it), answers ``ESC ! ?`` with a
status byte, and can simulate paper out, a connection closed mid-batch and a print engine
that consumes labels at a given speed in mm/s (its input buffer holds ``buffer_labels``
labels; when full it stops reading, as a real printer does, so TCP back-pressure reaches the
sender).

:class:`FakeEscposPrinter` parses ESC/POS (ESC @, ESC d, GS V, LF, GS v 0, DLE EOT, GS r) and
turns the raster bands between two cuts back into one image. It answers ``DLE EOT 1/2/3/4``
(real-time status: online/offline, offline cause, error cause, paper sensor) and ``GS r 1``
(paper sensor) with one status byte each, as a real receipt printer does, takes ``label_seconds``
to print each label (reading nothing meanwhile, so TCP back-pressure reaches the sender), and
can drop the connection in the middle of a label or after taking a label whole.
"""

from __future__ import annotations

import queue
import socket
import threading
import time

from PIL import Image, ImageDraw

from dadan.printers.code128 import QUIET_MODULES, bar_runs, code128_modules

_INVERT = bytes(255 - i for i in range(256))


class _Server:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(8)
        self.host, self.port = self._listener.getsockname()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.connections = 0
        self.first_byte_at: float | None = None
        self.bytes_received = 0
        self.errors: list[str] = []

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def start(self):
        t = threading.Thread(target=self._accept_loop, name=f"{type(self).__name__}-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        for c in list(self._conns):
            try:
                c.close()
            except OSError:
                pass

    def _accept_loop(self):
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket):
        conn.settimeout(0.2)
        buf = bytearray()
        try:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(1 << 16)
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                if self.first_byte_at is None:
                    self.first_byte_at = time.monotonic()
                self.bytes_received += len(chunk)
                buf += chunk
                try:
                    if self._parse(conn, buf) == "close":
                        self._abort(conn)
                        return
                except Exception as exc:  # noqa: BLE001 - a protocol error is a test failure
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    self._abort(conn)
                    return
            self._on_disconnect(buf)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _abort(self, conn: socket.socket):
        """Drop the connection as a printer that resets does: unread data is discarded."""
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        conn.close()

    def _on_disconnect(self, buf: bytearray):
        pass

    def _parse(self, conn, buf: bytearray):  # pragma: no cover - abstract
        raise NotImplementedError


# ====================================================================== TSPL
class FakeTsplPrinter(_Server):
    def __init__(self, *, dpi: int = 203, speed_mm_s: float | None = None, buffer_labels: int = 2,
                 close_after: int | None = None, paper_out: bool = False,
                 paper_out_after: int | None = None, answer_status: bool = True,
                 drop_after_print: int | None = None, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.dpi = dpi
        # drop the connection once, right after taking this many labels whole (the last one
        # prints) and before answering the status query that would confirm it
        self.drop_after_print = drop_after_print
        self.speed_mm_s = speed_mm_s
        # drop the connection once, in the middle of the label after this many (its data is lost)
        self.close_after = close_after
        self.paper_out = paper_out
        self.paper_out_after = paper_out_after
        self.answer_status = answer_status
        self.head_open = False
        self.paused = False
        self.settings: dict[str, str] = {}
        self.commands: list[str] = []
        self.labels: list[Image.Image] = []  # received (PRINT parsed), in order
        self.texts: list[list[str]] = []  # per label: the TEXT contents, in order
        self.barcodes: list[list[str]] = []  # per label: the BARCODE contents, in order
        self._texts: list[str] = []
        self._barcodes: list[str] = []
        self.printed_at: list[float] = []  # when the engine finished each label
        self.status_queries = 0
        self.size_mm = (100.0, 150.0)
        self.gap_mm = 2.0
        self._canvas: Image.Image | None = None
        self._engine_q: queue.Queue = queue.Queue(maxsize=max(1, buffer_labels))
        self._pending = 0  # labels taken whole and not yet printed (queued or on the engine)
        self._pending_lock = threading.Lock()
        self._paper_ok = threading.Event()
        self._paper_ok.set()
        self._engine = threading.Thread(target=self._engine_loop, daemon=True)
        self._engine.start()

    # -- controls
    def load_paper(self):
        self.paper_out = False
        self.paper_out_after = None
        self._paper_ok.set()

    def status_byte(self) -> int:
        b = 0
        if self.head_open:
            b |= 0x01
        if self.paper_out:
            b |= 0x04
        if self.paused:
            b |= 0x10
        if self._pending:
            b |= 0x20
        return b

    @property
    def page_size_dots(self) -> tuple[int, int]:
        w, h = self.size_mm
        return int(round(w * self.dpi / 25.4)), int(round(h * self.dpi / 25.4))

    def label_seconds(self) -> float:
        """The engine's time for one label (label + gap at the simulated speed)."""
        if not self.speed_mm_s:
            return 0.0
        return (self.size_mm[1] + self.gap_mm) / self.speed_mm_s

    def wait_printed(self, n: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.printed_at) >= n:
                return True
            time.sleep(0.01)
        return False

    # -- engine
    def _engine_loop(self):
        while not self._stop.is_set():
            try:
                seconds = self._engine_q.get(timeout=0.2)
            except queue.Empty:
                continue
            self._paper_ok.wait()
            if seconds:
                time.sleep(seconds)
            self.printed_at.append(time.monotonic())
            with self._pending_lock:
                self._pending -= 1
            if self.paper_out_after is not None and len(self.printed_at) >= self.paper_out_after:
                self.paper_out = True
                self._paper_ok.clear()

    # -- protocol
    def _parse(self, conn, buf: bytearray):
        while buf:
            if buf[0] in (0x0D, 0x0A):
                del buf[0]
                continue
            if buf[0] == 0x1B:
                if len(buf) < 3:
                    return None
                if buf[1:3] == b"!?":
                    del buf[:3]
                    if self.drop_after_print is not None and len(self.labels) >= self.drop_after_print:
                        self.drop_after_print = None
                        return "close"
                    self.status_queries += 1
                    if self.answer_status:
                        conn.sendall(bytes((self.status_byte(),)))
                    continue
                raise ValueError(f"unknown escape {bytes(buf[:3])!r}")
            if buf.startswith(b"BITMAP"):
                if self.close_after is not None and len(self.labels) >= self.close_after:
                    self.close_after = None  # once: drop the connection in the middle of a label
                    return "close"
                head_end = -1
                pos = 0
                for _ in range(5):
                    pos = buf.find(b",", pos) + 1
                    if pos == 0:
                        return None if len(buf) < 64 else self._bad(buf)
                head_end = pos
                x, y, wb, h, mode = (int(v) for v in bytes(buf[6:head_end - 1]).decode().split(","))
                n = wb * h
                if len(buf) < head_end + n:
                    return None
                data = bytes(buf[head_end:head_end + n])
                del buf[:head_end + n]
                if self._canvas is None:
                    raise ValueError("BITMAP before CLS/SIZE")
                bmp = Image.frombytes("1", (wb * 8, h), data)  # TSPL: 0 = black, as Pillow
                self._canvas.paste(bmp, (x, y))
                self.commands.append("BITMAP")
                continue
            nl = buf.find(b"\n")
            if nl < 0:
                return None if len(buf) < 4096 else self._bad(buf)
            line = bytes(buf[:nl]).strip().decode("gb18030")
            del buf[:nl + 1]
            if self._command(line) == "close":
                return "close"
        return None

    def _bad(self, buf):
        raise ValueError(f"unparseable data {bytes(buf[:40])!r}")

    @staticmethod
    def _mm(text: str) -> float:
        return float(text.strip().removesuffix("mm").strip())

    def _command(self, line: str):
        if not line:
            return None
        word, _, rest = line.partition(" ")
        word = word.upper()
        self.commands.append(word)
        if word == "SIZE":
            w, h = rest.split(",")
            self.size_mm = (self._mm(w), self._mm(h))
        elif word in ("GAP", "BLINE"):
            self.gap_mm = self._mm(rest.split(",")[0])
            self.settings[word] = rest
        elif word in ("DIRECTION", "REFERENCE", "DENSITY", "SPEED", "OFFSET", "SET", "CODEPAGE"):
            self.settings[word] = rest
        elif word == "CLS":
            self._canvas = Image.new("1", self.page_size_dots, 255)
            self._texts, self._barcodes = [], []
        elif word in ("TEXT", "BARCODE", "BAR", "BOX"):
            if self._canvas is None:
                raise ValueError(f"{word} before CLS/SIZE")
            self._element(word, tspl_args(rest))
        elif word == "PRINT":
            copies = int(rest.split(",")[0] or 1)
            if self._canvas is None:
                raise ValueError("PRINT without a page")
            for _ in range(copies):
                with self.lock:
                    self.labels.append(self._canvas.copy())
                    self.texts.append(list(self._texts))
                    self.barcodes.append(list(self._barcodes))
                with self._pending_lock:
                    self._pending += 1
                self._engine_q.put(self.label_seconds())  # blocks when the buffer is full
        else:
            raise ValueError(f"unknown TSPL command {line[:40]!r}")
        return None

    def _element(self, word: str, args: list[str]) -> None:
        draw = ImageDraw.Draw(self._canvas)
        if word == "TEXT":  # x, y, font, rotation, x-mul, y-mul, content
            if len(args) != 7:
                raise ValueError(f"TEXT takes 7 arguments, not {args!r}")
            self._texts.append(args[6])
        elif word == "BAR":  # x, y, width, height
            x, y, w, h = (int(a) for a in args)
            draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
        elif word == "BOX":  # x, y, x_end, y_end, thickness
            x, y, x2, y2, t = (int(a) for a in args[:5])
            draw.rectangle((x, y, x2, y2), outline=0, width=t)
        else:  # BARCODE x, y, "128", height, readable, rotation, narrow, wide, content
            if len(args) != 9 or args[2] != "128":
                raise ValueError(f"unsupported BARCODE {args!r}")
            x, y, h, narrow = int(args[0]), int(args[1]), int(args[3]), int(args[6])
            bits = code128_modules(args[8])
            quiet = QUIET_MODULES * narrow
            draw.rectangle((x - quiet, y, x + len(bits) * narrow + quiet - 1, y + h - 1), fill=255)
            for start, length in bar_runs(bits):
                draw.rectangle((x + start * narrow, y, x + (start + length) * narrow - 1, y + h - 1), fill=0)
            self._barcodes.append(args[8])


def tspl_args(text: str) -> list[str]:
    """A TSPL command's comma-separated arguments; quoted ones unquoted (``\\["]`` is a quote)."""
    args: list[str] = []
    i, n = 0, len(text)
    while i <= n:
        while i < n and text[i] == " ":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            out = []
            while i < n and text[i] != '"':
                if text.startswith('\\["]', i):
                    out.append('"')
                    i += 4
                else:
                    out.append(text[i])
                    i += 1
            if i >= n:
                raise ValueError(f"unterminated string in {text!r}")
            args.append("".join(out))
            i += 1
            while i < n and text[i] == " ":
                i += 1
            if i < n and text[i] != ",":
                raise ValueError(f"text after a string in {text!r}")
        else:
            j = text.find(",", i)
            j = n if j < 0 else j
            args.append(text[i:j].strip())
            i = j
        i += 1
    return args


# ====================================================================== ESC/POS
class FakeEscposPrinter(_Server):
    def __init__(self, *, close_after: int | None = None, drop_after_print: int | None = None,
                 label_seconds: float = 0.0, paper_out: bool = False, cover_open: bool = False,
                 answer_status: bool = True, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.labels: list[Image.Image] = []
        self.bands: list[Image.Image] = []
        self.cuts = 0
        self.feeds = 0
        # drop the connection once, in the middle of the label after this many (its data is lost)
        self.close_after = close_after
        # drop the connection once, right after taking this many labels whole (the last one
        # prints) and before answering the status query that would confirm it
        self.drop_after_print = drop_after_print
        self.label_seconds = label_seconds
        self.paper_out = paper_out
        self.cover_open = cover_open
        self.answer_status = answer_status
        self.status_queries = 0

    def status_byte(self, n: int) -> int:
        """The answer to ``DLE EOT n``: bits 1 and 4 are always set."""
        b = 0x12
        if n == 1 and (self.paper_out or self.cover_open):
            b |= 0x08  # offline
        elif n == 2:
            b |= (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        elif n == 4 and self.paper_out:
            b |= 0x60
        return b

    def _flush(self):
        if not self.bands:
            return
        w = max(b.width for b in self.bands)
        h = sum(b.height for b in self.bands)
        page = Image.new("1", (w, h), 255)
        y = 0
        for b in self.bands:
            page.paste(b, (0, y))
            y += b.height
        self.bands = []
        with self.lock:
            self.labels.append(page)
        if self.label_seconds:
            time.sleep(self.label_seconds)  # printing: nothing more is read meanwhile

    def _on_disconnect(self, buf):
        self._flush()

    def _answer(self, conn, byte: int):
        if self.drop_after_print is not None and len(self.labels) >= self.drop_after_print:
            self.drop_after_print = None
            return "close"
        self.status_queries += 1
        if self.answer_status:
            conn.sendall(bytes((byte,)))
        return None

    def _parse(self, conn, buf: bytearray):
        while buf:
            b0 = buf[0]
            if b0 == 0x0A:
                del buf[0]
                self.feeds += 1
            elif b0 == 0x1B:
                if len(buf) < 2:
                    return None
                if buf[1] == ord("@"):
                    del buf[:2]
                elif buf[1] in (ord("d"), ord("J")):
                    if len(buf) < 3:
                        return None
                    del buf[:3]
                    self.feeds += 1
                else:
                    raise ValueError(f"unknown ESC {bytes(buf[:3])!r}")
            elif b0 == 0x10:  # DLE EOT n: real-time status
                if len(buf) < 3:
                    return None
                if buf[1] != 0x04 or buf[2] not in (1, 2, 3, 4):
                    raise ValueError(f"unknown DLE {bytes(buf[:3])!r}")
                n = buf[2]
                del buf[:3]
                if self._answer(conn, self.status_byte(n)) == "close":
                    return "close"
            elif b0 == 0x1D:
                if len(buf) < 3:
                    return None
                if buf[1] == ord("V"):
                    m = buf[2]
                    n = 4 if m in (65, 66) else 3
                    if len(buf) < n:
                        return None
                    del buf[:n]
                    self.cuts += 1
                    self._flush()
                elif buf[1] == ord("r"):  # GS r 1: paper sensor (bits 2-3: paper end)
                    if buf[2] not in (1, 49):
                        raise ValueError(f"unknown GS r {bytes(buf[:3])!r}")
                    del buf[:3]
                    if self._answer(conn, 0x0C if self.paper_out else 0) == "close":
                        return "close"
                elif buf[1] == ord("v") and buf[2] == ord("0"):
                    if self.close_after is not None and len(self.labels) >= self.close_after:
                        self.close_after = None  # once: drop the connection in the middle of a label
                        self.bands = []
                        return "close"
                    if len(buf) < 8:
                        return None
                    wb = buf[4] | buf[5] << 8
                    h = buf[6] | buf[7] << 8
                    if len(buf) < 8 + wb * h:
                        return None
                    data = bytes(buf[8:8 + wb * h]).translate(_INVERT)  # ESC/POS: 1 = black
                    del buf[:8 + wb * h]
                    self.bands.append(Image.frombytes("1", (wb * 8, h), data))
                else:
                    raise ValueError(f"unknown GS {bytes(buf[:3])!r}")
            else:
                raise ValueError(f"unexpected byte {b0:#x} in ESC/POS stream")
        return None


# ====================================================================== barcodes
def decode_barcodes(img: Image.Image) -> list[str]:
    """Every barcode (Code 128 etc.) pyzbar finds in a label image, top to bottom."""
    from pyzbar import pyzbar

    found = pyzbar.decode(img.convert("L"))
    found.sort(key=lambda r: (r.rect.top, r.rect.left))
    return [r.data.decode("ascii", "replace") for r in found]
