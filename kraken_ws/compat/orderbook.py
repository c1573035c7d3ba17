"""``SpotOrderBookClient``: python-kraken-sdk's order book client over `kraken_ws.book`.

The books are `OrderBook` engines kept by a
`BookManager`, fed the exact wire text of each ``book`` frame (lossless
decimals) in the order `SpotOrderBookClient.on_message` receives the frames. That order is
what keeps `SpotOrderBookClient.get` consistent with the message passed to
``on_book_update``. Precisions come from the ``instrument`` channel, subscribed once before the
first book, instead of a blocking REST call inside the receive loop.

On a checksum mismatch only that pair is resubscribed, from a background task paced by the
manager; the receive loop never sleeps, so every other pair keeps updating.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any, TypeAlias

from ..book.l2 import OrderBook
from ..book.manager import BookManager, ResyncNeeded
from ..exceptions import KrakenWSError
from ..models.channels.book import BookLevel, BookSnapshot, BookUpdate
from ..models.channels.instrument import InstrumentSnapshot, InstrumentUpdate
from ..protocol import codec
from .spot_ws_client import SpotWSClient

__all__ = ["BookCallback", "SpotOrderBookClient"]

BookCallback: TypeAlias = Callable[..., Awaitable[None] | None]
"""``callback(pair=..., message=...)`` of `SpotOrderBookClient` (sync or async)."""


def _format(value: Decimal, decimals: int) -> str:
    """The wire digits padded with zeros to ``decimals``; never rounded.

    A value with more decimals than the instrument announces keeps them: hiding digits would
    break the checksum (and lie about the level).
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent <= decimals:
        return f"{value:.{decimals}f}"
    return format(value, "f")


def _decimals(levels: Iterable[BookLevel], attr: str) -> int:
    # Fallback when the instrument channel did not list the pair: the widest wire token.
    widest = 0
    for level in levels:
        exponent = getattr(level, attr).as_tuple().exponent
        if isinstance(exponent, int):
            widest = max(widest, -exponent)
    return widest


