"""Retention: shipped orders older than a cut-off moved out of the hot tables into
``archived_order`` (same database file), found, exported and restored from there."""
