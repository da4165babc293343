"""A desk that keeps writing to the database in DADAN_HOME until the stop file appears, through the
real ``dadan`` commands (for the backup-under-load test): ``sync`` runs ``dadan sync`` passes
against the loopback platform, ``print`` prints two labels at a time on the preview printer with
``dadan print``, ``import`` imports new orders and then their tracking numbers with
``dadan import`` (the tracking numbers queue ship confirmations: the outbox)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

from dadan.tui import cli


def _run(argv: list[str]) -> int:
    from dadan.core.db import close_database

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    close_database()
    if "Traceback" in err.getvalue():
        print(err.getvalue(), file=sys.stderr, flush=True)
    return rc


def _print_loop(home: Path, template: str, i: int) -> None:
    from dadan.core.db import close_database, open_database
    from dadan.core.models import Order

    open_database(f"sqlite:///{home / 'dadan.db'}", migrate_schema=False)
    sns = [o.order_sn for o in Order.select(Order.order_sn).where(
        Order.order_sn.startswith("240601-") & (Order.print_count == 0)).order_by(Order.id).limit(2)]
    close_database()
    if sns:
        _run(["print", *sns, "--template", template, "--yes"])


def _import_once(home: Path, i: int) -> None:
    folder = home / "imports"
    folder.mkdir(exist_ok=True)
    sns = [f"261205-{i:06d}{k:09d}" for k in range(3)]
    orders = folder / f"orders-{i}.csv"
    orders.write_text("订单号,订单状态,商品,商品数量(件),用户实付金额(元),商家编码-规格维度,商品规格,支付时间\n" + "".join(
        f"\t{sn},待发货,保温杯,1,29.90,C21,星空蓝,2026-12-05 10:00:00\n" for sn in sns), encoding="utf-8-sig")
    _run(["import", str(orders), "--shop", "主店", "--create-shop"])
    tracking = folder / f"tracking-{i}.csv"
    tracking.write_text("订单号,快递单号,快递公司\n" + "".join(
        f"\t{sn},YT{i * 10 + k:013d},圆通\n" for k, sn in enumerate(sns)), encoding="utf-8-sig")
    _run(["import", str(tracking), "--shop", "主店"])


def main(mode: str, stop: str, template: str = "") -> None:
    home = Path(os.environ["DADAN_HOME"])
    print("ready", flush=True)
    i = 0
    while not Path(stop).exists():
        i += 1
        if mode == "sync":
            _run(["sync"])
            time.sleep(0.05)
        elif mode == "print":
            _print_loop(home, template, i)
        else:
            _import_once(home, i)
    print(f"passes {i}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
