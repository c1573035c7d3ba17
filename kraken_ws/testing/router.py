"""The request router: each message is parsed once, then dispatched through a table.

A message goes through these steps, in this order (each can answer it and stop):

1. parsed once into a `Request` (``method`` and ``req_id`` as far as they can be read);
2. the connection's message-rate bucket (``Exceeded msg rate``, not executed);
3. ``delay_responses``: handling is postponed, still in order with the rest of the connection;
4. anything but a JSON object with a string ``method`` is ``Malformed request``;
5. ``drop_next_response`` arms the `Call` to swallow its responses;
6. names that are not wire names (`.wire_names`): ``Unsupported field``;
7. the handler of ``method`` from the dispatch table (unknown: ``EGeneral:Invalid arguments``).

After a handler returns, everything it changed is published before the next message is read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kraken_ws.protocol import loads

from .calls import Call, RequestError
from .connection import Connection
from .faults import FaultState
from .market import rfc3339
from .wire_names import unsupported_field

__all__ = ["Handler", "Request", "Router", "ping"]

_log = logging.getLogger(__name__)

Handler = Callable[[Call], None]


@dataclass(frozen=True, slots=True)
class Request:
    """One client message, parsed once.

    Attributes:
        text: The message as text (binary frames decoded as UTF-8, errors replaced).
        message: The decoded object, when it is a JSON object with a string ``method``.
        method: Its ``method`` when readable (then ``message`` is set), else ``None``.
        req_id: Its ``req_id`` if that is a JSON integer (not ``true``, ``1.5`` or ``"1"``).
        failure: What the parser raised, if it failed other than by refusing the text (a bug:
            the request is answered ``EGeneral:Internal error`` when it is handled).
    """

    text: str
    message: dict[str, Any] | None
    method: str | None
    req_id: int | None
    failure: Exception | None = None

    @classmethod
    def parse(cls, frame: str | bytes) -> Request:
        """Read a websocket message as a request; never raises for bad input."""
        # Binary frames are not part of the API (every message is a JSON text frame, reference
        # docs/protocol.md#ref-1-2): they are read as UTF-8 text like any other, so garbage gets
        # "Malformed request".
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        try:
            decoded = loads(text)
        except ValueError:  # what the parser raises for anything it refuses
            return cls(text, None, None, None)
        except Exception as exc:
            return cls(text, None, None, None, exc)
        if not isinstance(decoded, dict):
            return cls(text, None, None, None)
        raw = decoded.get("req_id")
        req_id = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        method = decoded.get("method")
        if not isinstance(method, str):
            return cls(text, None, None, req_id)
        return cls(text, decoded, method, req_id)


class Router:
    """Receives every client message and dispatches it to its handler.

    Args:
        handlers: Method name -> handler (the dispatch table).
        faults: Armed faults (response delays and drops).
        clock: Epoch seconds (``time_in``, activity).
        after: Called after every handled request (publishes what it changed).
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        faults: FaultState,
        clock: Callable[[], float],
        after: Callable[[], None],
    ) -> None:
        self._handlers = dict(handlers)
        self._faults = faults
        self._clock = clock
        self._after = after

    def receive(self, conn: Connection, frame: str | bytes) -> None:
        """Take one message from ``conn``: parse it, apply limits and faults, handle it."""
        request = Request.parse(frame)
        conn.last_activity = self._clock()
        time_in = rfc3339(conn.last_activity)
        if conn.msg_bucket is not None and not conn.msg_bucket.take():
            # Unverified envelope: the text is confirmed only in v1 frames; here it is a v2
            # error response echoing method and req_id ("error" when unreadable).
            self._answer_error(conn, request, time_in, "Exceeded msg rate")
            return
        delay = self._delay_of(request)
        if delay > 0:
            conn.spawn(self._delayed(conn, request, time_in, delay))
        else:
            self._handle_safely(conn, request, time_in)

    def _delay_of(self, request: Request) -> float:
        if not self._faults.response_delay or request.method is None:
            # Unreadable text has no method to delay: it is answered at once.
            return 0.0
        return self._faults.delay_for(request.method)

    async def _delayed(
        self, conn: Connection, request: Request, time_in: str, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        self._handle_safely(conn, request, time_in)

    def _handle_safely(self, conn: Connection, request: Request, time_in: str) -> None:
        try:
            self._handle(conn, request, time_in)
        except Exception:
            # A bug in the simulator must not look like a network failure to the client; the
            # answer still echoes method and req_id so that the client can correlate it.
            _log.exception("LocalExchange failed to handle %r", request.text[:200])
            self._answer_error(conn, request, time_in, "EGeneral:Internal error")

    def _answer_error(self, conn: Connection, request: Request, time_in: str, error: str) -> None:
        call = Call(conn, request.method or "error", request.req_id, None, time_in, self._clock)
        call.error(error)

    def _handle(self, conn: Connection, request: Request, time_in: str) -> None:
        if request.failure is not None:
            raise request.failure
        message, method = request.message, request.method
        if message is None or method is None:
            Call(conn, "error", None, None, time_in, self._clock).error("Malformed request")
            return
        silent = self._faults.take_dropped_response(method)
        call = Call(
            conn, method, request.req_id, message.get("params"), time_in, self._clock, silent=silent
        )
        try:
            unsupported = unsupported_field(method, message)
            if unsupported is not None:
                # Kraken's wording, also for a known field where it does not belong (``params``
                # on ping); checked before anything else, as Kraken parses before it acts.
                raise RequestError(
                    f"Unsupported field: '{unsupported}' for the given msg type: {method}"
                )
            self._handlers.get(method, _unknown_method)(call)
        except RequestError as exc:
            call.error(exc.error, exc.symbol)
        self._after()


def _unknown_method(call: Call) -> None:  # noqa: ARG001 (a Handler)
    # Unverified wording for an unknown method.
    raise RequestError("EGeneral:Invalid arguments")


def ping(call: Call) -> None:
    """Handle ``ping``: a ``pong`` echoing ``req_id``."""
    call.pong()
