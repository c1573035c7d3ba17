"""Lossless JSON: exact ``Decimal``/``int`` numbers in, the same digits out.

This is the only module that turns wire text into Python values. pydantic's
``model_validate_json`` is never used on wire data because it parses numbers as binary floats
first (``4.00000000`` becomes ``4``, ``123456789.123456789123`` loses digits).

Number bound
============

Every number crossing this module, in either direction, must satisfy `number_in_range`:

* finite: ``NaN``/``Infinity`` literals are not JSON and are refused by the parser itself;
* an adjusted exponent (the power of ten of its leading digit, ``Decimal.adjusted()``) within
  ``±```MAX_EXPONENT` (400);
* at most `MAX_DIGITS` (256) significant digits (``12345678901.12345678`` has
  nineteen, ``0.00000000`` one; trailing zeros are not significant, so ``1E+300`` written out
  as a 301-digit integer is in range, as it must be for `dumps` output to read back);
* at most `MAX_DIGITS` + `MAX_EXPONENT` (656) digits in all, so trailing zeros
  cannot pad a number without bound either.

An ``int`` is a number like any other: ``|n| < 10**256`` is always in range.

Why. A number's cost must not depend on its exponent. ``1e999999999`` is 11 bytes of JSON, a
cheap ``Decimal``, and 1 GB of text the moment anything writes it positionally (the book
checksum does, and so does `dumps`); ``int()`` of it never finishes. Within the bound the
positional text of any number is under 1,100 characters, and whatever `dumps` writes,
`loads` reads back.

Why these figures. Kraken's numbers are far inside them: prices and quantities carry up to
about 12 integer digits and 10 decimals (PEPE quantities exceed 10^9, steps go down to
``1e-08``), and the largest integer, ``status.connection_id``, has 20 digits (more than int64,
which is why ints are not bounded by 2^64). The exponent bound is deliberately as wide as IEEE
doubles (``5e-324`` to ``1.8e308``, 17 significant digits): JSON written by any float-based
encoder (a proxy, a recording tool, a test) still decodes, while the cost stays bounded. The
digit count does not drive the cost (a long number costs time linear in its length, like a
long string); it is bounded so that no number is absurd, at 256 rather than, say, 40 because
then no frame shorter than 257 bytes can break it (95% of live book frames are shorter) and the
scan below skips that part for them: about 0.2 µs, 2% of a book update's whole decode + apply.
Huge integer literals never reach Python (the parser refuses more than 4,300 digits, and
anything over 256 significant digits fails the bound); nesting deeper than the parser's
recursion limit (about 200) and invalid text are a plain parse error. Negative zero (``-0.0``)
is a finite, bounded number and is kept as it is (``-0.00`` is a plausible ``change_pct``).

Where. The check lives here, in the JSON layer, rather than in ``WireDecimal`` validation:

* it covers every number of every frame, including ``int`` fields, fields no model declares
  (kept by ``extra="allow"``) and `UnknownMessage` payloads;
* it costs one ``bytes.translate`` of the frame and one or two searches, all in C: about
  0.4 µs per frame on the development VM's CPython 3.11 (not built with PGO; each C call from
  Python costs ~0.15 µs there), about 5% of a one-level book update's decode + apply +
  checksum (8.5 µs). A per-field validator would cost more: a Python call for each of the
  four ``Decimal`` s of the smallest update;
* a number out of bound needs more than 256 characters of digits, sign and point, or an
  exponent of three digits or more, so the scan flags every candidate frame; only a flagged
  frame (a hostile one, or a string that happens to hold "e123" or a UUID) is walked in Python
  and checked exactly.

Outbound, `kraken_ws.protocol.codec.validate_request` refuses a request with a number
out of bound with a ``ValidationError`` naming the field, and `format_decimal` refuses
to write one, so a response echoing it could always be decoded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Context, Decimal, Inexact, Rounded
from typing import Any

import jiter

__all__ = [
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "NumberOutOfRange",
    "dumps",
    "format_decimal",
    "loads",
    "number_in_range",
]

MAX_DIGITS = 256
"""Most significant digits a number may have (see the module docstring)."""

MAX_EXPONENT = 400
"""Largest magnitude of a number's adjusted exponent (see the module docstring)."""

_MAX_COEFFICIENT = MAX_DIGITS + MAX_EXPONENT
_SIGNIFICANT = Context(prec=MAX_DIGITS, traps=[Inexact])
_COEFFICIENT = Context(prec=_MAX_COEFFICIENT, traps=[Rounded])
_INT_LIMIT: int = 10**MAX_DIGITS  # every int below is in range
_INT_MAX: int = 10 ** (MAX_EXPONENT + 1)  # and none from here on


class NumberOutOfRange(ValueError):
    """A number is outside the bound of this module (see the module docstring)."""


def number_in_range(value: Decimal | int | float) -> bool:
    """Whether ``value`` is inside the bound of this module (see the module docstring)."""
    if isinstance(value, int):  # bool included: True and False are in range
        if -_INT_LIMIT < value < _INT_LIMIT:
            return True
        if not -_INT_MAX < value < _INT_MAX:
            return False
        return len(str(abs(value)).rstrip("0")) <= MAX_DIGITS
    if isinstance(value, float):
        # Every finite double is inside the bound (17 digits, exponents -324..308).
        return value - value == 0.0
    if not value.is_finite():
        return False
    if not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        return False
    # Rounding in C (libmpdec) rather than as_tuple(), which builds a Python tuple of every
    # digit (43 ms for a million): rounding to MAX_DIGITS must lose no non-zero digit (trailing
    # zeros are not significant), and the whole coefficient must fit _MAX_COEFFICIENT.
    try:
        _SIGNIFICANT.plus(value)
        _COEFFICIENT.plus(value)
    except (Inexact, Rounded):
        return False
    return True


