"""Settings (TOML, validated strictly) and where dadan's files live.

``DADAN_HOME`` (if set) holds everything: ``config.toml``, ``credentials.toml``, the database,
``spool/``, ``preview/`` and ``logs/``. Otherwise config and credentials go to platformdirs'
user config dir and the rest to its user data dir.

Every section is a dataclass; loading checks each key against the dataclass fields, so a typo
gives "unknown setting 'sync.intervl_minutes'" instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import typing
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from dadan.core.errors import ConfigError
from dadan.printers.private_files import make_private_dir

APP_NAME = "dadan"


# --------------------------------------------------------------------------- paths
@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.toml"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "dadan.db"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def preview_dir(self) -> Path:
        return self.data_dir / "preview"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    def ensure(self) -> "Paths":
        """Create the folders; the data folder and its folders are owner-only (0700): they hold
        buyers' names, phones and addresses (``exports/`` is made so by the first export)."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for d in (self.data_dir, self.spool_dir, self.preview_dir, self.log_dir):
            make_private_dir(d, tighten=True)
        return self


def get_paths(environ: typing.Mapping[str, str] | None = None) -> Paths:
    env = os.environ if environ is None else environ
    home = env.get("DADAN_HOME")
    if home:
        p = Path(home).expanduser().resolve()
        return Paths(config_dir=p, data_dir=p)
    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
    )


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    os.chmod(path, 0o600)


# --------------------------------------------------------------------------- settings
@dataclass
class UISettings:
    page_size: int = 50
    due_soon_hours: int = 4
    animations: bool = False
    mask_buyer: bool = True
    scan_bell: bool = True
    # a barcode scanner on the order screen: characters at most this far apart, at least this many
    scan_gap_ms: int = 50
    scan_min_length: int = 6
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys, e.g. {"print": "f5"}


@dataclass
class SyncSettings:
    enabled: bool = True
    interval_minutes: int = 10
    backfill_days: int = 3
    safety_margin_minutes: int = 3
    overlap_minutes: int = 5
    window_minutes: int = 30
    detail_concurrency: int = 4
    timeout_seconds: float = 15.0
    outbox_interval_seconds: int = 60
    lease_seconds: int = 300  # how long one terminal's hold on a shop's sync lasts without renewal


@dataclass
class PrinterSettings:
    name: str = "preview"
    driver: str = "preview"  # tspl | escpos | preview
    uri: str = ""  # usb://VID:PID, /dev/usb/lp0, tcp://host:9100, cups://QUEUE, file:///path; preview: a folder
    dpi: int = 203
    width_mm: float = 100.0
    height_mm: float = 150.0
    gap_mm: float = 2.0
    bline_mm: float = 0.0
    offset_x_mm: float = 0.0
    offset_y_mm: float = 0.0
    density: int = 8
    speed: int = 4
    template: str = "waybill_100x150"
    timeout_seconds: float = 10.0


@dataclass
class SenderSettings:
    """The sender (寄件人) printed on waybills: ``[sender]`` in config.toml, or the Settings
    screen. Checked by :func:`check_sender`."""

    name: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class WaybillSettings:
    """E-waybills (电子面单): when a printed parcel's shipment is confirmed to the platform
    (``scan`` at the packing desk, on ``print``, or by hand with ``dadan ship``), and how many
    parcels' numbers are taken ahead of the printer."""

    confirm_on: str = "scan"  # scan | print | manual
    take_ahead: int = 30


@dataclass
class PackingSettings:
    """The packing bench: whether a waybill job merges one buyer's orders into one parcel
    (``merge``: ``auto``, ``ask`` in the print dialog, or ``never``); whether a new print job's
    labels come in the walk order of their wave (``waves``: bins in turn, single-SKU parcels
    together) or in the order of the screen; the printer a wave's pick
    list prints on first (``pick_list_printer``, an 80 mm printer's name; "" prints none); what a
    parcel found complete at the pack check does next (``on_packed``: ``nothing``, it is packed;
    ``ship``, its shipment is confirmed with its waybill number at once; ``print``, its waybill
    label prints now, for benches that scan first and print after), whether closing a courier's
    handover confirms every parcel of it shipped with its number (``confirm_on_handover``), and
    the printer its list (交接单) prints on (``handover_printer``; "" writes the file only)."""

    merge: str = "ask"  # auto | ask | never
    waves: bool = True  # a new print job's labels in pick-walk order (波次), not the screen's order
    pick_list_printer: str = ""
    handover_printer: str = ""  # a printer name: a closed handover's list (交接单) prints there too
    on_packed: str = "nothing"  # nothing | ship | print
    confirm_on_handover: bool = False

    @property
    def merges(self) -> bool:
        """Whether a new waybill job merges by default (``auto``, or ``ask``: proposed, may be declined)."""
        return self.merge != "never"


@dataclass
class RetentionSettings:
    """How long shipped orders stay in the hot tables: ``dadan archive`` moves those shipped
    more than ``archive_after_days`` ago into the archive (core.archive), unless told
    ``--older-than``."""

    archive_after_days: int = 180


