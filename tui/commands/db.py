"""``dadan db copy --to postgresql://... [--from FILE]``: move a desk's SQLite database into an
empty PostgreSQL database with its whole history, verified table by table
(:mod:`dadan.core.db_copy`)."""

from __future__ import annotations


def register(sub) -> None:
    d = sub.add_parser("db", help="the database itself: copy it into PostgreSQL (数据库)",
                       description="Database administration.")
    acts = d.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    c = acts.add_parser("copy", help="copy the SQLite database into an empty PostgreSQL database (复制到 PostgreSQL)",
                        description="Copy every table of the desk's SQLite database (or --from FILE) into an EMPTY "
                                    "PostgreSQL database, in one transaction, and verify each table's row count "
                                    "and checksum. The source is read as one snapshot: desks may keep working, but "
                                    "what they write after the copy starts is not in it -- stop them before the "
                                    "copy you switch over with. Needs the settings permission in the source database.")
    c.add_argument("--to", required=True, metavar="URL", help="postgresql://USER@HOST[:PORT]/DB (an empty database; "
                                                              "the password from PGPASSFILE or the data folder's pgpass)")
    c.add_argument("--from", dest="source", metavar="FILE", help="a SQLite database file (default: the desk's own)")
    c.set_defaults(func=run_copy)


def run_copy(args, ctx) -> int:
    from pathlib import Path

    from dadan.core import db_copy
    from dadan.core.i18n import tr
    from dadan.core.postgres import is_postgres_url
    from dadan.core.visible import visible

    if args.source:
        path = Path(args.source).expanduser().resolve()
        if not path.is_file():
            raise db_copy.CopyError(tr("there is no database file at {p}", "{p} 处没有数据库文件", p=path))
        source = f"sqlite:///{path}"
    else:
        source = ctx.database_url
        if is_postgres_url(source):
            raise db_copy.CopyError(tr("this desk's database is PostgreSQL already; give the SQLite file with --from FILE",
                                       "本终端的数据库已是 PostgreSQL；请用 --from FILE 指定 SQLite 文件"))
        if not ctx.paths.database_file.exists() and not ctx.settings.database_url:
            raise db_copy.CopyError(tr("there is no database file at {p}", "{p} 处没有数据库文件",
                                       p=ctx.paths.database_file))
    actor = ctx.operator  # its permission is checked in the source database (whose history moves)
    print(tr("copying {s} into {t} ...", "正在将 {s} 复制到 {t} ...", s=visible(source), t=visible(args.to)), flush=True)

    def progress(t) -> None:
        print(tr("  {name:<18} {n:>10,} rows  {s:6.2f} s  {r:>9,.0f} rows/s",
                 "  {name:<18} {n:>10,} 行  {s:6.2f} 秒  {r:>9,.0f} 行/秒",
                 name=t.name, n=t.rows, s=t.seconds, r=t.rate), flush=True)

    report = db_copy.copy_database(args.to, source_url=source, actor=actor, data_dir=ctx.paths.data_dir,
                                   progress=progress)
    print(tr("verified ({s:.1f} s):", "核对完成（{s:.1f} 秒）：", s=report.verify_seconds))
    for line in report.lines():
        print("  " + line)
    if report.skipped:
        print(tr("not copied (SQLite's own, PostgreSQL has its own means): {t}",
                 "未复制（SQLite 专用，PostgreSQL 另有实现）：{t}", t=", ".join(report.skipped)))
    print(tr("{n:,} rows copied in {s:.1f} s; counts and checksums equal", "已复制 {n:,} 行，用时 {s:.1f} 秒；行数与校验和一致",
             n=report.rows, s=report.seconds))
    print(tr("next: set  database_url = \"{u}\"  in {f} on every desk, then restart the desks",
             "下一步：在每台终端的 {f} 中设置  database_url = \"{u}\"，然后重启各终端",
             u=visible(args.to), f=ctx.paths.config_file))
    return 0
