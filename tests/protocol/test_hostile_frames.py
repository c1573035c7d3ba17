"""Hostile numbers: every frame costs time and memory bounded by its size.

A number outside the bound of :mod:`kraken_ws.protocol._json` (more than 40 digits, or an
adjusted exponent beyond ±400) makes its frame a :class:`DecodeError`, fast; nothing inside it
changes. Before the bound, the 150-byte book frame below took 7.3 s and 2 GB (the checksum wrote
``1e999999999`` positionally).
"""

from __future__ import annotations

import time
import tracemalloc
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import kraken_ws
from kraken_ws import encode
from kraken_ws.book import OrderBook
from kraken_ws.book.checksum import checksum_token
from kraken_ws.exceptions import DecodeError
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.models.channels.status import StatusUpdate
from kraken_ws.models.messages import UnknownMessage
from kraken_ws.protocol import codec
from kraken_ws.protocol._json import (
    MAX_DIGITS,
    MAX_EXPONENT,
    NumberOutOfRange,
    dumps,
    format_decimal,
    loads,
    number_in_range,
)
from tests.wire import raw_frames

# A generous ceiling for one hostile frame on a loaded 2-core machine; each takes well under
# a millisecond (the unguarded 1e999999999 frame took 7.3 s).
FAST = 0.1


def book_frame(price: str = "62807.0", qty: str = "0.00100000") -> bytes:
    return (
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],'
        b'"asks":[{"price":' + price.encode() + b',"qty":' + qty.encode() + b"}],"
        b'"checksum":4249465476,"timestamp":"2026-08-16T23:37:03.745044Z"}]}'
    )


def ticker_frame(last: str) -> bytes:
    return (
        b'{"channel":"ticker","type":"update","data":[{"symbol":"ALGO/USD","bid":0.10025,'
        b'"bid_qty":740.0,"ask":0.10035,"ask_qty":740.0,"last":' + last.encode() + b","
        b'"volume":997038.98383185,"vwap":0.10148,"low":0.09979,"high":0.10285,'
        b'"change":-0.00017,"change_pct":-0.17,"timestamp":"2023-09-25T09:04:31.742648Z"}]}'
    )


def executions_frame(last_price: str) -> bytes:
    return (
        b'{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        b'"symbol":"BTC/USD","order_qty":0.005,"exec_type":"trade","side":"buy",'
        b'"last_qty":0.005,"last_price":' + last_price.encode() + b',"cum_cost":0.0,'
        b'"timestamp":"2023-09-22T10:33:05.709993Z","order_status":"filled"}],"sequence":7}'
    )


def timed_decode_error(frame: bytes | str) -> tuple[DecodeError, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DecodeError) as info:
            kraken_ws.decode(frame)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return info.value, elapsed, peak


def test_the_150_byte_book_frame_is_a_decode_error_at_once() -> None:
    frame = book_frame(price="1e999999999")
    assert len(frame) <= 200
    error, elapsed, peak = timed_decode_error(frame)
    print(f"\n1e999999999 book frame ({len(frame)} B): {elapsed * 1e3:.3f} ms, peak {peak} B")
    assert elapsed < FAST
    assert peak < 100_000
    assert "out of range" in str(error)
    assert error.raw == frame


HOSTILE = {
    "price 1e999999999": book_frame(price="1e999999999"),
    "qty 1e999999999": book_frame(qty="1e999999999"),
    "price 1e-999999999": book_frame(price="1e-999999999"),
    "qty 0e-999999999": book_frame(qty="0e-999999999"),
    "price -1E+999999999": book_frame(price="-1E+999999999"),
    "exponent past MAX_EMAX": book_frame(price="1e99999999999999999999"),
    "10,000-digit mantissa": book_frame(price="1." + "7" * 10_000),
    "10,000-digit integer price": book_frame(price="9" * 10_000),
    "257-digit integer price": book_frame(price="1" * (MAX_DIGITS + 1)),
    "257-digit fraction": book_frame(qty="0." + "1" * (MAX_DIGITS + 1)),
    "ticker last 1e999999999": ticker_frame("1e999999999"),
    "ticker last 1e-999999999": ticker_frame("1e-999999999"),
    "executions last_price 1e999999999": executions_frame("1e999999999"),
    "executions 10,000-digit last_price": executions_frame("0." + "1" * 10_000),
    "huge integer": b'{"channel":"status","type":"update","data":[{"connection_id":'
    + b"1" * 4000
    + b"}]}",
    "integer past the parser's limit": b'{"channel":"status","type":"update","data":[{'
    b'"connection_id":' + b"1" * 100_000 + b"}]}",
    "undeclared field": b'{"channel":"heartbeat","x":1e999999999}',
    "unknown channel": b'{"channel":"futures","type":"update","data":[{"p":[[[1E-5000]]]}]}',
    "top-level number": b"1e999999999",
    "whitespace around": b'{"channel" : "book" , "data" : [ -1e999999999 ] }',
    "NaN": book_frame(price="NaN"),
    "Infinity": book_frame(qty="Infinity"),
    "-Infinity": ticker_frame("-Infinity"),
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "nested objects 10,000 deep": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
}


