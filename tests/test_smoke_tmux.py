"""Smoke test: the real ``dadan`` in a real terminal (tmux, 80x24): the order screen comes up, a
scanned order number opens the order right there, F2 opens the scan field and a scan there opens
it too, F3 shows the exceptions, q quits.
Skipped only when tmux is missing (scripts/system-deps.sh installs it in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parents[1]


class Tmux:
    def __init__(self, tmp: Path, env: dict):
        self.name = f"dadan-smoke-{uuid.uuid4().hex[:8]}"
        self.sock = str(tmp / "tmux.sock")
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.sock, *args], check=True, capture_output=True, text=True,
                              env=self.env, timeout=20).stdout

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", command)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < end:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen:\n{shown}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True, env=self.env)


def test_dadan_in_tmux(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "NO_COLOR"))}
    env.update(DADAN_HOME=str(home), TERM="xterm-256color", LANG="en_US.UTF-8", PYTHONPATH=str(ROOT),
               TEXTUAL_FPS="30")
    py = sys.executable
    subprocess.run([py, "-m", "dadan.tui", "demo", "--orders", "150", "--seed", "5"], check=True, env=env, cwd=ROOT,
                   capture_output=True, timeout=120)
    db_sn, last_sn = subprocess.run(
        [py, "-c", "from dadan.core.context import load_context; from dadan.core.models import Order; c=load_context(); "
                   "c.open_db(); print(Order.select().order_by(Order.id).first().order_sn); "
                   "print(Order.select().order_by(Order.id.desc()).first().order_sn)"],
        check=True, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60).stdout.split()
    t = Tmux(tmp_path, env)
    t.start(f"cd {ROOT} && {py} -m dadan.tui")
    try:
        t.wait_for("scan ready")
        t.keys(last_sn + "\r", literal=True)  # a scanner on the home screen: the code and Enter at once
        shown = t.wait_for(f"Order {last_sn}")
        assert "Receiver:" in shown
        t.keys("Escape")
        t.wait_for("To print")
        t.keys("F2")
        t.wait_for("Mode: look-up")
        t.keys(db_sn, literal=True)
        t.keys("Enter")
        shown = t.wait_for(f"Order {db_sn}")
        assert "Receiver:" in shown
        t.keys("Escape")
        t.wait_for("Mode: look-up")
        t.keys("Escape")
        t.wait_for("To print")
        t.keys("F3")
        t.wait_for("Refund / after-sale")
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
