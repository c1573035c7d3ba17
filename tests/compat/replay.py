"""One local-exchange session recorded once, then replayed frame for frame to any client.

The differential tests need python-kraken-sdk and the facade to see **the same frames**, byte
for byte. Two clients on one live exchange do not: acks carry the exchange's receive times, each
client's orders get their own ids, and the interleaving of two sockets is up to the scheduler.
So the session is recorded once (`record`: a plain websockets client drives a seeded
`LocalExchange` through a script of `Action`s) and each client is then served the recording
by a `Replay` server:

- a *conductor* walks the actions in their recorded order. An action with a request waits for
  the client to send that request (compared with the recorded one: the same method and params;
  ``req_id`` and the token aside), then sends the frames the exchange answered, on the request's
  connection first, then those the action caused on the other connection (a fill's ``trade``
  frame on the public connection). An action without a request (a market step) just sends;
- frames are sent as recorded. The only edit is the ``req_id`` of a response, which follows the
  client's request (python-kraken-sdk's ping has none, the facade's ``start()`` ping has one);
- with ``delivered``, the conductor waits after each connection's frames until the client has
  handed them all to its callback, so the order *across* the two connections is the same for
  every client too, and the two message lists compare index by index.

During the recording, a fence (a ping on each connection, answered after everything the exchange
queued before it) closes each action, so that every frame is attributed to the action that
caused it; the fences are not part of the recording.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve

from kraken_ws.auth import TokenProvider
from kraken_ws.testing import LocalExchange

Endpoint = Literal["public", "auth"]
ENDPOINTS: tuple[Endpoint, ...] = ("public", "auth")
_FENCE_REQ_ID = 990_000
# A top-level "req_id" member with its comma (Kraken's frames nest none).
_REQ_ID = re.compile(r',"req_id":\d+(?=[,}])|"req_id":\d+,')


@dataclass
class Action:
    """One step of the session: a request to send, or something done to the exchange.

    Attributes:
        name: A label for messages.
        endpoint: The connection the request goes to.
        request: The request as the script sends it (``None``: no request).
        exchange: What to do to the exchange instead (a market step, a frame to inject).
        frames: Recorded frames per connection, in arrival order.
    """

    name: str
    endpoint: Endpoint = "public"
    request: dict[str, Any] | None = None
    exchange: Callable[[LocalExchange], Awaitable[object]] | None = None
    frames: dict[Endpoint, list[str]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})


def canonical(request: dict[str, Any]) -> dict[str, Any]:
    """A request without what legitimately differs between clients: ``req_id``, the token."""
    out = {k: v for k, v in request.items() if k != "req_id"}
    params = out.get("params")
    if isinstance(params, dict):
        out["params"] = {k: v for k, v in params.items() if k != "token"}
    return out


def with_req_id(text: str, req_id: object) -> str:
    """A response frame answering a request whose ``req_id`` was ``req_id`` (``None``: none)."""
    text = _REQ_ID.sub("", text)
    if req_id is None:
        return text
    return f'{{"req_id":{json.dumps(req_id)},{text[1:]}'


class _Reader:
    """The recording side of one connection: collects frames, answers fences."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[str] = []
        self._fences: dict[int, asyncio.Future[None]] = {}
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for text in self.ws:
            assert isinstance(text, str)
            if '"method":"pong"' in text:
                req_id = json.loads(text).get("req_id")
                if req_id in self._fences:
                    self._fences.pop(req_id).set_result(None)
                    continue
            self.frames.append(text)

    async def fence(self, req_id: int) -> list[str]:
        """Everything the exchange queued for this connection so far (and forget it)."""
        done = self._fences[req_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"method": "ping", "req_id": req_id}))
        async with asyncio.timeout(10):
            await done
        frames, self.frames = self.frames, []
        return frames


