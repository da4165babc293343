"""``dadan sync`` (one pass, a summary, non-zero exit on failure) and ``dadan shops``
(add / list / check credentials)."""

from __future__ import annotations

import os
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("sync", help="sync orders from the platform once (all shops or one)",
                              description="One incremental sync pass; exits non-zero if a shop failed.")
    p.add_argument("--shop", metavar="NAME", help="only this shop")
    p.add_argument("--outbox", action="store_true",
                   help="also send pending ship confirmations and the managed SKUs' stock")
    p.set_defaults(func=run)

    s = subparsers.add_parser("shops", help="add, list, check and remove shops' credentials",
                              description="Manage Pinduoduo shops and their credentials.")
    ssub = s.add_subparsers(dest="shops_command", metavar="ACTION")
    a = ssub.add_parser("add", help="add a shop (or update its credentials)",
                        description="Secrets are read from DADAN_CLIENT_SECRET, DADAN_ACCESS_TOKEN and "
                                    "DADAN_REFRESH_TOKEN if set, else asked for (never from the command line).")
    a.add_argument("name")
    a.add_argument("--client-id", required=True)
    a.add_argument("--gateway-url", default=None, help="default: the platform's gateway")
    a.set_defaults(func=run_shops, shops_command="add")
    ls = ssub.add_parser("list", help="list shops and their sync state")
    ls.set_defaults(func=run_shops, shops_command="list")
    c = ssub.add_parser("check", help="try each shop's credentials with the platform")
    c.add_argument("name", nargs="?")
    c.set_defaults(func=run_shops, shops_command="check")
    r = ssub.add_parser("remove", help="remove a shop's credentials (its orders stay)",
                        description="The shop is no longer synced and takes no waybill numbers; its orders, "
                                    "their history and its waybill accounts stay. `dadan shops add` gives it "
                                    "credentials again.")
    r.add_argument("name")
    r.set_defaults(func=run_shops, shops_command="remove")
    s.set_defaults(func=run_shops, shops_command="list")


def run(args, ctx) -> int:
    """Exit 0 when every shop synced; a shop without credentials is only a note, unless it was
    named with ``--shop`` or no shop has credentials at all (then the reason, exit 1)."""
    from dadan.core.i18n import tr
    from dadan.core.platform.shops import ClientFactory, why_nothing_syncs
    from dadan.core.platform.sync import sync_shops

    ctx.open_db()
    if not args.shop:
        reason = why_nothing_syncs(ctx.paths)
        if reason:
            print(reason, file=sys.stderr)
            return 1
    factory = ClientFactory(paths=ctx.paths, settings=ctx.settings)
    reports = sync_shops(factory, ctx.settings.sync, shop_name=args.shop)
    failed = 0
    for r in reports:
        print(r.summary())
        if r.no_credentials and not args.shop:
            continue  # a shop for imports only: nothing to sync
        if not r.ok:
            failed += 1
            if r.reauthorize:
                print(tr("  -> re-authorise shop '{s}' and add its new token with `dadan shops add`",
                         "  -> 请重新授权店铺“{s}”，并用 `dadan shops add` 填入新令牌", s=r.shop), file=sys.stderr)
    if args.outbox:
        from dadan.core.shipping.outbox import outbox_counts, process_outbox

        rep = process_outbox(factory)
        counts = outbox_counts()
        print(tr("ship confirmations: {c} confirmed, {r} to retry, {f} failed now; {p} pending, {x} failed in all",
                 "发货回传：本次成功 {c}，待重试 {r}，失败 {f}；共待回传 {p}，失败 {x}",
                 c=rep.confirmed, r=rep.retried, f=rep.failed, p=counts["pending"], x=counts["failed"]))
        from dadan.core.goods.push_sender import process_pushes, push_counts

        pushed = process_pushes(factory)
        counts = push_counts()
        print(tr("stock to the platform: {d} done, {f} failed now; {p} pending, {x} failed in all",
                 "库存同步到平台：本次成功 {d}，失败 {f}；共待同步 {p}，失败 {x}",
                 d=pushed.done, f=pushed.failed, p=counts["pending"], x=counts["failed"]))
        from dadan.core.waybills.merge import recycle_marked

        recycled = recycle_marked(factory, actor=ctx.operator)
        if recycled is not None:
            print(tr("numbers of parcels orders left: {c} recycled, {f} failed",
                     "订单离开的包裹单号：回收 {c} 个，失败 {f} 个", c=len(recycled.cancelled), f=len(recycled.failed)))
    return 1 if failed else 0


def _secret(env: str, prompt: str, required: bool) -> str:
    v = os.environ.get(env)
    if v is not None:
        return v.strip()
    if not sys.stdin.isatty():
        return ""
    import getpass

    v = getpass.getpass(prompt).strip()
    return v