@pytest.mark.parametrize(("name", "frame"), HOSTILE.items(), ids=HOSTILE.keys())
def test_hostile_numbers_are_decode_errors_fast(name: str, frame: bytes) -> None:
    _error, elapsed, peak = timed_decode_error(frame)
    print(f"\n{name:<36}{len(frame):>8} B {elapsed * 1e3:8.3f} ms  peak {peak / 1024:7.1f} KiB")
    assert elapsed < FAST
    assert peak < 20 * len(frame) + 200_000


@pytest.mark.parametrize("frame", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_numbers_as_str(frame: bytes) -> None:
    with pytest.raises(DecodeError):
        codec.decode(frame.decode())


def test_out_of_range_is_a_value_error_of_loads() -> None:
    with pytest.raises(NumberOutOfRange):
        loads(book_frame(price="1e999999999"))
    assert issubclass(NumberOutOfRange, ValueError)


# --- what stays accepted ----------------------------------------------------------------------


def test_connection_id_beyond_int64_decodes() -> None:
    frame = (
        b'{"channel":"status","type":"update","data":[{"api_version":"v2",'
        b'"connection_id":13834774380200032777,"system":"online","version":"2.0.0"}]}'
    )
    message = kraken_ws.decode(frame, strict=True)
    assert isinstance(message, StatusUpdate)
    assert message.data[0].connection_id == 13834774380200032777
    assert message.data[0].connection_id > 2**64 - 1 - 2**63  # beyond int64


@pytest.mark.parametrize(
    "token",
    [
        "1" * MAX_DIGITS,  # 256-digit integer
        "0." + "0" * 38 + "1",  # 40 characters of digits, no exponent
        "1." + "0" * (MAX_DIGITS - 2) + "1",  # 256 significant digits
        "1." + "0" * MAX_DIGITS,  # 257 digits, one significant
        "1" + "0" * MAX_EXPONENT,  # 1e400 written out: what dumps writes for it
        "1." + "0" * (MAX_DIGITS + MAX_EXPONENT - 1),  # 656 digits in all
        "1e400",
        "9.999e400",
        "1e-400",
        "0E-8",
        "0e0",
        "1e-08",
        "12345678901.12345678",
        "1000000000000.5",  # PEPE-sized quantity
        "1.7976931348623157e308",  # largest double
        "5e-324",  # smallest double
        "-0.0",
        "-0",
    ],
)
def test_bound_edges_inside(token: str) -> None:
    message = kraken_ws.decode(book_frame(qty=token), strict=True)
    assert isinstance(message, BookUpdate)
    value = message.data[0].asks[0].qty
    if token.lstrip("-").isdigit():  # an int token: the model converts it to Decimal
        assert value == int(token)
    else:
        assert value.as_tuple() == Decimal(token).as_tuple()
    # What dumps writes for it reads back as the same number.
    assert loads(dumps([value]).encode()) == [value]


@pytest.mark.parametrize(
    "token",
    [
        "1" * (MAX_DIGITS + 1),
        "1." + "0" * (MAX_DIGITS - 1) + "1",  # 257 significant digits
        "1" + "0" * (MAX_EXPONENT + 1),  # 1e401 written out
        "1." + "0" * (MAX_DIGITS + MAX_EXPONENT),  # 657 digits in all
        "1e401",
        "1e-401",
        "0e-401",
        "0." + "0" * 400 + "1",
    ],
)
def test_bound_edges_outside(token: str) -> None:
    with pytest.raises(DecodeError, match="out of range"):
        kraken_ws.decode(book_frame(qty=token))


@pytest.mark.parametrize(
    "text",
    [
        '"1e999999999"',
        '"x:1e999999999"',
        '",1e999999999"',
        '"[-1E+999999999]"',
        '"' + "1" * 100 + '"',
        '"6d1b345e-2821-40e2-ad83-4ecb18a06876"',
    ],
)
def test_numbers_inside_strings_are_text(text: str) -> None:
    frame = b'{"channel":"heartbeat","note":' + text.encode() + b"}"
    message = kraken_ws.decode(frame)
    assert message.model_extra == {"note": loads(text.encode())}


def test_negative_zero_deletes_a_level_like_zero() -> None:
    book = OrderBook("BTC/USD", 10)
    book.apply(kraken_ws.decode(book_frame().replace(b'"update"', b'"snapshot"')))
    assert len(book) == 1
    book.apply(kraken_ws.decode(book_frame(qty="-0.00000000")))
    assert len(book) == 0


def test_recorded_frames_all_decode_within_the_bound() -> None:
    for name in ("third_party_server_frames.jsonl", "reference_frames.jsonl"):
        for frame in raw_frames(name):
            loads(frame)  # raises NumberOutOfRange otherwise


# --- property: inside round-trips exactly, outside is a DecodeError -----------------------------

coefficients = st.integers(min_value=0, max_value=10 ** (MAX_DIGITS + 3))
trailing_zeros = st.integers(min_value=0, max_value=5) | st.integers(min_value=380, max_value=450)
exponents = st.integers(min_value=-MAX_EXPONENT - 60, max_value=MAX_EXPONENT + 60) | st.integers(
    min_value=-(10**9), max_value=10**9
)


def reference_in_range(value: Decimal) -> bool:
    """The bound, written independently of the implementation."""
    digits = "".join(map(str, value.as_tuple().digits))
    significant = digits.rstrip("0") or "0"
    return (
        -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT
        and len(significant) <= MAX_DIGITS
        and len(digits) <= MAX_DIGITS + MAX_EXPONENT
    )


@settings(max_examples=400, deadline=None)
@given(
    coefficients,
    trailing_zeros,
    exponents,
    st.booleans(),
    st.sampled_from(["positional", "scientific"]),
)
def test_numbers_inside_round_trip_and_outside_fail(
    coefficient: int, zeros: int, exponent: int, negative: bool, form: str
) -> None:
    digits = tuple(int(d) for d in str(coefficient)) + (0,) * zeros
    generated = Decimal((int(negative), digits, exponent))
    if form == "positional" and -MAX_EXPONENT - 60 <= exponent <= MAX_EXPONENT + 60:
        token = format(generated, "f")  # "0E+401" becomes "0", in range
    else:
        token = str(generated)  # scientific when needed: "1.5E+3", "1E-8"
    expected = Decimal(token)
    frame = ticker_frame(token)
    inside = reference_in_range(expected)
    assert number_in_range(expected) == inside
    if inside:
        message = kraken_ws.decode(frame, strict=True)
        value = message.data[0].last  # type: ignore[union-attr]
        if "." in token or "E" in token:
            # The same digits and exponent as the token, not just the same value.
            assert value.as_tuple() == expected.as_tuple()
        else:
            assert value == expected  # an int token
        # Written back positionally and read again: the same number.
        again = loads(dumps({"v": value}).encode())["v"]
        assert again == expected
    else:
        started = time.perf_counter()
        with pytest.raises(DecodeError, match="out of range"):
            kraken_ws.decode(frame)
        assert time.perf_counter() - started < FAST
        with pytest.raises(NumberOutOfRange):
            format_decimal(expected)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=-(10**45), max_value=10**45)
    | st.integers(min_value=10 ** (MAX_DIGITS - 2), max_value=10 ** (MAX_EXPONENT + 2))
)
def test_integers(value: int) -> None:
    frame = (
        b'{"channel":"status","type":"update","data":[{"api_version":"v2",'
        b'"connection_id":%d,"system":"online","version":"2.0.0"}]}' % value
    )
    if len(str(abs(value)).rstrip("0")) <= MAX_DIGITS and abs(value) < 10 ** (MAX_EXPONENT + 1):
        message = kraken_ws.decode(frame, strict=True)
        assert message.data[0].connection_id == value  # type: ignore[union-attr]
    else:
        with pytest.raises(DecodeError, match="out of range"):
            kraken_ws.decode(frame)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_is_inside(value: float) -> None:
    # JSON written by any float-based encoder still decodes.
    message = kraken_ws.decode(ticker_frame(repr(value)), strict=True)
    assert message.data[0].last == Decimal(repr(value))  # type: ignore[union-attr]


