"""Relabel the running app after a language switch.

Screens rebuild their text by recomposing. Key binding labels (footer, help screen, command
palette) come from ``BINDINGS`` class attributes built once at import time; their descriptions
and tooltips are :class:`core.i18n.Bilingual`, so :func:`relabel_bindings` can put the same
bindings back in the new language: in every class's ``BINDINGS`` and merged bindings map (what
new widgets and the help screen read) and in the bindings map of every live node (what the
footer and the command palette read). Keys remapped by the keymap keep their keys: only the
texts change.
"""

from __future__ import annotations

import dataclasses

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from dadan.core.i18n import Bilingual


def retranslated(binding: Binding) -> Binding:
    """``binding`` with its description and tooltip in the current language."""
    changes = {}
    for name in ("description", "tooltip"):
        text = getattr(binding, name)
        if isinstance(text, Bilingual):
            new = text.again()
            if new is not text:
                changes[name] = new
    return dataclasses.replace(binding, **changes) if changes else binding


def _retranslate_map(bindings: BindingsMap | None) -> None:
    if bindings is None:
        return
    for key, old in list(bindings.key_to_bindings.items()):
        new = [retranslated(b) for b in old]
        if any(a is not b for a, b in zip(new, old)):
            # a new list: maps copied with BindingsMap.copy() share their lists
            bindings.key_to_bindings[key] = new


def node_classes(root: type) -> list[type]:
    seen: dict[type, None] = {}
    todo = [root]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen[cls] = None
            todo.extend(cls.__subclasses__())
    return list(seen)


def relabel_classes() -> None:
    """Binding labels of every widget, screen and app class in the current language."""
    for cls in node_classes(DOMNode):
        own = cls.__dict__
        if own.get("BINDINGS"):
            new = [retranslated(b) if isinstance(b, Binding) else b for b in own["BINDINGS"]]
            if any(a is not b for a, b in zip(new, own["BINDINGS"])):
                cls.BINDINGS = new
        if own.get("_merged_bindings") is not None:
            _retranslate_map(own["_merged_bindings"])


def relabel_bindings(app) -> None:
    """Every binding label of the app's classes and live nodes in the current language."""
    relabel_classes()
    _retranslate_map(app._bindings)
    for screen in list(app.screen_stack):
        for node in screen.walk_children(with_self=True):
            _retranslate_map(node._bindings)
        screen.refresh_bindings()


async def relabel(app) -> None:
    """After a language switch: binding labels first (recomposed footers read them), then every
    screen's own text (a screen with ``load()`` reads its data again)."""
    relabel_bindings(app)
    for screen in list(app.screen_stack):
        try:
            await screen.recompose()
            if hasattr(screen, "load"):
                screen.load()
        except Exception:  # noqa: BLE001 - a screen that cannot recompose keeps its old text
            pass
        screen.refresh_bindings()
    handler = getattr(app, "on_language_changed", None)
    if callable(handler):
        handler()


def set_description(node: DOMNode, binding_id: str, description: Bilingual) -> None:
    """Give ``node``'s live binding ``binding_id`` another label (its key, remapped or not, stays):
    a key whose action reads differently by the screen's mode (F2 on the scan screen)."""
    bindings = node._bindings
    for key, old in list(bindings.key_to_bindings.items()):
        if any(b.id == binding_id for b in old):
            bindings.key_to_bindings[key] = [dataclasses.replace(b, description=description)
                                             if b.id == binding_id else b for b in old]
    node.refresh_bindings()
