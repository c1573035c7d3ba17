"""Every exception kraken-ws raises.

```text
KrakenWSError                         root; never raised directly
├── ProtocolError                     sans-I/O layer
│   ├── DecodeError                   not JSON / fails validation (remote); .raw
│   ├── UnexpectedMessage             valid message at the wrong time (remote)
│   └── InvalidState (RuntimeError)   local misuse: send while closed, double start
├── TransportError                    mapped at the transport boundary
│   ├── ConnectError
│   ├── ConnectionClosed              .code, .reason
│   │   ├── ConnectionClosedOK
│   │   └── ConnectionClosedError
│   ├── ConnectionLost                a request was in flight when the connection dropped
│   └── RequestTimeout (TimeoutError) no response for a req_id before its deadline
├── AuthenticationError               token fetch failed, EAuth:*, EAPI:Invalid key/...
├── KrakenAPIError                    the server answered success:false
│   ├── GeneralError      EGeneral:*
│   │   └── InvalidArguments
│   ├── OrderError        EOrder:*
│   │   ├── InsufficientFunds, UnknownOrder, InvalidOrder, InvalidPrice, OrderMinimumNotMet,
│   │   │   CostMinimumNotMet, TickSizeCheckFailed, OrdersLimitExceeded, ...
│   │   └── BatchPartialFailure  some orders of a batch_add placed, others refused
│   ├── ServiceError      EService:*  (.retryable = True)
│   ├── SessionError      ESession:*, EAPI:Invalid token (token stale: refetch and retry)
│   ├── RateLimitError    EAPI:/EOrder:Rate limit exceeded, Exceeded msg rate
│   └── SubscriptionError subscribe/unsubscribe rejected (Already subscribed, Currency pair ...)
└── BookError
    ├── ChecksumMismatch              .symbol, .expected, .computed (only if asked for)
    └── BookIntegrityError            update before snapshot, crossed book
```

Server errors are mapped by `api_error_for`: exact strings first, then the ``E<Class>:``
prefix. Every `KrakenAPIError` keeps the raw error string, the method and the ``req_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models.methods.batch_add import BatchAddOrderResult

__all__ = [
    "AlreadySubscribed",
    "AuthenticationError",
    "BatchPartialFailure",
    "BookError",
    "BookIntegrityError",
    "ChecksumMismatch",
    "ConnectError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "ConnectionLost",
    "CostMinimumNotMet",
    "DeadlineElapsed",
    "DecodeError",
    "GeneralError",
    "InsufficientFunds",
    "InvalidArguments",
    "InvalidOrder",
    "InvalidPrice",
    "InvalidState",
    "KrakenAPIError",
    "KrakenWSError",
    "MarketStatusError",
    "OrderError",
    "OrderMinimumNotMet",
    "OrdersLimitExceeded",
    "PermissionDenied",
    "ProtocolError",
    "RateLimitError",
    "RequestTimeout",
    "ServiceError",
    "SessionError",
    "SubscriptionError",
    "TickSizeCheckFailed",
    "TransportError",
    "UnexpectedMessage",
    "UnknownOrder",
    "UnsupportedPair",
    "api_error_for",
]


class KrakenWSError(Exception):
    """Root of every kraken-ws exception."""


# --- sans-I/O ---------------------------------------------------------------------------------


class ProtocolError(KrakenWSError):
    """A protocol-level problem (decoding, sequencing or local misuse)."""


class DecodeError(ProtocolError):
    """An inbound frame is not JSON, or does not match any model (strict mode).

    Attributes:
        raw: The frame text (truncated to 2,000 characters in the message, whole here).
    """

    def __init__(self, message: str, raw: str | bytes | None = None) -> None:
        super().__init__(message)
        self.raw = raw


class UnexpectedMessage(ProtocolError):
    """A valid message arrived at a time it makes no sense (a remote error)."""


class InvalidState(ProtocolError, RuntimeError):
    """The caller used the client in a state that does not allow it (a local error)."""


# --- transport --------------------------------------------------------------------------------


class TransportError(KrakenWSError):
    """A network-level failure, mapped from the websockets/OS exception kept as ``__cause__``."""


class ConnectError(TransportError):
    """The connection could not be opened."""


class ConnectionClosed(TransportError):
    """The connection closed.

    Attributes:
        code: The WebSocket close code (1006 for an abrupt drop), or ``None``.
        reason: The close reason text.
    """

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class ConnectionClosedOK(ConnectionClosed):
    """The connection closed normally (1000/1001)."""


class ConnectionClosedError(ConnectionClosed):
    """The connection closed with an error code or without a close frame."""


class _RequestOutcome(TransportError):
    """What a request error says about its request (shared by the two ways a wait can end).

    Attributes:
        method: The request's method.
        req_id: The request's id.
        request: The request as sent (token removed), for reconciliation; ``None`` if it never
            reached the wire.
        outcome_unknown: ``True`` when the exchange may have acted on the request: an
            order-entry method that was written to the socket and got no answer. The client
            then tracks it as in doubt and resolves it from Kraken's own data (see
            `KrakenWSClient.in_doubt_orders
            <kraken_ws.client.KrakenWSClient.in_doubt_orders>`).
        sent_at: The client clock when the request was queued for sending, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        req_id: int | None = None,
        request: dict[str, Any] | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.req_id = req_id
        self.request = request
        self.outcome_unknown = outcome_unknown
        self.sent_at: float | None = None


