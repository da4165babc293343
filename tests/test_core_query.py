import datetime as dt

import pytest

from dadan.core.db import open_database
from dadan.core.demo import write_demo
from dadan.core.errors import QuerySyntaxError
from dadan.core.models import Order, OrderTag, Tag
from dadan.core.orders import dialect
from dadan.core.orders.filter_syntax import parse
from dadan.core.orders.query import compile_query
from dadan.core.orders.rules import Flag
from tests.pg_copy import open_on

NOW = dt.datetime(2026, 11, 21, 4, 0, 0)  # 12:00 in Shanghai


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("q") / "q.db"
    open_database(f"sqlite:///{path}")
    write_demo(3000, seed=7, now=NOW)
    return path


@pytest.fixture
def db(demo_db, store):
    """The demo's orders on the store's backend (PostgreSQL: the same rows, copied once)."""
    open_on(store, demo_db)
    return store


def ids(q: str) -> set[int]:
    expr = compile_query(q, now=NOW)
    sel = Order.select(Order.id)
    if expr is not None:
        sel = sel.where(expr)
    return {r[0] for r in sel.tuples()}


def everything() -> list[Order]:
    return list(Order.select())


def test_empty_query_is_none():
    assert compile_query("") is None and compile_query("   ") is None


def test_parse_terms_and_positions():
    terms = parse('status:pending -province:浙江 "blue box" due<2h')
    assert [(t.field, t.op, t.value, t.negate) for t in terms] == [
        ("status", ":", "pending", False),
        ("province", ":", "浙江", True),
        (None, ":", "blue box", False),
        ("due", "<", "2h", False),
    ]
    assert terms[1].pos == 15


def test_status_pending_matches_python_rule(db):
    expected = {o.id for o in everything() if o.order_status == 1 and o.state in ("new", "printed")}
    assert ids("status:pending") == expected and expected


def test_combined_example_from_the_issue(db):
    tag = Tag.get(Tag.name == "加急")
    tagged = {r.order_id for r in OrderTag.select().where(OrderTag.tag == tag)}
    expected = {
        o.id for o in everything()
        if o.order_status == 1 and o.state in ("new", "printed") and o.province.startswith("浙江")
        and "|a12|" in o.sku_text and o.print_count == 0
        and o.last_ship_time is not None and o.last_ship_time < NOW + dt.timedelta(hours=20)
        and o.id in tagged
    }
    assert ids("status:pending province:浙江 sku:A12 printed:no due<20h tag:加急") == expected


def test_free_text_and_quotes(db):
    expected = {o.id for o in everything() if "保温杯" in o.search_text}
    assert ids('"保温杯"') == expected and expected
    assert ids("保温杯") == expected


def test_negation_and_any_of(db):
    zj = ids("province:浙江")
    js = ids("province:江苏")
    assert ids("province:浙江,江苏") == zj | js
    assert ids("-province:浙江") == {o.id for o in everything()} - zj


def test_exceptions(db):
    assert ids("exception:any") == {o.id for o in everything() if o.exception_flags}
    assert ids("exception:refund") == {o.id for o in everything() if o.exception_flags & Flag.REFUND}
    assert ids("异常:无") == {o.id for o in everything() if not o.exception_flags}


def test_time_filters(db):
    all_orders = everything()
    assert ids("paid<2h") == {o.id for o in all_orders if o.pay_time > NOW - dt.timedelta(hours=2)}
    assert ids("due<0h") == {o.id for o in all_orders if o.last_ship_time < NOW}
    assert ids("overdue:yes") == {
        o.id for o in all_orders
        if o.last_ship_time < NOW and o.state in ("new", "printed") and o.order_status == 1
    }
    # "today" is the Shanghai calendar day: 2026-11-21 00:00 +08 = 2026-11-20 16:00 UTC
    start = dt.datetime(2026, 11, 20, 16)
    today = {o.id for o in all_orders if start <= o.pay_time < start + dt.timedelta(days=1)}
    assert ids("paid:today") == today == ids("paid:2026-11-21")
    assert ids("paid>=2026-11-21") == {o.id for o in all_orders if o.pay_time >= start}


def test_courier_amount_qty_flag(db):
    all_orders = everything()
    assert ids("courier:中通") == {o.id for o in all_orders if o.logistics_id == 115}
    assert ids("courier:ZTO") == ids("courier:115") == ids("快递:中通")
    assert ids("amount>100") == {o.id for o in all_orders if o.pay_amount_fen > 10000}
    assert ids("qty>=3") == {o.id for o in all_orders if o.item_count >= 3}
    assert ids("flag:red") == {o.id for o in all_orders if o.remark_tag == 1}


