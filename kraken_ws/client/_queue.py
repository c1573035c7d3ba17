"""Per-consumer event queues: bounded for market data, never lossy for what matters.

Policy: market data (book, ticker, trade, ohlc, instrument, level3, heartbeat, status) is
droppable. When a consumer is ``maxsize`` market-data events behind, the *oldest* one is
dropped, counted, and one `EventsDropped` warning is queued.
Private data (``executions``, ``balances``) and lifecycle events are never dropped: losing a fill
is worse than using memory. Sequence numbers keep the two kinds in arrival order.

Whether a queue has a reader at all matters for live books: the typed events of a book kept by
``client.book()`` are built only if a consumer will take them (`EventQueue.wants`,
docs/books.md#typed-events-of-a-live-book).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from pydantic import BaseModel

from ..events import Endpoint, EventsDropped
from ..models.channels.book import BookData, BookUpdate
from ..models.channels.level3 import Level3Update, Level3UpdateData
from ..models.messages import UnknownMessage
from .types import ClientEvent

__all__ = ["ENDPOINTS", "EventQueue"]

ENDPOINTS: frozenset[Endpoint] = frozenset({"public", "auth", "l3"})
"""Every endpoint: what a queue without a channel filter listens to."""

_NEVER_DROP_CHANNELS = frozenset({"executions", "balances"})


def _is_droppable(event: ClientEvent) -> bool:
    # Lifecycle events are dataclasses, never dropped. Frames are, unless private: an unknown
    # frame (no typed channel) counts by the channel its raw object names, so a flood of them
    # cannot grow a queue without bound.
    if not isinstance(event, BaseModel):
        return False
    if isinstance(event, UnknownMessage):
        raw = event.raw
        channel = raw.get("channel") if isinstance(raw, dict) else None
    else:
        channel = getattr(event, "channel", None)
    return channel not in _NEVER_DROP_CHANNELS


class EventQueue:
    """One consumer's queue (see the module docstring for the drop policy).

    Args:
        maxsize: Market-data events a consumer may lag behind.
        accept: Filter; events it refuses are not queued.
        sources: Endpoints whose events this queue can get (it ends when all of those in use
            fail).
    """

    def __init__(
        self,
        maxsize: int,
        accept: Callable[[ClientEvent], bool] | None = None,
        sources: frozenset[Endpoint] = ENDPOINTS,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self._accept = accept
        self.sources = sources
        self._market: deque[tuple[int, ClientEvent]] = deque()
        self._priority: deque[tuple[int, ClientEvent | None]] = deque()
        self._seq = 0
        self._dropped_since_report = 0
        self.dropped_total = 0
        self._ready = asyncio.Event()
        self._error: BaseException | None = None
        self._finished = False
        self.read = False
        """Whether anyone has taken (or waited for) an event of this queue."""
        self._wants: dict[str, dict[str, bool]] = {}  # channel -> symbol -> probed

    def wants(self, channel: str, symbol: str) -> bool:
        """Whether a ``channel`` (book or level3) frame of ``symbol`` would reach a reader now.

        A queue with a filter is an ``events()`` stream: its consumer made it, so it counts from
        its creation, as far as its filter takes such frames (probed once per channel and
        symbol with a frame built without validation: filters look at ``channel`` and the data
        items' ``symbol``; a filter that raises counts as taking them). The queue without a
        filter is the client's own (``async for event in client``), which exists whether or not
        anyone iterates: it counts from its first read. A finished queue has no reader.
        """
        if self._finished:
            return False
        if self._accept is None:
            return self.read
        known = self._wants.get(channel)
        if known is None:
            known = self._wants[channel] = {}
        wanted = known.get(symbol)
        if wanted is None:
            wanted = known[symbol] = self._probe(channel, symbol)
        return wanted

    def _probe(self, channel: str, symbol: str) -> bool:
        assert self._accept is not None
        probe: ClientEvent
        if channel == "level3":
            item = Level3UpdateData.model_construct(symbol=symbol, bids=[], asks=[], checksum=0)
            probe = Level3Update.model_construct(channel="level3", type="update", data=[item])
        else:
            data = BookData.model_construct(symbol=symbol, bids=[], asks=[], checksum=0)
            probe = BookUpdate.model_construct(channel="book", type="update", data=[data])
        try:
            return bool(self._accept(probe))
        except Exception:
            return True

    def __len__(self) -> int:
        return len(self._market) + len(self._priority)

    def put(self, event: ClientEvent) -> None:
        if self._finished or (self._accept is not None and not self._accept(event)):
            return
        self._seq += 1
        if _is_droppable(event):
            if len(self._market) >= self.maxsize:
                self._market.popleft()
                self.dropped_total += 1
                if self._dropped_since_report == 0:
                    # One pending warning (None marker); its count is read when it is consumed.
                    self._priority.append((self._seq, None))
                    self._seq += 1
                self._dropped_since_report += 1
            self._market.append((self._seq, event))
        else:
            self._priority.append((self._seq, event))
        self._ready.set()

    def finish(self, error: BaseException | None = None) -> None:
        self._finished = True
        self._error = error
        self._ready.set()

    def get_nowait(self) -> ClientEvent | None:
        self.read = True
        market, priority = self._market, self._priority
        if priority and (not market or priority[0][0] < market[0][0]):
            item = priority.popleft()[1]
            if item is None:
                count, self._dropped_since_report = self._dropped_since_report, 0
                return EventsDropped(count=count, total=self.dropped_total)
            return item
        if market:
            return market.popleft()[1]
        return None

    async def get(self) -> ClientEvent:
        while True:
            event = self.get_nowait()
            if event is not None:
                return event
            if self._finished:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
