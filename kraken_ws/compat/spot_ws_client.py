"""``SpotWSClient``: python-kraken-sdk's WebSocket client surface over `KrakenWSClient`.

Code written for ``kraken.spot.SpotWSClient`` runs after changing the import line. The facade is
an adapter (design principle 7): connections, reconnects, tokens, request correlation and
subscription replay all belong to the typed `KrakenWSClient`, exposed
as `SpotWSClient.client`. The facade only

* hands every received frame to ``on_message`` as the plain dict python-kraken-sdk delivers
  (``json.loads``, floats: the one place exempt from the lossless rule), in arrival order, from
  one dispatcher task fed by the client's ``on_raw_frame`` hook;
* turns python-kraken-sdk's dict calls into `KrakenWSClient.send` calls (which add the
  token, validate, and wait for the response);
* keeps python-kraken-sdk's reconnect limit (6 consecutive failed attempts) by counting the
  client's ``Reconnecting`` events, then delivers the synthetic ``MaxReconnectError`` message.

The behaviour differences from python-kraken-sdk are listed in ``docs/migrating.md``.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import warnings
from collections.abc import Coroutine
from typing import Any, ClassVar, Final

from ..client import ClientEvent, KrakenWSClient
from ..endpoints import KRAKEN_AUTH_WS_URL, KRAKEN_L3_WS_URL, KRAKEN_REST_URL, KRAKEN_WS_URL
from ..events import Connected, ConnectionFailed, Endpoint, Reconnecting
from ..exceptions import AuthenticationError, ConnectError, InvalidState, KrakenAPIError
from ._connect import WatchedConnector, ws_endpoint
from ._rest import FacadeTokens, RestSession
from .exceptions import EndpointRefused, KrakenAuthenticationError, MaxReconnectError
from .types import MAX_RECONNECT_MESSAGE, MessageCallback, WSState

__all__ = ["SpotWSClient"]


class _GiveUp:
    """Inbox marker: deliver the MaxReconnectError message, then set ``exception_occur``."""


_GIVE_UP: Final = _GiveUp()


class SpotWSClient:
    """python-kraken-sdk's ``SpotWSClient``, backed by `KrakenWSClient`.

    Subclass it and override `on_message`, or pass ``callback``. Every frame Kraken sends
    (status, heartbeats, pongs, acks, method responses, channel data) reaches ``on_message`` as a
    plain dict, in arrival order. Typed events stay available on `client`
    (``client.events()``; the facade consumes its ``on_event`` hook).

    Args:
        key: API key; with ``secret`` enables private channels and trading.
        secret: API secret (base64).
        callback: Called with each message when `on_message` is not overridden (sync or
            async; python-kraken-sdk requires async).
        no_public: Do not open the public connection (public requests then raise
            ``AttributeError`` as in python-kraken-sdk).
        rest_url: REST base URL (token, `request`).
        ws_url: Public WebSocket URL, with or without ``/v2`` (python-kraken-sdk takes it
            without and appends it; `LocalExchange.ws_url` and ``kraken-ws serve --json`` give it
            with).
        auth_ws_url: Authenticated WebSocket URL, with or without ``/v2``.
        l3_ws_url: Addition: level3 URL, with or without ``/v2`` (level3 needs no second client).
        start_timeout: Addition: seconds `start` waits for the connections before raising
            ``TimeoutError`` (python-kraken-sdk's 10 s timeout never fires). A refused
            handshake (HTTP 404, 401, TLS, closed port) raises `EndpointRefused` at once.
        max_reconnect_attempts: Addition: consecutive failed connection attempts before giving
            up (python-kraken-sdk: 6); ``None`` never gives up.
        reconnect_initial_delay: Addition: upper bound of the first reconnect delay (seconds;
            the bound doubles per attempt, full jitter).
        reconnect_max_delay: Addition: cap of the reconnect delay (seconds).
        request_timeout: Addition: seconds ``send_message`` waits for the response.
    """

    LOG: ClassVar[logging.Logger] = logging.getLogger(__name__)
    # python-kraken-sdk's shape: base URLs without the version, which API_V appends.
    API_V: str = "/v2"
    WS_URL: str = KRAKEN_WS_URL.removesuffix(API_V)
    AUTH_WS_URL: str = KRAKEN_AUTH_WS_URL.removesuffix(API_V)
    L3_WS_URL: str = KRAKEN_L3_WS_URL.removesuffix(API_V)
    URL: str = KRAKEN_REST_URL
    TIMEOUT: int = 10
    HEADERS: ClassVar[dict[str, str]] = {"User-Agent": "kraken-ws (python-kraken-sdk compatible)"}

    def __init__(
        self,
        key: str = "",
        secret: str = "",
        callback: MessageCallback | None = None,
        *,
        no_public: bool = False,
        rest_url: str | None = None,
        ws_url: str | None = None,
        auth_ws_url: str | None = None,
        l3_ws_url: str | None = None,
        start_timeout: float = 10.0,
        max_reconnect_attempts: int | None = 6,
        reconnect_initial_delay: float = 1.0,
        reconnect_max_delay: float = 60.0,
        request_timeout: float = 10.0,
    ) -> None:
        if max_reconnect_attempts is not None and max_reconnect_attempts < 1:
            raise ValueError("max_reconnect_attempts must be >= 1 or None")
        self.URL = rest_url or self.URL
        # As in python-kraken-sdk the instance attributes end in /v2, whether the base URL (or
        # a patched class attribute) had it or not.
        self.WS_URL = ws_endpoint(ws_url or self.WS_URL, "ws_url")
        self.AUTH_WS_URL = ws_endpoint(auth_ws_url or self.AUTH_WS_URL, "auth_ws_url")
        self.L3_WS_URL = ws_endpoint(l3_ws_url or self.L3_WS_URL, "l3_ws_url")
        self._urls: dict[Endpoint, str] = {
            "public": self.WS_URL,
            "auth": self.AUTH_WS_URL,
            "l3": self.L3_WS_URL,
        }
        self._connector = WatchedConnector(self._on_refused)
        self._starting: asyncio.Future[EndpointRefused] | None = None
        self.state: WSState = WSState.INIT
        self._is_auth = bool(key and secret)
        self._no_public = no_public
        self._callback = callback
        self._start_timeout = start_timeout
        self._max_attempts = max_reconnect_attempts
        self._rest = RestSession(key, secret, self.URL, self.HEADERS, self.TIMEOUT)
        self.client: KrakenWSClient = KrakenWSClient(
            key,
            secret,
            ws_url=self.WS_URL,
            auth_ws_url=self.AUTH_WS_URL,
            l3_ws_url=self.L3_WS_URL,
            rest_url=self.URL,
            request_timeout=request_timeout,
            # The facade counts attempts itself: the client's limit cannot tell a first
            # connect from a reconnect, python-kraken-sdk's can.
            max_reconnect_attempts=None,
            reconnect_initial_delay=reconnect_initial_delay,
            reconnect_max_delay=reconnect_max_delay,
            on_event=self._on_client_event,
            on_raw_frame=self._on_raw_frame,
            connector=self._connector,
            # Through get_ws_token (a subclass's too), with request()'s nonce source.
            token_provider=FacadeTokens(key, secret, self.URL, lambda: self.get_ws_token()),
        )
        """The typed client doing the work (typed events: ``client.events()``)."""
        self._inbox: asyncio.Queue[tuple[str, str] | _GiveUp] = asyncio.Queue()
        self._frame: tuple[object, str] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ever_connected: set[Endpoint] = set()
        self._exception_occur = False
        self._gave_up = False
        self._closing = False

    # --- python-kraken-sdk's properties ---------------------------------------------------------

    @property
    def exception_occur(self) -> bool:
        """``True`` once the client gave up (the MaxReconnectError message was delivered)."""
        return self._exception_occur

    @property
    def public_channel_names(self) -> list[str]:
        """Channels of the public endpoint."""
        return ["book", "instrument", "ohlc", "ticker", "trade"]

    @property
    def private_channel_names(self) -> list[str]:
        """Channels that need authentication."""
        return ["executions", "balances", "level3"]

    @property
    def private_methods(self) -> list[str]:
        """Trading methods (authenticated endpoint, token added automatically)."""
        return [
            "add_order",
            "amend_order",
            "batch_add",
            "batch_cancel",
            "cancel_all",
            "cancel_all_orders_after",
            "cancel_order",
            "edit_order",
        ]

    @property
    def active_public_subscriptions(self) -> list[dict[str, Any]]:
        """Acknowledged public subscriptions, one dict per symbol (a deep copy).

        Raises:
            ConnectionError: The client was built with ``no_public=True``.
        """
        if self._no_public:
            raise ConnectionError("Public connection does not exist!")
        return copy.deepcopy(self.client.acknowledged_subscriptions("public"))

    @property
    def active_private_subscriptions(self) -> list[dict[str, Any]]:
        """Acknowledged private subscriptions, one dict per symbol (a deep copy).

        Raises:
            ConnectionError: The client has no credentials.
        """
        if not self._is_auth:
            raise ConnectionError("Private connection does not exist!")
        subscriptions = self.client.acknowledged_subscriptions("auth")
        subscriptions += self.client.acknowledged_subscriptions("l3")
        return copy.deepcopy(subscriptions)

    @property
    def return_unique_id(self) -> str:
        """A unique id: a uuid1 as 32 hex digits."""
        return self._rest.unique_id()

    def get_nonce(self) -> str:
        """A new nonce for a signed REST request (strictly increasing).

        Returns:
            The nonce as a string.
        """
        return self._rest.get_nonce()

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the connections and wait until they are up (at most ``start_timeout``).

        Like python-kraken-sdk, each new connection is pinged once; the ``pong`` reaches
        `on_message`.

        Raises:
            EndpointRefused: A server refused the connection in a way no retry fixes (an HTTP
                status such as 404 or 401, a TLS failure, a closed port); raised at the first
                attempt, after closing the client. A ``TimeoutError`` too.
            TimeoutError: Not connected within ``start_timeout`` (the message names the URLs and
                why their last attempt failed), or the client gave up first (``__cause__``: a
                `MaxReconnectError` after the retry limit).
            KrakenAuthenticationError: Kraken refused the credentials.
        """
        self.state = WSState.CONNECTING
        self._ensure_tasks()
        endpoints: list[Endpoint] = [] if self._no_public else ["public"]
        if self._is_auth:
            endpoints.append("auth")
        refused = self._starting = asyncio.get_running_loop().create_future()
        pings = asyncio.get_running_loop().create_task(self._ping_all(endpoints))
        try:
            async with asyncio.timeout(self._start_timeout):
                await asyncio.wait((pings, refused), return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            pass  # said below, with the URLs
        finally:
            self._starting = None
            if refused.done():
                # Closing ends the connection tasks (the pings end with them) and leaves no
                # retry loop behind: `async with` skips __aexit__ when start() raises.
                self._exception_occur = True
                await self.close()
            elif not pings.done():
                pings.cancel()
            await asyncio.wait((pings,))
        # One line each, and no chain of transport exceptions: the message says what happened.
        if refused.done():
            self.state = WSState.ERROR
            raise refused.result() from None
        results = [] if pings.cancelled() else pings.result()
        if results and not any(isinstance(r, BaseException) for r in results):
            if self.state is WSState.CONNECTING:
                self.state = WSState.CONNECTED
            return
        self.state = WSState.ERROR
        for result in results:
            if isinstance(result, AuthenticationError) and result.error is not None:
                raise KrakenAuthenticationError(str(result), error=result.error) from None
        if self._gave_up:
            raise TimeoutError(
                f"Could not connect to the Kraken API! Gave up after {self._max_attempts}"
                f" attempts ({self._failures(endpoints)})"
            ) from MaxReconnectError()
        raise TimeoutError(
            f"Could not connect to the Kraken API! Not connected within"
            f" {self._start_timeout:g} s ({self._failures(endpoints)})"
        ) from None

    async def _ping_all(self, endpoints: list[Endpoint]) -> list[object]:
        return await asyncio.gather(
            *(self.client.ping(endpoint=e, timeout=self._start_timeout) for e in endpoints),
            return_exceptions=True,
        )

    def _failures(self, endpoints: list[Endpoint]) -> str:
        last = self._connector.last_failure
        urls = [self._urls[e] for e in endpoints]
        return "; ".join(f"{url}: {last[url]}" for url in urls if url in last) or "no answer"

    async def close(self) -> None:
        """Close the connections, stop delivering messages, close the REST session.

        Idempotent. Messages still queued for `on_message` are dropped, as in
        python-kraken-sdk.
        """
        self.state = WSState.CANCELLING
        self._closing = True
        await self.client.close()
        current = asyncio.current_task()
        tasks = [t for t in (*self._tasks, self._dispatcher) if t is not None]
        for task in tasks:
            # close() may be called from on_message: the dispatcher then ends after it returns.
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not current), return_exceptions=True)
        await self._rest.aclose()
        self.state = WSState.CLOSED

    async def stop(self) -> None:
        """Deprecated alias of `close` (python-kraken-sdk deprecates it too)."""
        warnings.warn(
            "The 'stop' function is deprecated and will be replaced by 'close' in a future"
            " release.",
            DeprecationWarning,
            stacklevel=2,
        )
        await self.close()

    async def async_close(self) -> None:
        """Deprecated: close only the REST session (python-kraken-sdk's ``async_close``)."""
        warnings.warn(
            "The 'async_close' function is deprecated and will be replaced by 'close' in a"
            " future release.",
            DeprecationWarning,
            stacklevel=2,
        )
        await self._rest.aclose()

    async def __aenter__(self) -> SpotWSClient:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- messages in ----------------------------------------------------------------------------

    async def on_message(self, message: dict[str, Any] | list[Any]) -> None:
        """Receive one message; override it, or pass ``callback``.

        Args:
            message: The frame as python-kraken-sdk decodes it (``json.loads``, floats).
        """
        if self._callback is not None:
            result = self._callback(message)
            if inspect.isawaitable(result):
                await result
        else:
            self.LOG.warning(
                "Received message but no callback is defined! Either use a callback when"
                " initializing the websocket client or overload its ``on_message`` function."
            )
            print(message)  # noqa: T201  (python-kraken-sdk's documented fallback)

    def _on_raw_frame(self, endpoint: Endpoint, text: str) -> None:
        # Runs inside the client's reader: queue only; decoding and the user's code run in the
        # dispatcher, so a slow on_message never delays the client's own bookkeeping.
        self._inbox.put_nowait((endpoint, text))

    async def _dispatch(self) -> None:
        while True:
            item = await self._inbox.get()
            if isinstance(item, _GiveUp):
                await self._deliver(copy.deepcopy(MAX_RECONNECT_MESSAGE), "")
                # After the callback, as python-kraken-sdk does: a loop polling exception_occur
                # has seen the message when it stops.
                self._exception_occur = True
                continue
            _endpoint, text = item
            try:
                message = json.loads(text)
            except ValueError:
                self.LOG.warning("dropping a frame that is not JSON: %.200s", text)
                continue
            await self._deliver(message, text)
            if self._closing:
                return

    async def _deliver(self, message: Any, text: str) -> None:
        self._frame = (message, text)
        try:
            await self.on_message(message)
        except Exception:
            # python-kraken-sdk lets this kill and restart the connection; here the client
            # keeps running and the next message is delivered.
            self.LOG.exception("on_message raised; message skipped")
        finally:
            self._frame = None

    def _frame_text(self, message: object) -> str | None:
        """The exact wire text of ``message`` while it is being delivered, else ``None``."""
        frame = self._frame
        return frame[1] if frame is not None and frame[0] is message else None

    # --- connection lifecycle from the typed client ------------------------------------------

    def _on_client_event(self, event: ClientEvent) -> None:
        if isinstance(event, ConnectionFailed):
            # Terminal for the client (credentials refused, close code 1008): python-kraken-sdk
            # would retry until its limit, so its users get the same message.
            self._give_up(f"connection failed for good: {event.error}", stop_client=False)
        elif isinstance(event, Connected):
            self._ever_connected.add(event.endpoint)
            if self.state is WSState.RECONNECTING:
                self.state = WSState.CONNECTED
        elif isinstance(event, Reconnecting):
            # python-kraken-sdk counts connection attempts; the client counts failures since
            # the last open connection, where losing that connection is failure number 1.
            failed = event.attempt - (1 if event.endpoint in self._ever_connected else 0)
            if self._max_attempts is not None and failed >= self._max_attempts:
                self._give_up(
                    f"{event.endpoint}: {failed} connection attempts failed; giving up",
                    stop_client=True,
                )
            elif not self._closing and not self._gave_up:
                self.state = WSState.RECONNECTING

    def _on_refused(self, error: EndpointRefused) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.set_result(error)  # start() raises it now
            return
        endpoint = next((e for e, url in self._urls.items() if url == error.url), None)
        if error.permanent or endpoint not in self._ever_connected:
            # Only a port that once answered may be a server restarting: that one is retried.
            self._give_up(str(error), stop_client=True)

    def _give_up(self, reason: str, *, stop_client: bool) -> None:
        if self._gave_up or self._closing:
            return
        self._gave_up = True
        self.state = WSState.ERROR
        self.LOG.error("%s", reason)
        self._inbox.put_nowait(_GIVE_UP)
        if stop_client:
            self._spawn(self.client.close())

    def _ensure_tasks(self) -> None:
        loop = asyncio.get_running_loop()
        if self._dispatcher is None:
            self._dispatcher = loop.create_task(self._dispatch(), name="kraken-ws-compat-dispatch")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        # The coroutine itself becomes the task: a wrapper cancelled before its first step
        # would leave the inner coroutine never awaited (a RuntimeWarning).
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- messages out ---------------------------------------------------------------------------

    async def send_message(self, message: dict[str, Any], *, raw: bool = False) -> None:
        """Send a request; the token is added for private methods and channels.

        Unlike python-kraken-sdk, ``message`` is not modified, the request is validated before
        it is sent, and the call returns once Kraken has answered (the answer, success or error,
        goes to `on_message`). A ``req_id`` is allocated when the message has none.

        Args:
            message: ``{"method": ..., "params": {...}, "req_id": ...}``.
            raw: python-kraken-sdk's "send as is": no empty ``params`` is added. The request is
                still validated, and a private request still gets the client's token.

        Raises:
            TypeError: ``message`` is not a dict with a ``method`` string, or a (un)subscribe
                lacks ``params`` with a ``channel`` string.
            KrakenAuthenticationError: A private request on a client without credentials.
            AttributeError: A public request with ``no_public=True``.
            TimeoutError: No connection could be used (``RequestTimeout``, also a
                ``TimeoutError``, when Kraken did not answer in time).
            pydantic.ValidationError: The request is invalid; nothing was sent.
        """
        if not isinstance(message, dict):
            raise TypeError("The ``message`` must be type dict!")
        method = message.get("method")
        if not method or not isinstance(method, str):
            raise TypeError("The message must contain the ``method`` key with a valid string!")
        params = message.get("params")
        if "subscribe" in method:
            if not params or not isinstance(params, dict):
                raise TypeError(
                    "The message must contain the ``params`` key with a value as type dict!"
                )
            if not params.get("channel") or not isinstance(params["channel"], str):
                raise TypeError(
                    "The message must contain the ``params`` key that points to a dictionary"
                    " containing the ``channel`` key with a valid string!"
                )
        private = method in self.private_methods or (
            "subscribe" in method
            and isinstance(params, dict)
            and params["channel"] in self.private_channel_names
        )
        if private and not self._is_auth:
            raise KrakenAuthenticationError(f"{method!r} needs an API key and secret")
        if not private and self._no_public:
            raise AttributeError("Could not found any connected websocket!")
        request = dict(message)  # shallow: the client copies params before adding the token
        if not raw and method in self.private_methods and not request.get("params"):
            request["params"] = {}
        self._ensure_tasks()
        try:
            await self.client.send(request)
        except (ConnectError, InvalidState) as exc:
            raise TimeoutError("Could not retrieve the desired websocket connection!") from exc

    async def subscribe(self, params: dict[str, Any], req_id: int | None = None) -> None:
        """Subscribe to a channel; acks and data go to `on_message`.

        Args:
            params: The subscribe params, e.g. ``{"channel": "ticker", "symbol": ["BTC/USD"]}``.
            req_id: Echoed in the acks.
        """
        payload: dict[str, Any] = {"method": "subscribe"}
        if req_id is not None:
            payload["req_id"] = req_id
        payload["params"] = params
        await self.send_message(message=payload)

    async def unsubscribe(self, params: dict[str, Any], req_id: int | None = None) -> None:
        """Unsubscribe from a channel; the acks go to `on_message`.

        Args:
            params: The same params as the subscription (channel, symbol, depth, ...).
            req_id: Echoed in the acks.
        """
        payload: dict[str, Any] = {"method": "unsubscribe"}
        if req_id is not None:
            payload["req_id"] = req_id
        payload["params"] = params
        await self.send_message(message=payload)

    # --- REST -----------------------------------------------------------------------------------

    async def get_ws_token(self) -> dict[str, Any]:
        """Fetch a WebSocket token over REST (the client does this itself when it needs one).

        Returns:
            ``{"token": ..., "expires": ...}``.
        """
        result = await self.request(method="POST", uri="/0/private/GetWebSocketsToken")
        if not isinstance(result, dict):
            raise KrakenAPIError("unexpected GetWebSocketsToken answer", method="get_ws_token")
        return result

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, Any] | None = None,
        timeout: int = 10,
        *,
        auth: bool = True,
        do_json: bool = False,
        return_raw: bool = False,
        query_str: str | None = None,
        extra_params: str | dict[str, Any] | None = None,
    ) -> Any:
        """Call Kraken's REST API (``httpx``), signed when ``auth`` is true.

        Args:
            method: ``GET``, ``POST``, ...
            uri: Path, e.g. ``/0/private/Balance``.
            params: Query (GET/DELETE) or body parameters; not modified.
            timeout: Seconds (10 means the class's ``TIMEOUT``, as in python-kraken-sdk).
            auth: Sign the request with the key and secret.
            do_json: Send the body as JSON.
            return_raw: Return the ``httpx.Response`` (pks: the aiohttp response).
            query_str: Extra query string.
            extra_params: More parameters (dict or JSON text).

        Returns:
            ``result`` of Kraken's answer.

        Raises:
            KrakenAuthenticationError: No credentials, or Kraken refused them.
            KrakenAPIError: Kraken answered with another error.
        """
        return await self._rest.request(
            method,
            uri,
            params,
            timeout,
            auth=auth,
            do_json=do_json,
            return_raw=return_raw,
            query_str=query_str,
            extra_params=extra_params,
        )
