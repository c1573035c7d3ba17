"""``SpotWSClient`` facade: python-kraken-sdk's surface and the behaviours fixed on top of it."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

import kraken_ws.spot
from kraken_ws import KrakenWSClient
from kraken_ws.compat import (
    KrakenAuthenticationError,
    MaxReconnectError,
    SpotOrderBookClient,
    SpotWSClient,
    WSState,
)
from kraken_ws.exceptions import AuthenticationError, ConnectError, TransportError
from kraken_ws.protocol.events import Reconnecting
from kraken_ws.testing import LocalExchange

from .conftest import Recorder, base, is_channel, is_method, other_tasks

GIVE_UP = {"python-kraken-sdk": {"error": "kraken.exceptions.MaxReconnectError"}}


def public(ex: LocalExchange, recorder: Recorder, **kwargs: Any) -> SpotWSClient:
    return SpotWSClient(callback=recorder.callback, ws_url=base(ex.ws_url), **kwargs)


def private(ex: LocalExchange, recorder: Recorder, **kwargs: Any) -> SpotWSClient:
    return SpotWSClient(
        ex.api_key,
        ex.api_secret,
        recorder.callback,
        rest_url=ex.rest_url,
        ws_url=base(ex.ws_url),
        auth_ws_url=base(ex.auth_ws_url),
        **kwargs,
    )


class TestSurface:
    def test_exports(self) -> None:
        assert kraken_ws.spot.SpotWSClient is SpotWSClient
        assert kraken_ws.spot.SpotOrderBookClient is SpotOrderBookClient
        assert issubclass(SpotOrderBookClient, SpotWSClient)

    def test_exception_tree(self) -> None:
        assert issubclass(KrakenAuthenticationError, AuthenticationError)
        assert issubclass(MaxReconnectError, ConnectError)
        assert issubclass(MaxReconnectError, TransportError)
        assert str(KrakenAuthenticationError())  # constructible without arguments, as in pks

    def test_state_members(self) -> None:
        assert [s.name for s in WSState] == [
            "INIT",
            "CONNECTING",
            "CONNECTED",
            "RECONNECTING",
            "CANCELLING",
            "ERRORHANDLING",
            "ERROR",
            "CLOSED",
        ]

    def test_class_attributes_and_v2_appended(self) -> None:
        assert SpotWSClient.WS_URL == "wss://ws.kraken.com"
        assert SpotWSClient.AUTH_WS_URL == "wss://ws-auth.kraken.com"
        assert SpotWSClient.API_V == "/v2"
        client = SpotWSClient(ws_url="ws://x", auth_ws_url="ws://y")
        assert (client.WS_URL, client.AUTH_WS_URL) == ("ws://x/v2", "ws://y/v2")
        assert SpotWSClient().WS_URL == "wss://ws.kraken.com/v2"
        assert isinstance(client.client, KrakenWSClient)
        assert client.state is WSState.INIT

    def test_names(self) -> None:
        client = SpotWSClient()
        assert client.public_channel_names == ["book", "instrument", "ohlc", "ticker", "trade"]
        assert client.private_channel_names == ["executions", "balances", "level3"]
        assert client.private_methods == [
            "add_order",
            "amend_order",
            "batch_add",
            "batch_cancel",
            "cancel_all",
            "cancel_all_orders_after",
            "cancel_order",
            "edit_order",
        ]

    def test_subscriptions_without_connection(self) -> None:
        with pytest.raises(ConnectionError, match="Private connection does not exist!"):
            _ = SpotWSClient().active_private_subscriptions
        with pytest.raises(ConnectionError, match="Public connection does not exist!"):
            _ = SpotWSClient(no_public=True).active_public_subscriptions
        assert SpotWSClient().active_public_subscriptions == []

    def test_nonce_and_unique_id(self) -> None:
        client = SpotWSClient()
        nonces = [int(client.get_nonce()) for _ in range(1000)]
        assert nonces == sorted(set(nonces))
        assert abs(nonces[0] / 1e8 - time.time()) < 60
        uid = client.return_unique_id
        assert len(uid) == 32
        assert int(uid, 16) >= 0
        assert uid != client.return_unique_id

    async def test_send_message_type_errors(self) -> None:
        client = SpotWSClient()
        with pytest.raises(TypeError):
            await client.send_message(["ping"])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await client.send_message({"params": {}})
        with pytest.raises(TypeError):
            await client.send_message({"method": "subscribe"})
        with pytest.raises(TypeError):
            await client.send_message({"method": "subscribe", "params": {"symbol": ["BTC/USD"]}})
        with pytest.raises(KrakenAuthenticationError):
            await client.send_message({"method": "cancel_all"})
        with pytest.raises(KrakenAuthenticationError):
            await client.subscribe({"channel": "executions"})
        with pytest.raises(AttributeError):
            await SpotWSClient(no_public=True).subscribe({"channel": "ticker", "symbol": ["X"]})
        await client.close()
        assert client.state is WSState.CLOSED


class TestLifecycle:
    async def test_states_and_no_tasks_left(self, exchange: LocalExchange) -> None:
        before = other_tasks()
        recorder = Recorder()
        client = private(exchange, recorder)
        await client.start()
        assert client.state is WSState.CONNECTED
        await client.subscribe({"channel": "ticker", "symbol": ["BTC/USD"]}, req_id=5)
        await client.subscribe({"channel": "executions"})
        (ack,) = await recorder.wait_for(
            lambda m: is_method("subscribe", True)(m) and m.get("req_id") == 5
        )
        assert ack["result"]["symbol"] == "BTC/USD"
        await recorder.wait_for(is_method("subscribe", True), count=2)
        assert client.active_public_subscriptions == [{"channel": "ticker", "symbol": ["BTC/USD"]}]
        assert client.active_private_subscriptions == [{"channel": "executions"}]
        token = await client.get_ws_token()
        assert set(token) == {"token", "expires"}
        pairs = await client.request("GET", "/0/public/AssetPairs", {"pair": "BTC/USD"}, auth=False)
        assert pairs["BTC/USD"]["pair_decimals"] == 1
        await client.close()
        assert client.state is WSState.CLOSED
        assert other_tasks() == before
        await client.close()  # idempotent

    async def test_stop_is_deprecated(self, exchange: LocalExchange) -> None:
        client = public(exchange, Recorder())
        await client.start()
        with pytest.warns(DeprecationWarning, match="stop"):
            await client.stop()
        assert client.state is WSState.CLOSED
        with pytest.warns(DeprecationWarning, match="async_close"):
            await client.async_close()

    async def test_default_on_message_prints(
        self, exchange: LocalExchange, capsys: pytest.CaptureFixture[str], caplog: Any
    ) -> None:
        client = SpotWSClient(ws_url=base(exchange.ws_url))
        with caplog.at_level(logging.WARNING):
            await client.start()
            async with asyncio.timeout(5):
                while "'pong'" not in capsys.readouterr().out:
                    await client.send_message({"method": "ping"})
        await client.close()
        assert "no callback is defined" in caplog.text

    async def test_sync_callback_and_failing_callback(self, exchange: LocalExchange) -> None:
        seen: list[dict[str, Any]] = []

        def callback(message: dict[str, Any]) -> None:
            seen.append(message)
            if message.get("channel") == "status":
                raise RuntimeError("user bug")  # logged; the next message still arrives

        client = SpotWSClient(callback=callback, ws_url=base(exchange.ws_url))
        await client.start()
        await client.close()
        assert [m.get("channel") or m.get("method") for m in seen] == ["status", "pong"]

    async def test_caller_dict_not_mutated(self, exchange: LocalExchange) -> None:
        recorder = Recorder()
        client = private(exchange, recorder)
        await client.start()
        message: dict[str, Any] = {"method": "cancel_all"}
        await client.send_message(message)
        (response,) = await recorder.wait_for(is_method("cancel_all"))
        assert response["success"] is True
        assert message == {"method": "cancel_all"}  # pks adds params and the token here
        await client.close()

    async def test_reconnect_resubscribes_into_on_message(self, exchange: LocalExchange) -> None:
        recorder = Recorder()
        client = public(exchange, recorder, reconnect_initial_delay=0.01)
        await client.start()
        await client.subscribe({"channel": "book", "symbol": ["BTC/USD"]})
        await recorder.wait_for(is_channel("book", "snapshot"))
        await exchange.drop_connections()
        # pks users expect the new status, the new ack and a fresh snapshot after a drop.
        await recorder.wait_for(is_channel("status"), count=2)
        await recorder.wait_for(is_method("subscribe", True), count=2)
        await recorder.wait_for(is_channel("book", "snapshot"), count=2)
        assert client.state is WSState.CONNECTED
        assert not client.exception_occur
        await client.close()


class TestFailures:
    async def test_start_times_out_on_dead_url(self, resetting_url: str) -> None:
        recorder = Recorder()
        client = SpotWSClient(
            callback=recorder.callback,
            ws_url=resetting_url,
            start_timeout=0.5,
            reconnect_initial_delay=0.05,
            reconnect_max_delay=0.1,
            max_reconnect_attempts=None,
        )
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="Could not connect"):
            await client.start()
        assert time.monotonic() - started < 1.5  # bounded by start_timeout, not forever
        assert client.state is WSState.ERROR
        await client.close()

    async def test_give_up_after_six_attempts(self, resetting_url: str) -> None:
        recorder = Recorder()
        attempts: list[int] = []
        client = SpotWSClient(
            callback=recorder.callback,
            ws_url=resetting_url,
            start_timeout=5,
            reconnect_initial_delay=0.01,
            reconnect_max_delay=0.02,
        )
        forward = client._on_client_event  # count the client's retries (typed events)

        def spy(event: Any) -> None:
            if isinstance(event, Reconnecting):
                attempts.append(event.attempt)
            forward(event)

        client.client._core.on_event = spy
        with pytest.raises(TimeoutError) as raised:
            await client.start()
        assert isinstance(raised.value.__cause__, MaxReconnectError)
        await recorder.wait_for(lambda m: m == GIVE_UP)
        assert client.exception_occur
        assert client.state is WSState.ERROR
        # Six connection attempts failed: the first connect and five retries, as in pks.
        assert attempts == [1, 2, 3, 4, 5, 6]
        await client.close()

    async def test_never_give_up_option(self, resetting_url: str) -> None:
        recorder = Recorder()
        seen = asyncio.Event()
        client = SpotWSClient(
            callback=recorder.callback,
            ws_url=resetting_url,
            reconnect_initial_delay=0.005,
            reconnect_max_delay=0.005,
            max_reconnect_attempts=None,
        )
        forward = client._on_client_event

        def spy(event: Any) -> None:
            if isinstance(event, Reconnecting) and event.attempt >= 10:
                seen.set()
            forward(event)

        client.client._core.on_event = spy
        starting = asyncio.ensure_future(client.start())
        async with asyncio.timeout(5):
            await seen.wait()
        assert not client.exception_occur
        await client.close()
        with pytest.raises(TimeoutError):
            await starting
        assert recorder.messages == []

    async def test_give_up_after_drop(self) -> None:
        recorder = Recorder()
        async with LocalExchange(rate=None, seed=3, heartbeat_interval=0.2) as ex:
            client = public(ex, recorder, reconnect_initial_delay=0.01, reconnect_max_delay=0.02)
            await client.start()
        # The exchange is gone: six failed reconnects, then the synthetic message.
        await recorder.wait_for(lambda m: m == GIVE_UP)
        assert client.exception_occur
        await client.close()

    async def test_refused_credentials(self, exchange: LocalExchange) -> None:
        recorder = Recorder()
        client = SpotWSClient(
            exchange.api_key,
            "c2VjcmV0",  # base64, but not the account's secret
            recorder.callback,
            rest_url=exchange.rest_url,
            ws_url=base(exchange.ws_url),
            auth_ws_url=base(exchange.auth_ws_url),
        )
        await client.start()  # connecting needs no token
        with pytest.raises(KrakenAuthenticationError):
            await client.get_ws_token()
        with pytest.raises(KrakenAuthenticationError):
            await client.send_message({"method": "cancel_all"})
        await client.close()


async def test_raw_frame_hook_sees_every_frame(exchange: LocalExchange) -> None:
    """The one hook added to KrakenWSClient: every text frame, before decoding, per endpoint."""
    frames: list[tuple[str, str]] = []
    async with KrakenWSClient(
        ws_url=exchange.ws_url,
        on_raw_frame=lambda endpoint, text: frames.append((endpoint, text)),
    ) as client:
        await client.subscribe_ticker(["BTC/USD"])
        await client.ping()
    kinds = [text.split(",")[0] for _, text in frames]
    assert {endpoint for endpoint, _ in frames} == {"public"}
    assert kinds[0].startswith('{"channel":"status"')
    assert any('"method":"subscribe"' in text for _, text in frames)
    assert any('"method":"pong"' in text for _, text in frames)
