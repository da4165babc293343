from dadan.core.orders.filter_form import build_query
from dadan.core.orders.filter_syntax import parse


def test_build_query_writes_the_filter_language():
    q = build_query({"status": "pending", "province": "浙江, 江苏", "paid_from": "2026-11-18", "paid_to": "today",
                     "due": "2h", "sku": "A12", "courier": "zto", "tag": "加急", "printed": "no",
                     "exception": "none", "flag": "red", "text": "保温 杯"})
    assert q == ('status:pending province:浙江,江苏 sku:A12 courier:zto tag:加急 printed:no exception:none '
                 'flag:red paid>=2026-11-18 paid<=today due<2h "保温 杯"')
    assert [t.field for t in parse(q)][-1] is None


def test_empty_form_is_empty_query():
    assert build_query({"status": " ", "city": ""}) == ""
