"""The rejects file of an import (`--rejects`): never the imported file itself, always an .xlsx,
and a folder that does not exist is one line (no traceback, not even Python's "Exception
ignored" noise at exit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dadan.core.config import Paths
from dadan.core.db import close_database
from tests.fakes.queue_setup import make_db

ROOT = Path(__file__).resolve().parents[1]
ROWS = ("订单号,商品,商品数量(件),收货人,手机,省,市,区,详细地址\n"
        "261206-000000000000001,杯子,1,张三,13800000000,浙江省,杭州市,西湖区,文三路1号\n"
        "261206-000000000000002,杯子,0,李四,13800000001,浙江省,杭州市,西湖区,文三路2号\n")
GOODS = "商家编码,名称,库存\nA01,杯子,1\nA02,盘子,-5\n"


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    make_db(Paths(config_dir=home, data_dir=home).database_file, 1)
    close_database()
    return home


def dadan(home: Path, *args: str) -> tuple[int, str]:
    env = dict(os.environ, DADAN_HOME=str(home), LANG="en_US.UTF-8", PYTHONPATH=str(ROOT))
    env.pop("DADAN_LANG", None)
    p = subprocess.run([sys.executable, "-m", "dadan.tui", *args], cwd=home.parent, env=env, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr
    return p.returncode, p.stderr


@pytest.mark.parametrize("kind", ["import", "goods"])
def test_the_rejects_file_is_never_the_imported_file(home, kind):
    src = home.parent / "orders.csv"
    src.write_text(ROWS if kind == "import" else GOODS, encoding="utf-8")
    before = src.read_bytes()
    args = ["import", str(src)] if kind == "import" else ["goods", "import", str(src)]
    rc, err = dadan(home, *args, "--rejects", str(src))
    assert rc != 0 and "is the imported file itself" in err
    assert src.read_bytes() == before


def test_the_rejects_file_is_an_xlsx_and_its_folder_must_exist(home):
    src = home.parent / "orders.csv"
    src.write_text(ROWS, encoding="utf-8")
    rc, err = dadan(home, "import", str(src), "--rejects", str(home.parent / "r.csv"))
    assert rc != 0 and "give it a name ending in .xlsx" in err
    assert not (home.parent / "r.csv").exists()
    rc, err = dadan(home, "import", str(src), "--rejects", str(home.parent / "nodir" / "r.xlsx"))
    assert rc != 0 and "nodir" in err and len(err.strip().splitlines()) >= 1
    rc, err = dadan(home, "import", str(src), "--rejects", str(home.parent / "r.xlsx"))
    assert (home.parent / "r.xlsx").stat().st_mode & 0o777 == 0o600
