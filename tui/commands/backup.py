"""``dadan backup [FILE]``, ``dadan backup --verify FILE``, ``dadan backup --list`` and
``dadan restore FILE [--yes]`` (:mod:`dadan.core.backup`). A PostgreSQL database uses its own
tools (pg_dump / pg_restore)."""

from __future__ import annotations


def register(sub) -> None:
    b = sub.add_parser("backup", help="a consistent copy of the database while desks keep working (备份)",
                       description="Copy the database with SQLite's online backup while desks keep working. "
                                   "Default file: [backup] folder (or backups/ in the data folder), "
                                   "dadan-YYYYmmdd-HHMMSS.db. PostgreSQL uses pg_dump instead.")
    b.add_argument("file", nargs="?", metavar="FILE", help="where to write the copy (a file or a folder)")
    b.add_argument("--verify", metavar="BACKUP", help="check a backup file: integrity, schema version, row counts")
    b.add_argument("--list", action="store_true", help="the backups in the backup folder")
    b.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="put a backup in place of the database (恢复)",
                       description="Replace the database with a backup file. Refused while another desk holds a "
                                   "lease (printing, syncing); the file is verified first; the replaced database "
                                   "is kept beside it as <db>.replaced-YYYYmmdd-HHMMSS. Restart the other desks "
                                   "afterwards. PostgreSQL uses pg_restore instead.")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    r.set_defaults(func=run_restore)


def run_backup(args, ctx) -> int:
    from dadan.core import backup as bk
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.visible import visible

    if args.verify and (args.file or args.list) or args.file and args.list:
        raise DadanError(tr("give one of FILE, --verify BACKUP or --list", "请只给出 FILE、--verify BACKUP 或 --list 之一"))
    if args.verify:
        report = bk.verify(args.verify)
        print(visible(report.summary()))
        problem = report.problem()
        if problem:
            raise bk.BackupError(problem)
        return 0
    if args.list:
        folder = bk.backup_folder(ctx.settings, ctx.paths)
        found = bk.list_backups(folder)
        if not found:
            print(tr("no backups in {p}", "{p} 中没有备份", p=folder))
        for b in found:
            orders = tr("unreadable", "无法读取") if b.orders is None else tr("{n:,} orders", "{n:,} 个订单", n=b.orders)
            print(f"{b.at:%Y-%m-%d %H:%M:%S}  {b.size / 1e6:>9.1f} MB  {orders:>16}  {visible(str(b.path))}")
        print(visible(bk.last_backup_text(ctx.settings, ctx.paths)))
        return 0
    result = bk.backup(args.file, settings=ctx.settings, paths=ctx.paths, actor=ctx.operator)
    bk.record_last(ctx.paths, result)
    print(visible(result.summary()))
    return 0


def run_restore(args, ctx) -> int:
    from dadan.core import backup as bk
    from dadan.core.i18n import tr
    from dadan.core.visible import visible
    from dadan.tui.commands.print import confirm

    db_file = bk.database_file(ctx.settings, ctx.paths)
    report = bk.verify(args.file)
    problem = report.problem()
    if problem:
        raise bk.BackupError(problem)
    print(visible(report.summary()))
    if not confirm(tr("replace the database {d} with {f}?", "用 {f} 替换数据库 {d}？", d=db_file, f=args.file), args.yes):
        print(tr("nothing restored", "未恢复"))
        return 1
    result = bk.restore(args.file, settings=ctx.settings, paths=ctx.paths, actor=ctx.operator, verified=report)
    print(visible(result.summary()))
    return 0
