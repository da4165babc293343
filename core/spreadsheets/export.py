"""Exports: filtered orders (JSON Lines, CSV, xlsx), the bulk-ship file for the merchant
backend, pick lists and daily reports.

Every export streams: the query is walked in id order, ``chunk`` orders at a time (keyset
pagination), with their items fetched per chunk, so 100k orders never sit in memory at once.
Text cells starting with ``= + - @`` (or tab/CR) are neutralised in CSV and xlsx so that a
buyer's note cannot run as a formula in Excel. In CSV, long digit strings (tracking numbers,
SKU ids) and codes with leading zeros are tab-prefixed as the merchant backend does, so Excel
keeps them as text instead of rounding them into scientific notation; in xlsx they are text
cells and money is a number cell (``0.00``) that sums. Files are written to a temporary name
and renamed when complete.

The bulk-ship file holds the orders dadan has marked shipped whose confirmation the platform
has not taken yet (awaiting shipment there, a tracking number and courier, no exception but a
failed confirmation). Pick lists count what is still to pack: orders awaiting shipment, not
yet shipped in dadan, with no exception. Orders of the filter that fall outside are left out
and counted (``ExportResult.left_out``).

JSON Lines (``kind="orders"``) has stable keys: shop, order_sn, order_status, refund_status,
after_sales_status, state, exceptions, tracking_number, logistics_id, print_count, province,
city, town, pay_amount_fen, last_ship_time, updated_at, items[...], waybills[...] (times ISO 8601
UTC with ``Z``; money in fen). ``tracking_number`` is the order's live or shipped waybill number;
``waybills`` lists its parcels with a number: ``{"code", "courier" (wp_code), "state"}``, state
``live``, ``printed``, ``cancelled`` or ``shipped``. CSV/xlsx orders exports use the merchant backend's Chinese headers, one
row per order line, so they can be imported again.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import stat
import sys
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr
from dadan.core.orders.couriers import CourierBook
from dadan.core.spreadsheets.writers import RowWriter, yuan
from dadan.core.timeutil import DEFAULT_TZ, to_local
from dadan.printers.private_files import make_private, make_private_dir, write_private_bytes

KINDS = ("orders", "ship", "picklist", "daily")
FORMATS = ("jsonl", "csv", "xlsx")
JSONL_KEYS = ("shop", "order_sn", "order_status", "refund_status", "after_sales_status", "state", "exceptions",
              "tracking_number", "logistics_id", "print_count", "province", "city", "town", "pay_amount_fen",
              "last_ship_time", "updated_at", "items", "waybills")
ITEM_KEYS = ("goods_id", "goods_name", "goods_spec", "goods_count", "sku_id", "outer_id", "outer_goods_id",
             "goods_price_fen")

Progress = Callable[[int], None]  # orders read so far


class ExportError(DadanError):
    TITLE = Bilingual("Export error", "导出错误")


def format_for(path: str | Path, fmt: str | None, formats: tuple[str, ...] = FORMATS) -> str:
    """The export's format: ``fmt``, else the file name's extension; one of ``formats`` (an
    export that writes fewer than all of them names only its own)."""
    if fmt:
        if fmt not in formats:
            raise ExportError(tr("unknown format '{f}' (use {all})", "未知格式“{f}”（可用：{all}）", f=fmt,
                                 all=", ".join(formats)))
        return fmt
    suffix = Path(str(path)).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if suffix in ("json", "ndjson"):
        return "jsonl"
    raise ExportError(tr("cannot tell the format from '{p}'; pass --format {all}",
                         "无法从“{p}”判断格式；请指定 --format {all}", p=path, all="|".join(formats)))



def default_export_name(kind: str, fmt: str, now: dt.datetime, tz: str = DEFAULT_TZ) -> str:
    """The file name an export gets unless the operator types one: ``KIND_YYYYMMDD-HHMM.EXT``,
    ``now`` (naive UTC) in local time, e.g. ``orders_20261120-1200.xlsx``."""
    return f"{kind}_{to_local(now, tz):%Y%m%d-%H%M}.{fmt}"


def default_export_path(folder: Path, kind: str, fmt: str, now: dt.datetime, tz: str = DEFAULT_TZ) -> Path:
    """The default file of an export in ``folder`` (the exports folder,
    :attr:`core.config.Paths.exports_dir`, ``exports/`` in the data folder)."""
    return folder / default_export_name(kind, fmt, now, tz)


def resolve_export_path(text: str, folder: Path) -> Path:
    """The file a typed name means: ``~`` expanded, a name without a folder (or any relative
    path) inside ``folder`` (the exports folder)."""
    path = Path(text.strip()).expanduser()
    return path if path.is_absolute() else folder / path


def make_export_folder(path: Path) -> None:
    """Create the folder of ``path`` if it is missing (raises :class:`ExportError` in words
    when it cannot be, or when its name is a file's)."""
    folder = path.parent
    try:
        make_private_dir(folder)
    except (FileExistsError, NotADirectoryError):  # the folder's name (or a parent's) is a file
        raise ExportError(tr("cannot write {p}: {d} is not a folder", "无法写入 {p}：{d} 不是文件夹", p=path,
                             d=folder)) from None
    except OSError as exc:
        raise ExportError(tr("cannot create the folder {d}: {e}", "无法创建文件夹 {d}：{e}", d=folder,
                             e=exc.strerror or exc)) from None


def _regular_target(path: Path) -> Path:
    """The file an export replaces: ``path``, or the file its symbolic link names; refused
    (:class:`ExportError`) when that exists and is not a regular file."""
    if path.is_symlink():
        path = path.resolve()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise ExportError(tr("cannot write {p}: {e}", "无法写入 {p}：{e}", p=path, e=exc.strerror or exc)) from None
    if not stat.S_ISREG(mode):
        raise ExportError(tr("cannot write {p}: it is not a regular file (a folder, device or pipe); name a file",
                             "无法写入 {p}：它不是普通文件（而是文件夹、设备或管道）；请指定文件名", p=path))
    return path


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` for the block to write, owner-only from the start
    (buyers' names, phones and addresses), renamed to ``path`` when the block completes, removed
    when it fails (an OS error as :class:`ExportError`), with the xlsx sheets' files that wait
    beside it (:func:`~dadan.core.spreadsheets.writers.sheet_scratch`); a killed export's are
    removed by the next export to the same file. A symbolic link is written through (the file
    it names is replaced, the link stays); a name that is not a file (a folder, a device such as
    /dev/null, a pipe) is refused, never replaced."""
    path = _regular_target(path)
    tmp = path.with_name(f".{path.name}.part")

    def leftovers() -> None:  # (a folder that cannot be written fails when the file is made)
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
            for p in tmp.parent.glob(glob.escape(tmp.name) + ".sheet*"):
                p.unlink(missing_ok=True)

    try:
        leftovers()
        write_private_bytes(tmp, b"")
        yield tmp
        make_private(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        leftovers()
        raise ExportError(tr("cannot write {p}: {e}", "无法写入 {p}：{e}", p=path, e=exc.strerror or exc)) from None
    except BaseException:
        leftovers()
        raise


def iter_orders(where=None, *, chunk: int = 1000,
                on_batch: Callable[[list[int]], None] | None = None) -> Iterator[tuple[object, list[dict]]]:
    """(order, items) for every order matching ``where``, in id order, ``chunk`` at a time
    (``on_batch`` is told each chunk's order ids before its orders come)."""
    from dadan.core.db import id_chunks
    from dadan.core.models import Order, OrderItem

    for batch in id_chunks(Order, where, chunk):
        items: dict[int, list[dict]] = {}
        for it in (OrderItem.select().where(OrderItem.order.in_([o.id for o in batch]))
                   .order_by(OrderItem.order, OrderItem.position).dicts()):
            items.setdefault(it["order"], []).append(it)
        if on_batch is not None:
            on_batch([o.id for o in batch])
        for o in batch:
            yield o, items.get(o.id, [])


def _iso(t: dt.datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def _local(t: dt.datetime | None, tz: str) -> str:
    lt = to_local(t, tz)
    return lt.strftime("%Y-%m-%d %H:%M:%S") if lt else ""


def _shop_names() -> dict[int, str]:
    from dadan.core.models import Shop

    return dict(Shop.select(Shop.id, Shop.name).tuples())


def waybills_json(order_ids: list[int]) -> dict[int, list[dict]]:
    """order id -> its parcels that hold or held a number: ``{"code", "courier" (wp_code),
    "state": "live" | "printed" | "cancelled" | "shipped"}``, oldest first."""
    from dadan.core.waybills.parcels import parcels_by_order

    return {oid: [{"code": w.code, "courier": w.wp_code, "state": w.state} for w in ws]
            for oid, ws in parcels_by_order(order_ids, ("live", "printed", "cancelled", "shipped")).items()}


def order_json(o, items: list[dict], shop_name: str, waybills: list[dict] | None = None) -> dict:
    from dadan.core.orders.rules import FLAG_KEYS, flags_of

    return {
        "shop": shop_name,
        "order_sn": o.order_sn,
        "order_status": o.order_status,
        "refund_status": o.refund_status,
        "after_sales_status": o.after_sales_status,
        "state": o.state,
        "exceptions": [FLAG_KEYS[f] for f in flags_of(o.exception_flags)],
        "tracking_number": o.tracking_number,
        "logistics_id": o.logistics_id,
        "print_count": o.print_count,
        "province": o.province,
        "city": o.city,
        "town": o.town,
        "pay_amount_fen": o.pay_amount_fen,
        "last_ship_time": _iso(o.last_ship_time),
        "updated_at": _iso(o.updated_at),
        "items": [{k: it.get(k) for k in ITEM_KEYS} for it in items],
        "waybills": waybills or [],
    }


@dataclass
class ExportResult:
    rows: int
    orders: int
    path: str
    left_out: int = 0  # orders of the filter a ship file or pick list leaves out (see the module doc)


def left_out_message(kind: str, n: int) -> str:
    if kind == "ship":
        return tr("{n:,} orders left out: not marked shipped, blocked, or already confirmed by the platform",
                  "{n:,} 个订单未列入：未标记发货、被拦截或平台已确认发货", n=n)
    return tr("{n:,} orders left out: blocked, shipped or not awaiting shipment",
              "{n:,} 个订单未列入：被拦截、已发货或不在待发货状态", n=n)


def eligible(kind: str):
    """The orders a bulk-ship file or pick list may hold (None: every order of the filter)."""
    from dadan.core.models import Order
    from dadan.core.orders.rules import Flag

    awaiting = Order.order_status == 1
    if kind == "ship":
        may_ship = Order.exception_flags.bin_and(~int(Flag.SHIP_FAILED)) == 0
        return (awaiting & (Order.state == "shipped") & (Order.tracking_number != "")
                & Order.logistics_id.is_null(False) & may_ship)
    if kind == "picklist":
        return awaiting & Order.state.in_(("new", "printed")) & (Order.exception_flags == 0)
    return None


def export(kind: str, fmt: str, out: str | Path, *, where=None, tz: str = DEFAULT_TZ, chunk: int = 1000,
           progress: Progress | None = None, stdout=None, source: Callable | None = None,
           actor: str = "") -> ExportResult:
    """Export ``kind`` (orders | ship | picklist | daily) of the orders matching ``where`` (a
    Peewee expression, e.g. from :func:`core.orders.query.compile_query`) to ``out`` ("-" = stdout for
    csv/jsonl). ``source`` reads the orders: the hot tables (:func:`iter_orders`, the default) or the
    archive (:func:`core.archive.lookup.iter_archived`, ``where`` a condition on the archive)."""
    from dadan.core.operators import require

    require(actor, "export", what=f"export {kind}")  # no actor: refused once operators exist
    source = source or iter_orders
    if kind not in KINDS:
        raise ExportError(tr("unknown export '{k}' (use {all})", "未知导出类型“{k}”（可用：{all}）", k=kind,
                             all=", ".join(KINDS)))
    if fmt not in FORMATS:
        raise ExportError(tr("unknown format '{f}' (use {all})", "未知格式“{f}”（可用：{all}）", f=fmt,
                             all=", ".join(FORMATS)))
    to_stdout = str(out) == "-"
    if to_stdout and fmt == "xlsx":
        raise ExportError(tr("xlsx cannot be written to standard output; use --out FILE.xlsx",
                             "xlsx 不能输出到标准输出；请使用 --out 文件.xlsx"))
    left_out = 0
    cond = eligible(kind)
    if cond is not None:
        from dadan.core.models import Order

        every = Order.select()
        if where is not None:
            every = every.where(where)
        where = cond if where is None else (where & cond)
        left_out = every.count() - Order.select().where(where).count()

    if to_stdout:
        fh = stdout or sys.stdout
        res = _run(kind, fmt, fh, where, tz, chunk, progress, "-", source)
        res.left_out = left_out
        return res
    path = Path(out)
    if path.parent and not path.parent.exists():
        raise ExportError(tr("the folder {d} does not exist", "文件夹 {d} 不存在", d=path.parent))
    with written_whole(path) as tmp:
        if fmt == "xlsx":
            res = _run(kind, fmt, tmp, where, tz, chunk, progress, str(path), source)
        else:
            enc = "utf-8-sig" if fmt == "csv" else "utf-8"
            with open(tmp, "w", encoding=enc, newline="") as fh:
                res = _run(kind, fmt, fh, where, tz, chunk, progress, str(path), source)
    res.left_out = left_out
    return res


ORDER_COLUMNS = ["店铺", "订单号", "订单状态", "售后状态", "本地状态", "异常", "商品", "商品规格", "商品数量(件)",
                 "商家编码-规格维度", "商家编码-商品维度", "商品id", "样式ID", "商品总价(元)", "邮费(元)", "用户实付金额(元)",
                 "省", "市", "区", "快递公司", "快递单号", "打印次数", "支付时间", "承诺发货时间", "商家备注", "买家留言"]
_STATUS_TEXT = {1: "待发货", 2: "已发货，待收货", 3: "已签收"}
_REFUND_TEXT = {1: "无售后或售后取消", 2: "售后处理中", 3: "退款中", 4: "退款成功"}


def _run(kind, fmt, fh, where, tz, chunk, progress, path_text, source) -> ExportResult:
    """Write the export's rows to ``fh`` (xlsx: the path of the file to write); an xlsx that
    fails on the way is discarded (:meth:`RowWriter.discard`)."""
    made: list[RowWriter] = []
    try:
        return _write_rows(kind, fmt, fh, where, tz, chunk, progress, path_text, source, made)
    finally:
        for w in made:
            w.discard()


def _write_rows(kind, fmt, fh, where, tz, chunk, progress, path_text, source, made: list) -> ExportResult:
    from dadan.core.orders.rules import flags_text, state_label

    shops = _shop_names()
    rows = orders = 0
    if kind == "orders":
        cols = list(JSONL_KEYS) if fmt == "jsonl" else ORDER_COLUMNS
        made.append(w := RowWriter(fmt, fh, cols))
        couriers = CourierBook.from_database()
        parcels: dict[int, list[dict]] = {}

        def load_parcels(ids: list[int]) -> None:
            parcels.clear()
            if fmt == "jsonl":
                parcels.update(waybills_json(ids))

        for o, items in source(where, chunk=chunk, on_batch=load_parcels):
            orders += 1
            if progress and orders % chunk == 0:
                progress(orders)
            if fmt == "jsonl":
                w.row([], order_json(o, items, shops.get(o.shop_id, ""), parcels.get(o.id)))
                rows += 1
                continue
            base = [shops.get(o.shop_id, ""), o.order_sn, _STATUS_TEXT.get(o.order_status, "已取消"),
                    _REFUND_TEXT.get(o.refund_status, str(o.refund_status)), state_label(o.state),
                    flags_text(o.exception_flags)]
            tail = [yuan(o.goods_amount_fen), yuan(o.postage_fen), yuan(o.pay_amount_fen),
                    o.province, o.city, o.town,
                    couriers.official_name(o.logistics_id or None),
                    o.tracking_number, o.print_count, _local(o.pay_time, tz), _local(o.last_ship_time, tz),
                    o.remark, o.buyer_memo]
            for it in items or [{}]:
                w.row(base + [it.get("goods_name", ""), it.get("goods_spec", ""), it.get("goods_count", ""),
                              it.get("outer_id", ""), it.get("outer_goods_id", ""), it.get("goods_id", ""),
                              it.get("sku_id", "")] + tail)
                rows += 1
    elif kind == "ship":
        made.append(w := RowWriter(fmt, fh, ["订单号", "快递公司", "快递单号"]))
        couriers = CourierBook.from_database()
        for o, _items in source(where, chunk=chunk):
            orders += 1
            w.row([o.order_sn, couriers.official_name(o.logistics_id), o.tracking_number])
            rows += 1
    elif kind == "picklist":
        agg: dict[tuple, list] = {}
        for o, items in source(where, chunk=chunk):
            orders += 1
            for it in items:
                key = (it.get("outer_id") or it.get("sku_id") or it.get("goods_id") or "", it.get("goods_name", ""),
                       it.get("goods_spec", ""))
                a = agg.setdefault(key, [0, set()])
                a[0] += int(it.get("goods_count") or 0)
                a[1].add(o.id)
        made.append(w := RowWriter(fmt, fh, ["商家编码", "商品", "商品规格", "数量", "订单数"] if fmt != "jsonl"
                                   else ["outer_id", "goods_name", "goods_spec", "quantity", "orders"]))
        for key in sorted(agg, key=lambda k: (k[0].lower(), k[1], k[2])):
            w.row([key[0], key[1], key[2], agg[key][0], len(agg[key][1])])
            rows += 1
    else:  # daily
        days: dict[str, list[int]] = {}
        for o, _items in source(where, chunk=chunk):
            orders += 1
            lt = to_local(o.pay_time or o.created_time, tz)
            day = lt.strftime("%Y-%m-%d") if lt else ""
            d = days.setdefault(day, [0, 0, 0, 0, 0, 0])
            d[0] += 1
            d[1] += o.item_count
            d[2] += o.pay_amount_fen
            d[3] += 1 if o.print_count else 0
            d[4] += 1 if o.state in ("shipped", "confirmed") else 0
            d[5] += 1 if o.exception_flags else 0
        if fmt == "jsonl":
            cols = ["date", "orders", "items", "pay_amount_fen", "printed", "shipped", "exceptions"]
            made.append(w := RowWriter(fmt, fh, cols))
        else:
            made.append(w := RowWriter(fmt, fh, ["日期", "订单数", "件数", "实付金额(元)", "已打印", "已发货", "异常"]))
        for day in sorted(days):
            d = days[day]
            money = d[2] if fmt == "jsonl" else yuan(d[2])
            w.row([day, d[0], d[1], money, d[3], d[4], d[5]])
            rows += 1
    if fmt == "xlsx":
        w.save_xlsx()
    if progress:
        progress(orders)
    return ExportResult(rows=rows, orders=orders, path=path_text)