class SpotOrderBookClient(SpotWSClient):
    """python-kraken-sdk's ``SpotOrderBookClient``: checksum-verified books as plain dicts.

    ``get(pair)`` returns python-kraken-sdk's dict: ``bid``/``ask`` ordered ``price -> (qty,
    timestamp)`` (bids descending, asks ascending, at most ``depth`` levels), ``valid``,
    ``price_decimals``, ``qty_decimals``. Prices and quantities are the exact wire values padded
    to the instrument's precisions.

    Args:
        depth: Book depth (10, 25, 100, 500 or 1000), one per instance.
        callback: ``callback(pair=..., message=...)`` after every snapshot and update, sync or
            async (used when `on_book_update` is not overridden).
        ws_url: Addition: public WebSocket URL, with or without ``/v2`` (pks has no URL
            parameter; setting the class attribute ``WS_URL`` works too).
        rest_url: Addition: REST base URL (only used by `request`).
        start_timeout: Addition: see `SpotWSClient`.
        max_reconnect_attempts: Addition: see `SpotWSClient`.
        reconnect_initial_delay: Addition: see `SpotWSClient`.
        reconnect_max_delay: Addition: see `SpotWSClient`.
        resync_interval: Addition: minimum seconds between two resubscribes of one pair (the
            interval doubles while a pair keeps failing, up to a minute).
    """

    def __init__(
        self,
        depth: int = 10,
        callback: BookCallback | None = None,
        *,
        ws_url: str | None = None,
        rest_url: str | None = None,
        start_timeout: float = 10.0,
        max_reconnect_attempts: int | None = 6,
        reconnect_initial_delay: float = 1.0,
        reconnect_max_delay: float = 60.0,
        resync_interval: float = 2.0,
    ) -> None:
        super().__init__(
            ws_url=ws_url,
            rest_url=rest_url,
            start_timeout=start_timeout,
            max_reconnect_attempts=max_reconnect_attempts,
            reconnect_initial_delay=reconnect_initial_delay,
            reconnect_max_delay=reconnect_max_delay,
        )
        self.__depth = depth
        self.__book_callback = callback
        self._books = BookManager(resync_interval=resync_interval)
        self._views: dict[str, dict[str, Any]] = {}
        self._timestamps: dict[str, dict[str, dict[Decimal, str | None]]] = {}
        self._wanted: set[str] = set()
        self._instrument_lock = asyncio.Lock()
        self._instrument_subscribed = False
        self._resync_task: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        """The depth of every book of this client."""
        return self.__depth

    def get(self, pair: str) -> dict[str, Any] | None:
        """The live book dict of ``pair`` (updated in place), or ``None``.

        Args:
            pair: The pair, e.g. ``"BTC/USD"``.

        Returns:
            ``{"bid", "ask", "valid", "price_decimals", "qty_decimals"}``, or ``None`` before
            the first snapshot and while the pair is being resubscribed.
        """
        return self._views.get(pair)

    @staticmethod
    def get_first(values: tuple[Any, ...]) -> float:
        """Sort key used by python-kraken-sdk: the first value as a float.

        Args:
            values: A tuple whose first item is a number or numeric string.

        Returns:
            ``float(values[0])``.
        """
        return float(values[0])

    async def add_book(self, pairs: list[str]) -> None:
        """Subscribe to the books of ``pairs`` at `depth`.

        The first call also subscribes to the ``instrument`` channel, whose snapshot (sent
        before any book snapshot on the same connection) carries the precisions.

        Args:
            pairs: Pairs, e.g. ``["BTC/USD", "ETH/USD"]``.
        """
        self._wanted.update(pairs)
        async with self._instrument_lock:
            if not self._instrument_subscribed:
                await self.subscribe(params={"channel": "instrument", "snapshot": True})
                self._instrument_subscribed = True
        await self.subscribe(params={"channel": "book", "depth": self.depth, "symbol": pairs})

    async def remove_book(self, pairs: list[str]) -> None:
        """Unsubscribe from the books of ``pairs``.

        Args:
            pairs: Pairs added before.
        """
        self._wanted.difference_update(pairs)
        await self.unsubscribe(params={"channel": "book", "depth": self.depth, "symbol": pairs})

    async def on_book_update(self, pair: str, message: dict[str, Any]) -> None:
        """Called after every applied snapshot and update, and with the mismatch error message.

        Override it, or pass ``callback``. `get` is consistent with ``message`` here.

        Args:
            pair: The pair whose book changed.
            message: The frame as python-kraken-sdk decodes it, or ``{"error": ...}``.
        """
        callback = self.__book_callback
        if callback is None:
            print(message)  # noqa: T201  (python-kraken-sdk's documented fallback)
            return
        result = callback(pair=pair, message=message)
        if inspect.isawaitable(result):
            await result

    async def on_message(self, message: dict[str, Any] | list[Any]) -> None:
        """Maintain the books; python-kraken-sdk documents it as "must not be overloaded".

        Args:
            message: A frame as decoded for python-kraken-sdk. Fed by the client with the
                frame's exact text alongside; a dict passed by hand is re-encoded.
        """
        if not isinstance(message, dict):
            return
        method = message.get("method")
        if method in ("subscribe", "unsubscribe"):
            result = message.get("result")
            if (
                message.get("success")
                and isinstance(result, dict)
                and result.get("channel") == "book"
                and isinstance(result.get("symbol"), str)
            ):
                self._book_acked(method == "subscribe", result["symbol"])
            return
        channel = message.get("channel")
        if channel not in ("book", "instrument"):
            return
        text = self._frame_text(message)
        try:
            # The exact text keeps every digit; a hand-made dict has only its float reprs.
            typed = codec.decode(text if text is not None else json.dumps(message))
        except KrakenWSError as exc:
            self.LOG.warning("book client: undecodable %s frame: %s", channel, exc)
            return
        if isinstance(typed, InstrumentSnapshot | InstrumentUpdate):
            self._books.feed(typed)
        elif isinstance(typed, BookSnapshot | BookUpdate):
            await self._book_frame(typed, message)

    # --- internals ------------------------------------------------------------------------------

    def _book_acked(self, subscribed: bool, symbol: str) -> None:
        # python-kraken-sdk drops the book on every (un)subscribe ack; the snapshot rebuilds it.
        self._views.pop(symbol, None)
        self._timestamps.pop(symbol, None)
        book = self._books.book(symbol)
        if subscribed:
            if book is None:
                self._books.track(symbol, self.depth)
            else:
                # Keep the tracking (and the resync pacing state) of a pair being resynced.
                book.clear()
        elif symbol in self._wanted and book is not None:
            book.clear()  # our own resync's unsubscribe
        else:
            self._books.untrack(symbol)

    async def _book_frame(self, typed: BookSnapshot | BookUpdate, message: dict[str, Any]) -> None:
        snapshot = typed.type == "snapshot"
        for data in typed.data:
            if snapshot and self._books.book(data.symbol) is None:
                self._books.track(data.symbol, self.depth)
        events = self._books.feed(typed)
        for event in events:
            pair = event.symbol
            book = self._books.l2(pair)
            data = next(d for d in typed.data if d.symbol == pair)
            if book.has_snapshot:
                self._refresh_view(pair, book, data.bids, data.asks, data.timestamp, snapshot)
            await self.on_book_update(pair=pair, message=message)
            if isinstance(event, ResyncNeeded):
                self.LOG.warning("%s: %s; resubscribing", pair, event.reason)
                await self.on_book_update(
                    pair=pair,
                    message={
                        "error": f"Checksum mismatch - resubscribing to the orderbook for {pair}"
                    },
                )
                self._schedule_resync()

    def _refresh_view(
        self,
        pair: str,
        book: OrderBook,
        bids: list[BookLevel],
        asks: list[BookLevel],
        timestamp: str | None,
        snapshot: bool,
    ) -> None:
        view = self._views.get(pair)
        if view is None or snapshot:
            precision = self._books.precision(pair)
            if precision is None:
                precision = (
                    _decimals([*bids, *asks], "price"),
                    _decimals([*bids, *asks], "qty"),
                )
            if view is None:
                # python-kraken-sdk's key order (visible when the dict is printed or dumped).
                view = self._views[pair] = {"bid": OrderedDict(), "ask": OrderedDict()}
                view["valid"] = True
            view["price_decimals"], view["qty_decimals"] = precision
            self._timestamps[pair] = {"bid": {}, "ask": {}}
        stamps = self._timestamps[pair]
        pd, qd = view["price_decimals"], view["qty_decimals"]
        for side, levels, current in (("bid", bids, book.bids), ("ask", asks, book.asks)):
            if not levels and not snapshot:
                continue  # untouched side: its levels and order cannot have changed
            known = stamps[side]
            for level in levels:
                known[level.price] = timestamp
            kept = current()
            stamps[side] = {price: known.get(price) for price, _ in kept}
            view[side] = OrderedDict(
                (_format(price, pd), (_format(qty, qd), stamps[side][price])) for price, qty in kept
            )
        view["valid"] = book.is_valid

    def _schedule_resync(self) -> None:
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = self._spawn(self._resync_loop())

    async def _resync_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            for pair in self._books.resync_due(loop.time()):
                if pair not in self._wanted:
                    continue
                params = {"channel": "book", "depth": self.depth, "symbol": [pair]}
                try:
                    await self.unsubscribe(params=params)
                    await self.subscribe(params={**params, "snapshot": True})
                except (KrakenWSError, TimeoutError) as exc:
                    self.LOG.warning("%s: resubscribe failed (%s); will retry", pair, exc)
                    self._books.request_resync(pair)
            at = self._books.next_resync_at()
            if at is None:
                return
            await asyncio.sleep(max(0.0, at - loop.time()))
