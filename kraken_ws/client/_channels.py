"""Subscription methods of ``KrakenWSClient`` and its live books.

``subscribe``/``unsubscribe`` take a channel's params model; the ``subscribe_*`` helpers take
explicit keyword arguments. ``book()`` and ``level3()`` return books kept live by the client
(`._books`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..book.l2 import OrderBook
from ..book.l3 import L3Book
from ..book.live import BookChannel
from ..models.channels.balances import BalancesSubscribeParams
from ..models.channels.book import BookSubscribeParams
from ..models.channels.executions import ExecutionsSubscribeParams
from ..models.channels.instrument import InstrumentSubscribeParams
from ..models.channels.level3 import Level3SubscribeParams
from ..models.channels.ohlc import OhlcSubscribeParams
from ..models.channels.ticker import TickerSubscribeParams
from ..models.channels.trade import TradeSubscribeParams
from ..models.common import BookDepth, EventTrigger, ExecutionVenue, L3Depth, OhlcInterval
from ..models.methods.subscribe import SubscribeRequest, SubscribeSuccess
from ..models.methods.unsubscribe import UnsubscribeRequest, UnsubscribeSuccess
from ..protocol.subscriptions import TOKEN_CHANNELS
from ._base import ClientBase
from ._core import raise_for
from .types import SubscribeParamsModel, UnsubscribeParamsModel, endpoint_for_channel

__all__ = ["ChannelMethods"]


def _given(**fields: object) -> dict[str, object]:
    # Only what the caller passed goes into the model: "not given" never becomes a wire null.
    return {k: v for k, v in fields.items() if v is not None}


class ChannelMethods(ClientBase):
    """Subscriptions and live books (mixed into ``KrakenWSClient``)."""

    async def subscribe(
        self, params: SubscribeParamsModel, *, timeout: float | None = None
    ) -> list[SubscribeSuccess]:
        """Subscribe to a channel and wait for every ack (one per symbol).

        Args:
            params: The channel's params model, e.g. ``TickerSubscribeParams(symbol=[...])``.
            timeout: Seconds to wait for the acks.

        Returns:
            The success acks.

        Raises:
            SubscriptionError: A symbol was rejected (such as `AlreadySubscribed` or
                `UnsupportedPair`); the other symbols stay subscribed.
            SessionError: The token was refused twice.
            ConnectionLost: The connection dropped before every ack arrived. The subscription
                stays registered and is replayed on reconnect (a ``Resubscribed`` event follows);
                call `unsubscribe` to drop it.
        """
        # Before the request: frames that follow its ack are typed events (docs/books.md).
        self._core.live.subscribed(params.channel, getattr(params, "symbol", None) or [])
        return await self._subscribe(params, timeout)

    async def _subscribe(
        self, params: SubscribeParamsModel, timeout: float | None
    ) -> list[SubscribeSuccess]:
        channel = params.channel
        endpoint = endpoint_for_channel(channel)
        request = SubscribeRequest(params=params)
        completed = await self._core.request(
            endpoint, request, token=channel in TOKEN_CHANNELS, timeout=timeout, pace=True
        )
        acks: list[SubscribeSuccess] = []
        for response in completed.responses:
            raise_for(completed, response)
            if isinstance(response, SubscribeSuccess):
                acks.append(response)
        return acks

    async def unsubscribe(
        self, params: UnsubscribeParamsModel, *, timeout: float | None = None
    ) -> list[UnsubscribeSuccess]:
        """Unsubscribe and wait for every ack (one per symbol).

        Args:
            params: The channel's unsubscribe params model (repeat depth/interval/event_trigger).
            timeout: Seconds to wait.

        Returns:
            The success acks.

        Raises:
            SubscriptionError: A symbol was rejected.
        """
        channel = params.channel
        endpoint = endpoint_for_channel(channel)
        self._core.live.subscribed(channel, getattr(params, "symbol", None) or [], subscribed=False)
        completed = await self._core.request(
            endpoint,
            UnsubscribeRequest(params=params),
            token=channel in TOKEN_CHANNELS,
            timeout=timeout,
            pace=True,
        )
        acks: list[UnsubscribeSuccess] = []
        for response in completed.responses:
            raise_for(completed, response)
            if isinstance(response, UnsubscribeSuccess):
                acks.append(response)
        return acks

    async def subscribe_ticker(
        self,
        symbols: Sequence[str],
        *,
        event_trigger: EventTrigger | None = None,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``ticker`` (level 1) for ``symbols``.

        Args:
            symbols: Pairs, e.g. ``["BTC/USD"]``.
            event_trigger: ``"trades"`` (default) or ``"bbo"``.
            snapshot: Send a snapshot first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = TickerSubscribeParams.model_validate(
            _given(symbol=list(symbols), event_trigger=event_trigger, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_book(
        self,
        symbols: Sequence[str],
        *,
        depth: BookDepth | None = None,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``book`` (level 2) frames. For a maintained book use `book`.

        Args:
            symbols: Pairs.
            depth: 10 (default), 25, 100, 500 or 1000.
            snapshot: Send a snapshot first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = BookSubscribeParams.model_validate(
            _given(symbol=list(symbols), depth=depth, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_trade(
        self, symbols: Sequence[str], *, snapshot: bool | None = None, timeout: float | None = None
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``trade``.

        Args:
            symbols: Pairs.
            snapshot: Send the last 50 trades first (default false).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = TradeSubscribeParams.model_validate(
            _given(symbol=list(symbols), snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_ohlc(
        self,
        symbols: Sequence[str],
        *,
        interval: OhlcInterval,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``ohlc`` candles.

        Args:
            symbols: Pairs.
            interval: Candle minutes (1, 5, 15, 30, 60, 240, 1440, 10080, 21600).
            snapshot: Send recent candles first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = OhlcSubscribeParams.model_validate(
            _given(symbol=list(symbols), interval=interval, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_instrument(
        self,
        *,
        snapshot: bool | None = None,
        include_tokenized_assets: bool | None = None,
        execution_venue: ExecutionVenue | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``instrument`` reference data (also feeds book precisions).

        Args:
            snapshot: Send the reference data first (default true).
            include_tokenized_assets: Include xStocks.
            execution_venue: Venue filter.
            timeout: Seconds to wait for the ack.

        Returns:
            The ack.
        """
        params = InstrumentSubscribeParams.model_validate(
            _given(
                snapshot=snapshot,
                include_tokenized_assets=include_tokenized_assets,
                execution_venue=execution_venue,
            )
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_executions(
        self,
        *,
        snap_orders: bool | None = None,
        snap_trades: bool | None = None,
        order_status: bool | None = None,
        ratecounter: bool | None = None,
        rebased: bool | None = None,
        users: Literal["all"] | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``executions`` (orders and fills; auth endpoint, token added).

        Args:
            snap_orders: Include open orders in the snapshot (default true).
            snap_trades: Include the last 50 fills in the snapshot (default false).
            order_status: Every status transition (default true).
            ratecounter: Stream the rate counter.
            rebased: xStocks terms.
            users: ``"all"`` for master accounts.
            timeout: Seconds to wait for the ack.

        Returns:
            The ack.
        """
        params = ExecutionsSubscribeParams.model_validate(
            _given(
                snap_orders=snap_orders,
                snap_trades=snap_trades,
                order_status=order_status,
                ratecounter=ratecounter,
                rebased=rebased,
                users=users,
            )
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_balances(
        self,
        *,
        snapshot: bool | None = None,
        rebased: bool | None = None,
        users: Literal["all"] | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``balances`` (auth endpoint, token added).

        Args:
            snapshot: Send balances first (default true).
            rebased: xStocks terms.
            users: ``"all"`` for master accounts.
            timeout: Seconds to wait for the ack.

        Returns:
            The ack.
        """
        params = BalancesSubscribeParams.model_validate(
            _given(snapshot=snapshot, rebased=rebased, users=users)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_level3(
        self,
        symbols: Sequence[str],
        *,
        depth: L3Depth | None = None,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``level3`` frames (level3 endpoint, token added). See `level3`.

        Args:
            symbols: Pairs.
            depth: 10 (default), 100 or 1000.
            snapshot: Send a snapshot first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = Level3SubscribeParams.model_validate(
            _given(symbol=list(symbols), depth=depth, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    # --- books ------------------------------------------------------------------------------

    async def book(
        self,
        symbol: str,
        depth: BookDepth = 10,
        *,
        events: bool = False,
        timeout: float | None = None,
    ) -> OrderBook:
        """A live L2 book for ``symbol``, checksum-verified, resynced on mismatch.

        Subscribes ``book`` (once) and waits for the first verified snapshot. After a reconnect
        or a checksum mismatch the book is cleared (``is_valid`` false) until the next snapshot.

        The book's frames become typed events (``BookSnapshot``, ``BookUpdate``) only for
        consumers that take them: an ``events()`` stream whose filter accepts them, the
        client's own iterator once it is read, or, with ``events=True``, every consumer
        (``on_event`` included). Otherwise they are applied without building the models
        (docs/books.md#typed-events-of-a-live-book).

        Args:
            symbol: The pair.
            depth: Levels per side.
            events: Deliver this book's frames as typed events to every consumer, ``on_event``
                included, from the snapshot on.
            timeout: Seconds to wait for the snapshot.

        Returns:
            The live `OrderBook`.
        """
        return await self._live_book("book", symbol, depth, events, timeout)  # type: ignore[return-value]

    async def level3(
        self,
        symbol: str,
        depth: L3Depth = 10,
        *,
        events: bool = False,
        timeout: float | None = None,
    ) -> L3Book:
        """A live order-by-order book for ``symbol`` (level3 endpoint; needs credentials).

        Its frames become typed events as `book`'s do.

        Args:
            symbol: The pair.
            depth: Price levels per side.
            events: Deliver this book's frames as typed events to every consumer, ``on_event``
                included, from the snapshot on.
            timeout: Seconds to wait for the snapshot.

        Returns:
            The live `L3Book`.
        """
        return await self._live_book("level3", symbol, depth, events, timeout)  # type: ignore[return-value]

    async def _live_book(
        self, channel: BookChannel, symbol: str, depth: int, events: bool, timeout: float | None
    ) -> OrderBook | L3Book:
        timeout = self._core.request_timeout if timeout is None else timeout
        live = self._core.live
        if live.track(channel, symbol, depth, events=events):
            params: SubscribeParamsModel
            if channel == "book":
                params = BookSubscribeParams.model_validate({"symbol": [symbol], "depth": depth})
            else:
                params = Level3SubscribeParams.model_validate({"symbol": [symbol], "depth": depth})
            try:
                # Not subscribe(): these frames feed the book; they are events only for
                # consumers that take them.
                await self._subscribe(params, timeout)
            except BaseException:
                live.untrack(channel, symbol)
                raise
        return await live.wait_valid(channel, symbol, timeout)