class ConnectionLost(_RequestOutcome):
    """The connection dropped (or its endpoint failed for good) while a request was in flight.

    For order-entry methods the outcome is unknown: the exchange may or may not have acted on the
    request. The client resolves it from the ``executions`` data once the auth endpoint is back
    (an `OrderResolved` event).

    Attributes:
        method: The request's method.
        req_id: The request's id.
        request: The request as sent (token removed), for reconciliation.
        outcome_unknown: ``True`` for order-entry methods.
    """


class RequestTimeout(_RequestOutcome, TimeoutError):
    """No response arrived for a request before its deadline.

    The ``req_id`` stays reserved until its answer arrives (a
    `LateResponse` event) or the connection closes.

    Attributes:
        method: The request's method.
        req_id: The request's id.
        request: The request as sent (token removed); ``None`` if it was never written.
        outcome_unknown: ``True`` for order-entry methods that were sent: Kraken may have acted.
    """


# --- authentication ---------------------------------------------------------------------------


class AuthenticationError(KrakenWSError):
    """The WebSocket token could not be obtained, or the credentials were refused.

    The message never contains the key, the secret or a token.

    Attributes:
        error: The raw Kraken error string when there is one (``EAPI:Invalid key``).
    """

    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


# --- server-side (success: false) -------------------------------------------------------------


class KrakenAPIError(KrakenWSError):
    """The server answered a request with ``success: false``.

    Attributes:
        error: The raw Kraken error string, e.g. ``"EOrder:Insufficient funds"``.
        method: The method of the request.
        req_id: The request's id, if any.
        symbol: The symbol the server echoed (subscription errors), if any.
        response: The decoded error response, if any.
    """

    retryable: bool = False

    def __init__(
        self,
        error: str,
        *,
        method: str | None = None,
        req_id: int | None = None,
        symbol: str | None = None,
        response: Any = None,
    ) -> None:
        where = f"{method}" if method else "request"
        if req_id is not None:
            where += f" (req_id={req_id})"
        if symbol:
            where += f" [{symbol}]"
        super().__init__(f"{where} failed: {error}")
        self.error = error
        self.method = method
        self.req_id = req_id
        self.symbol = symbol
        self.response = response


class GeneralError(KrakenAPIError):
    """``EGeneral:*`` errors."""


class InvalidArguments(GeneralError):
    """``EGeneral:Invalid arguments[...]``: the payload was malformed or ambiguous."""


class PermissionDenied(GeneralError):
    """``EGeneral:Permission denied`` or ``EAccount:Invalid permissions``."""


class OrderError(KrakenAPIError):
    """``EOrder:*`` errors."""


class InsufficientFunds(OrderError):
    """``EOrder:Insufficient funds``."""


class UnknownOrder(OrderError):
    """``EOrder:Unknown order``: no open order with that id (amend)."""


class InvalidOrder(OrderError):
    """``EOrder:Invalid order``: the order is already closed or never existed (cancel)."""


class InvalidPrice(OrderError):
    """``EOrder:Invalid price``."""


class OrderMinimumNotMet(OrderError):
    """``EOrder:Order minimum not met``."""


class CostMinimumNotMet(OrderError):
    """``EOrder:Cost minimum not met``."""


class TickSizeCheckFailed(OrderError):
    """``EOrder:Tick size check failed``."""


class OrdersLimitExceeded(OrderError):
    """``EOrder:Orders limit exceeded``: too many open orders on the pair."""


