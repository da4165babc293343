"""One error hierarchy, one language: every expected failure (printer errors included) is a
DadanError whose title is shown in the language current when it is shown, and the CLI prints it
as one line."""

from __future__ import annotations

import pytest

from dadan.core import errors as core_errors
from dadan.core import i18n as core_i18n
from dadan.core.config import ConfigError, check_keymap
from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, set_language
from dadan.core.platform.pdd import PlatformBusy
from dadan.printers import errors as printer_errors
from dadan.printers import i18n as printer_i18n


@pytest.mark.parametrize("cls", [printer_errors.PrinterError, printer_errors.TemplateError,
                                 printer_errors.FontNotFound, printer_errors.TransportError,
                                 printer_errors.PrinterStatusError])
def test_a_printer_error_is_a_dadan_error(cls):
    assert issubclass(cls, DadanError)
    with pytest.raises(DadanError):
        raise cls("x") if cls is not printer_errors.FontNotFound else cls()


def test_core_and_printers_share_one_base_and_one_language_state():
    assert core_errors.DadanError is printer_errors.DadanError
    assert core_i18n.tr is printer_i18n.tr and core_i18n.Bilingual is printer_i18n.Bilingual
    set_language("zh")
    assert printer_i18n.language() == "zh" and printer_i18n.tr("Paper out", "缺纸") == "缺纸"


def test_error_titles_appear_in_chinese_when_the_language_is_zh():
    raised_in_english = printer_errors.PrinterStatusError("paper out")
    set_language("zh")
    assert raised_in_english.title == "打印机未就绪"  # the title is translated when it is shown
    assert core_errors.ConfigError("x").title == "配置错误"
    assert PlatformBusy("x").title == "平台繁忙"
    assert DadanError("x").title == "错误"
    assert DadanError("x", title=Bilingual("Tracking number", "快递单号")).title == "快递单号"
    set_language("en")
    assert raised_in_english.title == "Printer not ready"
    assert DadanError("x", title="Given").title == "Given"


def test_keymap_ids_are_checked_with_did_you_mean():
    check_keymap({"print": "f5", "quit": "ctrl+q"}, {"print", "quit", "help"})
    with pytest.raises(ConfigError, match=r"unknown key binding id 'prnt' \(did you mean 'print'\?\)"):
        check_keymap({"prnt": "f5"}, {"print", "quit", "help"})
    with pytest.raises(ConfigError, match=r"unknown key binding id 'zzz'$"):
        check_keymap({"zzz": "f5"}, {"print", "quit"})


def test_the_app_declares_the_binding_ids_the_readme_remaps():
    from dadan.tui.keymap import declared_binding_ids

    ids = declared_binding_ids()
    assert {"print", "quit", "help", "scan", "detail.print", "error_close"} <= ids


def _write_config(text: str) -> None:
    import os
    from pathlib import Path

    (Path(os.environ["DADAN_HOME"]) / "config.toml").write_text(text, encoding="utf-8")


def test_an_unknown_keymap_id_stops_the_app_with_one_line(capsys):
    from dadan.tui.cli import main

    _write_config('[ui]\nkeymap = { prnt = "f5" }\n')
    assert main(["ui", "--no-sync"]) == 1
    err = capsys.readouterr().err
    assert err == ("dadan: Configuration error: setting 'ui.keymap': unknown key binding id 'prnt' "
                   "(did you mean 'print'?)\n")


def test_the_cli_line_has_the_chinese_title_when_the_language_is_zh(capsys):
    from dadan.tui.cli import main

    _write_config('language = "zh"\n[ui]\nkeymap = { prnt = "f5" }\n')
    assert main(["ui", "--no-sync"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dadan: 配置错误: ") and "did you mean 'print'?" in err
    assert "Traceback" not in err


def _every_error_class() -> list[type]:
    import importlib
    import pkgutil

    import dadan.core
    import dadan.printers

    for pkg in (dadan.printers, dadan.core):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod.name)
    found, todo = [], [DadanError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_class_in_core_and_printers_has_a_bilingual_title():
    classes = _every_error_class()
    assert len(classes) > 20
    for cls in classes:
        # the base's ``title`` property translates TITLE; a plain ``title = "..."`` would hide it
        assert isinstance(vars(cls).get("title", DadanError.title), property), f"{cls.__qualname__} sets a plain title"
        title = cls.TITLE
        assert isinstance(title, Bilingual) and title.en and title.zh and title.en != title.zh, cls