# --- outbound: the same bound, as a validation error naming the field ------------------------


def _order(**params: Any) -> dict[str, Any]:
    base = {
        "order_type": "limit",
        "side": "buy",
        "order_qty": Decimal("1.5"),
        "limit_price": Decimal("62000.1"),
        "symbol": "BTC/USD",
    }
    return {"method": "add_order", "params": {**base, **params}, "req_id": 7}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("limit_price", Decimal("1e999999999")),
        ("limit_price", Decimal("1e-999999999")),
        ("limit_price", "1e999999999"),
        ("order_qty", Decimal("1e999999999")),
        ("order_qty", Decimal("1." + "1" * MAX_DIGITS)),
    ],
)
def test_outbound_number_out_of_range_names_the_field(field: str, value: object) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ValidationError) as info:
            encode(_order(**{field: value}))
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < FAST
    assert peak < 5_000_000
    errors = info.value.errors()
    assert [e["loc"] for e in errors] == [("params", field)]
    assert errors[0]["type"] == "number_out_of_range"
    assert f"at most {MAX_DIGITS} significant digits" in str(info.value)


def test_outbound_model_and_batch() -> None:
    from kraken_ws.models.methods.add_order import AddOrderParams, AddOrderRequest

    request = AddOrderRequest(
        params=AddOrderParams(
            order_type="limit",
            side="buy",
            order_qty=Decimal("1.5"),
            limit_price=Decimal("1e999999999"),
            symbol="BTC/USD",
        )
    )
    with pytest.raises(ValidationError, match=r"params\.limit_price"):
        codec.validate_request(request)
    batch = {
        "method": "batch_add",
        "params": {
            "symbol": "BTC/USD",
            "orders": [
                {"order_type": "limit", "side": "buy", "order_qty": "1", "limit_price": "1"},
                {"order_type": "limit", "side": "buy", "order_qty": "1", "limit_price": "1e-999"},
            ],
        },
    }
    with pytest.raises(ValidationError, match=r"params\.orders\.1\.limit_price"):
        encode(batch)