def run_shops(args, ctx) -> int:
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.platform.pdd import DEFAULT_GATEWAY
    from dadan.core.platform.shops import (
        ClientFactory,
        add_shop,
        auth_words,
        check_shop,
        checked_client_id,
        list_shops,
        remove_credentials,
        resolve_shop,
    )
    from dadan.core.timeutil import fmt_local

    ctx.open_db()
    cmd = args.shops_command
    if cmd == "add":
        checked_client_id(args.client_id)  # (before the secrets are asked for)
        secret = _secret("DADAN_CLIENT_SECRET", "client_secret: ", True)
        token = _secret("DADAN_ACCESS_TOKEN", "access_token: ", True)
        refresh = _secret("DADAN_REFRESH_TOKEN", tr("refresh_token (optional): ", "refresh_token（可选）："), False)
        if not secret or not token:
            raise DadanError(tr("client secret and access token are required (set DADAN_CLIENT_SECRET and "
                                "DADAN_ACCESS_TOKEN, or run in a terminal to be asked)",
                                "需要 client_secret 和 access_token（设置 DADAN_CLIENT_SECRET 和 "
                                "DADAN_ACCESS_TOKEN，或在终端中运行以输入）"))
        shop = add_shop(args.name, client_id=args.client_id, client_secret=secret, access_token=token,
                        refresh_token=refresh, gateway_url=args.gateway_url or DEFAULT_GATEWAY, paths=ctx.paths,
                        actor=ctx.operator)
        print(tr("shop '{s}' saved; credentials in {f} (0600)", "店铺“{s}”已保存；凭证存于 {f}（0600）",
                 s=shop.name, f=ctx.paths.credentials_file))
        return 0
    if cmd == "remove":
        shop = remove_credentials(args.name, paths=ctx.paths, actor=ctx.operator)
        print(tr("shop '{s}': credentials removed from {f}; it is no longer synced (its orders stay)",
                 "店铺“{s}”：已从 {f} 删除凭证；不再同步（订单保留）", s=shop.name, f=ctx.paths.credentials_file))
        return 0
    if cmd == "check":
        factory = ClientFactory(paths=ctx.paths, settings=ctx.settings)
        shops = [resolve_shop(args.name)] if args.name else list_shops()
        bad = 0
        for shop in shops:
            ok, msg = check_shop(shop, factory)
            bad += not ok
            print(f"{shop.name}: {'OK' if ok else tr('FAILED', '失败')} — {msg}")
        if not shops:
            print(tr("no shops configured", "尚未配置店铺"))
        return 1 if bad else 0
    shops = list_shops()
    if not shops:
        print(tr("no shops configured: add one with `dadan shops add NAME --client-id ID`",
                 "尚未配置店铺：请用 `dadan shops add 名称 --client-id ID` 添加"))
        return 0
    tz = ctx.settings.timezone
    for shop in shops:
        last = fmt_local(shop.last_sync_at, tz, "%Y-%m-%d %H:%M") or tr("never", "从未")
        result = "" if shop.last_sync_ok is None else (tr("ok", "成功") if shop.last_sync_ok
                                                         else tr("failed: ", "失败：") + shop.last_sync_error)
        cursor = fmt_local(shop.sync_cursor, tz, "%Y-%m-%d %H:%M") or "-"
        print(f"{shop.name}\t{auth_words(shop.auth_state)}\t"
              f"{tr('last sync', '上次同步')} {last} {result}\t{tr('up to', '同步至')} {cursor}\t{shop.gateway_url}")
    return 0


def run_demo_platform_cli(args, ctx) -> int:
    """``dadan demo --platform``: a loopback platform with a demo shop, synced by the scheduler
    as in the app; each run's summary is printed until Ctrl-C. (The TUI does the same with
    ``core.platform.loopback.demo.run_demo_platform(ctx)`` before it starts the scheduler.)"""
    import threading

    from dadan.core.i18n import tr
    from dadan.core.platform import scheduler
    from dadan.core.platform.loopback.demo import run_demo_platform

    orders = getattr(args, "orders", 400) or 400
    demo = run_demo_platform(ctx, orders=min(orders, 5000), seed=getattr(args, "seed", None), change_every=15)
    print(tr("demo platform on {u} (shop '{s}', {n} orders); syncing every {m} min — Ctrl-C to stop",
             "演示平台：{u}（店铺“{s}”，{n} 单）；每 {m} 分钟同步 —— Ctrl-C 退出",
             u=demo.server.url, s=demo.shop_name, n=len(demo.mall.orders), m=ctx.settings.sync.interval_minutes))
    if sys.stdin.isatty() and sys.stdout.isatty() and "DADAN_DEMO_SECONDS" not in os.environ:
        # the app itself, its background scheduler syncing from the loopback platform
        from dadan.tui.app import DadanApp

        try:
            DadanApp(ctx, background=True).run()
        finally:
            demo.stop()
        return 0
    done = threading.Event()

    def on_event(kind, payload):
        if kind == "sync":
            print(payload.summary(), flush=True)
        elif kind == "outbox":
            print(tr("ship confirmations: {c} confirmed, {f} failed", "发货回传：成功 {c}，失败 {f}",
                     c=payload.confirmed, f=payload.failed), flush=True)
        elif kind == "stock_push":
            print(payload.summary(), flush=True)
        else:
            print(payload, file=sys.stderr, flush=True)

    sched = scheduler.start(ctx, on_event=on_event)
    try:
        done.wait(float(os.environ.get("DADAN_DEMO_SECONDS", "1e9")))
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        demo.stop()
    _ = sched
    return 0
