"""The loopback platform's HTTP side: a threaded server on 127.0.0.1 that reads the gateway's
request encodings (JSON or form), hands them to a :class:`MockPlatform`, and plays the faults
that hit the answer on the way (timeouts, dropped connections, slow or truncated answers)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dadan.core.platform.loopback.platform import MockPlatform


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    platform: MockPlatform  # set on the subclass

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def _params(self) -> dict[str, str]:
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        query = urllib.parse.urlsplit(self.path).query
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        ctype = (self.headers.get("content-type") or "").lower()
        if "json" in ctype:
            try:
                data = json.loads(raw or b"{}")
            except ValueError:
                data = {}
            for k, v in data.items():
                params[k] = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        else:
            params.update({k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode("utf-8")).items()})
        return params

    def do_POST(self):  # noqa: N802
        status, body, fault = self.platform.handle(self._params())
        if fault == "timeout":
            time.sleep(self.platform.faults.timeout_sleep)
            self.close_connection = True
            return
        if fault == "reset":
            self.close_connection = True
            return
        if fault == "slow":
            time.sleep(self.platform.faults.slow_sleep)
        if fault == "truncated":
            body = body[: max(1, len(body) // 2)]
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json;charset=UTF-8" if status == 200 else "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):  # noqa: N802
        self.do_POST()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class MockServer:
    """Serves a :class:`MockPlatform` on ``127.0.0.1`` (port 0 = a free one) in a thread."""

    def __init__(self, platform: MockPlatform, port: int = 0):
        self.platform = platform
        handler = type("Handler", (_Handler,), {"platform": platform})
        self._server = _Server(("127.0.0.1", port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/router"

    def start(self) -> "MockServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="dadan-mock-platform", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=2)

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
