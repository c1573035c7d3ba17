"""The CLI's small print: Ctrl-C in replay, sizes, headers, widths, help texts, hints."""

from __future__ import annotations

import fcntl
import gzip
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from .conftest import ROOT, invoke, one_line

STATUS = (
    '{"channel":"status","type":"update","data":[{"system":"online","api_version":"v2",'
    '"connection_id":1,"version":"2.0.10"}]}'
)


def slow_recording(path: Path, frames: int = 3) -> None:
    """Frames an hour apart: at ``--speed 1`` the replay waits after the first one."""
    path.write_text(
        "".join(f'{{"t":{1700000000 + 3600 * i},"frame":{STATUS}}}\n' for i in range(frames))
    )


class TestReplayCtrlC:
    def test_ctrl_c_prints_the_partial_summary_and_exits_0(self, tmp_path: Path) -> None:
        feed = tmp_path / "slow.jsonl"
        slow_recording(feed)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", PYTHONASYNCIODEBUG="")
        for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
            env.pop(name, None)
        with subprocess.Popen(
            [sys.executable, "-m", "kraken_ws", "replay", str(feed)],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, close_fds=True,
        ) as proc:  # fmt: skip
            os.close(slave)
            screen = b""
            try:
                # The progress bar shows 1/3 once the first frame is applied: the replay is
                # then waiting an hour for the second one, and Ctrl-C ends that wait.
                deadline = time.monotonic() + 60
                signalled = False
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([master], [], [], 1.0)
                    if ready:
                        try:
                            data = os.read(master, 65536)
                        except OSError:  # EIO: the child closed the terminal
                            break
                        if not data:
                            break
                        screen += data
                    if not signalled and b"1/3" in screen:
                        proc.send_signal(signal.SIGINT)
                        signalled = True
                assert signalled, screen
                code = proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                os.close(master)
        text = re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]|\r", "", screen.decode("utf-8", "replace"))
        assert code == 0, text
        assert "Aborted" not in text
        assert "replayed 1 frames" in text
        assert "frames by channel: status 1" in text
        assert "stopped by Ctrl-C after 1 of 3 frames" in text

    def test_a_complete_replay_does_not_mention_ctrl_c(self, tmp_path: Path) -> None:
        feed = tmp_path / "feed.jsonl"
        slow_recording(feed)
        result = invoke("replay", str(feed), "-f")
        assert result.exit_code == 0
        assert "Ctrl-C" not in result.output


def test_an_error_has_no_blank_line_before_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"t":1,"frame":{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD",'
        '"bids":[],"asks":[],"checksum":5}]}}\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "kraken_ws", "replay", str(bad), "-f"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == f"Error: 1 checksum mismatch(es) while replaying {bad}\n"
    # The summary on stdout does not end in a blank line either (the error follows it).
    assert done.stdout.splitlines()[-1].strip()
    assert done.stdout.splitlines()[0].strip()


def test_record_reports_the_size_on_disk(tmp_path: Path) -> None:
    out = tmp_path / "btc.jsonl.gz"
    done = invoke("record", "-c", "book", "-s", "BTC/USD", "-o", str(out), "--duration", "1")
    assert done.exit_code == 0, done.output
    line = one_line(done.stdout)
    on_disk = out.stat().st_size
    assert on_disk < len(gzip.decompress(out.read_bytes()))
    match = re.search(r"\(([0-9.]+) (B|KiB) on disk, ([0-9.]+) KiB of frames uncompressed\)", line)
    assert match, line
    shown = float(match[1]) * (1024 if match[2] == "KiB" else 1)
    assert abs(shown - on_disk) <= 0.05 * 1024, (line, on_disk)
    plain = tmp_path / "btc.jsonl"
    done = invoke("record", "-c", "book", "-s", "BTC/USD", "-o", str(plain), "--duration", "0.5")
    assert done.exit_code == 0, done.output
    match = re.search(r"\(([0-9.]+) KiB\)$", one_line(done.stdout))
    assert match, done.stdout
    assert abs(float(match[1]) * 1024 - plain.stat().st_size) <= 0.05 * 1024
