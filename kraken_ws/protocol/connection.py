"""``KrakenProtocol``: the sans-I/O heart of a connection.

Text frames go in through `KrakenProtocol.receive_text`; typed events come out of
`KrakenProtocol.events_received`. Requests go in through `KrakenProtocol.send`;
text frames to write come out of `KrakenProtocol.data_to_send`. Time only enters as the
``now`` argument (seconds on any monotonic clock), so every deadline, timeout and keepalive
decision can be tested with plain function calls.

The client's I/O loop is nothing more than:

```python
proto.receive_text(frame, now=clock())
for event in proto.events_received(): dispatch(event)
for text in proto.data_to_send(): await transport.send(text)
```

plus a timer that calls `KrakenProtocol.tick` at `KrakenProtocol.next_wakeup`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from ..exceptions import (
    ConnectionLost,
    DecodeError,
    InvalidState,
    RequestTimeout,
    UnexpectedMessage,
)
from . import codec
from ._json import dumps
from .envelope import BOOK_TYPES, SEQUENCED_TYPES, is_channel_frame, response_fields
from .events import (
    ChannelData,
    ConnectionDead,
    InvalidFrame,
    LateResponse,
    ProtocolEvent,
    RequestCompleted,
    RequestFailed,
    SequenceGap,
    UnsolicitedResponse,
)
from .requests import (
    PendingRequest,
    PendingRequests,
    ReqIdAllocator,
    expected_responses,
    strip_token,
)
from .state import ConnectionState, Input, next_state
from .subscriptions import TOKEN_CHANNELS, Subscriptions

__all__ = ["KrakenProtocol"]

# The param that asks for a snapshot, per channel (executions calls it snap_orders).
_SNAPSHOT_PARAM = {
    "book": "snapshot",
    "level3": "snapshot",
    "ticker": "snapshot",
    "ohlc": "snapshot",
    "instrument": "snapshot",
    "balances": "snapshot",
    "executions": "snap_orders",
}


class KrakenProtocol:
    """Sans-I/O protocol state of one logical connection (survives reconnects).

    Args:
        request_timeout: Default seconds before a request fails with ``RequestTimeout``.
        watchdog_timeout: Seconds without any inbound frame after which the connection is
            declared dead (a `ConnectionDead` event). ``None`` disables the watchdog.
        ping_interval: Seconds without sending anything after which a keepalive ``ping`` is
            queued (Kraken drops connections idle for about a minute). ``None`` disables it.
        strict: Decode strictly (unknown frames become `InvalidFrame` events).
        req_id_start: First ``req_id`` to hand out.
    """

    def __init__(
        self,
        *,
        request_timeout: float = 10.0,
        watchdog_timeout: float | None = 10.0,
        ping_interval: float | None = 30.0,
        strict: bool = False,
        req_id_start: int = 1,
    ) -> None:
        self.request_timeout = request_timeout
        self.watchdog_timeout = watchdog_timeout
        self.ping_interval = ping_interval
        self.strict = strict
        self.state = ConnectionState.DISCONNECTED
        self.subscriptions = Subscriptions()
        self._pending = PendingRequests()
        self._ids = ReqIdAllocator(req_id_start)
        self._outgoing: list[str] = []
        # Requests queued but not yet handed to the I/O layer: if the connection goes now, they
        # certainly never reached Kraken (their outcome is known: not sent).
        self._unsent: set[int] = set()
        # Last ``sequence`` seen per private channel on this socket (see SEQUENCED_TYPES).
        self._sequences: dict[str, int] = {}
        self._events: list[ProtocolEvent] = []
        self._last_received = 0.0
        self._last_sent = 0.0
        self._dead_reported = False
        self._keepalive_in_flight: int | None = None
        self.lost_at: float | None = None
        """``now`` of the latest `connection_lost`."""
        self.last_rtt: float | None = None
        """Round trip of the latest keepalive ping, in seconds."""

    def __repr__(self) -> str:
        return (
            f"KrakenProtocol(state={self.state.value}, pending={len(self._pending)}, "
            f"subscriptions={len(self.subscriptions)})"
        )

    # --- lifecycle ------------------------------------------------------------------------------

    def connecting(self) -> None:
        """The client started opening a socket."""
        self.state = next_state(self.state, Input.CONNECTING)

    def connection_opened(self, *, now: float, token: str | None = None) -> list[int]:
        """A socket is open: reset timers and queue the replay of every desired subscription.

        Args:
            now: Current time.
            token: A fresh token, required when `needs_token` is true.

        Returns:
            The ``req_id`` of each replayed subscribe request.

        Raises:
            InvalidState: Not allowed in the current state, or a token is needed but missing.
        """
        plan = self.subscriptions.replay_plan()
        if token is None and any(p.get("channel") in TOKEN_CHANNELS for p in plan):
            raise InvalidState("replaying private subscriptions needs a token")
        self.state = next_state(self.state, Input.OPENED)
        self._last_received = now
        self._last_sent = now
        self._dead_reported = False
        self._keepalive_in_flight = None
        self._sequences.clear()
        replayed: list[int] = []
        for params in plan:
            wire_params = dict(params)
            if params.get("channel") in TOKEN_CHANNELS:
                wire_params["token"] = token
            replayed.append(
                self._send_wire({"method": "subscribe", "params": wire_params}, now=now)
            )
        return replayed

    def connection_lost(self, *, now: float, reason: str = "connection lost") -> None:
        """The socket is gone: fail every pending request, keep subscriptions as desired.

        Order-entry requests fail with ``outcome_unknown=True``: the exchange may have acted.

        Args:
            now: Current time.
            reason: Why, included in the exceptions' messages.
        """
        self.state = next_state(self.state, Input.LOST)
        self.lost_at = now
        self._outgoing.clear()
        unsent, self._unsent = self._unsent, set()
        self._keepalive_in_flight = None
        for pending in self._pending.drain():
            if pending.internal:
                continue
            error = _request_error(
                ConnectionLost,
                pending,
                f"interrupted: {reason}",
                written=pending.req_id not in unsent,
            )
            self._events.append(
                RequestFailed(pending.req_id, pending.method, error, tuple(pending.responses))
            )
        self.subscriptions.connection_lost()

    def close(self) -> None:
        """The user is closing the connection (final once the socket is gone)."""
        self.state = next_state(self.state, Input.CLOSE)

    @property
    def needs_token(self) -> bool:
        """Whether `connection_opened` needs a token to replay subscriptions."""
        return self.subscriptions.needs_token

    @property
    def pending_count(self) -> int:
        """Number of requests in flight."""
        return len(self._pending)

    @property
    def reserved_count(self) -> int:
        """Number of timed-out requests whose ``req_id`` is held until their answer arrives."""
        return self._pending.reserved_count

    # --- outbound -------------------------------------------------------------------------------

    def send(
        self,
        request: BaseModel | Mapping[str, Any],
        *,
        now: float,
        token: str | None = None,
        timeout: float | None = None,
    ) -> int:
        """Validate a request, assign its ``req_id`` and queue its frame.

        Args:
            request: A request model or dict (``method``, ``params``, optional ``req_id``).
            now: Current time.
            token: Put into ``params.token`` (private requests). It is never stored.
            timeout: Seconds until it times out (default `request_timeout`).

        Returns:
            The ``req_id`` the responses will carry.

        Raises:
            pydantic.ValidationError: The request is invalid (nothing is queued).
            InvalidState: The connection is not open, or the given ``req_id`` is in flight.
        """
        wire = codec.request_to_wire(codec.validate_request(request))
        if token is not None:
            params = dict(wire.get("params") or {})
            params["token"] = token
            wire["params"] = params
        return self._send_wire(wire, now=now, timeout=timeout)

    def _send_wire(
        self,
        wire: dict[str, Any],
        *,
        now: float,
        timeout: float | None = None,
        internal: bool = False,
    ) -> int:
        if self.state is not ConnectionState.OPEN:
            raise InvalidState(f"cannot send {wire.get('method')!r} while {self.state.value}")
        req_id = wire.get("req_id")
        if req_id is None:
            req_id = self._ids.allocate(self._pending.ids())
        elif not isinstance(req_id, int) or isinstance(req_id, bool):
            raise InvalidState("req_id must be an int")
        method = str(wire.get("method"))
        # Key order as Kraken documents it: method, params, req_id.
        out: dict[str, Any] = {"method": method}
        if wire.get("params") is not None:
            out["params"] = wire["params"]
        out["req_id"] = req_id
        timeout = self.request_timeout if timeout is None else timeout
        pending = PendingRequest(
            req_id=req_id,
            method=method,
            wire=strip_token(out),
            expected=expected_responses(out),
            sent_at=now,
            deadline=now + timeout if timeout > 0 else None,
            internal=internal,
        )
        self._pending.add(pending)
        params = out.get("params") or {}
        if method == "subscribe":
            self.subscriptions.subscribe_sent(params, req_id)
        elif method == "unsubscribe":
            self.subscriptions.unsubscribe_sent(params)
        self._outgoing.append(dumps(out))
        self._unsent.add(req_id)
        self._last_sent = now
        return req_id

    def resubscribe(
        self, channel: str, symbol: str | None = None, *, now: float, token: str | None = None
    ) -> bool:
        """Queue ``unsubscribe`` + ``subscribe`` of a desired subscription, to get a snapshot.

        Used to rebuild a book that failed its checksum and to resync a private channel whose
        ``sequence`` skipped. The subscribe repeats the user's original params with
        ``snapshot: true`` where the channel takes it.

        Args:
            channel: The channel.
            symbol: The symbol (symbol channels), ``None`` otherwise.
            now: Current time.
            token: Needed for private channels and level3.

        Returns:
            Whether the requests were queued (``False``: no such subscription, or not open).
        """
        records = self.subscriptions.find(channel, symbol)
        if not records or self.state is not ConnectionState.OPEN:
            return False
        params = dict(records[0].params)
        unsub: dict[str, Any] = {"channel": channel}
        if symbol is not None:
            unsub["symbol"] = [symbol]
        for name in ("depth", "interval", "event_trigger"):
            if name in params:
                unsub[name] = params[name]
        if channel in _SNAPSHOT_PARAM:
            params[_SNAPSHOT_PARAM[channel]] = True
        if channel in TOKEN_CHANNELS:
            unsub["token"] = params["token"] = token
        self._send_wire({"method": "unsubscribe", "params": unsub}, now=now)
        self._send_wire({"method": "subscribe", "params": params}, now=now)
        return True

    @property
    def idle(self) -> bool:
        """Nothing to act on: `events_received` and `data_to_send` would both return ``[]``.

        For a reader's loop, which checks once per frame (two calls and two lists less for a
        book frame, which almost never leaves anything).
        """
        return not self._events and not self._outgoing

    def data_to_send(self) -> list[str]:
        """Frames to write, in order; each call returns and clears the queue."""
        out, self._outgoing = self._outgoing, []
        self._unsent.clear()
        return out

    # --- inbound --------------------------------------------------------------------------------

    def receive_text(self, data: str | bytes, *, now: float) -> None:
        """Feed one inbound frame.

        Args:
            data: The frame text.
            now: Current time.
        """
        try:
            message = codec.decode(data, strict=self.strict)
        except DecodeError as exc:
            self.receive_message(exc, now=now)
            return
        self.receive_message(message, now=now)

    def receive_message(self, message: BaseModel | DecodeError, *, now: float) -> None:
        """Feed one inbound frame that the caller decoded itself (or failed to decode).

        For large frames: the client decodes them with `
        decode_in_steps`, letting its event loop run between steps, then hands the result here.

        Args:
            message: The decoded frame, or the ``DecodeError`` its decoding raised.
            now: Current time.
        """
        self._last_received = now
        self._dead_reported = False
        if isinstance(message, DecodeError):
            self._events.append(InvalidFrame(message))
            return
        cls = type(message)
        if is_channel_frame(cls):
            # The hot path: a typed channel frame has no envelope to correlate.
            if cls in SEQUENCED_TYPES:
                self._check_sequence(message)
            elif cls in BOOK_TYPES and not self._book_subscribed(message):
                return
            self._events.append(ChannelData(message))
            return
        method, req_id, success, _error, symbol = response_fields(message)
        if method is None:
            self._events.append(ChannelData(message))
            return
        pending = self._pending.get(req_id) if req_id is not None else None
        if pending is None:
            late = self._pending.reserved(req_id) if req_id is not None else None
            if late is not None:
                self._on_late(late, message, now)
            else:
                self._events.append(UnsolicitedResponse(message))
            return
        self._on_response(pending, message, success is True, symbol, now)

    def receive_book(self, channel: str, symbol: str, *, now: float) -> bool:
        """Account for a ``book``/``level3`` frame the caller applies without its model.

        What `receive_message` does for such a frame (the client's fast path, see
        `kraken_ws.book.wire`): it counts as traffic for the watchdog, and it must belong to a
        subscription, else an `InvalidFrame` is queued.

        Args:
            channel: ``"book"`` or ``"level3"``.
            symbol: The frame's symbol.
            now: Current time.

        Returns:
            Whether the frame may be applied (its symbol is subscribed).
        """
        self._last_received = now
        self._dead_reported = False
        if self.subscriptions.get((channel, symbol, ())) is not None:
            return True  # the usual answer, without a second call
        return self._book_symbol_subscribed(channel, symbol)

    def _book_subscribed(self, message: BaseModel) -> bool:
        channel = str(getattr(message, "channel", ""))
        for item in getattr(message, "data", ()):  # a loop: no generator per frame
            if not self._book_symbol_subscribed(channel, getattr(item, "symbol", None)):
                return False
        return True

    def _book_symbol_subscribed(self, channel: str, symbol: str | None) -> bool:
        # One rule for typed frames and the fast path: book data needs a subscription.
        if self.subscriptions.get((channel, symbol, ())) is not None:
            return True
        # repr, cut short: the symbol is the peer's text and could be a megabyte long.
        name = repr(symbol)[:60]
        self._events.append(
            InvalidFrame(UnexpectedMessage(f"{channel} frame for {name}: not subscribed"))
        )
        return False

    def _check_sequence(self, message: BaseModel) -> None:
        channel = str(getattr(message, "channel", ""))
        sequence = getattr(message, "sequence", None)
        if not isinstance(sequence, int):
            return
        last = self._sequences.get(channel)
        self._sequences[channel] = sequence
        if last is not None and sequence != last + 1:
            self._events.append(SequenceGap(channel, last + 1, sequence))

    def _on_late(self, late: PendingRequest, message: BaseModel, now: float) -> None:
        late.responses.append(message)
        if len(late.responses) >= late.expected:
            self._pending.release(late.req_id)
        self._events.append(
            LateResponse(late.req_id, late.method, late.wire, message, now - late.sent_at)
        )

    def _on_response(
        self, pending: PendingRequest, message: BaseModel, ok: bool, symbol: str | None, now: float
    ) -> None:
        if pending.method in ("subscribe", "unsubscribe") and symbol is not None:
            if symbol in pending.symbols_seen:
                # A second ack for the same symbol must not stand in for one still owed (the
                # request would complete with a symbol unanswered).
                self._events.append(UnsolicitedResponse(message))
                return
            pending.symbols_seen.add(symbol)
        pending.responses.append(message)
        params = pending.wire.get("params") or {}
        complete = len(pending.responses) >= pending.expected
        if pending.method in ("subscribe", "unsubscribe"):
            if symbol is None and not ok:
                # A rejection that names no symbol answers the whole request.
                complete = True
            if pending.method == "subscribe":
                self.subscriptions.subscribe_acked(params, symbol, ok, pending.req_id)
                # A new subscription numbers its frames afresh.
                self._sequences.pop(str(params.get("channel")), None)
            else:
                self.subscriptions.unsubscribe_acked(params, symbol)
        if not complete:
            return
        self._pending.pop(pending.req_id)
        if pending.internal:
            if pending.req_id == self._keepalive_in_flight:
                self._keepalive_in_flight = None
                self.last_rtt = now - pending.sent_at
            return
        self._events.append(
            RequestCompleted(
                pending.req_id, pending.method, tuple(pending.responses), now - pending.sent_at
            )
        )

    def events_received(self) -> list[ProtocolEvent]:
        """Events produced since the last call, in order; each call clears the list."""
        out, self._events = self._events, []
        return out

    # --- time -----------------------------------------------------------------------------------

    def tick(self, *, now: float) -> None:
        """Advance time: expire requests, run the watchdog, queue keepalive pings.

        Args:
            now: Current time.
        """
        for pending in self._pending.expired(now):
            if pending.internal:
                if pending.req_id == self._keepalive_in_flight:
                    self._keepalive_in_flight = None
                continue
            self._events.append(
                RequestFailed(
                    pending.req_id,
                    pending.method,
                    self._timeout_error(pending, now),
                    tuple(pending.responses),
                )
            )
        if self.state is not ConnectionState.OPEN:
            return
        silent = now - self._last_received
        if self.watchdog_timeout is not None and silent >= self.watchdog_timeout:
            if not self._dead_reported:
                self._dead_reported = True
                self._events.append(ConnectionDead(silent))
            return
        if self._keepalive_in_flight is None and self._keepalive_due(now):
            self._keepalive_in_flight = self._send_wire(
                {"method": "ping"}, now=now, timeout=self._probe_after() or 0.0, internal=True
            )

    def give_up(self, req_id: int, *, now: float) -> RequestTimeout | None:
        """The caller stopped waiting (its own deadline passed, or it was cancelled).

        The request is treated exactly like one that timed out: its id stays reserved so that
        its answer, if it comes, is a `LateResponse` and never completes another request.

        Args:
            req_id: The request's id.
            now: Current time.

        Returns:
            The error to raise, or ``None`` if the request is no longer pending.
        """
        pending = self._pending.abandon(req_id)
        if pending is None:
            return None
        return self._timeout_error(pending, now)

    def _timeout_error(self, pending: PendingRequest, now: float) -> RequestTimeout:
        return _request_error(
            RequestTimeout,
            pending,
            f"got no response within {now - pending.sent_at:.3f}s",
            written=pending.req_id not in self._unsent,
        )

    def _probe_after(self) -> float | None:
        # Probe a quiet connection at half the watchdog deadline, so that a live but quiet
        # socket (no subscriptions, hence no heartbeats) answers with a pong in time.
        return self.watchdog_timeout / 2 if self.watchdog_timeout is not None else None

    def _keepalive_due(self, now: float) -> bool:
        if self.ping_interval is not None and now - self._last_sent >= self.ping_interval:
            return True
        probe = self._probe_after()
        return probe is not None and now - self._last_received >= probe

    def next_wakeup(self) -> float | None:
        """When `tick` next has something to do (``None``: only on new input)."""
        times: list[float] = []
        deadline = self._pending.next_deadline()
        if deadline is not None:
            times.append(deadline)
        if self.state is ConnectionState.OPEN:
            if self.watchdog_timeout is not None and not self._dead_reported:
                times.append(self._last_received + self.watchdog_timeout)
            if self._keepalive_in_flight is None:
                if self.ping_interval is not None:
                    times.append(self._last_sent + self.ping_interval)
                probe = self._probe_after()
                if probe is not None:
                    times.append(self._last_received + probe)
        return min(times) if times else None


_E = TypeVar("_E", ConnectionLost, RequestTimeout)


def _request_error(kind: type[_E], pending: PendingRequest, what: str, *, written: bool) -> _E:
    # One wording and one outcome rule for every way a wait can end without its answer: an
    # order-entry request that was written may have been acted on; one never written was not.
    unknown = pending.order_entry and written
    message = f"{pending.method} (req_id={pending.req_id}) {what}"
    if not written:
        message += "; it was never sent"
    elif unknown:
        message += "; outcome unknown, the client resolves it from the executions data"
    error = kind(
        message,
        method=pending.method,
        req_id=pending.req_id,
        request=pending.wire if written else None,
        outcome_unknown=unknown,
    )
    error.sent_at = pending.sent_at
    return error
