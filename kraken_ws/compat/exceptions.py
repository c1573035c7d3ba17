"""python-kraken-sdk's exception names, placed in the kraken-ws tree.

Code written for python-kraken-sdk catches ``KrakenAuthenticationError`` and
``MaxReconnectError`` by name; code written for kraken-ws catches
`AuthenticationError` or
`ConnectError`. Subclassing makes both ``except`` styles work::

    AuthenticationError
    └── KrakenAuthenticationError
    TransportError
    └── ConnectError
        └── MaxReconnectError
"""

from __future__ import annotations

from ..exceptions import AuthenticationError, ConnectError

__all__ = ["KrakenAuthenticationError", "MaxReconnectError"]


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