@pytest.mark.parametrize(
    "text, token, position",
    [
        ("status:pending provnce:浙江", "provnce", 15),
        ("status:pendng", "pendng", 7),
        ("due<soon", "soon", 4),
        ("amount>abc", "abc", 7),
        ('"open quote', '"open quote', 0),
        ("printed:maybe", "maybe", 8),
        ("province<浙江", "<", 8),
        ("courier:nosuch", "nosuch", 8),
        ("tag:", "tag:", 0),
    ],
)
def test_syntax_errors_point_at_the_bad_token(db, text, token, position):
    with pytest.raises(QuerySyntaxError) as exc:
        compile_query(text, now=NOW)
    assert exc.value.token == token
    assert exc.value.position == position
    assert exc.value.pointer().splitlines()[1].index("^") == position


def test_unknown_field_suggests(db):
    with pytest.raises(QuerySyntaxError, match="did you mean 'province'"):
        compile_query("provnce:浙江")


def test_prefix_filters_use_the_index_and_escape_wildcards(db):
    from dadan.core.orders.listing import explain  # the page query planner helper

    assert ids("sn:26*") == set()  # '*' is a character here, not a wildcard
    prefix = Order.select(Order.order_sn).first().order_sn[:8]
    assert ids(f"sn:{prefix}") == {o.id for o in everything() if o.order_sn.startswith(prefix)}
    assert ids("province:浙") == {o.id for o in everything() if o.province.startswith("浙")}
    assert ids("sn:26%") == ids("sn:2_") == set()  # nor are LIKE's (PostgreSQL)
    if not db.postgres:  # (PostgreSQL: a btree serves LIKE 'v%' only in the C collation, a table scan else)
        plan = Order.select(Order.id).where(compile_query("province:浙江", now=NOW)).sql()
        assert any("INDEX" in line for line in dialect.explain(*plan)), plan
    _ = explain


@pytest.mark.parametrize(
    "text, token, position",
    [
        ("due<99999999h", "99999999h", 4),
        ("due<-99999999h", "-99999999h", 4),
        ("paid<99999999999999d", "99999999999999d", 5),
        ("paid<0001-01-01", "0001-01-01", 5),
        ("qty>99999999999999999999999", "99999999999999999999999", 4),
        ("status:pending amount>1e309", "1e309", 22),
        ("amount>-1e309", "-1e309", 7),
        ("amount>inf", "inf", 7),
        ("courier:99999999999999999999999", "99999999999999999999999", 8),
    ],
)
def test_overflowing_values_are_syntax_errors_at_the_value(db, text, token, position):
    """Never OverflowError: the value cannot be stored or is no time, so it is a filter mistake."""
    with pytest.raises(QuerySyntaxError, match="out of range") as exc:
        Order.select().where(compile_query(text, now=NOW)).count()
    assert (exc.value.token, exc.value.position) == (token, position)


def test_the_largest_stored_numbers_still_filter(db):
    assert ids("qty>9223372036854775807") == set() and ids("amount>92233720368547758.07") == set()


@pytest.mark.parametrize(
    "text, caret",
    [
        ("province:浙江 provnce:x", "              ^~~~~~~"),  # 浙江 takes four columns
        ("-provnce:x", " ^~~~~~~"),  # under the name, not the minus
        ('printed:"maybe"', "         ^~~~~"),  # under the value, not its quote
        ('province<"浙江"', "        ^"),  # the operator
    ],
)
def test_the_pointer_caret_sits_under_the_tokens_first_character(db, text, caret):
    with pytest.raises(QuerySyntaxError) as exc:
        compile_query(text, now=NOW)
    assert exc.value.pointer().splitlines() == [text, caret]


def test_the_order_tables_state_labels_filter_too(db):
    """The State column says "done" for a confirmed order and "cancel" for a cancelled one: the
    filter takes those words as it takes "confirmed" and "cancelled"; an unknown exception's
    error lists every kind the filter takes, "overdue" too."""
    from dadan.core.errors import QuerySyntaxError

    assert ids("status:done") == ids("status:confirmed") == ids("state:done") == ids("state:confirmed")
    assert ids("status:cancel") == ids("status:cancelled")
    with pytest.raises(QuerySyntaxError, match="overdue") as exc:
        ids("exception:nonesku")
    assert ids("exception:overdue") is not None and "refund" in exc.value.message
