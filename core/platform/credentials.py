"""Shop credentials: ``credentials.toml`` (0600), one table per shop name.

```toml
["我的店"]
client_secret = "..."
access_token = "..."
refresh_token = "..."
access_token_expires_at = 1700000000      # Unix seconds, 0 = unknown
refresh_token_expires_at = 1702592000
```

Secrets never appear in logs, reprs or error messages: :class:`ShopCredentials` hides them in
its ``repr``, and nothing in dadan formats them into text.
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from dadan.core.config import write_private
from dadan.core.errors import ConfigError

_LOCK = threading.RLock()


@dataclass(frozen=True)
class ShopCredentials:
    client_secret: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    access_token_expires_at: int = 0
    refresh_token_expires_at: int = 0

    @property
    def configured(self) -> bool:
        return bool(self.client_secret and self.access_token)

    def __repr__(self) -> str:  # never the secrets themselves
        return (
            f"ShopCredentials(secret={'set' if self.client_secret else 'unset'}, "
            f"access_token={'set' if self.access_token else 'unset'}, "
            f"refresh_token={'set' if self.refresh_token else 'unset'}, "
            f"access_token_expires_at={self.access_token_expires_at})"
        )

    __str__ = __repr__


_FIELDS = [f.name for f in fields(ShopCredentials)]


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class CredentialStore:
    """Reads and writes ``credentials.toml``; every update rewrites the file atomically."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"CredentialStore({self.path})"

    def _read_all(self) -> dict[str, dict]:
        if not self.path.exists():
            return {}
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            # the exception text may quote a line of the file: do not pass it on
            raise ConfigError(f"cannot read {self.path} ({type(exc).__name__}); fix or remove it") from None
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def _write_all(self, data: dict[str, dict]) -> None:
        lines = ["# dadan shop credentials: keep this file private (0600)"]
        for shop in sorted(data):
            lines += ["", f"[{_quote(shop)}]"]
            for k, v in data[shop].items():
                if k not in _FIELDS:
                    continue
                lines.append(f"{k} = {int(v)}" if isinstance(v, int) else f"{k} = {_quote(str(v))}")
        write_private(self.path, "\n".join(lines) + "\n")

    def get(self, shop_name: str) -> ShopCredentials:
        with _LOCK:
            raw = self._read_all().get(shop_name, {})
        kwargs = {}
        for k in _FIELDS:
            if k in raw:
                v = raw[k]
                kwargs[k] = int(v) if k.endswith("_expires_at") else str(v)
        return ShopCredentials(**kwargs)

    def put(self, shop_name: str, creds: ShopCredentials) -> None:
        with _LOCK:
            data = self._read_all()
            data[shop_name] = {k: getattr(creds, k) for k in _FIELDS}
            self._write_all(data)

    def update(self, shop_name: str, **changes) -> ShopCredentials:
        """Change some fields of one shop atomically (e.g. a refreshed token pair)."""
        with _LOCK:
            creds = replace(self.get(shop_name), **changes)
            self.put(shop_name, creds)
            return creds

    def remove(self, shop_name: str) -> None:
        with _LOCK:
            data = self._read_all()
            if data.pop(shop_name, None) is not None:
                self._write_all(data)

    def names(self) -> list[str]:
        with _LOCK:
            return sorted(self._read_all())
