"""Shared type aliases used across the package."""

from __future__ import annotations

from typing import Any, TypeAlias

#: A Kraken v2 symbol such as ``"BTC/USD"``.
Symbol: TypeAlias = str
#: A request id: a JSON integer echoed by the server.
ReqId: TypeAlias = int
#: A decoded JSON object (numbers as ``int`` or exact ``Decimal``).
JSONObject: TypeAlias = dict[str, Any]
#: Any decoded JSON value.
JSONValue: TypeAlias = Any
