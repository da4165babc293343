"""Whole numbers typed on the command line (``--limit``, a job's number...): bounded, so a
number SQLite cannot hold (past 2**63) is refused by the argument parser in one line instead
of failing as a traceback when the query binds it."""

from __future__ import annotations

import argparse

LARGEST = 10**12  # far beyond any count, id or limit a desk meets


def whole(text: str) -> int:
    """An argparse ``type``: a whole number within +/- :data:`LARGEST` (each command checks its
    own lower bound, with its own words)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if abs(n) > LARGEST:
        raise argparse.ArgumentTypeError(f"{text} is too large (at most {LARGEST:,})")
    return n


def limit(text: str) -> int:
    """An argparse ``type`` for ``--limit N``: a whole number from 1 (0 or less showed all rows,
    one row or none, by command)."""
    n = whole(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"--limit must be 1 or more, not {text}")
    return n
