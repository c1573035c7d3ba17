"""Kraken's checksum algorithm against its published vectors (reference §8)."""

from __future__ import annotations

import doctest
import zlib
from decimal import Decimal

import pytest

from kraken_ws.book import L3Book, OrderBook, checksum
from kraken_ws.book.checksum import (
    LevelTokens,
    book_checksum,
    checksum_string,
    checksum_token,
    level3_checksum,
    level3_checksum_string,
    level_token,
)

from .helpers import load_models

VECTOR_A_ASKS = (
    "45285210000045286415457195345286615457110945289615456091145290215890660452918154553491"
    "452947445474945296135380000452975994554245299518772827"
)
VECTOR_A_BIDS = (
    "452835100000004528341545820154528211000000045281010000000452803154592586452790799000045"
    "277633101034527753000000045277315460273745276615445238"
)
VECTOR_C_ASKS = (
    "44939545230839344939511126144939510000044939510000004495001033492644953064537449550250000"
    "449596356300004495963563000044960133807244960288967575449670314392283449785677896044979235630000"
)
VECTOR_C_BIDS = (
    "449394889686994493944521000044939410000000449394142963234493942500000044939410292988449394"
    "338800004493941281408604493713346877449347356300004493022273429944930210000004493025550000"
    "449302700000004493021500000044928010524044919633870000449195761000044912035630000449097669000"
    "044901988982"
)


def test_crc32_check_value() -> None:
    assert zlib.crc32(b"123456789") == 0xCBF43926


def test_module_docstring_examples() -> None:
    failed, attempted = doctest.testmod(checksum)
    assert attempted > 0
    assert failed == 0


class TestToken:
    """``fmt(x)``: digits without the point and without leading zeros, never an exponent."""

    @pytest.mark.parametrize(
        ("text", "precision", "token"),
        [
            ("45285.2", None, "452852"),
            ("0.00100000", None, "100000"),
            ("62807.0", None, "628070"),
            ("0E-8", None, ""),
            ("1E-8", None, "1"),
            ("1E-8", 8, "1"),
            ("1E+2", None, "100"),
            ("0.566", 4, "5660"),
            ("18097.1547", 8, "1809715470000"),
            ("29431", 1, "294310"),
            ("4.0", 8, "400000000"),
            ("0.12345", 4, "12345"),  # more digits than the precision: padded, never rounded
            ("0.5666", 0, "5666"),
        ],
    )
    def test_token(self, text: str, precision: int | None, token: str) -> None:
        assert checksum_token(Decimal(text), precision) == token

    def test_exponent_forms_never_leak(self) -> None:
        for text in ("0E-8", "1E-8", "5E-5", "1.5E+3"):
            assert "E" not in checksum_token(Decimal(text))


class TestVectorA:
    """Kraken's book checksum guide (BTC/USD), full-precision number tokens."""

    def test_strings_and_checksum(self) -> None:
        (snapshot,) = load_models("book-vector-a.jsonl")
        data = snapshot.data[0]
        asks = [(lv.price, lv.qty) for lv in data.asks]
        bids = [(lv.price, lv.qty) for lv in data.bids]
        assert checksum_string(asks, []) == VECTOR_A_ASKS
        assert checksum_string([], bids) == VECTOR_A_BIDS
        assert len(checksum_string(asks, bids)) == 281
        assert book_checksum(asks, bids) == 3310070434 == data.checksum
        # Input order does not matter: the functions sort.
        assert book_checksum(reversed(asks), reversed(bids)) == 3310070434

    def test_engine(self) -> None:
        (snapshot,) = load_models("book-vector-a.jsonl")
        book = OrderBook("BTC/USD", 10)
        result = book.apply(snapshot)
        assert result.checksum_ok
        assert result.computed == result.expected == 3310070434
        assert book.is_valid


