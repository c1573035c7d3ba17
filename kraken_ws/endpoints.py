"""Kraken's production addresses, in one place.

The client's defaults, the CLI's ``--live`` and the python-kraken-sdk facade all start from
these; tests never use them (there is no internet there: they point everything at a
`LocalExchange`).
"""

from __future__ import annotations

__all__ = ["KRAKEN_AUTH_WS_URL", "KRAKEN_L3_WS_URL", "KRAKEN_REST_URL", "KRAKEN_WS_URL"]

KRAKEN_WS_URL = "wss://ws.kraken.com/v2"
"""Public WebSocket v2 endpoint (market data)."""

KRAKEN_AUTH_WS_URL = "wss://ws-auth.kraken.com/v2"
"""Authenticated WebSocket v2 endpoint (private channels, trading)."""

KRAKEN_L3_WS_URL = "wss://ws-l3.kraken.com/v2"
"""Level3 (order-by-order book) WebSocket v2 endpoint."""

KRAKEN_REST_URL = "https://api.kraken.com"
"""REST base, for the WebSocket token (``/0/private/GetWebSocketsToken``)."""
