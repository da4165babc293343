"""A barcode scanner on the order screen, told apart from a person by timing.

A USB scanner types like a keyboard, but fast (a few milliseconds per character) and ends with
Enter. On the order screen the same keys are hotkeys (``1``–``9`` views, ``S`` reverse sort,
Enter opens the row), so :class:`BurstReader` looks at each key and the time it was typed:

- a key that can start a code and is also a hotkey (a digit, an upper-case letter, ``-``) is
  *held* for the burst window (``ui.scan_gap_ms``, 50 ms);
- more code characters (``0-9 A-Z a-z -``) each within the window of the one before are held too;
- Enter after at least ``ui.scan_min_length`` (6) held characters completes a scan; so does a
  pause after them (scanners set up without the Enter suffix); the scanner's Enter after such a
  pause is swallowed;
- anything else ends the burst: held keys too short to be a code (or all one key, as key
  repeat makes) are *replayed* as hotkeys, in order, before the key that ended the burst;
- lower-case letters (``p`` print, ``s`` sort, ``a``, ``t``, ``f``, ``v``, ``r``, ``q``...) are
  never held when nothing is: a person's hotkeys act at once. (A code that starts with a
  lower-case letter is therefore not read here; the scan screen, F2, reads anything.)

Times are the keys' own timestamps (``events.Key.time``: when the terminal input was read), so a
burst stays a burst when the app is busy. The reader is plain logic (no Textual); the home
scanner (:mod:`dadan.tui.widgets.home_scan`) feeds it keys and acts on the :class:`Step` it gets back. :class:`ScanIndicator` is the
compact "scan ready / reading / not found" text at the end of the order screen's info line.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from textual.widgets import Static

from dadan.core.i18n import tr

CODE_CHARS = frozenset(string.ascii_letters + string.digits + "-")


def may_start(char: str) -> bool:
    """A key that may start a code and is held: digits, upper-case letters, '-'."""
    return char in CODE_CHARS and not char.islower()


@dataclass
class Step:
    """What to do with one key (or a timeout)."""

    replay: list = field(default_factory=list)  # held keys to act on as hotkeys now, in order, first
    scan: str = ""  # a complete code to look up
    hold: bool = False  # this key is held: do not act on it (yet)
    consume: bool = False  # this key is used up: part of a scan, or the scanner's Enter

    @property
    def passes(self) -> bool:
        """The key acts as it would without a scanner (after the replayed keys)."""
        return not (self.hold or self.consume)


class BurstReader:
    def __init__(self, gap: float = 0.05, min_length: int = 6) -> None:
        self.gap = gap
        self.min_length = min_length
        self.held: list[tuple[object, str]] = []  # (key, character)
        self.last: float = 0.0  # when the last held key was typed
        self._scan_end: float | None = None  # when a scan completed by a pause ended

    @property
    def reading(self) -> str:
        """The characters held so far."""
        return "".join(ch for _key, ch in self.held)

    def _is_code(self) -> bool:
        text = self.reading
        return len(text) >= self.min_length and len(set(text)) > 1

    def _end(self, step: Step) -> None:
        """The burst is over: a code, or keys a person pressed (replayed)."""
        if self._is_code():
            step.scan = self.reading
            self._scan_end = self.last
        else:
            step.replay.extend(key for key, _ch in self.held)
        self.held = []

    def feed(self, key, char: str | None, t: float, *, enter: bool = False) -> Step:
        step = Step()
        late = bool(self.held) and t - self.last > self.gap
        if enter:
            if self.held:
                if self._is_code():  # the code was a burst: its Enter ends it even if late
                    step.scan, step.consume = self.reading, True
                    self.held = []
                else:
                    self._end(step)
            elif self._scan_end is not None and t - self._scan_end <= self.gap:
                step.consume = True  # the scanner's own Enter after a scan ended by a pause
            self._scan_end = None
            return step
        if late:
            self._end(step)  # ended by a pause the timer has not reported yet
        if char and char in CODE_CHARS and (self.held or may_start(char)):
            self.held.append((key, char))
            self.last = t
            self._scan_end = None
            step.hold = True
            return step
        if self.held:
            self._end(step)
        self._scan_end = None
        return step

    def due(self, now: float) -> float | None:
        """Seconds until the held keys time out; None when nothing is held."""
        if not self.held:
            return None
        return max(0.001, self.last + self.gap - now)

    def timeout(self, now: float) -> Step | None:
        """The burst window passed with no new key: end it (None if it has not passed yet)."""
        if not self.held or now - self.last < self.gap:
            return None
        step = Step()
        self._end(step)
        return step

    def reset(self) -> None:
        self.held = []
        self._scan_end = None


def short_code(code: str, width: int = 16) -> str:
    return code if len(code) <= width else "…" + code[-(width - 1):]


class ScanIndicator(Static):
    """``scan ready`` · ``scan 2611201234…`` · ``✖ NOT FOUND 2611… ✖`` (error colours, and
    reverse video and the crosses without colour) · ``scan off (Esc)`` while typing a filter."""

    DEFAULT_CSS = """
    ScanIndicator { width: auto; height: 1; padding: 0 1; color: $text-muted; }
    ScanIndicator.-reading { color: $text; text-style: bold; }
    ScanIndicator.-warn { background: $error; color: $text; text-style: bold reverse; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.state = ""
        self.text = ""

    def show(self, state: str, code: str = "") -> None:
        """``ready`` | ``off`` | ``reading`` | ``looking`` | ``warn``."""
        text = {
            "ready": tr("scan ready", "可扫码"),
            "off": tr("scan off (Esc)", "扫码暂停（Esc）"),
            "reading": tr("scan {c}…", "扫码 {c}…", c=short_code(code)),
            "looking": tr("scan {c} ?", "扫码 {c} ?", c=short_code(code)),
            "warn": tr("✖ NOT FOUND {c} ✖", "✖ 找不到 {c} ✖", c=short_code(code)),
        }[state]
        self.state = state
        self.set_class(state in ("reading", "looking"), "-reading")
        self.set_class(state == "warn", "-warn")
        if text != self.text:
            self.text = text
            self.update(text)