def test_outbound_inside_the_bound_is_unchanged() -> None:
    text = encode(_order(order_qty=Decimal("12345678901.12345678"), limit_price=Decimal("1E-8")))
    assert '"order_qty":12345678901.12345678' in text
    assert '"limit_price":0.00000001' in text


def test_format_decimal_and_dumps_refuse_out_of_range() -> None:
    for value in (Decimal("1e999999999"), Decimal("1e-999999999"), Decimal("1" * 257)):
        with pytest.raises(NumberOutOfRange):
            format_decimal(value)
        with pytest.raises(NumberOutOfRange):
            dumps({"v": value})
    for number in (10**MAX_DIGITS + 1, 10 ** (MAX_EXPONENT + 1), -(10 ** (MAX_DIGITS + 1)) - 7):
        with pytest.raises(NumberOutOfRange):
            dumps([number])
    text = dumps([10**MAX_DIGITS - 1, 10**MAX_EXPONENT, Decimal("1e400")])
    assert loads(text.encode()) == [10**MAX_DIGITS - 1, 10**MAX_EXPONENT, 10**MAX_EXPONENT]
    assert format_decimal(Decimal("1" * 40)) == "1" * 40


# --- the checksum path on its own ---------------------------------------------------------------


def test_checksum_token_never_writes_an_unbounded_number() -> None:
    started = time.perf_counter()
    token = checksum_token(Decimal("1e999999999"))
    assert time.perf_counter() - started < FAST
    assert len(token) < 20  # the exponent form: it cannot match, the book resyncs
    assert checksum_token(Decimal("1E-8")) == "1"
    with pytest.raises(ValueError, match="precision"):
        checksum_token(Decimal("1.5"), 10**9)


def test_hand_built_book_with_an_absurd_price_fails_its_checksum_fast() -> None:
    book = OrderBook("BTC/USD", 10)
    frame = BookSnapshot.model_validate(
        {
            "channel": "book",
            "type": "snapshot",
            "data": [
                {
                    "symbol": "BTC/USD",
                    "bids": [],
                    "asks": [{"price": Decimal("1e999999999"), "qty": Decimal(1)}],
                    "checksum": 1,
                }
            ],
        }
    )
    started = time.perf_counter()
    result = book.apply(frame.data[0], snapshot=True)
    assert time.perf_counter() - started < FAST
    assert not result.checksum_ok


def test_unknown_frames_keep_numbers_inside_the_bound() -> None:
    message = kraken_ws.decode(b'{"channel":"futures","data":[1e400,-1e-400,12]}')
    assert isinstance(message, UnknownMessage)
    assert message.raw["data"] == [Decimal("1e400"), Decimal("-1e-400"), 12]
