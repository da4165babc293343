"""Smoke test: the pack check (F8) in the real ``dadan`` in a real terminal (tmux, 80x24): a
printed parcel's waybill and its item barcodes, typed as a scanner types them, pack it, and the
screen says so ("PACKED"); the pack record is in the database once.
Skipped only when tmux is missing (scripts/system-deps.sh installs it in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.test_smoke_tmux import ROOT, Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

SETUP = """
from dadan.core.context import load_context
from tests.pack_helpers import BARCODES, bench
c = load_context(); c.open_db()
pb = bench(a_lines=(("A12", 3), ("B07", 2)))
print(pb["w1"].code, BARCODES["A12"], BARCODES["B07"], BARCODES["Z9"])
"""
COUNT = """
from dadan.core.context import load_context
from dadan.core.packing.models import PackRecord
c = load_context(); c.open_db()
print(PackRecord.select().count(), PackRecord.get().waybill_code)
"""


def test_pack_check_in_tmux(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "NO_COLOR"))}
    env.update(DADAN_HOME=str(home), TERM="xterm-256color", LANG="en_US.UTF-8", PYTHONPATH=str(ROOT),
               TEXTUAL_FPS="30")
    py = sys.executable
    subprocess.run([py, "-m", "dadan.tui", "demo", "--orders", "60", "--seed", "5"], check=True, env=env, cwd=ROOT,
                   capture_output=True, timeout=120)
    waybill, a12, b07, z9 = subprocess.run([py, "-c", SETUP], check=True, env=env, cwd=ROOT, capture_output=True,
                                           text=True, timeout=60).stdout.split()
    t = Tmux(tmp_path, env)
    t.start(f"cd {ROOT} && {py} -m dadan.tui")
    try:
        t.wait_for("scan ready")
        t.keys("F8")
        t.wait_for("No parcel: scan a waybill")
        t.keys(waybill + "\r", literal=True)  # a scanner: the code and Enter at once
        t.wait_for("Missing 5 of 5")
        t.keys(z9 + "\r", literal=True)  # a wrong item: the alarm, nothing counted
        t.wait_for("WRONG ITEM")
        assert "Missing 5 of 5" in t.screen()
        t.keys("".join(code + "\r" for code in (a12, a12, a12, b07, b07)), literal=True)  # one burst
        shown = t.wait_for("PACKED")
        assert "Packed: 5 item(s)" in shown
        count, code = subprocess.run([py, "-c", COUNT], check=True, env=env, cwd=ROOT, capture_output=True,
                                     text=True, timeout=60).stdout.split()
        assert (count, code) == ("1", waybill)
        t.keys("Escape")
        t.wait_for("To print")
        t.keys("q")
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                t.screen()
            except subprocess.CalledProcessError:
                break  # the session ended with the app
            time.sleep(0.2)
        else:
            raise AssertionError("dadan did not quit")
    finally:
        t.kill()
