"""Masked forms of a buyer's name, phone and address, in the platform's own style
(``张**``, ``138****0000``, ``浙江省杭州市西湖区****``), for text that arrives plain (an older
merchant-backend export, a spreadsheet preview) and must not be shown plain by default."""

from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name or "*" in name:
        return name
    return name[0] + "*" * max(len(name) - 1, 2 if len(name) == 1 else 1)


def mask_phone(phone: str) -> str:
    """A mobile number keeps its first 3 and last 4 digits; any other number its last 4."""
    phone = (phone or "").strip()
    if not phone or "*" in phone:
        return phone
    m = _PHONE.fullmatch(phone)
    if m:
        return f"{m.group(2)}****{m.group(3)}"
    digits = re.sub(r"\D", "", phone)
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def mask_address(address: str, keep: int = 6, *, region: str = "") -> str:
    """The region (province, city, district) when known, else the first ``keep`` characters,
    then ``****``."""
    address = (address or "").strip()
    if not address or "*" in address:
        return address
    if region:
        return region + "****"
    return address[:keep] + "****" if len(address) > keep else address[:1] + "****"


def mask_phones_in(text: str) -> str:
    """Every mobile number inside ``text`` masked (a preview cell of an unknown column)."""
    return _PHONE.sub(lambda m: f"{m.group(2)}****{m.group(3)}", text) if text else text


def mask_cell(text: str) -> str:
    """A cell of a column known to hold a name, phone or address: masked as whichever it looks like."""
    if not text:
        return text
    if sum(ch.isdigit() for ch in text) >= 7:
        return mask_phone(text)
    return mask_name(text) if len(text) <= 4 else mask_address(text)
