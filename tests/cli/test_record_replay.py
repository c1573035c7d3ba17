"""Record book frames from a local exchange, replay them, and compare with the live books."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from kraken_ws import decode
from kraken_ws.book import BookManager, BookUpdated, ResyncNeeded
from kraken_ws.models.channels.book import BookSnapshot, BookSubscribeResult, BookUpdate
from kraken_ws.models.methods.subscribe import SubscribeSuccess
from kraken_ws.recording import (
    RecordedFrame,
    Recorder,
    RecordingError,
    count_frames,
    iter_recording,
    record,
    replay,
)
from kraken_ws.testing import LocalExchange

from .conftest import invoke, one_line

SYMBOLS = ["BTC/USD", "ETH/USD"]
SECONDS = 10.0  # the acceptance: 10 s of book frames
RATE = 50.0  # book updates/s per symbol: 10 s here ~ 1,000 checksummed book frames


class LiveBooks:
    """An independent BookManager fed each frame as the recorder receives it."""

    def __init__(self) -> None:
        self.manager = BookManager()
        self.verified = 0
        self.failed = 0
        self.book_frames = 0

    def __call__(self, frame: RecordedFrame) -> None:
        message = decode(frame.text)
        if (
            isinstance(message, SubscribeSuccess)
            and isinstance(message.result, BookSubscribeResult)
            and self.manager.book(message.result.symbol) is None
        ):
            self.manager.track(message.result.symbol, message.result.depth or 10)
        if isinstance(message, BookSnapshot | BookUpdate):
            self.book_frames += 1
        for event in self.manager.feed(message):
            if isinstance(event, BookUpdated):
                self.verified += 1
            elif isinstance(event, ResyncNeeded):
                self.failed += 1


async def test_record_then_replay_reproduces_the_live_books(tmp_path: Path) -> None:
    out = tmp_path / "feed.jsonl.gz"
    live = LiveBooks()
    async with LocalExchange(rate=RATE, seed=7) as exchange:
        summary = await record(
            out,
            channels=["book", "trade"],
            symbols=SYMBOLS,
            ws_url=exchange.ws_url,
            depth=25,
            duration=SECONDS,
            on_frame=live,
        )
    assert summary.frames == count_frames(out)
    assert live.book_frames >= 500, live.book_frames  # measured ~1,000 at 50/s per symbol
    assert live.verified == live.book_frames
    assert live.failed == 0

    result = replay(out)
    assert result.frames == summary.frames
    assert result.invalid == 0
    assert result.unknown == 0
    assert result.checksum_failed == 0
    assert result.checksum_verified == live.book_frames
    assert result.channels["book"] == live.book_frames
    assert result.channels["trade"] > 0
    for symbol in SYMBOLS:
        replayed = result.book(symbol)
        assert replayed.depth == 25
        assert replayed.valid
        assert replayed.failed == 0
        view = replayed.view
        assert view is not None
        assert len(view.bids) == len(view.asks) == 25
        # Same final book as the independent live BookManager and as the client's own book.
        assert view == live.manager.l2(symbol).snapshot()
        assert view == summary.books[symbol]
        assert view.bids[0][0] < view.asks[0][0]


def test_record_and_replay_commands(tmp_path: Path) -> None:
    out = tmp_path / "btc.jsonl"
    done = invoke(
        "record", "-c", "book", "-s", "BTC/USD", "--depth", "10", "-o", str(out),
        "--duration", "1.5", "--rate", "50",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    frames = count_frames(out)
    assert f"recorded {frames} frames" in done.stdout
    assert frames > 30
    first = out.read_text().splitlines()[0]
    assert first.startswith('{"t":')
    assert '"frame":{"channel":"status"' in first

    shown = invoke("replay", str(out), "--as-fast-as-possible")
    assert shown.exit_code == 0, shown.output
    assert f"replayed {frames} frames" in shown.stdout
    assert ", 0 failed" in shown.stdout
    assert "BTC/USD" in shown.stdout

    paced = invoke("replay", str(out), "--speed", "50", "--book", "BTC/USD")
    assert paced.exit_code == 0, paced.output

    missing = invoke("replay", str(out), "-f", "--book", "ETH/USD")
    assert missing.exit_code == 1
    assert one_line(missing.stderr) == f"Error: no book for ETH/USD in {out}"


def test_replay_reports_checksum_failures(tmp_path: Path) -> None:
    out = tmp_path / "bad.jsonl"
    lines = [
        '{"t":1.0,"frame":{"method":"subscribe","req_id":1,"success":true,'
        '"result":{"channel":"book","symbol":"BTC/USD","depth":10,"snapshot":true}}}',
        '{"t":1.5,"frame":{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD",'
        '"bids":[{"price":100.0,"qty":1.00000000}],"asks":[{"price":101.0,"qty":2.00000000}],'
        '"checksum":1}]}}',
    ]
    out.write_text("\n".join(lines) + "\n")
    result = replay(out)
    assert result.checksum_failed == 1
    assert result.checksum_verified == 0
    shown = invoke("replay", str(out), "-f")
    assert shown.exit_code == 1
    assert one_line(shown.stderr) == f"Error: 1 checksum mismatch(es) while replaying {out}"


class TestRecordingFormat:
    def test_frames_are_spliced_verbatim(self, tmp_path: Path) -> None:
        path = tmp_path / "r.jsonl"
        texts = [
            '{"channel":"book","type":"update","data":[{"price":62807.0,"qty":0.00000000}]}',
            '{ "spaced" : [1.10, 2.000] }',
            "not json at all",
            '{"multi":\n"line"}',
            "",
        ]
        with Recorder(path, clock=lambda: 1700000000.25) as recorder:
            for text in texts:
                recorder.write(text)
        lines = path.read_text().splitlines()
        assert lines[0] == f'{{"t":1700000000.250000,"frame":{texts[0]}}}'
        assert '"text":"not json at all"' in lines[2]
        frames = list(iter_recording(path))
        assert [f.text for f in frames] == texts
        assert [f.line for f in frames] == [1, 2, 3, 4, 5]
        assert all(f.t == 1700000000.25 for f in frames)

    def test_gzip_is_detected_from_content(self, tmp_path: Path) -> None:
        path = tmp_path / "r.jsonl.gz"
        with Recorder(path) as recorder:
            recorder.write('{"a":1.50}')
        renamed = path.rename(tmp_path / "no_suffix")
        assert [f.text for f in iter_recording(renamed)] == ['{"a":1.50}']

    def test_foreign_lines_are_read_losslessly(self, tmp_path: Path) -> None:
        path = tmp_path / "r.jsonl"
        path.write_text('{"frame": {"price": 1.10}, "t": 5}\n\n')
        (frame,) = iter_recording(path)
        assert frame.text == '{"price":1.10}'
        assert frame.t == 5.0

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("garbage\n", "r.jsonl:1: not a JSON line"),
            ('{"t": "x", "frame": {}}\n', "r.jsonl:1: 't' must be a number"),
            ('{"frame": {}}\n', "r.jsonl:1: expected an object with 't' and 'frame'"),
        ],
    )
    def test_bad_lines(self, tmp_path: Path, content: str, message: str) -> None:
        path = tmp_path / "r.jsonl"
        path.write_text(content)
        with pytest.raises(RecordingError, match=message):
            list(iter_recording(path))

    def test_truncated_gzip(self, tmp_path: Path) -> None:
        path = tmp_path / "r.jsonl.gz"
        body = "".join(f'{{"t":{i},"frame":{{"n":{i * 7919 % 10007}}}}}\n' for i in range(2000))
        data = gzip.compress(body.encode())
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(RecordingError, match="truncated"):
            list(iter_recording(path))
        shown = invoke("replay", str(path), "-f")
        assert shown.exit_code == 1
        assert one_line(shown.stderr).startswith(f"Error: cannot replay {path}: ")

    def test_replay_paces_by_receive_time(self, tmp_path: Path) -> None:
        path = tmp_path / "r.jsonl"
        with Recorder(path) as recorder:
            for t in (10.0, 10.5, 12.0):
                recorder.write('{"channel":"heartbeat"}', t)
        now = [100.0]
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            now[0] += seconds

        result = replay(path, speed=2.0, sleep=sleep, clock=lambda: now[0])
        assert waits == [0.25, 0.75]  # 0.5 s and 1.5 s of recording at 2x
        assert result.frames == 3
        assert result.recorded_seconds == 2.0
        with pytest.raises(ValueError, match="speed must be positive"):
            replay(path, speed=0)

    def test_summary_book_lookup(self, tmp_path: Path) -> None:
        path = tmp_path / "r.jsonl"
        path.write_text("")
        with pytest.raises(KeyError, match="no book book for BTC/USD"):
            replay(path).book("BTC/USD")
        assert Decimal(0) == Decimal(replay(path).recorded_seconds)
