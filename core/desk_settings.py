"""Settings changes made from the TUI (saved, validated, audited) and printer test prints."""

from __future__ import annotations

import copy
import dataclasses
from typing import Callable

from dadan.core import audit
from dadan.core.config import PrinterSettings, Settings, load_settings, save_settings, settings_diff
from dadan.core.db import write
from dadan.core.i18n import detect_language, set_language
from dadan.core.operators import require


def change_settings(ctx, mutate: Callable[[Settings], None], *, actor: str) -> dict[str, tuple]:
    """Apply ``mutate`` to a copy of the settings, save them (validated: a file that could not be
    read back is never written) and record one ``settings`` audit event per changed key (a
    value that is the same as before is no change, and a desk without a printer configured is
    using the default printer).
    Returns the changes {key: (old, new)}; the context's settings object then holds the new
    values (changed in place, so whoever holds it, e.g. a printer's worker, sees them)."""
    new = copy.deepcopy(ctx.settings)
    mutate(new)
    diff = settings_diff(_as_used(ctx.settings), _as_used(new))
    if not diff:
        return {}
    if set(diff) - {"language"}:  # the language is each operator's own
        require(actor, "settings", what=", ".join(diff))
    # the changes go into the file as it is now, not this desk's copy of it from its start: a
    # section added by hand (or by another desk) since then stays (this desk sees it when it
    # starts again, as before)
    save_settings(_merged(load_settings(ctx.paths), _as_used(new), diff), ctx.paths)
    with write():
        for key, (old, value) in diff.items():
            if "secret" in key or "token" in key:
                old, value = "***", "***"
            audit.record("settings", actor=actor, target=key, detail={"from": old, "to": value})
    for f in dataclasses.fields(new):  # in place: printer workers built on ctx.settings see the change
        setattr(ctx.settings, f.name, getattr(new, f.name))
    if "language" in diff:
        set_language(detect_language(new.language))
    return diff


def _merged(on_disk: Settings, wanted: Settings, diff: dict[str, tuple]) -> Settings:
    """``on_disk`` with the changed keys of ``diff`` (dotted: ``sync.interval_minutes``,
    ``printers.0.offset_y_mm``) set as in ``wanted``; a printer the file lacks comes whole from
    ``wanted`` (a desk without printers configured writes out its default one)."""
    out = copy.deepcopy(on_disk)
    for key in diff:
        parts = key.split(".")
        if parts[0] == "printers":
            i = int(parts[1])
            while len(out.printers) <= i:
                src = wanted.printers[len(out.printers)] if len(wanted.printers) > len(out.printers) else PrinterSettings()
                out.printers.append(copy.deepcopy(src))
            setattr(out.printers[i], parts[2], getattr(wanted.printers[i], parts[2]))
            continue
        target, source = out, wanted
        for name in parts[:-1]:
            target, source = getattr(target, name), getattr(source, name)
        setattr(target, parts[-1], getattr(source, parts[-1]))
    return out


def _as_used(settings: Settings) -> Settings:
    """``settings`` as the desk uses them, for comparing: no printer configured is the default
    printer, so writing it out to change one of its offsets is that one change (not every
    field of a printer that was not there before)."""
    if settings.printers:
        return settings
    used = copy.copy(settings)
    used.printers = [PrinterSettings()]
    return used


def send_test_print(ctx, printer: str | None = None, *, calibration: bool = False) -> str:
    """Send a test label (or the calibration grid) to a printer; returns where it went."""
    from dadan.core.printing.worker import profile_for
    from dadan.printers.device import PrinterSession

    prof = profile_for(ctx, printer)
    if calibration:
        from dadan.printers.calibration import calibration_image

        img, name = calibration_image(prof), "calibration"
    else:
        from dadan.printers.layout import load_template
        from dadan.printers.raster import render_label

        fields = fields_for_test_print(load_template(prof.template).kind, ctx.settings)
        img = render_label(prof.template, fields, dpi=prof.dpi, offset_x_mm=prof.offset_x_mm,
                           offset_y_mm=prof.offset_y_mm, font_path=ctx.settings.fonts.cjk or None)
        name = "test"
    session = PrinterSession(prof)
    with session:
        session.send(session.encode(img), name=name)
    return str(session.preview_files[0]) if session.preview_files else prof.uri or prof.name


def fields_for_test_print(kind: str, settings: Settings) -> dict:
    """A test label's fields: a made-up value for every field of the template's kind (so every
    element prints), with the configured sender when there is one."""
    from dadan.printers.fields import sample_values

    fields = sample_values(kind)
    sender = settings.sender
    if sender.name or sender.phone or sender.address:
        fields.update(sender_name=sender.name, sender_phone=sender.phone, sender_address=sender.address)
    return fields


def sample_fields(order_id: int | None = None, *, tz: str = "Asia/Shanghai", sender=None, now=None) -> dict:
    """Label fields for a preview: an order's (masked receiver), else a made-up sample."""
    from dadan.core.models import Order
    from dadan.core.printing.labels import order_label_fields

    o = Order.get_or_none(Order.id == order_id) if order_id else Order.select().order_by(Order.id).first()
    if o is None:
        from dadan.printers.fields import sample_values

        fields = {**sample_values("waybill"), "receiver_name": "张*", "receiver_phone": "138****0000",
                  "receiver_address": "浙江省杭州市西湖区****"}
        if sender is not None and sender.name:
            fields.update(sender_name=sender.name, sender_phone=sender.phone, sender_address=sender.address)
        return fields
    masked = {"name": o.receiver_name_mask, "phone": o.receiver_phone_mask, "address": o.address_mask}
    from dadan.core.printing.labels import wave_label

    return {**order_label_fields(o, receiver=masked, sender=sender, tz=tz, now=now),
            "wave_label": wave_label(1, 1, 1)}  # where a print job's wave mark goes
