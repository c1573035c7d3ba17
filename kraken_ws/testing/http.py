"""The REST side of the local exchange: token endpoint and ``AssetPairs``, on h11.

Two routes are served, in Kraken's REST envelope (``{"error": [...], "result": ...}``, HTTP 200
even for API errors, as Kraken does):

* ``POST /0/private/GetWebSocketsToken``: checks ``API-Key``, ``API-Sign`` (reference §3.2) and the
  per-key increasing nonce, then issues a websocket token (``expires: 900``).
* ``GET /0/public/AssetPairs``: the REST pair metadata python-kraken-sdk's
  ``SpotOrderBookClient`` reads (``pair_decimals``/``lot_decimals``) to format its checksum input.

HTTP framing is h11's job (its state machine validates the peer and handles keep-alive); this
module only moves bytes between an asyncio stream and an :class:`h11.Connection`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import h11

from .market import InstrumentSpec

__all__ = [
    "TOKEN_PATH",
    "TOKEN_TTL",
    "HttpServer",
    "TokenStore",
    "api_sign",
    "verify_api_sign",
]

TOKEN_PATH = "/0/private/GetWebSocketsToken"
"""Path of the token endpoint; also the ``uri_path`` covered by the signature."""

ASSET_PAIRS_PATH = "/0/public/AssetPairs"
"""Path of the public pair-metadata endpoint."""

TOKEN_TTL = 900
"""Seconds a token stays valid without being used (Kraken's ``expires``)."""

_MAX_BODY = 64 * 1024


def api_sign(secret: str, uri_path: str, nonce: str, postdata: str) -> str:
    """Compute the ``API-Sign`` Kraken expects for a private REST request (reference §3.2).

    This is the exchange's own implementation, deliberately independent of
    :mod:`kraken_ws.auth`, so that the two check each other.

    Args:
        secret: The base64 API secret.
        uri_path: Path (and query, if any) of the request, e.g. ``/0/private/GetWebSocketsToken``.
        nonce: The nonce as it appears in the body.
        postdata: The exact request body.

    Returns:
        base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + postdata))).
    """
    digest = hashlib.sha256((nonce + postdata).encode()).digest()
    mac = hmac.new(base64.b64decode(secret), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def verify_api_sign(secret: str, uri_path: str, nonce: str, postdata: str, signature: str) -> bool:
    """Return whether ``signature`` is the valid ``API-Sign`` for this request.

    Args:
        secret: The base64 API secret.
        uri_path: Path (and query) of the request.
        nonce: The nonce as it appears in the body.
        postdata: The exact request body.
        signature: The ``API-Sign`` header value.

    Returns:
        ``True`` if the signature matches (constant-time comparison).
    """
    expected = api_sign(secret, uri_path, nonce, postdata)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


@dataclass
class _Token:
    value: str
    api_key: str
    last_used: float
    pins: int = 0


@dataclass
class TokenStore:
    """Websocket tokens: issue, check, pin to live connections.

    A token expires :data:`TOKEN_TTL` seconds after it was last used (creation counts as a use)
    unless a connection holds it pinned: a token used for a successful private subscription stays
    valid while that connection lives (reference §3.3).

    Args:
        clock: Seconds since the epoch; injectable so tests can move time.
    """

    clock: Callable[[], float]
    _tokens: dict[str, _Token] = field(default_factory=dict)

    def issue(self, api_key: str) -> str:
        """Create a new token for ``api_key`` and return it."""
        self._expire()
        # Kraken tokens are base64-like and may contain '+' and '/' (reference §2.4).
        value = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        self._tokens[value] = _Token(value, api_key, self.clock())
        return value

    def check(self, value: str) -> str | None:
        """Validate a token and mark it used.

        Args:
            value: The token a client sent.

        Returns:
            The API key the token belongs to, or ``None`` if it is unknown or expired.
        """
        token = self._tokens.get(value)
        if token is None:
            return None
        now = self.clock()
        if token.pins == 0 and now - token.last_used >= TOKEN_TTL:
            del self._tokens[value]
            return None
        token.last_used = now
        return token.api_key

    def pin(self, value: str) -> None:
        """Keep ``value`` alive until :meth:`unpin` (a connection subscribed with it)."""
        token = self._tokens.get(value)
        if token is not None:
            token.pins += 1

    def unpin(self, value: str) -> None:
        """Release one pin; the unused-for-900-s countdown restarts now."""
        token = self._tokens.get(value)
        if token is not None and token.pins > 0:
            token.pins -= 1
            token.last_used = self.clock()

    def _expire(self) -> None:
        # Bounded memory: forget expired, unpinned tokens whenever a new one is issued.
        now = self.clock()
        for value in [
            t.value for t in self._tokens.values() if t.pins == 0 and now - t.last_used >= TOKEN_TTL
        ]:
            del self._tokens[value]


def _envelope(result: Any = None, errors: list[str] | None = None) -> bytes:
    body: dict[str, Any] = {"error": errors or []}
    if result is not None:
        body["result"] = result
    return json.dumps(body).encode()


def asset_pair_info(spec: InstrumentSpec) -> dict[str, Any]:
    """Describe one instrument the way Kraken's REST ``AssetPairs`` does.

    Args:
        spec: The instrument.

    Returns:
        The pair object (``altname``, ``wsname``, ``pair_decimals``, ``lot_decimals``, ...).
    """
    return {
        "altname": spec.rest_altname,
        "wsname": spec.rest_wsname,
        "aclass_base": "currency",
        "base": spec.rest_base,
        "aclass_quote": "currency",
        "quote": spec.rest_quote,
        "lot": "unit",
        "cost_decimals": spec.cost_precision,
        "pair_decimals": spec.price_precision,
        "lot_decimals": spec.qty_precision,
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [],
        "fees_maker": [],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": format(spec.qty_min, "f"),
        "costmin": format(spec.cost_min, "f"),
        "tick_size": format(spec.price_increment, "f"),
        "status": "online",
    }


class HttpServer:
    """h11 server for the token and ``AssetPairs`` routes.

    Args:
        credentials: API key -> base64 secret.
        tokens: Where issued tokens live.
        instruments: The instruments to describe on ``AssetPairs``.
        host: Interface to bind.
        port: Port to bind (0 = a free one).
    """

    def __init__(
        self,
        credentials: dict[str, str],
        tokens: TokenStore,
        instruments: list[InstrumentSpec],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._credentials = credentials
        self._tokens = tokens
        self._instruments = instruments
        self._host = host
        self._port = port
        self._nonces: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("HTTP server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(self._serve, self._host, self._port)

    async def stop(self) -> None:
        """Stop accepting and close every open HTTP connection."""
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            if self._handlers:
                await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        conn = h11.Connection(our_role=h11.SERVER)
        try:
            while True:
                request, body = await self._read_request(conn, reader)
                if request is None:
                    break
                status, payload = self._route(request, body)
                self._write(conn, writer, status, payload)
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    break
                try:
                    conn.start_next_cycle()
                except h11.LocalProtocolError:
                    break
        except (h11.RemoteProtocolError, ConnectionError):
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                try:
                    self._write(conn, writer, 400, _envelope(errors=["EAPI:Bad request"]))
                    await writer.drain()
                except (h11.LocalProtocolError, ConnectionError):
                    pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._handlers.discard(task)

    @staticmethod
    async def _read_request(
        conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request | None, bytes]:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_BODY:
                    raise h11.RemoteProtocolError("body too large")
            elif isinstance(event, h11.EndOfMessage):
                return request, bytes(body)
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None, b""

    @staticmethod
    def _write(
        conn: h11.Connection, writer: asyncio.StreamWriter, status: int, payload: bytes
    ) -> None:
        headers = [
            ("content-type", "application/json"),
            ("content-length", str(len(payload))),
        ]
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
        writer.write(conn.send(h11.Data(data=payload)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")

    def _route(self, request: h11.Request, body: bytes) -> tuple[int, bytes]:
        target = request.target.decode("ascii", "replace")
        path = urlsplit(target).path
        method = request.method.decode("ascii", "replace").upper()
        if path == TOKEN_PATH:
            if method != "POST":
                return 405, _envelope(errors=["EGeneral:Invalid arguments"])
            headers = {name.decode().lower(): value.decode() for name, value in request.headers}
            return 200, self._token(target, headers, body)
        if path == ASSET_PAIRS_PATH:
            return 200, self._asset_pairs(urlsplit(target).query)
        return 404, _envelope(errors=["EGeneral:Unknown method"])

    def _token(self, target: str, headers: dict[str, str], body: bytes) -> bytes:
        api_key = headers.get("api-key", "")
        secret = self._credentials.get(api_key)
        if secret is None:
            return _envelope(errors=["EAPI:Invalid key"])
        postdata = body.decode("utf-8", "replace")
        nonce = self._extract_nonce(postdata, headers.get("content-type", ""))
        if nonce is None:
            return _envelope(errors=["EAPI:Invalid nonce"])
        try:
            valid = verify_api_sign(secret, target, nonce, postdata, headers.get("api-sign", ""))
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            return _envelope(errors=["EAPI:Invalid signature"])
        # Nonces are checked after the signature, as an attacker must not be able to burn them.
        value = int(nonce)
        if value <= self._nonces.get(api_key, -1):
            return _envelope(errors=["EAPI:Invalid nonce"])
        self._nonces[api_key] = value
        return _envelope({"token": self._tokens.issue(api_key), "expires": TOKEN_TTL})

    @staticmethod
    def _extract_nonce(postdata: str, content_type: str) -> str | None:
        raw: Any = None
        if "json" in content_type or postdata.lstrip().startswith("{"):
            try:
                document = json.loads(postdata)
            except ValueError:
                return None
            if isinstance(document, dict):
                raw = document.get("nonce")
        else:
            raw = parse_qs(postdata).get("nonce", [None])[0]
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            raw = str(raw)
        if isinstance(raw, str) and raw.isdigit() and len(raw) <= 20:
            return raw
        return None

    def _asset_pairs(self, query: str) -> bytes:
        requested = parse_qs(query).get("pair")
        if not requested:
            return _envelope({spec.rest_name: asset_pair_info(spec) for spec in self._instruments})
        result: dict[str, Any] = {}
        for name in ",".join(requested).split(","):
            name = unquote(name).strip()
            spec = next((s for s in self._instruments if name in s.rest_aliases), None)
            if spec is None:
                return _envelope(errors=["EQuery:Unknown asset pair"])
            # Kraken keys the result by the name the caller asked for; python-kraken-sdk relies
            # on that (it indexes the result with the v2 symbol it passed).
            result[name] = asset_pair_info(spec)
        return _envelope(result)
