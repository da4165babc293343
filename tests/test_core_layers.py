"""core/ and printers/ are importable without the TUI (and printers/ without core/)."""

import subprocess
import sys

import pytest

CORE_MODULES = [
    "core.config", "core.db", "core.models", "core.query", "core.orders", "core.demo",
    "core.views", "core.selection", "core.context", "core.audit", "core.timeutil",
]


def _imported(modules: list[str]) -> set[str]:
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except ModuleNotFoundError as e:\n"
        "        if not e.name.startswith(('core', 'printers')): raise\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_does_not_import_textual():
    mods = _imported(CORE_MODULES + ["core"])
    assert "textual" not in mods
    assert not any(m == "tui" or m.startswith("tui.") for m in mods)


@pytest.mark.parametrize("pkg", ["printers"])
def test_printers_import_neither_textual_nor_core(pkg):
    import pkgutil
    import printers

    names = [f"printers.{m.name}" for m in pkgutil.iter_modules(printers.__path__)]
    mods = _imported(names)
    assert "textual" not in mods
    assert not any(m == "core" or m.startswith("core.") for m in mods)


def test_core_source_never_imports_tui():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in list((root / "core").rglob("*.py")) + list((root / "printers").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "from tui" not in text and "import tui" not in text, path
    for path in (root / "printers").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from core" not in text and "import core" not in text, path