def _describe(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else f"{text[:28]}...{text[-28:]} ({len(text)} characters)"


def _out_of_range(value: object) -> NumberOutOfRange:
    return NumberOutOfRange(
        f"number out of range: {_describe(value)} (at most {MAX_DIGITS} significant digits "
        f"and an exponent within ±{MAX_EXPONENT})"
    )


def _check_tree(value: object) -> None:
    # Only for frames the byte scan flagged. Recursion is bounded by jiter's nesting limit.
    kind = type(value)
    if kind is dict:
        for item in value.values():  # type: ignore[attr-defined]
            if type(item) in _SCALARS_OK:
                continue
            _check_tree(item)
    elif kind is list:
        for item in value:  # type: ignore[attr-defined]
            if type(item) in _SCALARS_OK:
                continue
            _check_tree(item)
    elif (kind is Decimal or kind is int) and not number_in_range(value):  # type: ignore[arg-type]
        raise _out_of_range(value)


_SCALARS_OK = frozenset({str, bool, type(None)})


def _table(mapping: dict[bytes, bytes]) -> bytes:
    table = bytearray(b"x" * 256)
    for sources, target in mapping.items():
        for byte in sources:
            table[byte] = target[0]
    return bytes(table)


# The scan. A number out of bound is written either with more than 256 characters of digits,
# sign and point, or with an exponent of three digits or more: 256 characters and two exponent
# digits give at most 256 significant digits and an adjusted exponent within ±354. So in the
# frame translated with digits, point and sign as "0", e/E as "e" and anything else as "x",
# every such number shows as "e000" ("e-000", "e+000" included) or as 257 "0"s, which only a
# frame longer than 256 bytes can hold. Both are searched in C: sre's literal-prefix search for
# the first (it skips to each rare "e", twice as fast as bytes.find on a needle of frequent
# "0"s), bytes.find for the second. A string can hold "e123" or a dashed UUID ("...5e-2821..."):
# then the frame is checked exactly, no more. About 0.4 µs for a 200-byte book update, most of
# it the cost of calling C from Python (jiter's parse: 1.9 µs).
_FLAT = _table({b"0123456789.+-": b"0", b"eE": b"e"})
_LONG = b"0" * (MAX_DIGITS + 1)
_EXPONENT = re.compile(b"e000").search
_find = bytes.find
_translate = bytes.translate


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON text; floats become ``Decimal`` with their exact digits, ints stay ``int``.

    Raises:
        NumberOutOfRange: A number is outside the bound (module docstring); a ``ValueError``.
        ValueError: The text is not valid JSON (``NaN`` and ``Infinity`` included).
    """
    if type(data) is not bytes:  # websockets hands over bytes or str; bytes is the hot path
        data = data.encode() if isinstance(data, str) else bytes(data)
    # The parser refuses NaN/Infinity, integer literals over 4,300 digits and nesting over its
    # recursion limit; nothing it accepts costs more than linear time.
    obj = jiter.from_json(data, float_mode="decimal", cache_mode="keys", allow_inf_nan=False)
    flat = _translate(data, _FLAT)
    if _EXPONENT(flat) is not None or (len(data) > MAX_DIGITS and _find(flat, _LONG) >= 0):
        _check_tree(obj)
    return obj


def format_decimal(value: Decimal) -> str:
    """Render a finite ``Decimal`` as a JSON number with exactly its digits, never an exponent.

    ``Decimal("0E-8")`` renders ``0.00000000`` and ``Decimal("1E-8")`` renders ``0.00000001``.

    Raises:
        ValueError: The value is not finite.
        NumberOutOfRange: The value is outside the bound (module docstring): its text could
            be gigabytes long.
    """
    if not value.is_finite():
        raise ValueError(f"cannot encode non-finite decimal {value!r} as JSON")
    # The exponent check comes before any text exists (the text is then no longer than the
    # coefficient plus 402); a text of at most 256 characters has at most 256 digits, so only a
    # longer one needs the full check.
    if -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        text = format(value, "f")
        if len(text) <= MAX_DIGITS or number_in_range(value):
            return text
    raise _out_of_range(value)


_encode_str = json.encoder.encode_basestring_ascii


def _write(value: Any, out: list[str]) -> None:
    # An explicit walk rather than json.dumps(default=...): the stdlib encoder can only emit a
    # Decimal through float() or as a quoted string, and both change what goes on the wire.
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -_INT_LIMIT < value < _INT_LIMIT and not number_in_range(value):
            raise _out_of_range(value)
        out.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("cannot encode NaN or infinity as JSON")
        out.append(repr(value))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    """Serialize to compact JSON text; ``Decimal`` values become number tokens with their digits.

    Raises:
        TypeError: A value has no JSON form.
        ValueError: A number is NaN or infinite.
        NumberOutOfRange: A number is outside the bound (module docstring).
    """
    out: list[str] = []
    _write(value, out)
    return "".join(out)
