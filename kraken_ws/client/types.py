"""The types a client user writes in signatures: events, callbacks, numbers, params unions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeAlias

from ..events import Endpoint, LifecycleEvent
from ..models.channels.balances import BalancesSubscribeParams, BalancesUnsubscribeParams
from ..models.channels.book import BookSubscribeParams, BookUnsubscribeParams
from ..models.channels.executions import ExecutionsSubscribeParams, ExecutionsUnsubscribeParams
from ..models.channels.instrument import InstrumentSubscribeParams, InstrumentUnsubscribeParams
from ..models.channels.level3 import Level3SubscribeParams, Level3UnsubscribeParams
from ..models.channels.ohlc import OhlcSubscribeParams, OhlcUnsubscribeParams
from ..models.channels.ticker import TickerSubscribeParams, TickerUnsubscribeParams
from ..models.channels.trade import TradeSubscribeParams, TradeUnsubscribeParams
from ..models.common import PRIVATE_CHANNELS
from ..models.messages import ChannelFrame

__all__ = [
    "ClientEvent",
    "EventCallback",
    "Number",
    "SubscribeParamsModel",
    "UnsubscribeParamsModel",
    "endpoint_for_channel",
]

ClientEvent: TypeAlias = ChannelFrame | LifecycleEvent
"""What the client yields: a typed channel frame (``BookUpdate``, ``ExecutionsUpdate``,
``Heartbeat``, ...) or a lifecycle event (``Connected``, ``Disconnected``, ...)."""

EventCallback: TypeAlias = Callable[[ClientEvent], Awaitable[None] | None]
"""``on_event`` callback: plain function or coroutine function."""

Number: TypeAlias = Decimal | int | str | float
"""A price or quantity as the user may pass it; converted exactly (floats via their repr)."""

SubscribeParamsModel: TypeAlias = (
    TickerSubscribeParams
    | BookSubscribeParams
    | Level3SubscribeParams
    | OhlcSubscribeParams
    | TradeSubscribeParams
    | InstrumentSubscribeParams
    | ExecutionsSubscribeParams
    | BalancesSubscribeParams
)
"""Params of any ``subscribe``."""

UnsubscribeParamsModel: TypeAlias = (
    TickerUnsubscribeParams
    | BookUnsubscribeParams
    | Level3UnsubscribeParams
    | OhlcUnsubscribeParams
    | TradeUnsubscribeParams
    | InstrumentUnsubscribeParams
    | ExecutionsUnsubscribeParams
    | BalancesUnsubscribeParams
)
"""Params of any ``unsubscribe``."""


def endpoint_for_channel(channel: str) -> Endpoint:
    """Which endpoint serves a channel (``level3`` has its own; private ones are on auth)."""
    if channel == "level3":
        return "l3"
    if channel in PRIVATE_CHANNELS:
        return "auth"
    return "public"