class TestVectorB:
    """MATIC/USD book page example: trailing zeros dropped, precisions 4/8 restore them."""

    def test_needs_instrument_precisions(self) -> None:
        instrument, snapshot, update = load_models("book-vector-b.jsonl")
        (pair,) = instrument.data.pairs
        assert (pair.price_precision, pair.qty_precision) == (4, 8)
        book = OrderBook(
            "MATIC/USD", 10, price_precision=pair.price_precision, qty_precision=pair.qty_precision
        )
        first = book.apply(snapshot)
        assert first.checksum_ok
        assert first.computed == 2439117997
        second = book.apply(update)
        assert second.checksum_ok
        assert second.computed == 2114181697

    def test_without_precisions_is_the_float_repr_result(self) -> None:
        _, snapshot, _ = load_models("book-vector-b.jsonl")
        book = OrderBook("MATIC/USD", 10)
        result = book.apply(snapshot)
        assert not result.checksum_ok
        assert result.computed == 3830085102
        assert not book.is_valid

    def test_set_precision_later(self) -> None:
        _, snapshot, update = load_models("book-vector-b.jsonl")
        book = OrderBook("MATIC/USD", 10)
        book.apply(snapshot)
        book.set_precision(4, 8)
        assert book.compute_checksum() == 2439117997
        assert book.apply(update).checksum_ok

    def test_pure_function_with_precisions(self) -> None:
        _, snapshot, _ = load_models("book-vector-b.jsonl")
        data = snapshot.data[0]
        asks = [(lv.price, lv.qty) for lv in data.asks]
        bids = [(lv.price, lv.qty) for lv in data.bids]
        assert book_checksum(asks, bids, 4, 8) == 2439117997
        assert book_checksum(asks, bids) == 3830085102


class TestVectorC:
    """Kraken's L3 checksum guide (BTC/USD): every order of the top 10 levels, queue order."""

    def test_strings_and_checksum(self) -> None:
        (snapshot,) = load_models("level3-vector-c.jsonl")
        data = snapshot.data[0]
        asks = [(o.limit_price, o.order_qty) for o in data.asks]
        bids = [(o.limit_price, o.order_qty) for o in data.bids]
        assert level3_checksum_string(asks, []) == VECTOR_C_ASKS
        assert level3_checksum_string([], bids) == VECTOR_C_BIDS
        assert level3_checksum(asks, bids) == 1063832831 == data.checksum

    def test_engine(self) -> None:
        (snapshot,) = load_models("level3-vector-c.jsonl")
        book = L3Book("BTC/USD", 10)
        result = book.apply(snapshot)
        assert result.checksum_ok
        assert result.computed == 1063832831
        assert book.is_valid


_TOKEN_VALUES = ["0", "0.0", "5", "0.1", "0.10", "12.345", "100.00", "0.00000001", "1E-8", "0E-8"]
_TOKEN_VALUES += ["1E+3", "123456.7", "0.12345678", "0.123456789", "007.50"]


@pytest.mark.parametrize("precisions", [(None, None), (0, 0), (1, 8), (2, 3), (9, 1)])
def test_level_token_is_both_checksum_tokens(precisions: tuple[int | None, int | None]) -> None:
    # level_token skips checksum_token when the text needs no padding: the same token always
    # (digits at, above and below each precision, exponent forms, leading zeros).
    price_precision, qty_precision = precisions
    for price in map(Decimal, _TOKEN_VALUES):
        for qty in map(Decimal, _TOKEN_VALUES):
            assert level_token(price, qty, price_precision, qty_precision) == checksum_token(
                price, price_precision
            ) + checksum_token(qty, qty_precision)


@pytest.mark.parametrize("precisions", [(None, None), (0, 0), (1, 8), (2, 3), (9, 1)])
def test_level_tokens_render_is_level_token(precisions: tuple[int | None, int | None]) -> None:
    # LevelTokens caches price parts by text: every pair twice (cold, then from the cache) gives
    # level_token's bytes, and so does a cache that was emptied at its bound in between.
    price_precision, qty_precision = precisions
    tokens = LevelTokens(price_precision, qty_precision)
    for _ in range(2):
        for price in map(Decimal, _TOKEN_VALUES):
            for qty in map(Decimal, _TOKEN_VALUES):
                expected = level_token(price, qty, price_precision, qty_precision)
                assert tokens.render(price, qty) == expected.encode("ascii")


def test_level_tokens_cache_is_bounded() -> None:
    tokens = LevelTokens(1, 8)
    for i in range(3 * checksum._PARTS_MAX):
        price = Decimal(f"{i}.5")
        assert tokens.render(price, Decimal("0.1")) == f"{i}510000000".lstrip("0").encode()
        assert len(tokens._parts) <= checksum._PARTS_MAX
