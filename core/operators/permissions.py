"""Permissions and the built-in roles."""

from __future__ import annotations

from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.printers.i18n import Bilingual

# key -> (label en, label zh, "may not ..." en, zh)
PERMISSIONS: dict[str, tuple[str, str, str, str]] = {
    "view": ("View orders", "订单查看", "view orders", "查看订单"),
    "print": ("Print", "打单", "print labels", "打单"),
    "reprint": ("Reprint", "补打", "reprint labels", "补打"),
    "release": ("Release/hold exceptions", "解除/挂起异常", "hold or release exceptions", "解除或挂起异常"),
    "import": ("Import", "导入", "import files", "导入表格"),
    "export": ("Export", "导出", "export orders", "导出"),
    "ship": ("Ship", "发货", "ship orders", "发货"),
    # the goods catalogue (import, add, edit) and stock (receive, count, adjust)
    "stock": ("Goods and stock", "商品库存", "change goods and stock", "修改商品和库存"),
    "shops": ("Shops and credentials", "店铺绑定", "manage shops and credentials", "管理店铺与授权"),
    "settings": ("Settings", "系统设置", "change settings", "修改系统设置"),
    "finance": ("Finance reports", "财务", "see finance reports", "查看财务报表"),
    "operators": ("Manage operators", "操作员管理", "manage operators", "管理操作员"),
}

_OPERATOR = ("view", "print", "ship", "import", "export", "stock")
# (name, English name, permissions); created with the first operator. A database whose roles were
# made before a permission existed gets it in a schema step (stock: core.migrations step 29)
BUILTIN_ROLES: list[tuple[str, str, tuple[str, ...]]] = [
    ("操作员", "operator", _OPERATOR),
    ("仓库主管", "warehouse admin", (*_OPERATOR, "reprint", "release", "settings")),
    ("财务", "finance", ("view", "export", "finance")),
    ("管理员", "administrator", tuple(PERMISSIONS)),
]
ADMIN_ROLE = "管理员"
# names a role can be given by on the command line
ROLE_ALIASES = {"operator": "操作员", "warehouse": "仓库主管", "warehouse-admin": "仓库主管",
                "warehouse admin": "仓库主管", "supervisor": "仓库主管", "finance": "财务",
                "admin": "管理员", "administrator": "管理员"}


def label(perm: str) -> str:
    en, zh, _, _ = PERMISSIONS[perm]
    return tr(en, zh)


def doing(perm: str) -> str:
    _, _, en, zh = PERMISSIONS[perm]
    return tr(en, zh)


def check_permissions(perms) -> list[str]:
    out = []
    for p in perms:
        p = p.strip().lower()
        if not p:
            continue
        if p not in PERMISSIONS:
            raise DadanError(tr("unknown permission {p!r} (one of: {all})", "未知权限 {p!r}（可用：{all}）",
                                p=p, all=", ".join(PERMISSIONS)))
        if p not in out:
            out.append(p)
    return [p for p in PERMISSIONS if p in out]  # in the table's order


class PermissionDenied(DadanError):
    TITLE = Bilingual("Not permitted", "无权操作")
