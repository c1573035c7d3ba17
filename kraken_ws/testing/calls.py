"""One request being answered, and what every request handler shares.

A handler gets a `Call`: the connection, the parsed request and the means to answer it.
It refuses a request by raising `RequestError`; the router turns that into Kraken's error
response. Responses of a call armed with ``drop_next_response`` are swallowed by the call itself,
so handlers never need to know about that fault.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from . import frames
from .connection import Connection
from .faults import FaultState
from .http import TokenStore
from .market import rfc3339

__all__ = ["Call", "RequestError", "TokenCheck", "validation_error"]


class RequestError(Exception):
    """Answer the current request with ``error`` (and optionally a top-level ``symbol``)."""

    def __init__(self, error: str, symbol: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.symbol = symbol


def validation_error(exc: ValidationError, method: str) -> RequestError:
    """Map a pydantic error on ``params`` to Kraken's error text."""
    for err in exc.errors():
        if err["type"] == "extra_forbidden":
            name = err["loc"][-1] if err["loc"] else "?"
            return RequestError(f"Unsupported field: '{name}' for the given msg type: {method}")
    first = exc.errors()[0]
    loc = [part for part in first["loc"] if isinstance(part, str)]
    # Union members add their tag (e.g. "book") to the location: keep the last real field name.
    field = loc[-1] if loc else ""
    if field and first["type"] not in ("value_error", "assertion_error"):
        return RequestError(f"EGeneral:Invalid arguments:{field}")
    return RequestError("EGeneral:Invalid arguments")


class Call:
    """One request being handled: who sent it, what it says, how to answer it.

    Args:
        conn: The connection it came on.
        method: Its ``method``.
        req_id: Its ``req_id`` to echo (``None`` if it had no integer one).
        params: Its ``params`` as decoded (any JSON value, or ``None``).
        time_in: When it was received (RFC3339, exchange clock).
        clock: The exchange clock (``time_out`` of the answers).
        silent: Swallow its responses (``drop_next_response``); data frames still flow.
    """

    def __init__(
        self,
        conn: Connection,
        method: str,
        req_id: int | None,
        params: Any,
        time_in: str,
        clock: Callable[[], float],
        *,
        silent: bool = False,
    ) -> None:
        self.conn = conn
        self.method = method
        self.req_id = req_id
        self.params = params
        self.time_in = time_in
        self.silent = silent
        self._clock = clock

    def ok(self, model_cls: type[BaseModel], result: Any) -> None:
        """Send a success response (``model_cls`` is the method's ``...Success`` model)."""
        if self.silent:
            return
        time_out = rfc3339(self._clock())
        text = frames.response(model_cls, self.method, self.req_id, self.time_in, time_out, result)
        self.conn.send(text)

    def error(self, message: str, symbol: str | None = None) -> None:
        """Send an error response."""
        if self.silent:
            return
        time_out = rfc3339(self._clock())
        text = frames.error(self.method, self.req_id, self.time_in, time_out, message, symbol)
        self.conn.send(text)

    def pong(self) -> None:
        """Answer a ``ping``."""
        if self.silent:
            return
        self.conn.send(frames.pong(self.req_id, self.time_in, rfc3339(self._clock())))


class TokenCheck:
    """Checks the ``token`` of a private request for the exchange's one account.

    Args:
        tokens: Issued tokens.
        api_key: The account's API key (a token of another key is refused).
        faults: Armed faults (``reject_next_token``).
    """

    def __init__(self, tokens: TokenStore, api_key: str, faults: FaultState) -> None:
        self._tokens = tokens
        self._api_key = api_key
        self._faults = faults

    def __call__(self, params: dict[str, Any]) -> str:
        """The valid token of ``params``.

        Raises:
            RequestError: ``ESession:Invalid session`` (no token), ``EAPI:Invalid token``.
        """
        token = params.get("token")
        if not token or not isinstance(token, str):
            raise RequestError("ESession:Invalid session")
        if self._faults.take_token_rejection():
            raise RequestError("EAPI:Invalid token")
        api_key = self._tokens.check(token)
        if api_key is None or api_key != self._api_key:
            raise RequestError("EAPI:Invalid token")
        return token
