"""The user's keymap (``[ui] keymap`` in config.toml: binding id -> keys).

Checked when the app starts against every binding id the app declares (the app, its screens and
their widgets), so a mistyped id is one clear line with "did you mean ...?" instead of a remap
that silently does nothing; then handed to Textual's ``App.set_keymap``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Mapping

from textual.binding import Binding

from dadan.core.config import check_keymap
from dadan.tui.relabel import node_classes

# every module that declares screens and widgets (imported here: the app loads screens lazily)
NODE_PACKAGES = ("dadan.tui.screens", "dadan.tui.widgets")


def declared_binding_ids() -> set[str]:
    """The id of every ``Binding`` of every app, screen and widget class."""
    from textual.dom import DOMNode

    importlib.import_module("dadan.tui.app")
    for name in NODE_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.iter_modules(package.__path__, f"{name}."):
            importlib.import_module(module.name)
    return {b.id for cls in node_classes(DOMNode) for b in cls.__dict__.get("BINDINGS", ())
            if isinstance(b, Binding) and b.id}


def apply_keymap(app, keymap: Mapping[str, str]) -> None:
    """Check ``keymap`` (ConfigError for an unknown id) and apply it to ``app``."""
    check_keymap(keymap, declared_binding_ids())
    app.set_keymap(dict(keymap))
