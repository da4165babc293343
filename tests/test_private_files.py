"""The data folder and everything dadan creates in it are owner-only (0700 folders, 0600 files),
whatever the umask: preview labels, exports and the database hold buyers' names, phones and
addresses (issue #14)."""

from __future__ import annotations

import os
import stat

import pytest

from dadan.core.config import Paths
from dadan.core.db import close_database
from tests.fakes.queue_setup import SMALL_TEMPLATE, make_db, order_sn


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the most permissive: nothing may rely on the umask
    yield
    os.umask(old)


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def modes_under(root) -> dict[str, int]:
    out = {".": mode(root)}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = mode(p)
    return out


def test_everything_in_the_data_folder_is_owner_only(tmp_path, monkeypatch, capsys, open_umask):
    from dadan.tui import cli

    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)  # an existing data folder from before is tightened too
    paths = Paths(config_dir=home, data_dir=home).ensure()
    make_db(paths.database_file, 3)
    close_database()
    monkeypatch.setenv("DADAN_HOME", str(home))
    from dadan.core.spreadsheets.export import make_export_folder

    make_export_folder(paths.exports_dir / "sub" / "o.xlsx")  # as the desk's export dialog does
    argv = [["print", order_sn(1), order_sn(2), "--template", SMALL_TEMPLATE, "--yes"],
            ["printers", "test"],
            ["export", "--format", "csv", "--out", str(paths.exports_dir / "o.csv")],
            ["export", "--format", "xlsx", "--out", str(paths.exports_dir / "sub" / "o.xlsx")],
            ["demo", "--orders", "20"]]  # (a demo's data folder puts the first administrator off: a mark file)
    for args in argv:
        assert cli.main(args) == 0, (args, capsys.readouterr().err)
        close_database()
    names = modes_under(home)
    for expected in ("preview/job00001-0001-240601-000000001.png", "preview/job00001.pdf", "preview/test.png",
                     "exports/o.csv", "exports/sub/o.xlsx", "dadan.db", "spool", "logs",
                     "operators-later"):
        assert expected in names, sorted(names)
    wrong = {k: oct(v) for k, v in names.items()
             if v != (0o700 if os.path.isdir(os.path.join(home, k)) else 0o600)}
    assert wrong == {}


def test_database_and_its_wal_and_shm_are_owner_only(tmp_path, open_umask):
    from dadan.core.db import open_database, write
    from dadan.core.models import Shop

    db_file = tmp_path / "data" / "dadan.db"
    db = open_database(f"sqlite:///{db_file}")
    with write():
        Shop.create(name="店")
    sidecars = [db_file, db_file.with_name("dadan.db-wal"), db_file.with_name("dadan.db-shm")]
    assert all(p.exists() for p in sidecars)
    assert {p.name: oct(mode(p)) for p in sidecars} == {p.name: "0o600" for p in sidecars}
    assert mode(db_file.parent) == 0o700
    db.close()
    close_database()


def test_preview_writers_and_helpers(tmp_path, open_umask):
    from PIL import Image

    from dadan.printers.preview import write_pdf, write_png
    from dadan.printers.private_files import make_private_dir, write_private_bytes

    img = Image.new("1", (80, 40), 1)
    png = write_png(img, tmp_path / "new" / "a.png")
    pdf = write_pdf([png, img], tmp_path / "new" / "a.pdf")
    assert mode(png) == mode(pdf) == 0o600 and mode(tmp_path / "new") == 0o700
    old = tmp_path / "old.bin"
    old.write_bytes(b"x")
    os.chmod(old, 0o644)
    write_private_bytes(old, b"y")  # an existing file is made owner-only as it is rewritten
    assert mode(old) == 0o600 and old.read_bytes() == b"y"
    mine = tmp_path / "mine"
    mine.mkdir()
    os.chmod(mine, 0o755)
    make_private_dir(mine / "x")
    assert mode(mine) == 0o755 and mode(mine / "x") == 0o700  # a folder dadan did not make keeps its mode


def test_a_shared_sticky_folder_is_never_tightened(tmp_path, open_umask):
    from dadan.printers.private_files import make_private_dir

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    make_private_dir(shared, tighten=True)
    assert mode(shared) == 0o1777
