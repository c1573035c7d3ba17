"""`kraken-ws book BTC/USD --duration 3` in a pseudo-terminal: a ladder that refreshes in place."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from decimal import Decimal

from .conftest import ROOT

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\r")
ROW = re.compile(r"│\s*(ask|bid|spread)\s*│\s*([0-9.]+)\s*│\s*(?:mid\s+)?([0-9.]+)")
TITLE = "kraken-ws book BTC/USD"


def run_in_pty(args: list[str], rows: int = 50, cols: int = 120, timeout: float = 30) -> str:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", PYTHONIOENCODING="utf-8", PYTHONASYNCIODEBUG="")
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kraken_ws", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], deadline - time.monotonic())
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=10) == 0, b"".join(chunks).decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_book_ladder_in_a_terminal() -> None:
    raw = run_in_pty(["book", "BTC/USD", "--duration", "3", "--rate", "20"])
    screen = ANSI.sub("", raw)
    # Refreshed in place: several renders, with cursor movement between them.
    assert screen.count(TITLE) >= 3, screen
    assert "\x1b[" in raw
    assert "\x1b[1A" in raw or "\x1b[2K" in raw
    last = screen.rsplit(TITLE, 1)[1]

    sides: list[tuple[str, Decimal, Decimal]] = []
    for line in last.splitlines():
        match = ROW.search(line)
        if match:
            sides.append((match[1], Decimal(match[2]), Decimal(match[3])))
    kinds = [k for k, _, _ in sides]
    asks = [p for k, p, _ in sides if k == "ask"]
    bids = [p for k, p, _ in sides if k == "bid"]
    assert len(asks) == 10, last
    assert len(bids) == 10, last
    # Asks on top, then the spread row, then bids: bids are below asks on the screen.
    assert kinds == ["ask"] * 10 + ["spread"] + ["bid"] * 10
    assert asks == sorted(asks, reverse=True)
    assert bids == sorted(bids, reverse=True)
    assert min(asks) > max(bids)
    (_, spread, mid) = sides[10]
    assert spread == min(asks) - max(bids)
    assert mid == (min(asks) + max(bids)) / 2

    status = next(line for line in last.splitlines() if "checksum" in line)
    assert "✓ checksum verified" in status
    assert " 0 mismatches" in status
    verified = int(re.search(r"(\d+) ok", status)[1])  # type: ignore[index]
    rate = float(re.search(r"([0-9.]+) updates/s", status)[1])  # type: ignore[index]
    assert verified >= 20  # ~3 s at 20 updates/s, every one checksum-verified
    assert rate > 0
