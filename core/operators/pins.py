"""PINs: 4 to 8 digits, kept as a slow salted hash (scrypt, n=2**14, r=8, p=1: about 50 ms to
check on a small machine), compared in constant time. A PIN is never shown or logged."""

from __future__ import annotations

import hashlib
import hmac
import os

from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.printers.i18n import Bilingual

_N, _R, _P, _LEN = 2**14, 8, 1, 32


class PinError(DadanError):
    TITLE = Bilingual("PIN", "PIN 码")


def check_pin_shape(pin: str) -> str:
    pin = (pin or "").strip()
    if not (4 <= len(pin) <= 8 and pin.isascii() and pin.isdigit()):
        raise PinError(tr("a PIN is 4 to 8 digits", "PIN 码为 4 到 8 位数字"))
    return pin


def _scrypt(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)


def hash_pin(pin: str) -> str:
    """``scrypt$salt_hex$hash_hex`` of a PIN of the right shape, with a fresh 16-byte salt."""
    pin = check_pin_shape(pin)
    salt = os.urandom(16)
    return f"scrypt${salt.hex()}${_scrypt(pin, salt).hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, salt_hex, hash_hex = stored.split("$")
        salt, want = bytes.fromhex(salt_hex), bytes.fromhex(hash_hex)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = _scrypt((pin or "").strip(), salt)  # the work is done whatever the PIN's shape
    return hmac.compare_digest(got, want)


# a hash to check against when the name is unknown: as slow as a real one
DUMMY_HASH = "scrypt$" + "00" * 16 + "$" + "00" * _LEN
