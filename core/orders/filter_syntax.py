"""The filter language's syntax: terms, field names and their aliases, the tokenizer and the
parser (:func:`parse`). :mod:`dadan.core.orders.query` compiles the terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import tr


@dataclass(frozen=True)
class Term:
    field: str | None  # canonical field name, None for free text
    op: str  # ":" "<" ">" "<=" ">=" "=" "!="
    value: str
    negate: bool
    pos: int  # offset of the term in the source
    text: str  # the raw term
    value_pos: int  # offset of the value's first character (past an opening quote)


# canonical name -> aliases
ALIASES = {
    "status": ["状态"],
    "state": ["流程"],
    "printed": ["已打印", "打印"],
    "exception": ["异常", "ex", "exc"],
    "blocked": ["拦截"],
    "province": ["省", "省份", "prov"],
    "city": ["市", "城市"],
    "town": ["区", "区县", "district"],
    "sku": ["编码", "商家编码", "code"],
    "goods": ["商品", "product", "item"],
    "courier": ["快递", "物流"],
    "tag": ["标签"],
    "due": ["截止", "发货时限", "shipby"],
    "paid": ["付款", "支付", "pay"],
    "created": ["下单", "创建"],
    "updated": ["更新"],
    "remark": ["备注"],
    "memo": ["留言", "买家留言"],
    "flag": ["旗帜", "插旗"],
    "shop": ["店铺"],
    "sn": ["订单号", "单号", "order"],
    "tracking": ["运单号", "快递单号"],
    "amount": ["金额", "实付"],
    "qty": ["件数", "count", "items"],
    "source": ["来源"],
    "overdue": ["超时"],
    "reprint": ["重打"],
    "waybill": ["面单"],
    "stock": ["库存"],
}
FIELDS: dict[str, str] = {}
for _canon, _alist in ALIASES.items():
    FIELDS[_canon] = _canon
    for _a in _alist:
        FIELDS[_a] = _canon

_TERM_RE = re.compile(r"^([^\s:<>=!\"]+)(<=|>=|!=|:|<|>|=)(.*)$", re.S)


def split_terms(text: str) -> list[tuple[int, str]]:
    tokens: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        in_quote = False
        while i < n and (in_quote or not text[i].isspace()):
            if text[i] == '"':
                in_quote = not in_quote
            i += 1
        if in_quote:
            raise QuerySyntaxError(
                tr("unterminated quote", "引号没有闭合"), position=start, token=text[start:i], source=text
            )
        tokens.append((start, text[start:i]))
    return tokens


def unquote(s: str) -> str:
    return s.replace('"', "")


def parse(text: str) -> list[Term]:
    terms: list[Term] = []
    for pos, raw in split_terms(text):
        negate = False
        body, bpos = raw, pos
        if body.startswith("-") and len(body) > 1 and not body[1].isdigit():
            negate, body, bpos = True, body[1:], pos + 1
        m = _TERM_RE.match(body)
        if m and not body.startswith('"'):
            name, op, value = m.groups()
            canon = FIELDS.get(name.lower(), FIELDS.get(name))
            if canon is None:
                close = _suggest(name)
                hint = tr(" (did you mean '{s}'?)", "（是不是“{s}”？）", s=close) if close else ""
                raise QuerySyntaxError(
                    tr("unknown filter '{f}'", "未知的筛选项“{f}”", f=name) + hint,
                    position=bpos, token=name, source=text,
                )
            vpos = bpos + len(name) + len(op)
            if value.startswith('"'):  # errors point at the value's first character, not its quote
                vpos += 1
            value = unquote(value)
            if value == "":
                raise QuerySyntaxError(
                    tr("'{f}' needs a value", "“{f}”缺少值", f=name), position=bpos, token=body, source=text
                )
            terms.append(Term(canon, op, value, negate, pos, raw, vpos))
        else:
            terms.append(Term(None, ":", unquote(body), negate, pos, raw, bpos))
    return terms


def _suggest(name: str) -> str | None:
    import difflib

    m = difflib.get_close_matches(name.lower(), list(FIELDS), n=1, cutoff=0.6)
    return m[0] if m else None


def quote_value(v: str) -> str:
    """Quote a value for the filter language if it contains spaces."""
    return f'"{v}"' if any(c.isspace() for c in v) else v
