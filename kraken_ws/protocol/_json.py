"""Lossless JSON: exact ``Decimal``/``int`` numbers in, the same digits out.

This is the only module that turns wire text into Python values. pydantic's
``model_validate_json`` is never used on wire data because it parses numbers as binary floats
first (``4.00000000`` becomes ``4``, ``123456789.123456789123`` loses digits).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jiter

__all__ = ["dumps", "format_decimal", "loads"]


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON text; floats become ``Decimal`` with their exact digits, ints stay ``int``.

    Raises:
        ValueError: The text is not valid JSON.
    """
    if type(data) is not bytes:  # websockets hands over bytes or str; bytes is the hot path
        data = data.encode() if isinstance(data, str) else bytes(data)
    return jiter.from_json(data, float_mode="decimal", cache_mode="keys")


def format_decimal(value: Decimal) -> str:
    """Render a finite ``Decimal`` as a JSON number with exactly its digits, never an exponent.

    ``Decimal("0E-8")`` renders ``0.00000000`` and ``Decimal("1E-8")`` renders ``0.00000001``.
    """
    if not value.is_finite():
        raise ValueError(f"cannot encode non-finite decimal {value!r} as JSON")
    return format(value, "f")


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
    """
    out: list[str] = []
    _write(value, out)
    return "".join(out)