class BatchPartialFailure(OrderError):
    """Some orders of a ``batch_add`` were placed and the others refused.

    ``client.batch_add`` raises it rather than return, so that a refused order cannot go
    unnoticed; the placed orders are live on the exchange all the same, and `placed` names
    them. When no order of a batch is placed, the batch's own error is raised instead
    (``InsufficientFunds``...), as for ``add_order``.

    Attributes:
        placed: The rows of the placed orders (``order_id``, ``cl_ord_id``...), in request order.
        failed: The rows of the refused orders, each with its ``error`` when Kraken gave one.
        rows: Every row, in request order.
        error: The first refused row's error (else the batch-level error).
    """

    def __init__(
        self,
        error: str,
        *,
        placed: Sequence[BatchAddOrderResult],
        failed: Sequence[BatchAddOrderResult],
        rows: Sequence[BatchAddOrderResult],
        req_id: int | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(error, method="batch_add", req_id=req_id, response=response)
        self.placed = list(placed)
        self.failed = list(failed)
        self.rows = list(rows)
        ids = ", ".join(row.order_id or "?" for row in self.placed)
        self.args = (
            f"{self.args[0]}: {len(self.failed)} of {len(self.rows)} orders refused, "
            f"{len(self.placed)} placed ({ids})",
        )


class ServiceError(KrakenAPIError):
    """``EService:*`` errors; usually transient."""

    retryable = True


class DeadlineElapsed(ServiceError):
    """``EService:Deadline elapsed``: the order's ``deadline`` passed before matching."""

    retryable = False


class MarketStatusError(ServiceError):
    """``EService:Market in cancel_only/post_only/limit_only mode``."""

    retryable = False


class SessionError(KrakenAPIError):
    """``ESession:Invalid session`` / ``EAPI:Invalid token``: the token is missing or stale."""


class RateLimitError(KrakenAPIError):
    """A rate limit was hit (``EAPI:Rate limit exceeded``, ``EOrder:Rate limit exceeded``...)."""

    retryable = True


class SubscriptionError(KrakenAPIError):
    """A subscribe or unsubscribe request was rejected."""


class AlreadySubscribed(SubscriptionError):
    """``Already subscribed``."""


class UnsupportedPair(SubscriptionError):
    """``Currency pair not supported <SYMBOL>``."""


# Exact strings first (docs/protocol.md#ref-9); then prefixes. Suffixes like ``:<field>`` are
# matched by prefix because Kraken appends details to some codes.
_EXACT: dict[str, type[KrakenAPIError]] = {
    "EOrder:Insufficient funds": InsufficientFunds,
    "EOrder:Unknown order": UnknownOrder,
    "EOrder:Invalid order": InvalidOrder,
    "EOrder:Invalid price": InvalidPrice,
    "EOrder:Order minimum not met": OrderMinimumNotMet,
    "EOrder:Cost minimum not met": CostMinimumNotMet,
    "EOrder:Tick size check failed": TickSizeCheckFailed,
    "EOrder:Orders limit exceeded": OrdersLimitExceeded,
    "EOrder:Rate limit exceeded": RateLimitError,
    "EOrder:Domain rate limit exceeded": RateLimitError,
    "EAPI:Rate limit exceeded": RateLimitError,
    "EGeneral:Too many requests": RateLimitError,
    "Exceeded msg rate": RateLimitError,
    "EService:Deadline elapsed": DeadlineElapsed,
    "EGeneral:Permission denied": PermissionDenied,
    "EAccount:Invalid permissions": PermissionDenied,
    "EAPI:Invalid token": SessionError,
    "ESession:Invalid session": SessionError,
    "Already subscribed": AlreadySubscribed,
}

_PREFIX: tuple[tuple[str, type[KrakenAPIError]], ...] = (
    ("EGeneral:Invalid arguments", InvalidArguments),
    ("EService:Market in ", MarketStatusError),
    ("EService:Throttled", RateLimitError),
    ("Currency pair not supported", UnsupportedPair),
    ("ESession:", SessionError),
    ("EGeneral:", GeneralError),
    ("EOrder:", OrderError),
    ("EService:", ServiceError),
)

_SUBSCRIPTION_METHODS = frozenset({"subscribe", "unsubscribe"})


def api_error_for(
    error: str,
    *,
    method: str | None = None,
    req_id: int | None = None,
    symbol: str | None = None,
    response: Any = None,
) -> KrakenAPIError:
    """Build the most specific `KrakenAPIError` for a server error string.

    Args:
        error: The raw ``error`` string of the response.
        method: The request's method.
        req_id: The request's id.
        symbol: The symbol the server echoed, if any.
        response: The decoded response, kept on the exception.

    Returns:
        An instance of the matching subclass (never raised here).
    """
    cls: type[KrakenAPIError] | None = _EXACT.get(error)
    if cls is None:
        for prefix, candidate in _PREFIX:
            if error.startswith(prefix):
                cls = candidate
                break
    if cls is None:
        cls = SubscriptionError if method in _SUBSCRIPTION_METHODS else KrakenAPIError
    return cls(error, method=method, req_id=req_id, symbol=symbol, response=response)


# --- books ------------------------------------------------------------------------------------


class BookError(KrakenWSError):
    """An order book problem."""


class ChecksumMismatch(BookError):
    """The book's checksum does not match the server's (raised only when asked for).

    Attributes:
        symbol: The book's symbol.
        expected: The server's checksum.
        computed: Ours.
    """

    def __init__(self, symbol: str, expected: int, computed: int) -> None:
        super().__init__(f"{symbol}: checksum mismatch (expected {expected}, computed {computed})")
        self.symbol = symbol
        self.expected = expected
        self.computed = computed


class BookIntegrityError(BookError):
    """Impossible input for a book, such as an update before any snapshot."""
