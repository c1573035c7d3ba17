"""The CLI's small print: Ctrl-C in replay, sizes, headers, widths, help texts, hints."""

from __future__ import annotations

import fcntl
import gzip
import io
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
from collections.abc import AsyncIterator
from pathlib import Path

from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from kraken_ws import decode
from kraken_ws.book import OrderBook
from kraken_ws.cli import main
from kraken_ws.cli.render import BookStatus, ColumnWidths, ladder, ohlc_table, ticker_table
from kraken_ws.cli.sources import DEFAULT_RATE
from kraken_ws.cli.streaming import _BookStats
from kraken_ws.events import Connected, Disconnected, Reconnecting
from kraken_ws.models.channels.book import BookSnapshot
from kraken_ws.models.channels.ohlc import OhlcSnapshot
from kraken_ws.models.channels.ticker import TickerSnapshot

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


# --- rendering ----------------------------------------------------------------------------------


def rendered(renderable: object, width: int = 200) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text().splitlines()


def book_frame(kind: str, qty: str, price: str = "100.1") -> BookSnapshot:
    text = (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"BTC/USD",'
        f'"bids":[{{"price":{price},"qty":{qty}}}],'
        f'"asks":[{{"price":200.2,"qty":2}}],"checksum":0}}]}}'
    )
    message = decode(text)
    assert isinstance(message, BookSnapshot)
    return message


class TestLadder:
    STATUS = BookStatus(source="local exchange ws://x", verified=1, mismatches=0, rate=1.0)

    def table_widths(self, lines: list[str]) -> set[int]:
        return {cell_len(line) for line in lines if line[:1] in "┏┃┡│├└"}

    def test_the_width_is_stable_across_frames(self) -> None:
        book = OrderBook("BTC/USD")
        widths = ColumnWidths()
        seen: list[set[int]] = []
        for qty in ("1.5", "0.12345678", "2", "12345.12345678", "0.1"):
            book.apply(book_frame("snapshot", qty))
            lines = rendered(ladder(book, self.STATUS, widths=widths))
            seen.append(self.table_widths(lines))
        assert all(len(s) == 1 for s in seen), seen  # every line of a table is as wide
        assert len(set.union(*seen)) == 1, seen  # and every frame's table too

    def test_a_wider_number_widens_it_once_and_it_never_narrows(self) -> None:
        book = OrderBook("BTC/USD")
        widths = ColumnWidths()
        book.apply(book_frame("snapshot", "1.5"))
        before = self.table_widths(rendered(ladder(book, self.STATUS, widths=widths)))
        book.apply(book_frame("snapshot", "123456789012.123456789"))
        wide = self.table_widths(rendered(ladder(book, self.STATUS, widths=widths)))
        book.apply(book_frame("snapshot", "1"))
        after = self.table_widths(rendered(ladder(book, self.STATUS, widths=widths)))
        assert wide == after
        assert max(wide) > max(before)

    def test_it_says_how_to_stop(self) -> None:
        book = OrderBook("BTC/USD")
        book.apply(book_frame("snapshot", "1"))
        assert "Ctrl-C to stop" in rendered(ladder(book, self.STATUS))[-1]


def ticker_data(change_pct: str) -> TickerSnapshot:
    message = decode(
        '{"channel":"ticker","type":"snapshot","data":[{"symbol":"BTC/USD","bid":100.1,'
        '"bid_qty":1,"ask":100.2,"ask_qty":1,"last":100.1,"volume":5,"vwap":100.1,"low":99,'
        f'"high":101,"change":-0.0,"change_pct":{change_pct}}}]}}'
    )
    assert isinstance(message, TickerSnapshot)
    return message


def test_ticker_shows_no_negative_zero() -> None:
    data = ticker_data("-0.00").data[0]
    assert str(data.change_pct) == "-0.00"  # as Kraken may send it
    text = "\n".join(rendered(ticker_table({"BTC/USD": data}, "src")))
    assert "-0.00" not in text
    assert re.search(r"BTC/USD .* 0\.00 ", text), text
    assert "-1.25" in "\n".join(rendered(ticker_table({"BTC/USD": ticker_data("-1.25").data[0]})))


