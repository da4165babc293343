"""The shape of the tree stays readable: no module over 600 lines in the three layers, the order
screen left to compose and route, no private Textual imports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("core", "tui", "printers")


def _modules():
    for folder in LAYERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_module_in_the_layers_is_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


def test_the_order_screen_class_is_under_300_lines():
    from dadan.tui.screens.orders import OrdersScreen

    lines, _ = inspect.getsourcelines(OrdersScreen)
    assert len(lines) < 300


def test_nothing_imports_a_private_textual_module():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not any(part.startswith("_") for part in name.split(".")[1:]) or not name.startswith(
                    "textual"), f"{path.relative_to(ROOT)} imports {name}"
