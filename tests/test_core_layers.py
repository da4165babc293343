"""Imports point down only: tui -> core -> printers.

Every module of every layer is imported (``pkgutil.walk_packages``, nothing hand-listed), one
fresh interpreter per layer, so a new module cannot slip past the rule:
- importing any ``dadan.core`` or ``dadan.printers`` module never loads ``textual`` or ``dadan.tui``;
- importing any ``dadan.printers`` module never loads ``dadan.core``;
- nothing is ever imported under the bare folder names (``core``, ``tui``, ``printers``): such an
  import would load a second copy of a module beside the installed one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BARE = ("core", "tui", "printers", "templates")

_WALK = """
import importlib, json, pkgutil, sys
pkg = importlib.import_module({pkg!r})
names = [pkg.__name__] + [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")
         if not m.name.endswith(".__main__")]  # running it would start the app
for name in names:
    importlib.import_module(name)
print(json.dumps({{"walked": names, "loaded": sorted(sys.modules)}}))
"""


def _walk(pkg: str) -> tuple[list[str], set[str]]:
    # run from a neutral folder: the checkout's own folders must not be importable by bare name
    out = subprocess.run([sys.executable, "-c", _WALK.format(pkg=pkg)], capture_output=True, text=True,
                         cwd=str(ROOT / "tests"), check=False)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout.splitlines()[-1])
    return data["walked"], set(data["loaded"])


def _under(mods: set[str], prefix: str) -> list[str]:
    return sorted(m for m in mods if m == prefix or m.startswith(prefix + "."))


def _source_modules(folder: str) -> int:
    return sum(1 for p in (ROOT / folder).rglob("*.py") if p.name != "__main__.py")


@pytest.mark.parametrize("pkg, forbidden", [
    ("dadan.printers", ("textual", "dadan.core", "dadan.tui")),
    ("dadan.core", ("textual", "dadan.tui")),
    ("dadan.tui", ()),
])
def test_each_layer_imports_only_the_layers_below_it(pkg, forbidden):
    walked, loaded = _walk(pkg)
    folder = pkg.split(".")[1]
    assert len(walked) == _source_modules(folder), "every source file is a module that was walked"
    for name in forbidden:
        assert not _under(loaded, name), f"{pkg} loads {name}: {_under(loaded, name)[:5]}"
    for bare in BARE:
        assert not _under(loaded, bare), f"{pkg} imports the bare name {bare!r}: {_under(loaded, bare)[:5]}"


def test_source_never_names_an_upper_layer_or_a_bare_folder():
    rules = {"printers": ("dadan.core", "dadan.tui"), "core": ("dadan.tui",)}
    for folder in ("core", "printers", "tui"):
        for path in (ROOT / folder).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                words = line.split()
                if len(words) < 2 or words[0] not in ("from", "import"):
                    continue
                mod = words[1]
                assert mod.split(".")[0] not in BARE, f"{path}: {line.strip()}"
                for upper in rules.get(folder, ()):
                    assert not (mod == upper or mod.startswith(upper + ".")), f"{path}: {line.strip()}"