@dataclass
class BackupSettings:
    """Backups (core.backup): a consistent copy of the database every day at ``daily_at`` (the
    warehouse's local time) while ``daily`` is on, into ``folder`` (default: ``backups`` in the
    data folder), keeping those of the last ``keep_days`` days."""

    daily: bool = True
    daily_at: str = "02:30"  # HH:MM, local time
    folder: str = ""
    keep_days: int = 14


@dataclass
class OperatorSettings:
    """Operators (core.operators): a desk signs its operator out after ``idle_sign_out_minutes``
    without a key (0: never); ``pin_attempts`` wrong PINs in a row lock that operator for
    ``lockout_seconds``."""

    idle_sign_out_minutes: int = 0
    pin_attempts: int = 5
    lockout_seconds: int = 60


@dataclass
class FontSettings:
    cjk: str = ""  # path to a CJK-capable TTF/TTC/OTF; empty: fontconfig, then well-known paths
    cjk_bold: str = ""


@dataclass
class Settings:
    language: str = "auto"  # auto | zh | en
    timezone: str = "Asia/Shanghai"
    operator: str = ""  # name written to audit events; default: the OS user
    database_url: str = ""  # default: sqlite file in the data dir
    default_printer: str = ""
    ui: UISettings = field(default_factory=UISettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    sender: SenderSettings = field(default_factory=SenderSettings)
    waybills: WaybillSettings = field(default_factory=WaybillSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    operators: OperatorSettings = field(default_factory=OperatorSettings)
    packing: PackingSettings = field(default_factory=PackingSettings)
    fonts: FontSettings = field(default_factory=FontSettings)
    printers: list[PrinterSettings] = field(default_factory=list)

    # -- derived
    def printer(self, name: str | None = None) -> PrinterSettings:
        printers = self.printers or [PrinterSettings()]
        wanted = name or self.default_printer
        if not wanted:
            return printers[0]
        for p in printers:
            if p.name == wanted:
                return p
        raise ConfigError(f"no printer named '{wanted}' (configured: {', '.join(p.name for p in printers)})")

    def operator_name(self) -> str:
        if self.operator:
            return self.operator
        import getpass

        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no user database entry in some containers
            return "operator"


_CHOICES = {
    "language": ("auto", "zh", "en"),
    "printers.driver": ("tspl", "escpos", "preview"),
    "waybills.confirm_on": ("scan", "print", "manual"),
    "packing.merge": ("auto", "ask", "never"),
    "packing.on_packed": ("nothing", "ship", "print"),
}
_RANGES = {
    "ui.page_size": (10, 500),
    "ui.due_soon_hours": (1, 240),
    "ui.scan_gap_ms": (5, 1000),
    "ui.scan_min_length": (3, 64),
    "sync.interval_minutes": (1, 1440),
    "sync.backfill_days": (0, 90),
    "sync.window_minutes": (1, 30),
    "sync.detail_concurrency": (1, 16),
    "sync.lease_seconds": (30, 3600),
    "printers.dpi": (100, 600),
    "printers.density": (0, 15),
    "printers.speed": (1, 12),
    "waybills.take_ahead": (10, 500),
    "retention.archive_after_days": (1, 3650),
    "backup.keep_days": (1, 3650),
    "operators.idle_sign_out_minutes": (0, 1440),
    "operators.pin_attempts": (1, 100),
    "operators.lockout_seconds": (0, 86400),
}
ARCHIVE_DAYS_RANGE = _RANGES["retention.archive_after_days"]


def packing_printer(settings: "Settings", key: str) -> str:
    """The printer ``[packing] KEY`` names ("" = none); a name no printer has is a ConfigError."""
    name = (getattr(settings.packing, key) or "").strip()
    names = [p.name for p in settings.printers] or [PrinterSettings().name]
    if name and name not in names:
        raise ConfigError(f"setting 'packing.{key}': no printer named '{name}' (configured: {', '.join(names)})")
    return name


def did_you_mean(name: str, known: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to a mistyped one, or ``""``: the same
    name written with dashes or without underscores first, else the nearest spelling."""
    known = sorted(known)
    bare = name.replace("_", "").replace("-", "")
    close = [k for k in known if k.replace("_", "") == bare]
    close = close or difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_keymap(keymap: typing.Mapping[str, str], binding_ids: typing.Iterable[str]) -> None:
    """Every ``ui.keymap`` key must be the id of a binding the app declares."""
    known = set(binding_ids)
    for binding_id in keymap:
        if binding_id not in known:
            raise ConfigError(f"setting 'ui.keymap': unknown key binding id '{binding_id}'"
                              f"{did_you_mean(binding_id, known)}")


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _check_value(path: str, tp, value):
    origin = typing.get_origin(tp)
    generic_path = ".".join(p.split("[")[0] for p in path.split("."))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"setting '{path}' must be a table ([{path}])")
        return _load_dataclass(tp, value, path)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"setting '{path}' must be a list")
        return [_check_value(f"{path}[{i}]", inner, v) for i, v in enumerate(value)]
    if origin is dict:
        _k, inner = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"setting '{path}' must be a table")
        return {str(k): _check_value(f"{path}.{k}", inner, v) for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"setting '{path}' must be a number, not {value!r}")
        value = float(value)
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"setting '{path}' must be a whole number, not {value!r}")
    elif tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"setting '{path}' must be true or false, not {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"setting '{path}' must be a string, not {value!r}")
    if generic_path in _CHOICES and value not in _CHOICES[generic_path]:
        raise ConfigError(
            f"setting '{path}' must be one of {', '.join(_CHOICES[generic_path])}, not {value!r}"
        )
    if generic_path in _RANGES:
        lo, hi = _RANGES[generic_path]
        if not lo <= value <= hi:
            raise ConfigError(f"setting '{path}' must be between {lo} and {hi}, not {value!r}")
    return value


def _load_dataclass(cls, data: dict, prefix: str = ""):
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in known:
            raise ConfigError(f"unknown setting '{path}'{did_you_mean(key, known)}")
        kwargs[key] = _check_value(path, hints[key], value)
    return cls(**kwargs)


_SENDER_LIMITS = {"name": 40, "phone": 24, "address": 200}


def check_sender(sender: SenderSettings) -> None:
    """A sender a label can carry: one line each, not too long, and a phone number of 7 to 15
    digits written with digits, spaces, ``+``, ``-`` and brackets only (0571-88886666,
    138 0000 0000, +86 138...). Empty fields are allowed (nothing is printed for them)."""
    for key, limit in _SENDER_LIMITS.items():
        value = getattr(sender, key)
        if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
            raise ConfigError(f"setting 'sender.{key}' must be one line without control characters")
        if len(value) > limit:
            raise ConfigError(f"setting 'sender.{key}' must be at most {limit} characters, not {len(value)}")
    phone = sender.phone.strip()
    if phone:
        digits = sum(c.isdigit() for c in phone)
        if any(not (c.isascii() and (c.isdigit() or c in "+-() ")) for c in phone) or not 7 <= digits <= 15:
            raise ConfigError(f"setting 'sender.phone' must be a phone number (7 to 15 digits, "
                              f"e.g. 0571-88886666 or 13800000000), not {phone!r}")


def parse_settings(text: str, source: str = "config.toml") -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    try:
        settings = _load_dataclass(Settings, data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None
    try:
        check_sender(settings.sender)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None
    names = [p.name for p in settings.printers]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ConfigError(f"{source}: printer name '{sorted(dupes)[0]}' is used twice")
    try:
        for key in ("pick_list_printer", "handover_printer"):
            packing_printer(settings, key)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(settings.timezone)
    except Exception:  # noqa: BLE001
        raise ConfigError(f"{source}: setting 'timezone' is not a known time zone: {settings.timezone!r}") from None
    return settings


def load_settings(paths: Paths | None = None) -> Settings:
    paths = paths or get_paths()
    f = paths.config_file
    if not f.exists():
        return Settings()
    try:
        text = f.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {f}: {exc}") from None
    return parse_settings(text, str(f))


# --------------------------------------------------------------------------- writing
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else _toml_value(k)


def dump_settings(settings: Settings) -> str:
    """Serialise settings back to TOML (only what differs from the defaults is written)."""
    default = Settings()
    lines: list[str] = []
    for f in dataclasses.fields(Settings):
        v = getattr(settings, f.name)
        if dataclasses.is_dataclass(v) or isinstance(v, list):
            continue
        if v != getattr(default, f.name):
            lines.append(f"{f.name} = {_toml_value(v)}")
    for f in dataclasses.fields(Settings):
        v = getattr(settings, f.name)
        if not dataclasses.is_dataclass(v):
            continue
        d0 = getattr(default, f.name)
        body = [
            f"{g.name} = {_toml_value(getattr(v, g.name))}"
            for g in dataclasses.fields(v)
            if getattr(v, g.name) != getattr(d0, g.name)
        ]
        if body:
            lines += ["", f"[{f.name}]", *body]
    for p in settings.printers:
        lines += ["", "[[printers]]"]
        lines += [f"{g.name} = {_toml_value(getattr(p, g.name))}" for g in dataclasses.fields(p)]
    return "\n".join(lines).lstrip("\n") + "\n"


def save_settings(settings: Settings, paths: Paths | None = None) -> None:
    paths = paths or get_paths()
    text = dump_settings(settings)
    parse_settings(text)  # never write a file we could not read back
    write_private(paths.config_file, text)


def settings_diff(old: Settings, new: Settings) -> dict[str, tuple]:
    """Flat {key: (old, new)} of what changed, for the audit log."""

    def flat(obj, prefix=""):
        out = {}
        if dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                out.update(flat(getattr(obj, f.name), f"{prefix}{f.name}."))
        elif isinstance(obj, list):
            for i, x in enumerate(obj):
                out.update(flat(x, f"{prefix}{i}."))
        else:
            out[prefix.rstrip(".")] = obj
        return out

    a, b = flat(old), flat(new)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}