def test_table_headers_say_what_the_columns_are() -> None:
    candle = decode(
        '{"channel":"ohlc","type":"snapshot","data":[{"symbol":"BTC/USD","open":1,"high":2,'
        '"low":0.5,"close":1.5,"trades":7,"volume":3,"vwap":1.2,'
        '"interval_begin":"2026-11-30T12:40:00.000000000Z","interval":5,'
        '"timestamp":"2026-11-30T12:41:00.000000Z"}]}'
    )
    assert isinstance(candle, OhlcSnapshot)
    lines = rendered(ohlc_table(candle.data, "src"))
    assert "5 min candles" in lines[0]
    header = next(line for line in lines if "symbol" in line).split()
    assert header == ["start", "symbol", "open", "high", "low", "close", "volume", "trades"]
    ticker = rendered(ticker_table({"BTC/USD": ticker_data("1.00").data[0]}))
    assert "24h chg %" in "\n".join(ticker)
    assert "24h volume" in "\n".join(ticker)


def test_live_tables_fit_80_columns_without_cutting_numbers() -> None:
    data = ticker_data("-12.34").data[0]
    lines = rendered(ticker_table({"BTC/USD": data, "ETH/USD": data}, "local exchange ws://x"), 80)
    assert not any("…" in line for line in lines), lines


# --- help ---------------------------------------------------------------------------------------


def test_no_command_description_is_cut_short() -> None:
    for columns in (60, 80, 100):
        result = CliRunner().invoke(main, ["--help"], terminal_width=columns)
        assert result.exit_code == 0
        commands = result.stdout.split("Commands:", 1)[1].splitlines()
        assert commands, result.stdout
        assert not [line for line in commands if line.rstrip().endswith("...")], result.stdout
        if columns >= 100:  # the widest help click draws here: every description on one line
            assert all(re.match(r"  \w+ +\S", line) for line in commands if line.strip())
    done = subprocess.run(
        [sys.executable, "-m", "kraken_ws", "--help"],
        cwd=ROOT, env=dict(os.environ, COLUMNS="80"), capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert "..." not in done.stdout.split("Commands:", 1)[1]


def test_serve_help_has_examples_and_the_shared_rate_default() -> None:
    serve = invoke("serve", "--help").stdout
    book = invoke("book", "--help").stdout
    assert "Examples:" in serve
    assert "kraken-ws serve --json" in serve
    default = f"[default: {DEFAULT_RATE}"
    assert default in " ".join(serve.split()), serve
    assert default in " ".join(book.split()), book


def test_serve_suggests_the_next_command_with_its_urls() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "kraken_ws", "serve", "--symbols", "ETH/USD"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            lines: list[str] = []
            while not (lines and lines[-1].startswith("  KRAKEN_API_KEY=")):
                line = proc.stdout.readline()
                assert line, lines
                lines.append(line.rstrip("\n"))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
    info = dict(line.split() for line in lines[1:7])
    assert lines[7] == "next, in another terminal:"
    assert lines[8] == f"  kraken-ws book ETH/USD --ws-url {info['ws_url']}"
    assert lines[9] == (
        f"  KRAKEN_API_KEY={info['api_key']} KRAKEN_API_SECRET={info['api_secret']} "
        f"kraken-ws token --rest-url {info['rest_url']}"
    )
    assert proc.returncode == 0


async def test_the_book_status_says_when_the_connection_is_down() -> None:
    stats = _BookStats("BTC/USD")
    seen: list[str | None] = []

    async def events() -> AsyncIterator[object]:
        for event in (
            Disconnected("public", 1006, "watchdog: no frame for 10.000s"),
            Reconnecting("public", 1, 0.25),
            Connected("public", reconnect=True),
        ):
            yield event
            seen.append(stats.connection)

    await stats.consume(events())
    assert seen == [
        "connection lost (watchdog: no frame for 10.000s): reconnecting",
        "reconnecting: attempt 1 in 0.25 s",
        None,
    ]
    book = OrderBook("BTC/USD")
    book.apply(book_frame("snapshot", "1"))
    status = BookStatus("src", verified=1, mismatches=0, rate=0.0, connection="reconnecting: x")
    text = "\n".join(rendered(ladder(book, status)))
    assert "⟳ reconnecting: x" in text
    assert "checksum" not in text
