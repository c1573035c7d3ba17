"""The facade takes the URLs kraken-ws hands out, and fails fast on a refused handshake.

The example of docs/migrating.md ("Pointing it at the local exchange") is run as written,
against the URLs ``kraken-ws serve --json`` prints (a real ``serve`` process) and against
python-kraken-sdk-style base URLs (without ``/v2``). A refused handshake (404, 401, a TLS
failure, a closed port) must raise within about 2 s one line naming the URL and the reason.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from kraken_ws.compat import EndpointRefused, SpotOrderBookClient, SpotWSClient, WSState
from kraken_ws.exceptions import ConnectError
from kraken_ws.testing import FaultProxy, LocalExchange

from .conftest import Recorder, closed_port, is_channel, is_method, other_tasks

GIVE_UP = {"python-kraken-sdk": {"error": "kraken.exceptions.MaxReconnectError"}}
DOC = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"
HEADING = "## Pointing it at the local exchange"
FAST = 2.0  # seconds a refused handshake may take (generous: the machine may be loaded)


def doc_example() -> str:
    """The first ```python block under the heading, exactly as the page shows it."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    match = re.search(r"^```python\n(.*?)^```$", section, re.S | re.M)
    assert match is not None
    return match.group(1)


async def run_doc_example(urls: dict[str, str], tmp_path: Path, recorder: Recorder) -> None:
    """Run the example with ``urls`` in ``local-exchange.json``; its prints are recorded."""
    (tmp_path / "local-exchange.json").write_text(json.dumps(urls))
    namespace: dict[str, Any] = {"__name__": "migrating_example", "print": recorder.print}
    exec(compile(doc_example(), str(DOC), "exec"), namespace)
    async with asyncio.timeout(20):
        await namespace["main"]()
    added = recorder.matching(is_method("add_order"))
    assert len(added) == 1, added
    assert added[0]["success"] is True, added
    assert recorder.matching(is_channel("ticker", "snapshot"))
    asks = recorder.messages[-1]  # the book's ask side, printed last
    assert isinstance(asks, dict)
    assert len(asks) == 10
    assert other_tasks() == set()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_doc_example_with_the_urls_serve_prints(in_tmp: Path, recorder: Recorder) -> None:
    """The acceptance test: `kraken-ws serve --json`'s output, passed as printed."""
    serve_process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kraken_ws",
        "serve",
        "--json",
        "--rate",
        "20",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert serve_process.stdout is not None
        async with asyncio.timeout(20):
            line = await serve_process.stdout.readline()
        urls = json.loads(line)
        assert urls["ws_url"].endswith("/v2")
        await run_doc_example(urls, in_tmp, recorder)
    finally:
        serve_process.terminate()
        async with asyncio.timeout(10):
            await serve_process.wait()


@pytest.mark.parametrize("form", ["base", "trailing slash"])
async def test_doc_example_with_base_urls(form: str, in_tmp: Path, recorder: Recorder) -> None:
    """python-kraken-sdk's form (no ``/v2``), and a trailing slash, work as well."""
    async with LocalExchange(rate=20, seed=5, heartbeat_interval=0.2) as ex:

        def shaped(url: str) -> str:
            base = url.removesuffix("/v2")
            return base if form == "base" else url + "/"

        urls = {
            "ws_url": shaped(ex.ws_url),
            "auth_ws_url": shaped(ex.auth_ws_url),
            "l3_ws_url": shaped(ex.l3_ws_url),
            "rest_url": ex.rest_url,
            "api_key": ex.api_key,
            "api_secret": ex.api_secret,
        }
        await run_doc_example(urls, in_tmp, recorder)


def test_url_forms() -> None:
    for url in ("ws://h:1", "ws://h:1/", "ws://h:1/v2", "ws://h:1/v2/", "ws://h:1//v2//"):
        assert SpotWSClient(ws_url=url).WS_URL == "ws://h:1/v2", url
    assert SpotWSClient().WS_URL == "wss://ws.kraken.com/v2"
    # Only one /v2 is taken off: a doubled one is a wrong URL, which the server reports.
    assert SpotWSClient(ws_url="ws://h:1/v2/v2").WS_URL == "ws://h:1/v2/v2"
    with pytest.raises(ValueError, match=r"auth_ws_url: 'http://h:1' is not a WebSocket URL"):
        SpotWSClient(auth_ws_url="http://h:1")
    client = SpotWSClient(ws_url="ws://h:1/v2", auth_ws_url="ws://h:2/", l3_ws_url="ws://h:3")
    assert (client.WS_URL, client.AUTH_WS_URL, client.L3_WS_URL) == (
        "ws://h:1/v2",
        "ws://h:2/v2",
        "ws://h:3/v2",
    )

    class Book(SpotOrderBookClient):
        WS_URL = "ws://h:4/v2"  # python-kraken-sdk's way: the class attribute

    assert Book().WS_URL == "ws://h:4/v2"


# --- refused handshakes -------------------------------------------------------------------------


@pytest.fixture
async def status_server() -> AsyncIterator[Callable[[int], str]]:
    """A WebSocket server answering every handshake with the HTTP status in its path."""

    def answer(connection: ServerConnection, request: Request) -> Response:
        first = request.path.strip("/").split("/")[0]
        return connection.respond(int(first) if first.isdigit() else 404, "no\n")

    async def handler(ws: ServerConnection) -> None:  # pragma: no cover (never reached)
        await ws.close()

    async with serve(handler, "127.0.0.1", 0, process_request=answer) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield lambda status: f"ws://127.0.0.1:{port}/{status}"


@pytest.fixture
async def not_tls() -> AsyncIterator[str]:
    """A ``wss://`` URL whose server speaks plain text: the TLS handshake fails."""

    async def speak_plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Read the ClientHello first and close only after the client did: closing on unread
        # bytes would send a reset, which could reach the client before the answer.
        await reader.read(65536)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(speak_plain, "127.0.0.1", 0)
    async with server:
        yield f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def assert_refused_fast(
    start: Callable[[], Awaitable[None]], client: SpotWSClient, url: str, reason: str
) -> EndpointRefused:
    began = time.monotonic()
    with pytest.raises(EndpointRefused) as raised:
        await start()
    assert time.monotonic() - began < FAST
    error = raised.value
    message = str(error)
    assert message == f"Could not connect to the Kraken API! {url}: {reason}"
    assert "\n" not in message
    # Still what python-kraken-sdk's start() raises, and a kraken-ws ConnectError.
    assert isinstance(error, TimeoutError)
    assert isinstance(error, ConnectError)
    # No chain of transport exceptions under it.
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert client.state is WSState.ERROR
    assert client.exception_occur
    assert other_tasks() == set()  # nothing keeps retrying in the background
    return error


async def test_v2_twice_is_a_fast_404(exchange: LocalExchange) -> None:
    url = exchange.ws_url + "/v2"
    client = SpotWSClient(ws_url=url, callback=Recorder().callback)
    error = await assert_refused_fast(client.start, client, url, "HTTP 404 Not Found")
    assert (error.url, error.status) == (url, 404)


@pytest.mark.parametrize(("status", "phrase"), [(401, "Unauthorized"), (403, "Forbidden")])
async def test_auth_statuses_are_fast(
    status: int, phrase: str, status_server: Callable[[int], str]
) -> None:
    url = f"{status_server(status)}/v2"
    client = SpotWSClient(ws_url=url, callback=Recorder().callback)
    error = await assert_refused_fast(client.start, client, url, f"HTTP {status} {phrase}")
    assert error.status == status


async def test_overloaded_server_is_retried(status_server: Callable[[int], str]) -> None:
    """A 503 may be gone on the next attempt: retried until ``start_timeout``."""
    url = f"{status_server(503)}/v2"
    client = SpotWSClient(ws_url=url, callback=Recorder().callback, start_timeout=0.5)
    with pytest.raises(TimeoutError, match=r"Not connected within 0\.5 s") as raised:
        await client.start()
    assert not isinstance(raised.value, EndpointRefused)
    assert f"({url}: InvalidStatus: server rejected WebSocket connection: HTTP 503)" in str(
        raised.value
    )
    assert raised.value.__cause__ is None
    await client.close()


async def test_closed_port_is_fast() -> None:
    url = f"ws://127.0.0.1:{closed_port()}/v2"
    client = SpotWSClient(ws_url=url, callback=Recorder().callback)
    error = await assert_refused_fast(
        client.start, client, url, "connection refused (nothing listens there)"
    )
    assert error.status is None


async def test_tls_failure_is_fast(not_tls: str, exchange: LocalExchange) -> None:
    client = SpotWSClient(
        exchange.api_key,
        exchange.api_secret,
        Recorder().callback,
        rest_url=exchange.rest_url,
        ws_url=exchange.ws_url,
        auth_ws_url=not_tls,  # the public endpoint is fine; the private one is not
    )
    began = time.monotonic()
    with pytest.raises(EndpointRefused, match=re.escape(f"{not_tls}/v2: TLS failure: ")) as raised:
        await client.start()
    assert time.monotonic() - began < FAST
    assert "\n" not in str(raised.value)
    assert raised.value.status is None
    assert other_tasks() == set()


async def test_book_client_in_async_with_fails_fast(exchange: LocalExchange) -> None:
    """``async with`` never reaches ``__aexit__`` when ``start`` raises: nothing is left over."""
    url = exchange.ws_url + "/v2"
    began = time.monotonic()
    with pytest.raises(EndpointRefused, match="HTTP 404"):
        async with SpotOrderBookClient(ws_url=url):
            pass  # pragma: no cover
    assert time.monotonic() - began < FAST
    assert other_tasks() == set()


async def test_refused_after_a_drop_gives_up_at_once(
    exchange: LocalExchange, status_server: Callable[[int], str], caplog: pytest.LogCaptureFixture
) -> None:
    """Connected, dropped, then answered 404: python-kraken-sdk's give-up message, no retries."""
    recorder = Recorder()
    async with FaultProxy.for_url(exchange.ws_url) as proxy:
        client = SpotWSClient(
            ws_url=proxy.url(exchange.ws_url),
            callback=recorder.callback,
            reconnect_initial_delay=0.01,
            reconnect_max_delay=0.02,
        )
        await client.start()
        # The same address now leads to a server that answers every handshake with a 404.
        proxy.target_port = int(status_server(404).rsplit(":", 1)[1].split("/")[0])
        proxy.cut()
        await recorder.wait_for(lambda m: m == GIVE_UP, timeout=FAST)
        assert client.exception_occur
        assert client.state is WSState.ERROR
        await client.close()
    # One line says why (not the retry counter's "6 connection attempts failed").
    (line,) = [r.getMessage() for r in caplog.records if r.name == SpotWSClient.LOG.name]
    assert line == f"Could not connect to the Kraken API! {client.WS_URL}: HTTP 404 Not Found"
