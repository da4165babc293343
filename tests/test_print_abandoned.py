"""A print job whose dadan was killed (kill -9, the terminal closed) does not stay "printing":
the next `dadan queue` or `dadan print` gives it its true state and says how to go on, and so
does a desk that starts. Nothing is sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dadan.core.config import Paths
from dadan.core.db import close_database, open_database
from dadan.core.models import Order
from dadan.core.printing import queue as printing
from tests.desk_helpers import anyio_backend  # noqa: F401
from tests.fakes import FakeTsplPrinter, decode_barcodes
from tests.fakes.queue_setup import SMALL_TEMPLATE, make_db, order_sn

ROOT = Path(__file__).resolve().parents[1]
N = 40


def _home(tmp_path: Path, uri: str) -> Path:
    home = tmp_path / "home"
    make_db(Paths(config_dir=home, data_dir=home).database_file, N)
    close_database()
    (home / "config.toml").write_text(
        f'default_printer = "lbl"\n\n[[printers]]\nname = "lbl"\ndriver = "tspl"\nuri = "{uri}"\n'
        f'width_mm = 60\nheight_mm = 40\ntemplate = "{SMALL_TEMPLATE}"\n', encoding="utf-8")
    return home


def _env(home: Path) -> dict:
    env = dict(os.environ, DADAN_HOME=str(home), LANG="en_US.UTF-8", PYTHONPATH=str(ROOT))
    for k in ("DADAN_LANG", "DADAN_OPERATOR", "DADAN_PIN"):
        env.pop(k, None)
    return env


def dadan(home: Path, *args: str) -> tuple[int, str, str]:
    p = subprocess.run([sys.executable, "-m", "dadan.tui", *args], cwd=ROOT, env=_env(home), capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def _kill_mid_job(home: Path, printer: FakeTsplPrinter) -> None:
    """`dadan print` of every order, SIGKILLed after a dozen labels reached the printer."""
    child = subprocess.Popen([sys.executable, "-m", "dadan.tui", "print", "-q", "status:pending", "--yes",
                              "--in-order"], cwd=ROOT, env=_env(home), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(printer.labels) < 12 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert child.poll() is None, "the print finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()


def _received(printer) -> list[str]:
    return [decode_barcodes(im)[0] for im in printer.labels]


def test_a_killed_print_is_shown_as_it_is_and_the_next_print_says_how_to_go_on(tmp_path):
    with FakeTsplPrinter(speed_mm_s=1500, buffer_labels=1) as printer:
        home = _home(tmp_path, printer.uri)
        _kill_mid_job(home, printer)

        rc, out, err = dadan(home, "queue", "list")
        assert rc == 0
        line = next(s for s in out.splitlines() if s.startswith("#1 "))
        assert "printing" not in line  # nobody prints it: paused (a label was in flight) or waiting
        paused = "paused" in line
        assert paused or "queued" in line, line
        if paused:
            assert "were being sent when a dadan stopped" in err

        rc, _out, err = dadan(home, "print", "-q", "status:pending", "--yes")
        assert rc == 1
        assert "already queued (job #1)" in err
        if paused:
            assert "job #1 is paused: interrupted: label" in err
            rc, out, _err = dadan(home, "queue", "resolve")
            item = int(out.split()[1])
            seq = int(out.split()[4].lstrip("#"))
            printed = order_sn(seq) in _received(printer)
            rc, _o, err = dadan(home, "queue", "resolve", str(item), "--printed" if printed else "--not-printed")
            assert rc == 0, err
        else:
            assert "job #1 waits and no dadan is printing it: dadan queue resume 1 --print" in err

        rc, out, err = dadan(home, "queue", "resume", "1", "--print")
        assert rc == 0, err
        assert f"job #1: {N} of {N} labels sent" in out
    assert sorted(_received(printer)) == sorted(order_sn(i) for i in range(1, N + 1))  # each once
    open_database(f"sqlite:///{Paths(config_dir=home, data_dir=home).database_file}")
    try:
        assert Order.select().where(Order.print_count != 1).count() == 0
    finally:
        close_database()


@pytest.mark.anyio
async def test_a_desk_that_starts_shows_the_job_a_stopped_one_left_and_goes_on_when_asked(tmp_path):
    """A job left "printing" between labels by a dadan that stopped: the desk that starts shows
    it waiting (not printing), says so and how to go on, prints nothing by itself (it may have
    been closed to stop the job), and prints the rest, each label once, on `F4`, `g`."""
    from dadan.core.context import load_context
    from dadan.core.db import write
    from dadan.core.models import PrintItem, PrintJob
    from dadan.tui.app import DadanApp
    from tests.desk_helpers import wait_idle

    with FakeTsplPrinter() as printer:
        home = _home(tmp_path, printer.uri)
        paths = Paths(config_dir=home, data_dir=home)
        open_database(f"sqlite:///{paths.database_file}")
        ids = [o.id for o in Order.select(Order.id).order_by(Order.id)]
        job = printing.create_job(ids[:6], printer="lbl", template=SMALL_TEMPLATE)
        with write():  # what a dadan killed after its third label leaves
            first = [i.id for i in printing.job_items(job.id)][:3]
            PrintItem.update(state="sent").where(PrintItem.id.in_(first)).execute()
            Order.update(print_count=1).where(Order.id.in_(ids[:3])).execute()
            PrintJob.update(state="printing").where(PrintJob.id == job.id).execute()
        close_database()

        app = DadanApp(load_context(paths))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_idle(pilot, 5)
            assert printing.job_view(job.id).state == "queued"
            notes = " ".join(str(n.message) for n in app._notifications)
            assert f"Print job #{job.id} is not finished: F4 shows it, g goes on." in notes
            await pilot.pause(0.3)
            assert printer.labels == []  # nothing printed unasked
            await pilot.press("f4")
            await wait_idle(pilot)
            await pilot.press("g")
            deadline = time.monotonic() + 30
            while printing.job_view(job.id).state != "done" and time.monotonic() < deadline:
                await pilot.pause(0.05)
            assert printing.job_view(job.id).state == "done"
        assert sorted(_received(printer)) == [order_sn(i) for i in range(4, 7)]


@pytest.mark.anyio
async def test_quitting_the_desk_while_it_prints_asks_first(tmp_path):
    """`q` while this desk's printer prints a job asks first; `n` keeps printing, `y` quits, at
    once, the job stopped after the label being sent."""
    from dadan.core.context import load_context
    from dadan.tui.app import DadanApp
    from dadan.tui.widgets.desk_confirm import DeskConfirm

    with FakeTsplPrinter(speed_mm_s=300, buffer_labels=1) as printer:  # ~0.15 s a label
        home = _home(tmp_path, printer.uri)
        paths = Paths(config_dir=home, data_dir=home)
        open_database(f"sqlite:///{paths.database_file}")
        ids = [o.id for o in Order.select(Order.id).order_by(Order.id)]
        job = printing.create_job(ids[:30], printer="lbl", template=SMALL_TEMPLATE)
        close_database()
        app = DadanApp(load_context(paths))
        async with app.run_test(size=(100, 30)) as pilot:
            app.print_pool.wake("lbl")
            deadline = time.monotonic() + 20
            while app.print_pool.printing_job() is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
            await pilot.press("q")
            await pilot.pause(0.1)
            assert isinstance(app.screen, DeskConfirm) and f"Job #{job.id} is printing" in app.screen.title_text
            await pilot.press("n")
            await pilot.pause(0.1)
            assert app.is_running and not isinstance(app.screen, DeskConfirm)
            await pilot.press("q")
            await pilot.pause(0.1)
            await pilot.press("y")
            quit_at = time.monotonic()
            await pilot.pause(0.3)
            assert not app.is_running
        # closed at once: the printer's worker stopped after its label (it used to wait ~15 s for
        # the closing app to run its progress call), and no label was left half sent
        assert time.monotonic() - quit_at < 5
        open_database(f"sqlite:///{paths.database_file}")
        try:
            from dadan.core.models import PrintItem

            assert not PrintItem.select().where(PrintItem.state == "sending").exists()
            assert 0 < PrintItem.select().where(PrintItem.state == "sent").count() < 30
        finally:
            close_database()
