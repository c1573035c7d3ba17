"""Order safety, the client's side: in-doubt orders resolved, late answers, fills of a gap.

The bookkeeping is pure and lives in `kraken_ws.reconcile` (`OrderLedger`). This
module is the I/O around it: it hears the protocol events that matter (order requests that
failed with an unknown outcome, late answers, sequence gaps, executions frames, reconnects of
the auth endpoint), fetches an executions snapshot on a short-lived connection of its own when
Kraken's data must be asked, and emits what the ledger concludes (``OrderResolved``,
``FillsRecovered`` and the recovered fills).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterator
from typing import Any, Protocol

from ..events import (
    FillsRecovered,
    LateResponse,
    OrderResolved,
    SequenceGap,
)
from ..exceptions import (
    ConnectionLost,
    DecodeError,
    KrakenWSError,
    RequestTimeout,
    SessionError,
    api_error_for,
)
from ..models.channels.executions import (
    ExecutionReport,
    ExecutionsSnapshot,
    ExecutionsSubscribeResult,
    ExecutionsUpdate,
)
from ..models.methods.subscribe import SubscribeSuccess
from ..protocol import codec, dumps
from ..protocol.envelope import response_fields
from ..protocol.events import RequestCompleted
from ..reconcile import InDoubtOrder, OrderLedger, Resolution, parse_timestamp
from ..transport.base import Transport
from ._connection import Connection
from .types import ClientEvent

__all__ = ["OrderSafety", "OrdersOwner"]

_log = logging.getLogger("kraken_ws.client")


class OrdersOwner(Protocol):
    """What `OrderSafety` needs from the client."""

    request_timeout: float
    auth_url: str

    def clock(self) -> float:
        """The client's monotonic clock."""
        ...

    def backoff(self) -> Iterator[float]:
        """A fresh sequence of retry delays."""
        ...

    def emit(self, event: ClientEvent) -> None:
        """Hand an event to every consumer."""
        ...

    def spawn(self, awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run a background task the client cancels on close."""
        ...

    async def connect(self, url: str) -> Transport:
        """Open a transport."""
        ...

    async def token(self, *, refresh: bool = False) -> str:
        """A WebSocket token."""
        ...

    def invalidate_token(self) -> None:
        """Forget the cached token (Kraken refused it)."""
        ...

    def auth_connection(self) -> Connection | None:
        """The auth endpoint's connection, if it was ever used."""
        ...


class OrderSafety:
    """In-doubt orders and fills of a gap, for one client (see the module docstring).

    Args:
        owner: The client.
        grace: Seconds after the carrying connection went before absence means "not placed".
    """

    def __init__(self, owner: OrdersOwner, *, grace: float) -> None:
        self.owner = owner
        self.ledger = OrderLedger(grace=grace)
        self._resolutions: dict[int, asyncio.Future[OrderResolved]] = {}
        self._task: asyncio.Future[Any] | None = None
        self._wake = asyncio.Event()
        self._recover_fills = False
        self.closed = False

    # --- what users call ------------------------------------------------------------------------

    def in_doubt(self) -> list[InDoubtOrder]:
        """Orders still in doubt, oldest first."""
        return self.ledger.in_doubt()

    async def resolve_all(self, timeout: float | None) -> list[OrderResolved]:
        """Wait until every order in doubt now is resolved (see ``resolve_in_doubt``)."""
        futures = [self._resolutions[e.key] for e in self.ledger.in_doubt()]
        if not futures:
            return []
        self.look()
        _done, pending = await asyncio.wait(futures, timeout=timeout)
        if pending:
            raise RequestTimeout(f"{len(pending)} order(s) still in doubt after {timeout}s")
        return [f.result() for f in futures]

    # --- what the client tells it ---------------------------------------------------------------

    def doubt(self, error: ConnectionLost | RequestTimeout, *, connection_gone: bool) -> None:
        """A request ended without its answer: track it if it may have changed orders.

        The one place that decides: only an order-entry request that was written
        (``outcome_unknown``) is in doubt; a ping or a subscribe that timed out is not.
        """
        if not error.outcome_unknown or error.request is None or error.method is None:
            return
        entries = self.ledger.add(
            error.method,
            error.req_id,
            error.request,
            now=self.owner.clock(),
            connection_gone=connection_gone,
            reason=str(error),
            sent_at=error.sent_at,
        )
        loop = asyncio.get_running_loop()
        for entry in entries:
            self._resolutions[entry.key] = loop.create_future()
        self.look()

    def completed(self, event: RequestCompleted) -> None:
        """A request completed: an executions ack tells when the user's fills start."""
        if self.ledger.fills_since is not None:
            return
        for response in event.responses:
            if isinstance(response, SubscribeSuccess) and isinstance(
                response.result, ExecutionsSubscribeResult
            ):
                # Fills older than the user's first executions subscription are history, not
                # fills of a gap.
                self.ledger.fills_since = parse_timestamp(response.time_in)

    def late_response(self, event: LateResponse) -> None:
        """A timed-out request got its answer after all."""
        _log.info("%s (req_id=%d) answered after %.3fs", event.method, event.req_id, event.elapsed)
        self.owner.emit(event)
        self._resolve(self.ledger.late_response(event.req_id, event.method, event.response))

    def sequence_gap(self, conn: Connection, event: SequenceGap) -> None:
        """Frames of a private channel were lost: resubscribe it, look for missed fills."""
        _log.warning(
            "%s: %s sequence skipped from %d to %d; resubscribing",
            conn.endpoint,
            event.channel_name,
            event.expected,
            event.received,
        )
        self.owner.emit(event)
        self.owner.spawn(self._resubscribe(conn, event.channel_name))
        if event.channel_name == "executions":
            self.look(fills=True)

    async def _resubscribe(self, conn: Connection, channel: str) -> None:
        token = await self.owner.token()
        if conn.proto.resubscribe(channel, now=self.owner.clock(), token=token):
            await conn.flush()

    def executions(self, message: ExecutionsSnapshot | ExecutionsUpdate) -> None:
        """Deliver an executions frame: resolve what it names, never a fill twice."""
        resolved = self.ledger.observe(message.data)
        kept = self.ledger.deliver(message.data, now=self.owner.clock())
        if kept is None:
            self.owner.emit(message)
        elif kept or isinstance(message, ExecutionsSnapshot):
            # A replayed snapshot lists fills the user already has: never deliver one twice.
            self.owner.emit(message.model_copy(update={"data": kept}))
        self._resolve(resolved)

    def auth_opened(self, *, reconnect: bool) -> None:
        """The auth endpoint is (back) up."""
        if reconnect:
            # Frames of the gap are gone (no session resume): look for fills and in-doubt
            # orders in Kraken's own data.
            self.look(fills=True)

    def auth_lost(self) -> None:
        """The auth endpoint went: answers to in-doubt requests can no longer come."""
        self.ledger.connection_gone(self.owner.clock())

    # --- looking at Kraken's data ---------------------------------------------------------------

    def look(self, *, fills: bool = False) -> None:
        """Ask Kraken's data (now, or when the auth endpoint is back) if there is a reason."""
        if self.closed:
            return
        auth = self.owner.auth_connection()
        if fills and auth is not None and auth.proto.subscriptions.find("executions"):
            self._recover_fills = True
        if not self.ledger.in_doubt() and not self._recover_fills:
            return
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = self.owner.spawn(self._loop())

    def _resolve(self, resolutions: list[Resolution]) -> None:
        for key, event in resolutions:
            _log.info(
                "in-doubt %s (req_id=%s) resolved: %s", event.method, event.req_id, event.outcome
            )
            self.owner.emit(event)
            future = self._resolutions.pop(key, None)
            if future is not None and not future.done():
                future.set_result(event)

    async def _loop(self) -> None:
        delays = self.owner.backoff()
        while not self.closed and (self.ledger.in_doubt() or self._recover_fills):
            conn = self.owner.auth_connection()
            if conn is None or conn.fatal is not None:
                return  # nothing to ask; the orders stay listed as in doubt
            if not conn.opened.is_set():
                await _first(conn.opened.wait(), conn.task)
                continue
            # Cleared before asking: a reason to look again that comes during the query (a
            # reconnect, a new order in doubt) is not lost.
            self._wake.clear()
            fills, self._recover_fills = self._recover_fills, False
            taken_at = self.owner.clock()
            try:
                reports = await self._snapshot()
            except (KrakenWSError, OSError, TimeoutError) as exc:
                self._recover_fills |= fills
                delay = next(delays)
                _log.warning("reconciliation failed (%s); retrying in %.2fs", exc, delay)
                await _first(asyncio.sleep(delay))
                continue
            delays = self.owner.backoff()
            self._apply(reports, taken_at=taken_at, fills=fills)
            if self._recover_fills or self._wake.is_set():
                continue
            if not self.ledger.in_doubt():
                return
            # Still in doubt: look again once the youngest can be judged, or when told to.
            at = self.ledger.next_judgement()
            if at is None:
                await _first(self._wake.wait())
            else:
                delay = max(at - self.owner.clock(), 0.05)
                await _first(self._wake.wait(), asyncio.sleep(delay))

    async def _snapshot(self) -> list[ExecutionReport]:
        """Open orders and the last 50 fills, on a short-lived auth connection of its own.

        A separate socket, so that the user's own ``executions`` subscription (with whatever
        params) is left alone and "Already subscribed" cannot happen.
        """
        owner = self.owner
        async with asyncio.timeout(owner.request_timeout):
            token = await owner.token()
            transport = await owner.connect(owner.auth_url)
            try:
                params: dict[str, object] = {"channel": "executions", "token": token}
                params |= {"snap_orders": True, "snap_trades": True}
                await transport.send(dumps({"method": "subscribe", "params": params, "req_id": 1}))
                while True:
                    text = await transport.recv()
                    if isinstance(text, bytes):
                        continue
                    try:
                        message = codec.decode(text)
                    except DecodeError:
                        continue
                    if isinstance(message, ExecutionsSnapshot):
                        return message.data
                    method, _rid, ok, error, _sym = response_fields(message)
                    if method == "subscribe" and ok is False:
                        exc = api_error_for(error or "refused", method="subscribe")
                        if isinstance(exc, SessionError):
                            owner.invalidate_token()
                        raise exc
            finally:
                with contextlib.suppress(Exception):
                    await transport.abort()

    def _apply(self, reports: list[ExecutionReport], *, taken_at: float, fills: bool) -> None:
        self._resolve(self.ledger.resolve(reports, taken_at=taken_at))
        if not fills:
            return
        missed, truncated = self.ledger.missed_fills(reports, now=self.owner.clock())
        if not missed:
            return
        _log.warning("%d fill(s) of a gap recovered from the executions snapshot", len(missed))
        if truncated:
            _log.warning("more fills than the snapshot's 50 may have happened during the gap")
        self.owner.emit(
            FillsRecovered(len(missed), tuple(r.exec_id or "" for r in missed), truncated=truncated)
        )
        self.owner.emit(ExecutionsUpdate(channel="executions", type="update", data=missed))


async def _first(*awaitables: Awaitable[Any] | None) -> None:
    # Until the first of them is done; the others are cancelled (tasks passed in are not).
    given = [a for a in awaitables if a is not None]
    futures = [asyncio.ensure_future(a) for a in given]
    owned = [f for f, a in zip(futures, given, strict=True) if f is not a]
    try:
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in owned:
            future.cancel()
        await asyncio.gather(*owned, return_exceptions=True)
