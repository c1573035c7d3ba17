"""python-kraken-sdk's exception names, placed in the kraken-ws tree.

Code written for python-kraken-sdk catches ``KrakenAuthenticationError``, ``MaxReconnectError``
and the ``TimeoutError`` of ``start()`` by name; code written for kraken-ws catches
`AuthenticationError` or `ConnectError`. Subclassing makes both ``except`` styles work:

```text
AuthenticationError
└── KrakenAuthenticationError
TransportError
└── ConnectError
    ├── MaxReconnectError
    └── EndpointRefused (also a TimeoutError)
```
"""

from __future__ import annotations

from ..exceptions import AuthenticationError, ConnectError

__all__ = ["EndpointRefused", "KrakenAuthenticationError", "MaxReconnectError"]


class KrakenAuthenticationError(AuthenticationError):
    """Credentials are missing or were refused (python-kraken-sdk's name).

    Raised by ``send_message``/``subscribe`` for a private method or channel on a client
    built without key and secret, and by ``request``/``get_ws_token`` when Kraken refuses the
    key, the signature or the nonce.

    Args:
        message: What went wrong (never contains the key, the secret or a token).
        error: The raw Kraken error string, if any.
    """

    def __init__(
        self, message: str = "Credentials are invalid or missing.", *, error: str | None = None
    ) -> None:
        super().__init__(message, error=error)


class MaxReconnectError(ConnectError):
    """The client gave up reconnecting after too many failed attempts (python-kraken-sdk's name).

    Like python-kraken-sdk, the facade does not raise it from its run loop: it delivers
    ``{"python-kraken-sdk": {"error": "kraken.exceptions.MaxReconnectError"}}`` to ``on_message``
    and sets ``exception_occur``. It is the ``__cause__`` of the ``TimeoutError`` that ``start()``
    raises when the client gives up before it ever connected.
    """

    def __init__(
        self, message: str = "The Kraken Spot websocket client encountered too many reconnects!"
    ) -> None:
        super().__init__(message)


class EndpointRefused(ConnectError, TimeoutError):
    """The server refused the connection in a way no retry fixes (raised by ``start()``).

    An HTTP status in the WebSocket handshake (404: a wrong path, 401/403: not allowed), a TLS
    failure, or a port nobody listens on. ``start()`` raises it at the first such failure rather
    than retrying until its timeout. It is a ``TimeoutError`` because that is what
    python-kraken-sdk's ``start()`` raises when it cannot connect, so existing
    ``except TimeoutError`` clauses keep working; the message names the URL and the reason:
    ``Could not connect to the Kraken API! ws://127.0.0.1:8000/v2/v2: HTTP 404 Not Found``.

    Args:
        url: The URL the client tried.
        reason: What the server (or the OS) answered.
        status: The HTTP status, if the server answered one.
        permanent: ``False`` for a refused port, which a restarting server can fix: after a
            connection was once open, the facade keeps retrying those.

    Attributes:
        url: The URL the client tried.
        reason: What the server (or the OS) answered.
        status: The HTTP status, or ``None``.
        permanent: Whether a retry cannot help even after a connection was once open.
    """

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, permanent: bool = True
    ) -> None:
        super().__init__(f"Could not connect to the Kraken API! {url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.permanent = permanent
