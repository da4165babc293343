"""The installed distribution claims one top-level name of its own, ``dadan``: the source folders
(``core/``, ``tui/``, ``printers/``, ``templates/``) are installed as ``dadan.core``, ``dadan.tui``...,
never as generic top-level packages another program may also claim. The wheel carries every
module and label template of the tree and nothing stale."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("core", "tui", "printers", "templates")


def _build_wheel(tmp_path: Path) -> zipfile.ZipFile:
    src = tmp_path / "src"  # a copy: building leaves build/ and egg-info behind
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "wheel"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--no-index", "-q", "-w", str(out), str(src)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    (whl,) = out.glob("dadan-*.whl")
    return zipfile.ZipFile(whl)


def test_the_wheel_installs_only_the_dadan_namespace_with_every_module_and_template(tmp_path):
    whl = _build_wheel(tmp_path)
    names = whl.namelist()
    tops = {n.split("/")[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert len(dist_info) == 1 and next(iter(dist_info)).startswith("dadan-")
    assert tops - dist_info == {"dadan"}

    wanted = {f"dadan/{p.relative_to(ROOT).as_posix()}" for folder in FOLDERS
              for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts
              and p.suffix in (".py", ".toml", ".tcss", ".png")}
    shipped = {n for n in names if n.startswith("dadan/")}
    assert wanted - shipped == set(), "source files missing from the wheel"
    assert shipped - wanted == set(), "stale files in the wheel"

    entry_points = whl.read(f"{next(iter(dist_info))}/entry_points.txt").decode()
    assert "dadan = dadan.tui.cli:entry" in entry_points
