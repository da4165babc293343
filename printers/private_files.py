"""Owner-only folders and files: labels, exports and the database hold buyers' names, phones
and addresses, so whatever dadan creates for them is 0700 (folders) or 0600 (files).

The modes are set with ``chmod`` after creating, so they do not depend on the umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: str | os.PathLike, *, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) owner-only. An existing folder keeps its mode
    unless ``tighten`` (dadan's own data folders), which makes it owner-only too when it is
    ours (and not a shared sticky folder such as /tmp). Raises OSError as ``Path.mkdir`` does."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    path.mkdir(parents=True, exist_ok=True)
    for d in missing:
        os.chmod(d, PRIVATE_DIR_MODE)
    if tighten and not missing:
        st = path.stat()
        if st.st_uid == os.getuid() and not st.st_mode & stat.S_ISVTX:  # never a shared /tmp
            os.chmod(path, PRIVATE_DIR_MODE)
    return path


def open_private(path: str | os.PathLike) -> BinaryIO:
    """``path`` opened for writing (truncated), owner-only whatever its mode was before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


def write_private_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with open_private(path) as fh:
        fh.write(data)
    return Path(path)


def make_private(path: str | os.PathLike) -> None:
    """Make a file dadan just wrote (through a library that opens it itself) owner-only."""
    os.chmod(path, PRIVATE_FILE_MODE)
