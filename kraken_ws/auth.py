"""WebSocket token retrieval over Kraken's REST API (the client's only ``httpx`` user).

Private channels and every trading method carry a short-lived token in ``params.token``. The
token comes from ``POST /0/private/GetWebSocketsToken``, signed with the API secret
([Protocol notes §3][ref-3]). `TokenProvider` fetches it, caches it, and makes sure that however
many coroutines ask at once, only one request is in flight.

Secrets never leave this module in clear: the key, the secret and the token are absent from every
``repr``, log line and exception message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import importlib
import logging
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from .endpoints import KRAKEN_REST_URL
from .exceptions import AuthenticationError

__all__ = ["NONCE_UNITS_PER_SECOND", "TOKEN_PATH", "TokenProvider", "http_client", "sign"]

TOKEN_PATH = "/0/private/GetWebSocketsToken"
"""REST path of the token endpoint (also the ``uri_path`` that is signed)."""

_log = logging.getLogger(__name__)

_tls_context: ssl.SSLContext | None = None


async def http_client(
    *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 10.0
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose TLS context is built once per process, off the event loop.

    httpx builds a new context (loading the whole CA bundle) for every client: 20-50 ms of CPU
    that would stall every connection's frames and order acknowledgements on the event loop,
    at each token fetch, i.e. at every reconnect. The context is built in a worker thread the
    first time and shared afterwards (same settings as httpx's default, environment included).
    """
    global _tls_context
    if transport is not None:
        return httpx.AsyncClient(transport=transport, timeout=timeout)
    if _tls_context is None:
        _tls_context = await asyncio.to_thread(_prepare_http)
    return httpx.AsyncClient(verify=_tls_context, timeout=timeout)


