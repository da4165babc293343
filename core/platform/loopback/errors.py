"""The loopback platform's error answer: an :class:`ApiError` raised by any API becomes the
gateway's ``error_response``."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, code: int, msg: str, sub_msg: str = "", sub_code: str = ""):
        super().__init__(msg)
        self.code, self.msg, self.sub_msg, self.sub_code = code, msg, sub_msg, sub_code
