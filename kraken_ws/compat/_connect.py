"""Where the facade connects, and which connection failures it does not retry.

Two rules live here, each in one place:

- `ws_endpoint`: the URL a facade connects to. python-kraken-sdk takes base URLs and appends
  ``/v2``; kraken-ws hands out URLs that already end in ``/v2`` (`LocalExchange.ws_url`,
  ``kraken-ws serve --json``). Both forms work, with or without a trailing slash.
- `refusal`: a failed connect that retrying cannot fix (an HTTP status such as 404 or 401, a TLS
  failure, a port nobody listens on) becomes an `EndpointRefused` naming the URL and the reason,
  so that ``start()`` fails at once instead of retrying in silence until its timeout.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from urllib.parse import urlsplit

from ..exceptions import ConnectError
from ..transport.base import Transport
from ..transport.websockets import connect
from .exceptions import EndpointRefused

__all__ = ["API_V", "WatchedConnector", "refusal", "ws_endpoint"]

API_V = "/v2"
"""The API version python-kraken-sdk appends to its base URLs."""

# Statuses a server answers while it is overloaded or restarting: worth another attempt.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})


def ws_endpoint(url: str, name: str = "ws_url") -> str:
    """The URL to connect to: ``url`` ending in exactly one ``/v2``.

    Args:
        url: A base URL (``wss://ws.kraken.com``) or a full one (``ws://127.0.0.1:8000/v2``),
            with or without a trailing slash.
        name: The argument the URL came from, for the error message.

    Returns:
        ``url`` without trailing slashes, ending in ``/v2``.

    Raises:
        ValueError: ``url`` is not a ``ws://`` or ``wss://`` URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"{name}: {url!r} is not a WebSocket URL (ws://HOST[:PORT] or wss://...)")
    base = url.rstrip("/")
    if base.endswith(API_V):
        base = base.removesuffix(API_V).rstrip("/")
    return base + API_V


def refusal(url: str, error: BaseException | None) -> EndpointRefused | None:
    """The `EndpointRefused` for a connect failure that retrying cannot fix, else ``None``.

    Args:
        url: The URL the client tried.
        error: The cause of the transport's `ConnectError` (the websockets or OS exception).

    Returns:
        The error to raise, or ``None`` for a failure worth retrying (a reset, a timeout, a
        name that does not resolve yet, a 5xx or 429 answer).
    """
    # Only the transport imports websockets: its InvalidStatus is recognised by its response.
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        if status >= 500 or status in _TRANSIENT_STATUSES:
            return None
        phrase = getattr(response, "reason_phrase", "")
        return EndpointRefused(url, f"HTTP {status} {phrase}".rstrip(), status=status)
    if isinstance(error, ssl.SSLError):
        # Certificate not trusted, wrong host name, not TLS at all: the same answer next time.
        return EndpointRefused(url, f"TLS failure: {error}")
    if isinstance(error, ConnectionRefusedError):
        return EndpointRefused(url, "connection refused (nothing listens there)", permanent=False)
    return None


class WatchedConnector:
    """The facade's connector: the transport's ``connect``, reporting what it cannot fix.

    Args:
        on_refused: Called with the `EndpointRefused` of every connect failure that
            `refusal` does not consider worth a retry (the client's retry loop still runs;
            the facade decides whether to stop it).
    """

    def __init__(self, on_refused: Callable[[EndpointRefused], None]) -> None:
        self._on_refused = on_refused
        self.last_failure: dict[str, str] = {}
        """Why the last attempt on each URL failed (for "not connected within ..." errors)."""

    async def __call__(self, url: str) -> Transport:
        """Open a transport to ``url`` (see `kraken_ws.transport.websockets.connect`).

        Raises:
            ConnectError: The connection could not be opened.
        """
        try:
            transport = await connect(url)
        except ConnectError as exc:
            cause = exc.__cause__
            refused = refusal(url, cause)
            if refused is None:
                # Whoever reports it names the URL: keep only what went wrong.
                self.last_failure[url] = f"{type(cause).__name__}: {cause}" if cause else str(exc)
                raise
            self.last_failure[url] = refused.reason
            self._on_refused(refused)
            raise
        self.last_failure.pop(url, None)
        return transport