def _prepare_http() -> ssl.SSLContext:
    # httpx's transport imports httpcore and anyio's asyncio backend on its first request
    # (another ~40 ms): importing them here, in the worker thread, keeps that off the loop too.
    for name in ("httpcore", "anyio", "anyio._backends._asyncio"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    return httpx.create_ssl_context()


def sign(uri_path: str, nonce: int | str, postdata: str, secret: str) -> str:
    """Compute Kraken's ``API-Sign`` header ([Protocol notes §3.2][ref-3-2]).

    Args:
        uri_path: The path being called, e.g. ``"/0/private/GetWebSocketsToken"``.
        nonce: The nonce that is also inside ``postdata``.
        postdata: The exact request body as sent.
        secret: The base64-encoded API secret.

    Returns:
        The base64 HMAC-SHA512 signature.

    Raises:
        AuthenticationError: The secret is not valid base64.
    """
    try:
        key = base64.b64decode(secret, validate=True)
    except ValueError:
        # Never echo the secret, not even a prefix of it.
        raise AuthenticationError("API secret is not valid base64") from None
    sha = hashlib.sha256((str(nonce) + postdata).encode()).digest()
    mac = hmac.new(key, uri_path.encode() + sha, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


#: Nonce units per second: python-kraken-sdk's scale (10 ns), the largest in common use. Kraken
#: keeps the last nonce of each key and refuses anything not above it, so a key that
#: python-kraken-sdk signed with would refuse millisecond nonces for good ("EAPI:Invalid
#: nonce"): users switching to us keep their keys.
NONCE_UNITS_PER_SECOND = 100_000_000


class _NonceSource:
    """Strictly increasing nonces: wall-clock 10 ns units, bumped when the clock repeats."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last = 0

    def __call__(self) -> int:
        candidate = int(self._clock() * NONCE_UNITS_PER_SECOND)
        # Two calls within one clock tick, or a clock that stepped back, must still increase:
        # Kraken rejects a nonce that is not larger than the previous one for the key.
        self._last = max(candidate, self._last + 1)
        return self._last


class TokenProvider:
    """Fetches and caches the WebSocket token.

    Args:
        key: API key (public part).
        secret: API secret (base64).
        rest_url: REST base URL, e.g. ``"https://api.kraken.com"``.
        transport: An ``httpx.AsyncBaseTransport`` to use instead of the network (tests).
        timeout: HTTP timeout in seconds.
        clock: Wall clock in seconds for nonces (injectable for tests).
        max_age: Seconds after which a cached, never-used token is refetched. Kraken's tokens
            must be used within 15 minutes; half of it leaves margin for clock skew.
    """

    def __init__(
        self,
        key: str,
        secret: str,
        *,
        rest_url: str = KRAKEN_REST_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        max_age: float = 450.0,
    ) -> None:
        self._key = key
        self._secret = secret
        self._rest_url = rest_url.rstrip("/")
        self._transport = transport
        self._timeout = timeout
        self._clock = clock
        self._max_age = max_age
        self._nonce = _NonceSource(clock)
        self._token: str | None = None
        self._fetched_at = 0.0
        self._inflight: asyncio.Task[str] | None = None
        self.fetch_count = 0
        """How many token requests were sent (diagnostics and tests)."""

    def __repr__(self) -> str:
        return f"TokenProvider(rest_url={self._rest_url!r}, has_token={self._token is not None})"

    @property
    def has_credentials(self) -> bool:
        """Whether a key and a secret were given."""
        return bool(self._key and self._secret)

    @property
    def cached(self) -> str | None:
        """The cached token, if any (no fetch)."""
        return self._token

    def invalidate(self) -> None:
        """Forget the cached token so that the next `get` fetches a fresh one."""
        self._token = None

    async def get(self, *, refresh: bool = False) -> str:
        """Return a token, fetching one if there is none (or ``refresh`` is set).

        Concurrent callers share one HTTP request.

        Args:
            refresh: Discard the cached token first.

        Returns:
            The token.

        Raises:
            AuthenticationError: No credentials, HTTP failure, or Kraken refused the request.
        """
        if refresh:
            self._token = None
        if self._token is not None and self._clock() - self._fetched_at < self._max_age:
            return self._token
        if self._inflight is None:
            # The fetch runs in its own task so that cancelling one waiter never cancels the
            # fetch the others are waiting for.
            task = asyncio.get_running_loop().create_task(self._fetch_and_store())
            task.add_done_callback(self._fetch_done)
            self._inflight = task
        return await asyncio.shield(self._inflight)

    async def _fetch_and_store(self) -> str:
        token = await self._fetch()
        self._token = token
        self._fetched_at = self._clock()
        return token

    def _fetch_done(self, task: asyncio.Task[str]) -> None:
        self._inflight = None
        # Mark the exception retrieved: if every waiter was cancelled, nobody else reads it.
        if not task.cancelled():
            task.exception()

    async def aclose(self) -> None:
        """Cancel a fetch in progress, if any."""
        task = self._inflight
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _fetch(self) -> str:
        if not self.has_credentials:
            raise AuthenticationError("an API key and secret are required for private endpoints")
        nonce = self._nonce()
        body = urlencode({"nonce": nonce})
        headers = {
            "API-Key": self._key,
            "API-Sign": sign(TOKEN_PATH, nonce, body, self._secret),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "User-Agent": "kraken-ws",
        }
        self.fetch_count += 1
        _log.debug("requesting a WebSocket token from %s", self._rest_url)
        try:
            client = await http_client(transport=self._transport, timeout=self._timeout)
            async with client as http:
                response = await http.post(
                    self._rest_url + TOKEN_PATH, content=body, headers=headers
                )
        except httpx.HTTPError as exc:
            # httpx messages contain the URL only, never headers; keep the cause for debugging.
            raise AuthenticationError(f"token request failed: {type(exc).__name__}: {exc}") from exc
        try:
            payload = response.json()
        except ValueError as exc:
            raise AuthenticationError(
                f"token endpoint answered HTTP {response.status_code} with non-JSON body"
            ) from exc
        errors = payload.get("error") if isinstance(payload, dict) else None
        if errors:
            error = str(errors[0]) if isinstance(errors, list) else str(errors)
            raise AuthenticationError(f"token request refused: {error}", error=error)
        if response.status_code >= 400:
            raise AuthenticationError(f"token endpoint answered HTTP {response.status_code}")
        result = payload.get("result") if isinstance(payload, dict) else None
        token = result.get("token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("token endpoint answered without a token")
        _log.debug("received a WebSocket token")
        return token
