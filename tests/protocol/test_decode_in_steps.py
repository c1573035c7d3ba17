"""``decode_in_steps`` gives what ``decode`` gives, in bounded steps."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_ws.exceptions import DecodeError
from kraken_ws.models.messages import UnknownMessage
from kraken_ws.protocol import codec

DATA = Path(__file__).parent.parent / "data"


def run(text: str, *, strict: bool = False) -> tuple[Any, int]:
    steps = codec.decode_in_steps(text, strict=strict)
    count = 0
    try:
        while True:
            next(steps)
            count += 1
    except StopIteration as done:
        return done.value, count


def same(text: str, *, strict: bool = False) -> None:
    try:
        expected: Any = codec.decode(text, strict=strict)
    except DecodeError:
        expected = DecodeError
    if expected is DecodeError:
        with pytest.raises(DecodeError):
            run(text, strict=strict)
        return
    got, _steps = run(text, strict=strict)
    assert type(got) is type(expected)
    if isinstance(expected, UnknownMessage):
        # The same frame, as it came; the error may name the item's model rather than the
        # frame's (the stepped path validates items first).
        assert got.raw == expected.raw
        assert (got.error is None) == (expected.error is None)
    else:
        assert got == expected


def recorded() -> list[str]:
    frames = []
    for name in ("reference_frames.jsonl", "third_party_server_frames.jsonl"):
        for line in (DATA / name).read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                frame = record.get("frame", record) if isinstance(record, dict) else record
                frames.append(frame if isinstance(frame, str) else json.dumps(frame))
    return frames


def test_every_recorded_frame_decodes_the_same() -> None:
    frames = recorded()
    assert len(frames) > 5000
    for text in frames:
        same(text)


def book(levels: int, *, price: str = "100.5") -> str:
    side = ",".join(f'{{"price":{price},"qty":{n + 1}.5}}' for n in range(levels))
    return (
        '{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD",'
        f'"bids":[{side}],"asks":[{side}],"checksum":1}}]}}'
    )


@pytest.mark.parametrize("levels", [0, 1, codec.SLICE_ITEMS, codec.SLICE_ITEMS + 1, 5000])
def test_large_book_frames_decode_the_same_in_many_steps(levels: int) -> None:
    text = book(levels)
    same(text)
    _got, steps = run(text)
    # Lists of at most SLICE_ITEMS are validated with the frame, in the last step.
    assert steps >= 1 + 2 * ((levels - 1) // codec.SLICE_ITEMS) if levels else steps == 1


def test_frames_over_the_item_limit_are_refused_after_the_parse() -> None:
    limit = codec.MAX_ITEMS["executions"]
    reports = ",".join('{"exec_type":"new"}' for _ in range(limit + 1))
    text = f'{{"channel":"executions","type":"update","data":[{reports}],"sequence":1}}'
    with pytest.raises(DecodeError, match=f"{limit + 1} items"):
        codec.decode(text)
    with pytest.raises(DecodeError, match=f"{limit + 1} items"):
        run(text)
    # Exactly the limit is fine.
    ok = ",".join('{"exec_type":"new"}' for _ in range(limit))
    same(f'{{"channel":"executions","type":"update","data":[{ok}],"sequence":1}}')


def test_executions_instrument_and_invalid_items() -> None:
    reports = ",".join(f'{{"exec_type":"new","order_id":"O{n}"}}' for n in range(3000))
    same(f'{{"channel":"executions","type":"update","data":[{reports}],"sequence":1}}')
    pairs = ",".join(f'{{"symbol":"P{n}/USD"}}' for n in range(600))
    same(f'{{"channel":"instrument","type":"snapshot","data":{{"assets":[],"pairs":[{pairs}]}}}}')
    bad = ",".join('{"system":7}' for _ in range(3000))
    text = f'{{"channel":"status","type":"update","data":[{bad}]}}'
    got, _ = run(text)
    assert isinstance(got, UnknownMessage)
    with pytest.raises(DecodeError, match="does not match StatusData"):
        run(text, strict=True)


def test_each_step_is_short() -> None:
    """No step of a large frame of small items takes long (the loop runs between steps)."""
    reports = ",".join(
        f'{{"exec_type":"new","order_id":"O{n:07d}-ABCDE-FGHIJK","symbol":"BTC/USD"}}'
        for n in range(codec.MAX_ITEMS["executions"])
    )
    text = f'{{"channel":"executions","type":"update","data":[{reports}],"sequence":1}}'
    assert len(text) > 1_000_000
    steps = codec.decode_in_steps(text)
    worst = 0.0
    while True:
        start = time.perf_counter()
        try:
            next(steps)
        except StopIteration:
            break
        finally:
            worst = max(worst, time.perf_counter() - start)
    # One step is the JSON parse or 256 items: milliseconds. The bound is generous for a
    # loaded CI machine; typical values are under 20 ms.
    assert worst < 0.25


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=20,
    ),
    st.sampled_from(["book", "level3", "executions", "instrument", "status", "ticker"]),
    st.sampled_from(["snapshot", "update"]),
)
def test_any_value_decodes_the_same(value: Any, channel: str, kind: str) -> None:
    same(json.dumps({"channel": channel, "type": kind, "data": value}))
    same(json.dumps(value))
