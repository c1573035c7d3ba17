"""Enumerations of the Kraken v2 protocol as ``Literal`` aliases.

They cost nothing at runtime, become ``enum`` in JSON Schema, and let users pass plain strings.
Outbound models validate against them strictly. Inbound models use them only where the set is a
closed protocol fact; open-ended server enums (``exec_type``, ``order_status``, ledger types, ...)
are typed ``str`` on inbound models so that a value Kraken adds tomorrow never drops a fill; the
``Known*`` aliases below list the documented values for comparison.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

__all__ = [
    "BOOK_DEPTHS",
    "L3_CHANNELS",
    "L3_DEPTHS",
    "LIMIT_PRICE_ORDER_TYPES",
    "OHLC_INTERVALS",
    "PRIVATE_CHANNELS",
    "PUBLIC_CHANNELS",
    "TRADING_METHODS",
    "TRIGGERED_ORDER_TYPES",
    "BookDepth",
    "Channel",
    "ConditionalOrderType",
    "EventTrigger",
    "ExecutionVenue",
    "FeePreference",
    "KnownAssetStatus",
    "KnownExecType",
    "KnownOrderStatus",
    "KnownPairStatus",
    "L3Depth",
    "LiquidityInd",
    "Method",
    "OhlcInterval",
    "OrderType",
    "PriceType",
    "ReportTimeInForce",
    "Side",
    "StpType",
    "SystemStatus",
    "TimeInForce",
    "TriggerReference",
]

Side: TypeAlias = Literal["buy", "sell"]
"""Order side."""

OrderType: TypeAlias = Literal[
    "limit",
    "market",
    "iceberg",
    "stop-loss",
    "stop-loss-limit",
    "take-profit",
    "take-profit-limit",
    "trailing-stop",
    "trailing-stop-limit",
    "settle-position",
]
"""Every order type ``add_order`` accepts
(https://docs.kraken.com/api/docs/websocket-v2/add_order)."""

LIMIT_PRICE_ORDER_TYPES: frozenset[str] = frozenset(
    {"limit", "iceberg", "stop-loss-limit", "take-profit-limit", "trailing-stop-limit"}
)
"""Order types that carry a ``limit_price``."""

TRIGGERED_ORDER_TYPES: frozenset[str] = frozenset(
    {
        "stop-loss",
        "stop-loss-limit",
        "take-profit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
    }
)
"""Order types that need ``triggers``."""

ConditionalOrderType: TypeAlias = Literal[
    "limit",
    "stop-loss",
    "stop-loss-limit",
    "take-profit",
    "take-profit-limit",
    "trailing-stop",
    "trailing-stop-limit",
]
"""Order types allowed for an OTO ``conditional`` close order."""

TimeInForce: TypeAlias = Literal["gtc", "gtd", "ioc", "fok"]
"""Request time in force. ``fok`` appears only in the newest docs (Jul 2026) and is limit-only;
older docs say gtc/gtd/ioc, so whether Kraken's WebSocket API takes ``fok`` is unconfirmed."""

ReportTimeInForce: TypeAlias = Literal["GTC", "GTD", "IOC", "FOK"]
"""Time in force as written in execution reports (uppercase)."""

StpType: TypeAlias = Literal["cancel_newest", "cancel_oldest", "cancel_both"]
"""Self-trade prevention mode."""

FeePreference: TypeAlias = Literal["base", "quote"]
"""Currency in which fees are preferably charged."""

PriceType: TypeAlias = Literal["static", "pct", "quote"]
"""How a limit or trigger price is expressed: absolute, percent offset or quote offset."""

TriggerReference: TypeAlias = Literal["last", "index"]
"""Price that triggers a stop/take-profit/trailing order."""

EventTrigger: TypeAlias = Literal["trades", "bbo"]
"""When the ticker channel updates."""

BookDepth: TypeAlias = Literal[10, 25, 100, 500, 1000]
"""Depths the ``book`` channel accepts."""

L3Depth: TypeAlias = Literal[10, 100, 1000]
"""Depths the ``level3`` channel accepts."""

OhlcInterval: TypeAlias = Literal[1, 5, 15, 30, 60, 240, 1440, 10080, 21600]
"""Candle intervals in minutes."""

# The same rules as values, for code that checks or lists them (the CLI, replay, the local
# exchange): read from the Literals above, so there is one place to change.
BOOK_DEPTHS: tuple[int, ...] = get_args(BookDepth)
"""Every ``book`` depth, ascending."""
L3_DEPTHS: tuple[int, ...] = get_args(L3Depth)
"""Every ``level3`` depth, ascending."""
OHLC_INTERVALS: tuple[int, ...] = get_args(OhlcInterval)
"""Every ``ohlc`` interval in minutes, ascending."""

SystemStatus: TypeAlias = Literal["online", "cancel_only", "maintenance", "post_only"]
"""Trading engine status pushed on the ``status`` channel."""

LiquidityInd: TypeAlias = Literal["m", "t"]
"""Maker or taker."""

KnownExecType: TypeAlias = Literal[
    "pending_new",
    "new",
    "trade",
    "filled",
    "iceberg_refill",
    "canceled",
    "expired",
    "amended",
    "restated",
    "status",
]
"""Documented ``exec_type`` values (inbound field is ``str``)."""

KnownOrderStatus: TypeAlias = Literal[
    "pending_new", "new", "partially_filled", "filled", "canceled", "expired"
]
"""Documented ``order_status`` values (inbound field is ``str``)."""

KnownPairStatus: TypeAlias = Literal[
    "cancel_only",
    "delisted",
    "limit_only",
    "maintenance",
    "online",
    "post_only",
    "reduce_only",
    "work_in_progress",
]
"""Documented instrument pair statuses (inbound field is ``str``)."""

KnownAssetStatus: TypeAlias = Literal[
    "depositonly",
    "disabled",
    "enabled",
    "fundingtemporarilydisabled",
    "withdrawalonly",
    "workinprogress",
]
"""Documented instrument asset statuses (inbound field is ``str``)."""

ExecutionVenue: TypeAlias = Literal["international", "bitnomial-exchange"]
"""Instrument channel execution venue."""

Channel: TypeAlias = Literal[
    "status",
    "heartbeat",
    "ticker",
    "book",
    "level3",
    "ohlc",
    "trade",
    "instrument",
    "executions",
    "balances",
]
"""Every v2 channel name."""

PUBLIC_CHANNELS: frozenset[str] = frozenset({"ticker", "book", "ohlc", "trade", "instrument"})
PRIVATE_CHANNELS: frozenset[str] = frozenset({"executions", "balances"})
L3_CHANNELS: frozenset[str] = frozenset({"level3"})

Method: TypeAlias = Literal[
    "subscribe",
    "unsubscribe",
    "ping",
    "add_order",
    "amend_order",
    "edit_order",
    "cancel_order",
    "cancel_all",
    "cancel_all_orders_after",
    "batch_add",
    "batch_cancel",
]
"""Every v2 request method."""

TRADING_METHODS: frozenset[str] = frozenset(
    {
        "add_order",
        "amend_order",
        "edit_order",
        "cancel_order",
        "cancel_all",
        "cancel_all_orders_after",
        "batch_add",
        "batch_cancel",
    }
)
"""Methods that need the auth endpoint and a token."""
