"""Helpers for comparing wire JSON digit for digit."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def load_jsonl(name: str) -> list[dict[str, Any]]:
    """Lines of a tests/data JSONL file, decoded losslessly."""
    from kraken_ws.protocol._json import loads

    with (DATA / name).open("rb") as fh:
        return [loads(line) for line in fh if line.strip()]


def raw_frames(name: str) -> list[bytes]:
    """The ``frame`` of each line, as the exact wire text (sliced out of the line)."""
    out = []
    with (DATA / name).open("rb") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            start = line.index(b'"frame":') + len(b'"frame":')
            out.append(line[start:-1])
    return out


def digits_equal(a: Any, b: Any, path: str = "$") -> str | None:
    """Compare two decoded JSON values; numbers must have identical digits and exponent.

    A string holding a number (some doc paraphrases) equals the Decimal with the same digits,
    because the models type those fields as numbers and re-encode them as number tokens.
    Returns a description of the first difference, or None.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys differ: {sorted(set(a) ^ set(b))}"
        for key in a:
            diff = digits_equal(a[key], b[key], f"{path}.{key}")
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = digits_equal(x, y, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        return None if a is b else f"{path}: {a!r} != {b!r}"
    if isinstance(a, str) and isinstance(b, Decimal):
        a = Decimal(a)
    if isinstance(b, str) and isinstance(a, Decimal):
        b = Decimal(b)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        da = a if isinstance(a, Decimal) else Decimal(a)
        db = b if isinstance(b, Decimal) else Decimal(b)
        return None if da.as_tuple() == db.as_tuple() else f"{path}: {a!r} != {b!r}"
    if type(a) is not type(b) or a != b:
        return f"{path}: {a!r} != {b!r}"
    return None


def pretty(value: Any) -> str:
    return json.dumps(value, default=str)[:300]