async def record(ex: LocalExchange, actions: list[Action]) -> list[Action]:
    """Run ``actions`` against ``ex`` and fill in each action's frames.

    The first two actions must be the connects (``name`` ``connect:public`` and
    ``connect:auth``, with a ping as request): their frames are what a new connection gets.
    """
    tokens = TokenProvider(ex.api_key, ex.api_secret, rest_url=ex.rest_url)
    token = await tokens.get()
    await tokens.aclose()
    readers: dict[Endpoint, _Reader] = {}
    fence = _FENCE_REQ_ID
    try:
        for action in actions:
            if action.name.startswith("connect:"):
                ws = await connect({"public": ex.ws_url, "auth": ex.auth_ws_url}[action.endpoint])
                readers[action.endpoint] = _Reader(ws)
            if action.request is not None:
                request = json.loads(json.dumps(action.request))
                params = request.get("params")
                if action.endpoint == "auth" and isinstance(params, dict):
                    params["token"] = token
                await readers[action.endpoint].ws.send(json.dumps(request))
            if action.exchange is not None:
                await action.exchange(ex)
            # The request's own connection first: once it is fenced, the exchange has handled
            # the request and queued everything it caused, on every connection.
            order = sorted(readers, key=lambda e: e != action.endpoint)
            for endpoint in order:
                fence += 1
                action.frames[endpoint] = await readers[endpoint].fence(fence)
    finally:
        for reader in readers.values():
            await reader.ws.close()
            await reader.task
    return actions


Plays = Callable[[Action], bool]
Keeps = Callable[[Action, Endpoint, str], bool]


class Replay:
    """Serves a recording to one client (see the module docstring).

    Args:
        actions: The recording.
        plays: Which actions wait for the client's request (others only send their frames).
        keeps: Which frames to send.
        delivered: ``await delivered(n)`` returns once the client has received ``n`` frames.
    """

    def __init__(
        self,
        actions: list[Action],
        *,
        plays: Plays = lambda action: True,
        keeps: Keeps = lambda action, endpoint, text: True,
        delivered: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.actions = actions
        self._plays = plays
        self._keeps = keeps
        self._delivered = delivered
        self._connections: dict[Endpoint, ServerConnection] = {}
        self._connected: dict[Endpoint, asyncio.Event] = {e: asyncio.Event() for e in ENDPOINTS}
        self._requests: dict[Endpoint, asyncio.Queue[dict[str, Any]]] = {
            e: asyncio.Queue() for e in ENDPOINTS
        }
        self._server: Server | None = None
        self._port = 0
        self.sent = 0
        """Frames sent so far (all connections)."""
        self.requests: list[tuple[Endpoint, dict[str, Any]]] = []
        """Every request the client sent, in order."""

    def url(self, endpoint: Endpoint) -> str:
        """The base URL of ``endpoint`` (clients append ``/v2``)."""
        return f"ws://127.0.0.1:{self._port}/{endpoint}"

    async def _handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        endpoint: Endpoint = "auth" if path.startswith("/auth") else "public"
        self._connections[endpoint] = ws
        self._connected[endpoint].set()
        async for text in ws:
            assert isinstance(text, str)
            request = json.loads(text)
            self.requests.append((endpoint, request))
            self._requests[endpoint].put_nowait(request)

    async def _send(self, action: Action, endpoint: Endpoint, req_id: object) -> None:
        frames = [t for t in action.frames[endpoint] if self._keeps(action, endpoint, t)]
        if not frames:
            return
        await self._connected[endpoint].wait()
        ws = self._connections[endpoint]
        for text in frames:
            is_response = endpoint == action.endpoint and text.startswith('{"method"')
            await ws.send(with_req_id(text, req_id) if is_response else text)
        self.sent += len(frames)
        if self._delivered is not None:
            await self._delivered(self.sent)

    async def conduct(self) -> None:
        """Walk the recording; returns once every frame was sent (and delivered)."""
        for action in self.actions:
            req_id: object = None
            if action.request is not None and self._plays(action):
                await self._connected[action.endpoint].wait()
                got = await self._requests[action.endpoint].get()
                assert canonical(got) == canonical(action.request), (action.name, got)
                req_id = got.get("req_id")
            elif action.request is not None:
                req_id = action.request.get("req_id")
            for endpoint in sorted(ENDPOINTS, key=lambda e: e != action.endpoint):
                await self._send(action, endpoint, req_id)

    async def close_connections(self) -> None:
        """Close the client's connections (python-kraken-sdk's ``close()`` waits for that)."""
        for ws in self._connections.values():
            await ws.close()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[Replay]:
        """Listen on 127.0.0.1 while the block runs."""
        async with serve(self._handler, "127.0.0.1", 0, compression=None) as server:
            self._port = next(iter(server.sockets)).getsockname()[1]
            yield self
