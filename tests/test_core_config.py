import os
import stat

import pytest

from dadan.core.config import (
    ConfigError,
    Paths,
    Settings,
    dump_settings,
    get_paths,
    load_settings,
    parse_settings,
    save_settings,
    settings_diff,
    write_private,
)
from dadan.core.i18n import detect_language


def test_defaults_when_no_file(tmp_path):
    paths = Paths(tmp_path, tmp_path)
    s = load_settings(paths)
    assert s.sync.interval_minutes == 10
    assert s.ui.mask_buyer is True
    assert s.printer().driver == "preview"


def test_dadan_home_holds_everything(tmp_path):
    p = get_paths({"DADAN_HOME": str(tmp_path)})
    assert p.config_file == tmp_path / "config.toml"
    assert p.database_file == tmp_path / "dadan.db"
    assert p.spool_dir == tmp_path / "spool"


def test_platformdirs_without_home():
    p = get_paths({})
    assert "dadan" in str(p.config_dir) and "dadan" in str(p.data_dir)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[sync]\nintervl_minutes = 5", "unknown setting 'sync.intervl_minutes'"),
        ("langauge = 'zh'", "unknown setting 'langauge'"),
        ("language = 'fr'", "'language' must be one of"),
        ("[ui]\npage_size = 'x'", "'ui.page_size' must be a whole number"),
        ("[ui]\nmask_buyer = 1", "'ui.mask_buyer' must be true or false"),
        ("[ui]\nscan_gap_ms = 0", "'ui.scan_gap_ms' must be between 5 and 1000"),
        ("[ui]\nscan_min_length = 1", "'ui.scan_min_length' must be between 3 and 64"),
        ("[ui]\nscan_bell = 'yes'", "'ui.scan_bell' must be true or false"),
        ("[sync]\nlease_seconds = 5", "'sync.lease_seconds' must be between 30 and 3600"),
        ("[sync]\nlease_second = 60", "unknown setting 'sync.lease_second' (did you mean 'lease_seconds'?)"),
        ("[[printers]]\nname='a'\ndpi = 50", "'printers[0].dpi' must be between"),
        ("[[printers]]\nname='a'\ndriver = 'zpl'", "'printers[0].driver' must be one of"),
        ("[[printers]]\nname='a'\n[[printers]]\nname='a'", "printer name 'a' is used twice"),
        ("timezone = 'Mars/Base'", "not a known time zone"),
        ("[sync\n", "config.toml"),
        ("ui = 3", "'ui' must be a table"),
    ],
)
def test_strict_validation_names_the_bad_key(text, fragment):
    with pytest.raises(ConfigError) as exc:
        parse_settings(text)
    assert fragment in exc.value.message


def test_round_trip(tmp_path):
    paths = Paths(tmp_path, tmp_path)
    s = parse_settings(
        "language='zh'\n[sync]\ninterval_minutes=5\n[ui]\nkeymap={print='f5'}\n"
        "[[printers]]\nname='lp'\ndriver='tspl'\nuri='tcp://127.0.0.1:9100'\n"
    )
    save_settings(s, paths)
    again = load_settings(paths)
    assert again == s
    assert settings_diff(Settings(), again)["sync.interval_minutes"] == (10, 5)
    assert "interval_minutes = 5" in dump_settings(again)


def test_write_private_is_owner_only(tmp_path):
    f = tmp_path / "sub" / "credentials.toml"
    write_private(f, "secret = 'x'\n")
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    write_private(f, "secret = 'y'\n")  # rewrite keeps it private
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert f.read_text() == "secret = 'y'\n"


def test_language_detection():
    assert detect_language("auto", {"LANG": "zh_CN.UTF-8"}) == "zh"
    assert detect_language("auto", {"LANG": "en_US.UTF-8"}) == "en"
    assert detect_language("auto", {}) == "en"
    assert detect_language("en", {"LANG": "zh_CN.UTF-8"}) == "en"
    assert detect_language("zh", {}) == "zh"


def test_every_setting_the_app_reads_is_a_field_with_its_default():
    s = Settings()
    assert s.ui.scan_bell is True and s.sync.lease_seconds == 300
    s = parse_settings("[ui]\nscan_bell = false\n[sync]\nlease_seconds = 120\n")
    assert s.ui.scan_bell is False and s.sync.lease_seconds == 120
    assert parse_settings(dump_settings(s)) == s
