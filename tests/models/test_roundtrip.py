"""Every known frame decodes into its specific model and re-encodes to an equal JSON object."""

from __future__ import annotations

from typing import Any

import pytest

from kraken_ws import decode, encode
from kraken_ws.models.messages import UnknownMessage, message_tag
from kraken_ws.protocol._json import dumps, loads
from tests.wire import DATA, digits_equal, load_jsonl, raw_frames


def _reencode(model: Any) -> Any:
    return loads(dumps(model.model_dump(mode="python", exclude_unset=True)))


def _check_server_frame(raw: bytes) -> str:
    original = loads(raw)
    message = decode(raw, strict=True)
    assert not isinstance(message, UnknownMessage)
    tag = message_tag(original)
    assert tag != "unknown", raw[:200]
    assert message_tag(message) == tag
    diff = digits_equal(original, _reencode(message))
    assert diff is None, f"{diff}\n{raw[:300]!r}"
    return tag


REFERENCE = load_jsonl("reference_frames.jsonl")
REFERENCE_RAW = raw_frames("reference_frames.jsonl")


@pytest.mark.parametrize(
    "raw",
    [r for r, line in zip(REFERENCE_RAW, REFERENCE, strict=True) if line["dir"] == "server"],
)
def test_reference_server_frames(raw: bytes) -> None:
    _check_server_frame(raw)


@pytest.mark.parametrize(
    "raw",
    [r for r, line in zip(REFERENCE_RAW, REFERENCE, strict=True) if line["dir"] == "client"],
)
def test_reference_client_requests(raw: bytes) -> None:
    original = loads(raw)
    diff = digits_equal(original, loads(encode(original)))
    assert diff is None, diff


@pytest.mark.parametrize(
    "name", ["book-vector-a.jsonl", "book-vector-b.jsonl", "level3-vector-c.jsonl"]
)
def test_checksum_vector_files_decode(name: str) -> None:
    with (DATA / "book" / name).open("rb") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    assert lines
    for raw in lines:
        _check_server_frame(raw)


def test_third_party_server_frames() -> None:
    """All 5,428 captured frames: each one typed, none falls back, all re-encode exactly."""
    frames = raw_frames("third_party_server_frames.jsonl")
    kinds: dict[str, int] = {}
    for raw in frames:
        tag = _check_server_frame(raw)
        kinds[tag] = kinds.get(tag, 0) + 1
    assert len(frames) == 5428
    assert kinds["book.update"] == 5189


def test_third_party_client_requests() -> None:
    lines = load_jsonl("third_party_client_requests.jsonl")
    for line in lines:
        frame = line["frame"]
        diff = digits_equal(frame, loads(encode(frame)))
        assert diff is None, (diff, line["source"])


def test_exact_digits_survive() -> None:
    raw = (
        b'{"channel":"book","type":"update","data":[{"symbol":"PEPE/USD","bids":'
        b'[{"price":0.000012340,"qty":12345678901.12345678}],"asks":[{"price":62807.0,'
        b'"qty":0.00000000}],"checksum":1,"timestamp":"2026-01-01T00:00:00.000000Z"}]}'
    )
    message = decode(raw)
    out = dumps(message.model_dump(mode="python", exclude_unset=True))
    assert "0.000012340" in out
    assert "12345678901.12345678" in out
    assert '"price":62807.0' in out
    assert '"qty":0.00000000' in out


def test_big_connection_id_survives() -> None:
    raw = (
        b'{"channel":"status","type":"update","data":[{"api_version":"v2",'
        b'"connection_id":123456789012345678901234567890,"system":"online","version":"2.0.0"}]}'
    )
    message = decode(raw)
    out = dumps(message.model_dump(mode="python", exclude_unset=True))
    assert "123456789012345678901234567890" in out
