"""Operators, roles and permissions.

Open mode: while the database has no operator (a fresh or an older database) every permission
is granted, as before operators existed. Once the first administrator is created
(:func:`create_first_admin`, ``dadan operators init``), every permission is checked here, in
core, by :func:`require` at the start of each guarded function (before its write transaction,
so the ``denied`` audit event is committed on its own and survives the refusal).

Signing in (:func:`sign_in`) checks a PIN against its slow hash; wrong PINs are counted and
audited, and ``[operators] pin_attempts`` of them in a row lock the operator for
``lockout_seconds``. A terminal remembers its last operator (:func:`terminal_id`,
:func:`last_operator`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from dadan.core import audit
from dadan.core.db import write
from dadan.core.errors import DadanError, NotFound
from dadan.core.i18n import tr
from dadan.core.models import utcnow
from dadan.core.operators.models import OPERATOR_MODELS, Operator, Role, TerminalOperator
from dadan.core.operators.permissions import (
    ADMIN_ROLE,
    BUILTIN_ROLES,
    PERMISSIONS,
    ROLE_ALIASES,
    PermissionDenied,
    check_permissions,
    doing,
)
from dadan.core.operators.pins import DUMMY_HASH, PinError, check_pin_shape, hash_pin, verify_pin
from dadan.printers.i18n import Bilingual

__all__ = ["OPERATOR_MODELS", "PERMISSIONS", "Operator", "PermissionDenied", "PinError", "Role", "SignInError",
           "add_operator", "create_first_admin", "deactivate", "has_operators", "last_operator", "may",
           "operator_for_os_user", "require", "role_of", "set_pin", "set_role", "sign_in", "sign_out",
           "terminal_id"]


class SignInError(DadanError):
    TITLE = Bilingual("Sign in", "登录")


def has_operators() -> bool:
    """Whether the database has any operator (False: open mode, everything allowed)."""
    db = Operator._meta.database
    return bool(db.execute_sql(f'SELECT EXISTS (SELECT 1 FROM "{Operator._meta.table_name}")').fetchone()[0])


def _role_name(role: Role) -> str:
    for zh, en, _ in BUILTIN_ROLES:
        if role.name == zh:
            return tr(en, zh)
    return role.name


def role_of(name: str) -> str:
    op = Operator.get_or_none(Operator.name == name)
    return _role_name(op.role) if op else ""


def may(actor: str, perm: str) -> bool:
    """Whether ``actor`` has ``perm`` (always, in open mode); writes nothing."""
    if perm not in PERMISSIONS:
        raise ValueError(perm)
    if not has_operators():
        return True
    op = Operator.get_or_none(Operator.name == actor)
    return bool(op and op.active and perm in op.role.permission_set())


def require(actor: str, perm: str, *, what: str = "") -> None:
    """Refuse (:class:`PermissionDenied`, and a ``denied`` audit event) unless ``actor`` is an
    active operator whose role has ``perm``; in open mode (no operator yet) allow everything.
    Call it before the guarded function's write transaction: the audit event is written in its
    own (inside a caller's transaction it would be rolled back with it)."""
    if may(actor, perm):
        return
    op = Operator.get_or_none(Operator.name == actor)
    if op is None:
        msg = tr("{actor} is not a signed-in operator and may not {doing}; sign in first "
                 "(desk: F12; command line: DADAN_OPERATOR=NAME and its PIN)",
                 "{actor} 不是已登录的操作员，无权{doing}；请先登录（桌面：F12；命令行：DADAN_OPERATOR=姓名 及 PIN 码）",
                 actor=actor or "?", doing=doing(perm))
    elif not op.active:
        msg = tr("{actor} is deactivated and may not {doing}", "{actor} 已停用，无权{doing}",
                 actor=actor, doing=doing(perm))
    else:
        msg = tr("{actor} ({role}) may not {doing}", "{actor}（{role}）无权{doing}",
                 actor=actor, role=_role_name(op.role), doing=doing(perm))
    with write():
        audit.record("denied", actor=actor or "", target=perm, detail={"what": what} if what else None)
    raise PermissionDenied(msg)


# ------------------------------------------------------------------ terminals
def terminal_id() -> str:
    """This terminal's key for "its last operator": ``DADAN_TERMINAL`` if set; else the host and,
    over SSH, the client's address (a desk PC keeps its key across logins); else the tty
    (``/dev/tty1``: a local console); else the host alone."""
    given = os.environ.get("DADAN_TERMINAL", "").strip()
    if given:
        return given
    host = socket.gethostname() or "host"
    client = os.environ.get("SSH_CLIENT", "").split()
    if client:
        return f"{host}/ssh:{client[0]}"
    for fd in (0, 1, 2):
        try:
            return f"{host}/{os.ttyname(fd)}"
        except OSError:
            continue
    return host


def last_operator(terminal: str) -> Operator | None:
    """The operator last signed in at ``terminal`` (if still active)."""
    row = TerminalOperator.get_or_none(TerminalOperator.terminal == terminal)
    if row is None:
        return None
    op = Operator.get_or_none(Operator.id == row.operator_id)
    return op if op is not None and op.active else None


def sign_out(name: str, *, terminal: str = "", reason: str = "") -> None:
    """Sign ``name`` out of ``terminal``: audited; the terminal forgets them (the next desk
    started there asks for a PIN)."""
    with write():
        if terminal:
            TerminalOperator.delete().where(TerminalOperator.terminal == terminal).execute()
        audit.record("sign-out", actor=name, target=terminal, reason=reason)


# ------------------------------------------------------------------ sign in
def sign_in(name: str, pin: str, *, terminal: str = "", attempts: int = 5, lockout_seconds: int = 60,
            now: dt.datetime | None = None) -> Operator:
    """The operator ``name`` if ``pin`` is theirs. A wrong PIN is counted and audited
    (``pin-wrong``); ``attempts`` of them in a row lock the operator for ``lockout_seconds``
    (``pin-locked``), during which even the right PIN is refused. Success resets the count, is
    audited (``sign-in``) and is remembered as ``terminal``'s last operator."""
    now = now or utcnow()
    name = (name or "").strip()
    refused = ""
    with write():
        op = Operator.get_or_none(Operator.name == name)
        if op is None or not op.active:
            verify_pin(pin, DUMMY_HASH)  # as slow as a real check
            audit.record("pin-wrong", actor=name, target=terminal, detail={"unknown": True} if op is None else
                         {"inactive": True})
            refused = "wrong"
        elif op.locked_until is not None and op.locked_until > now:
            audit.record("pin-wrong", actor=name, target=terminal, detail={"locked": True})
            refused = "locked"
        elif not verify_pin(pin, op.pin_hash):
            failed = op.failed_pins + 1
            audit.record("pin-wrong", actor=name, target=terminal, detail={"in_a_row": failed})
            if failed >= max(1, attempts):
                until = now + dt.timedelta(seconds=lockout_seconds)
                Operator.update(failed_pins=0, locked_until=until).where(Operator.id == op.id).execute()
                audit.record("pin-locked", actor=name, target=terminal, detail={"seconds": lockout_seconds})
                refused = "locked"
            else:
                Operator.update(failed_pins=failed).where(Operator.id == op.id).execute()
                refused = "wrong"
        else:
            Operator.update(failed_pins=0, locked_until=None).where(Operator.id == op.id).execute()
            if terminal:
                (TerminalOperator.insert(terminal=terminal, operator=op.id, at=now)
                 .on_conflict_replace().execute())
            audit.record("sign-in", actor=name, target=terminal)
    if refused == "locked":
        op = Operator.get(Operator.name == name)
        left = max(1, int((op.locked_until - now).total_seconds() + 0.999)) if op.locked_until else lockout_seconds
        raise SignInError(tr("{name} is locked after too many wrong PINs; try again in {s} s",
                             "{name} 因 PIN 码错误次数过多已锁定；请 {s} 秒后再试", name=name, s=left))
    if refused:
        raise SignInError(tr("wrong name or PIN", "姓名或 PIN 码错误"))
    return Operator.get(Operator.name == name)


def operator_for_os_user(login: str) -> Operator | None:
    """The active operator mapped to the OS login ``login`` (None if none)."""
    if not login:
        return None
    return Operator.get_or_none((Operator.os_user == login) & (Operator.active == True))  # noqa: E712


# ------------------------------------------------------------------ roles
def ensure_builtin_roles() -> None:
    """The four built-in roles (call inside a write transaction); existing ones are kept."""
    for zh, _en, perms in BUILTIN_ROLES:
        if Role.get_or_none(Role.name == zh) is None:
            Role.create(name=zh, permissions=",".join(perms), builtin=True)


def find_role(name: str) -> Role:
    key = (name or "").strip()
    role = Role.get_or_none(Role.name == ROLE_ALIASES.get(key.lower(), key))
    if role is None:
        names = ", ".join(r.name for r in Role.select().order_by(Role.id))
        raise NotFound(tr("no role named {r!r} (roles: {all})", "没有名为 {r!r} 的角色（现有：{all}）",
                          r=key, all=names or "-"))
    return role


def save_role(name: str, perms, *, actor: str) -> Role:
    """Create the custom role ``name``, or change its permissions (the administrator role keeps
    every permission)."""
    require(actor, "operators", what=f"role {name}")
    name = (name or "").strip()
    if not name:
        raise DadanError(tr("a role needs a name", "角色需要名称"))
    perms = check_permissions(perms)
    with write():
        role = Role.get_or_none(Role.name == ROLE_ALIASES.get(name.lower(), name))
        if role is not None and role.name == ADMIN_ROLE:
            raise DadanError(tr("the administrator role keeps every permission", "管理员角色保留全部权限"))
        if role is None:
            role = Role.create(name=name, permissions=",".join(perms), builtin=False)
        else:
            Role.update(permissions=",".join(perms)).where(Role.id == role.id).execute()
        audit.record("role-save", actor=actor, target=role.name, detail={"permissions": perms})
    return Role.get_by_id(role.id)


def delete_role(name: str, *, actor: str) -> None:
    require(actor, "operators", what=f"role {name}")
    with write():
        role = find_role(name)
        if role.builtin:
            raise DadanError(tr("a built-in role cannot be deleted", "内置角色不能删除"))
        if Operator.select().where(Operator.role == role.id).exists():
            raise DadanError(tr("role {r} still has operators", "角色 {r} 仍有操作员", r=role.name))
        role.delete_instance()
        audit.record("role-delete", actor=actor, target=role.name)


# ------------------------------------------------------------------ operators
def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 40 or any(c in name for c in ",\n\r\t"):
        raise DadanError(tr("an operator's name is 1 to 40 characters, without commas",
                            "操作员姓名为 1 到 40 个字符，不含逗号"))
    if Operator.get_or_none(Operator.name == name) is not None:
        raise DadanError(tr("there is an operator named {n} already", "已有名为 {n} 的操作员", n=name))
    return name


def create_first_admin(name: str, pin: str, *, os_user: str = "") -> Operator:
    """The first operator, an administrator, with the built-in roles. Refused once any
    operator exists (then an administrator adds operators)."""
    pin_hash = hash_pin(pin)
    with write():
        if has_operators():
            raise DadanError(tr("the administrator exists already; an administrator adds operators "
                                "(dadan operators add)", "管理员已存在；请由管理员添加操作员（dadan operators add）"))
        name = _check_name(name)
        ensure_builtin_roles()
        op = Operator.create(name=name, pin_hash=pin_hash, role=find_role(ADMIN_ROLE), os_user=os_user.strip())
        audit.record("operator-add", actor=name, target=name, detail={"role": ADMIN_ROLE, "first": True})
    return op


def add_operator(name: str, pin: str, role: str, *, actor: str, os_user: str = "") -> Operator:
    require(actor, "operators", what=f"add {name}")
    pin_hash = hash_pin(pin)
    with write():
        name = _check_name(name)
        ensure_builtin_roles()
        r = find_role(role)
        op = Operator.create(name=name, pin_hash=pin_hash, role=r, os_user=(os_user or "").strip())
        audit.record("operator-add", actor=actor, target=name, detail={"role": r.name, "os_user": op.os_user})
    return op


def _get(name: str) -> Operator:
    op = Operator.get_or_none(Operator.name == (name or "").strip())
    if op is None:
        raise NotFound(tr("no operator named {n}", "没有名为 {n} 的操作员", n=name))
    return op


def _admins_left(without: int) -> int:
    """Active operators other than ``without`` who may manage operators."""
    return sum(1 for o in Operator.select().where((Operator.active == True) & (Operator.id != without))  # noqa: E712
               if "operators" in o.role.permission_set())


def set_pin(name: str, pin: str, *, actor: str) -> None:
    """A new PIN for ``name`` (an operator may change their own; else permission "operators");
    the wrong-PIN count and lock are cleared."""
    if actor != name:
        require(actor, "operators", what=f"pin {name}")
    pin_hash = hash_pin(pin)
    with write():
        op = _get(name)
        Operator.update(pin_hash=pin_hash, failed_pins=0, locked_until=None).where(Operator.id == op.id).execute()
        audit.record("operator-pin", actor=actor, target=op.name)


def set_role(name: str, role: str, *, actor: str) -> None:
    require(actor, "operators", what=f"role of {name}")
    with write():
        op, r = _get(name), find_role(role)
        if "operators" not in r.permission_set() and "operators" in op.role.permission_set() and op.active \
                and not _admins_left(op.id):
            raise DadanError(tr("{n} is the last administrator", "{n} 是最后一位管理员", n=op.name))
        Operator.update(role=r.id).where(Operator.id == op.id).execute()
        audit.record("operator-role", actor=actor, target=op.name, detail={"role": r.name, "was": op.role.name})


def set_os_user(name: str, os_user: str, *, actor: str) -> None:
    require(actor, "operators", what=f"os user of {name}")
    with write():
        op = _get(name)
        Operator.update(os_user=(os_user or "").strip()).where(Operator.id == op.id).execute()
        audit.record("operator-os-user", actor=actor, target=op.name, detail={"os_user": os_user})


def deactivate(name: str, *, actor: str) -> None:
    require(actor, "operators", what=f"deactivate {name}")
    with write():
        op = _get(name)
        if "operators" in op.role.permission_set() and not _admins_left(op.id):
            raise DadanError(tr("{n} is the last administrator", "{n} 是最后一位管理员", n=op.name))
        Operator.update(active=False).where(Operator.id == op.id).execute()
        TerminalOperator.delete().where(TerminalOperator.operator == op.id).execute()
        audit.record("operator-deactivate", actor=actor, target=op.name)


def operators() -> list[Operator]:
    return list(Operator.select(Operator, Role).join(Role).order_by(Operator.name))


def roles() -> list[Role]:
    return list(Role.select().order_by(Role.id))


__all__ += ["utcnow", "check_pin_shape", "delete_role", "ensure_builtin_roles", "find_role", "operators", "roles",
            "save_role", "set_os_user"]


def view_orders(actor: str) -> None:
    """Before orders are shown (the order list, an order's detail): the "view orders"
    permission, refused without a ``denied`` event (the desk asks on every page; a person
    without it sees no orders, and a log line per page would say nothing new)."""
    if not may(actor, "view"):
        from dadan.core.operators.permissions import doing

        raise PermissionDenied(tr("{a} may not {d}", "{a} 无权{d}", a=actor or "?", d=doing("view")))


FIRST_ADMIN_PUT_OFF = "operators-later"  # in the data folder: the administrator was put off


def first_admin_put_off(data_dir) -> bool:
    """Whether a desk of this data folder was told not to ask for the administrator at its start
    (it was put off once, or the folder holds demo data)."""
    from pathlib import Path

    return (Path(data_dir) / FIRST_ADMIN_PUT_OFF).exists()


def put_off_first_admin(data_dir, why: str = "put off") -> None:
    """A desk of this data folder does not ask for the administrator at its start (F12 still
    creates it): the administrator was put off, or the data is a demo's."""
    from pathlib import Path

    from dadan.printers.private_files import make_private_dir, write_private_bytes

    mark = Path(data_dir) / FIRST_ADMIN_PUT_OFF
    try:
        make_private_dir(mark.parent)
        write_private_bytes(mark, f"{why}; F12 (or dadan operators init NAME) creates the administrator\n".encode())
    except OSError:
        pass
