"""``dadan operators``: operators, their PINs and roles (core: :mod:`dadan.core.operators`).

``init NAME`` creates the first administrator (and the four built-in roles); until then the
database is in open mode (anyone may do anything). Every other change needs the permission
"operators": sign in with ``DADAN_OPERATOR=NAME`` and the PIN (``DADAN_PIN`` or asked)."""

from __future__ import annotations

import os
import sys


def register(sub) -> None:
    p = sub.add_parser("operators", help="operators, PINs and roles (操作员与角色)",
                       description="Operators sign in with a name and a 4-8 digit PIN; their role gives their "
                                   "permissions. 'init NAME' creates the first administrator. Other commands "
                                   "need the permission 'operators': DADAN_OPERATOR=NAME and DADAN_PIN (or the "
                                   "PIN asked on a terminal). A new PIN is read from DADAN_NEW_PIN (DADAN_PIN for init), else asked "
                                   "twice.")
    ops = p.add_subparsers(dest="operators_command", metavar="COMMAND")
    ops.add_parser("list", help="the operators, their roles and state")
    ops.add_parser("roles", help="the roles and their permissions")
    a = ops.add_parser("init", help="create the first administrator")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--os-user", default="", metavar="LOGIN", help="the OS login mapped to this operator")
    a = ops.add_parser("add", help="add an operator")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--role", required=True, metavar="ROLE",
                   help="operator | warehouse | finance | admin (or 操作员 仓库主管 财务 管理员), or a custom role")
    a.add_argument("--os-user", default="", metavar="LOGIN", help="the OS login mapped to this operator")
    a = ops.add_parser("pin", help="set an operator's PIN (your own, or anyone's with 'operators')")
    a.add_argument("name", metavar="NAME")
    a = ops.add_parser("role", help="change an operator's role")
    a.add_argument("name", metavar="NAME")
    a.add_argument("role", metavar="ROLE")
    a = ops.add_parser("os-user", help="map an OS login to an operator ('' to unmap)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("login", metavar="LOGIN")
    a = ops.add_parser("deactivate", help="deactivate an operator (kept in the audit)")
    a.add_argument("name", metavar="NAME")
    a = ops.add_parser("role-save", help="create or change a custom role")
    a.add_argument("name", metavar="ROLE")
    a.add_argument("permissions", metavar="PERMS", help="comma-separated, e.g. view,print,ship")
    a = ops.add_parser("role-delete", help="delete a custom role without operators")
    a.add_argument("name", metavar="ROLE")
    p.set_defaults(func=run)


def new_pin(who: str, env: str = "DADAN_NEW_PIN") -> str:
    """The new PIN: the variable ``env``, else asked twice on a terminal."""
    from dadan.core.i18n import tr
    from dadan.core.operators import PinError

    given = os.environ.get(env)
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise PinError(tr("no PIN given: set {e} or run in a terminal", "未提供 PIN 码：请设置 {e} 或在终端中运行", e=env))
    import getpass

    first = getpass.getpass(tr("new PIN for {n} (4-8 digits): ", "{n} 的新 PIN 码（4-8 位数字）：", n=who))
    if getpass.getpass(tr("again: ", "再输一次：")) != first:
        raise PinError(tr("the two PINs differ", "两次输入的 PIN 码不一致"))
    return first


def run(args, ctx) -> int:
    from dadan.core import operators as ops
    from dadan.core.i18n import tr
    from dadan.core.operators.permissions import PERMISSIONS
    from dadan.core.operators.permissions import label as perm_label
    from dadan.tui.commands.goods import print_table

    ctx.open_db()
    cmd = args.operators_command or "list"
    if cmd == "init":
        pin = new_pin(args.name, "DADAN_PIN")
        op = ops.create_first_admin(args.name, pin, os_user=args.os_user)
        print(tr("administrator {n} created; operators and permissions are now enforced",
                 "已创建管理员 {n}；操作员与权限现已生效", n=op.name))
        return 0
    if cmd == "list":
        if not ops.has_operators():
            print(tr("no operators: anyone may do anything; create the administrator with: dadan operators init NAME",
                     "尚无操作员：任何人都可执行任何操作；创建管理员：dadan operators init 姓名"))
            return 0
        rows = [[o.name, ops.role_of(o.name), o.os_user or "-",
                 tr("active", "在用") if o.active else tr("deactivated", "已停用"),
                 tr("locked", "已锁定") if o.locked_until and o.locked_until > ops.utcnow() else ""]
                for o in ops.operators()]
        print_table([tr("name", "姓名"), tr("role", "角色"), tr("OS user", "系统用户"), tr("state", "状态"), ""], rows)
        return 0
    if cmd == "roles":
        roles = ops.roles()
        if not roles:
            print(tr("no roles yet: they are created with the administrator (dadan operators init NAME)",
                     "尚无角色：创建管理员时一并创建（dadan operators init 姓名）"))
            return 0
        header = [tr("permission", "权限")] + [r.name for r in roles]
        rows = [[f"{k} {perm_label(k)}"] + ["✔" if k in r.permission_set() else "·" for r in roles]
                for k in PERMISSIONS]
        print_table(header, rows)
        return 0
    actor = ctx.operator
    if cmd == "add":
        ops.require(actor, "operators", what=f"add {args.name}")  # before asking for a PIN
        op = ops.add_operator(args.name, new_pin(args.name), args.role, actor=actor, os_user=args.os_user)
        print(tr("operator {n} added ({r})", "已添加操作员 {n}（{r}）", n=op.name, r=ops.role_of(op.name)))
    elif cmd == "pin":
        if actor != args.name:
            ops.require(actor, "operators", what=f"pin {args.name}")
        ops.set_pin(args.name, new_pin(args.name), actor=actor)
        print(tr("PIN of {n} changed", "{n} 的 PIN 码已更改", n=args.name))
    elif cmd == "role":
        ops.set_role(args.name, args.role, actor=actor)
        print(tr("{n} is now {r}", "{n} 现为 {r}", n=args.name, r=ops.role_of(args.name)))
    elif cmd == "os-user":
        ops.set_os_user(args.name, args.login, actor=actor)
        print(tr("{n} is mapped to the OS login {l}", "{n} 已对应系统用户 {l}", n=args.name, l=args.login or "-"))
    elif cmd == "deactivate":
        ops.deactivate(args.name, actor=actor)
        print(tr("{n} deactivated", "{n} 已停用", n=args.name))
    elif cmd == "role-save":
        r = ops.save_role(args.name, args.permissions.split(","), actor=actor)
        print(tr("role {r}: {p}", "角色 {r}：{p}", r=r.name, p=r.permissions or "-"))
    elif cmd == "role-delete":
        ops.delete_role(args.name, actor=actor)
        print(tr("role {r} deleted", "角色 {r} 已删除", r=args.name))
    return 0
