"""Fake printers on loopback for tests and benchmarks: they speak the printers' byte
protocols and turn what they receive back into images."""

from tests.fakes.printers import FakeEscposPrinter, FakeTsplPrinter, decode_barcodes

__all__ = ["FakeEscposPrinter", "FakeTsplPrinter", "decode_barcodes"]
