"""One rule for which shop a command means (core.platform.shops.resolve_shop): the CLI's import
and export and the desk's import all ask, and never invent a shop."""

from __future__ import annotations

import pytest

from dadan.core.db import close_database, open_database
from dadan.core.errors import DadanError, NotFound
from dadan.core.models import Order, Shop
from dadan.core.platform.shops import NoShops, SeveralShops, UnknownShop, resolve_shop


@pytest.fixture
def db(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'dadan.db'}")
    yield
    close_database()


def test_no_name_and_one_shop_is_that_shop(db):
    s = Shop.create(name="主店")
    assert resolve_shop(None).id == s.id
    assert resolve_shop("").id == s.id
    assert resolve_shop(" 主店 ").id == s.id


def test_no_name_and_several_shops_lists_them(db):
    Shop.create(name="主店")
    Shop.create(name="分店")
    with pytest.raises(SeveralShops, match="--shop") as exc:
        resolve_shop(None)
    assert exc.value.names == ["主店", "分店"]  # by name
    assert "主店" in exc.value.message and "分店" in exc.value.message
    assert resolve_shop(None, required=False) is None


def test_no_shops_says_how_to_create_one(db):
    with pytest.raises(NoShops) as exc:
        resolve_shop(None)
    assert "dadan shops add" in exc.value.message and "--create-shop" in exc.value.message
    assert resolve_shop(None, required=False) is None
    assert Shop.select().count() == 0  # nothing invented


def test_unknown_name_suggests_close_ones_and_creates_nothing(db):
    Shop.create(name="Main shop")
    Shop.create(name="Outlet")
    with pytest.raises(UnknownShop) as exc:
        resolve_shop("main shp")
    assert isinstance(exc.value, NotFound)
    assert exc.value.suggestions == ["Main shop"] and "did you mean 'Main shop'" in exc.value.message
    assert "Outlet" in exc.value.message  # every shop is listed
    with pytest.raises(UnknownShop):
        resolve_shop("nothing like it", required=False)  # a name given is never silently dropped
    assert Shop.select().count() == 2


def test_create_only_when_asked(db):
    s = resolve_shop("新店", create=True)
    assert s.name == "新店" and s.auth_state == "unconfigured"
    assert resolve_shop("新店", create=True).id == s.id  # an existing shop is not made twice
    assert Shop.select().count() == 1


def test_import_cli_says_how_to_create_an_unknown_shop(db):
    from dadan.tui.commands.importing import resolve_import_shop

    Shop.create(name="主店")
    with pytest.raises(DadanError, match="--create-shop"):
        resolve_import_shop("主点")
    assert resolve_import_shop("主店").name == "主店"  # (the shop to create is the import's: see below)


def test_sync_uses_the_same_rule(db):
    from dadan.core.config import SyncSettings
    from dadan.core.platform.shops import ClientFactory
    from dadan.core.platform.sync import sync_shops

    Shop.create(name="Main shop")
    with pytest.raises(UnknownShop, match="did you mean 'Main shop'"):
        sync_shops(ClientFactory(), SyncSettings(), shop_name="Main shp")


def test_cli_import_and_export_use_the_same_rule(tmp_path, monkeypatch, capsys):
    from tests.test_export import _cli
    from tests.test_import_core import SAMPLE, write_xlsx

    p = write_xlsx(tmp_path / "a.xlsx", SAMPLE)
    rc, out, err = _cli(["import", str(p)], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "there is no shop yet" in err and "--create-shop" in err
    rc, out, err = _cli(["import", str(p), "--shop", "主店", "--create-shop"], tmp_path, monkeypatch, capsys)
    assert rc == 0, err
    rc, out, err = _cli(["import", str(p), "--shop", "主点"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "did you mean '主店'" in err and "--create-shop" in err
    rc, out, err = _cli(["export", "--out", "-", "--shop", "主点"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "did you mean '主店'" in err and "Traceback" not in err


def test_create_shop_makes_the_shop_only_with_the_import(tmp_path, monkeypatch, capsys):
    """``--create-shop`` makes the shop in the import's own transaction: a file refused (a bad
    quantity) leaves no shop behind, as it leaves no order; a good one makes it with its orders."""
    from tests.test_export import _cli
    from tests.test_import_core import SAMPLE, line, write_xlsx

    bad = write_xlsx(tmp_path / "bad.xlsx", [*SAMPLE, line("231114-999999999999999", count=-3)])
    rc, out, err = _cli(["import", str(bad), "--shop", "新店", "--create-shop"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "nothing was written" in out, (out, err)
    open_database(f"sqlite:///{tmp_path / 'home' / 'dadan.db'}")
    assert not Shop.select().where(Shop.name == "新店").exists()
    close_database()
    good = write_xlsx(tmp_path / "good.xlsx", SAMPLE)
    rc, out, err = _cli(["import", str(good), "--shop", "新店", "--create-shop"], tmp_path, monkeypatch, capsys)
    assert rc == 0, err
    open_database(f"sqlite:///{tmp_path / 'home' / 'dadan.db'}")
    shop = Shop.get(Shop.name == "新店")
    assert Order.select().where(Order.shop == shop.id).count() > 0
    close_database()


def test_a_dry_run_takes_the_shop_as_the_import_would(tmp_path, monkeypatch, capsys):
    """With several shops and no ``--shop`` the import is refused; its dry run is refused alike
    (it counted the file as if for no shop). A shop still to be created (``--create-shop``) is
    counted all new; one named without it is refused, as the import refuses it."""
    from tests.test_export import _cli
    from tests.test_import_core import SAMPLE, write_xlsx

    p = write_xlsx(tmp_path / "a.xlsx", SAMPLE)
    for name in ("甲店", "乙店"):
        assert _cli(["import", str(p), "--shop", name, "--create-shop"], tmp_path, monkeypatch, capsys)[0] == 0
    rc, out, err = _cli(["import", str(p), "--dry-run"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "several shops" in err and not out.strip().endswith("nothing was written"), (out, err)
    rc, out, err = _cli(["import", str(p), "--dry-run", "--shop", "丙店", "--create-shop"], tmp_path, monkeypatch,
                        capsys)
    assert rc == 0 and "2 new" in out, (out, err)
    # a shop named that does not exist, without --create-shop: refused, as the import refuses it
    rc, out, err = _cli(["import", str(p), "--dry-run", "--shop", "丙店"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "no shop named" in err and "--create-shop" in err, (out, err)
