"""Token retrieval: signature vector, single flight, nonces, error mapping, secret hygiene."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from kraken_ws.auth import TOKEN_PATH, TokenProvider, sign
from kraken_ws.exceptions import AuthenticationError

REST = "https://api.test"
KEY = "PUBLICKEY-abc123"
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
TOKEN = "TOKEN-1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"


def test_signature_vector() -> None:
    """Reference §3.4."""
    assert (
        sign(
            "/0/private/AddOrder",
            1616492376594,
            "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
            SECRET,
        )
        == "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ"
        "=="
    )


def test_sign_bad_secret_does_not_leak() -> None:
    with pytest.raises(AuthenticationError) as info:
        sign("/x", 1, "nonce=1", "not base64 !!secretvalue")
    assert "secretvalue" not in str(info.value)


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"error": [], "result": {"token": TOKEN, "expires": 900}})


@respx.mock
async def test_fetch_signs_request() -> None:
    route = respx.post(REST + TOKEN_PATH).mock(side_effect=_ok)
    provider = TokenProvider(KEY, SECRET, rest_url=REST)
    assert await provider.get() == TOKEN
    request = route.calls.last.request
    body = request.content.decode()
    nonce = parse_qs(body)["nonce"][0]
    assert request.headers["API-Key"] == KEY
    assert request.headers["API-Sign"] == sign(TOKEN_PATH, nonce, body, SECRET)
    # cached
    assert await provider.get() == TOKEN
    assert route.call_count == 1


@respx.mock
async def test_single_flight() -> None:
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return _ok(request)

    route = respx.post(REST + TOKEN_PATH).mock(side_effect=slow)
    provider = TokenProvider(KEY, SECRET, rest_url=REST)
    waiters = [asyncio.create_task(provider.get()) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == [TOKEN] * 20
    assert route.call_count == 1
    assert provider.fetch_count == 1


@respx.mock
async def test_cancelled_waiter_does_not_cancel_fetch() -> None:
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return _ok(request)

    respx.post(REST + TOKEN_PATH).mock(side_effect=slow)
    provider = TokenProvider(KEY, SECRET, rest_url=REST)
    first = asyncio.create_task(provider.get())
    second = asyncio.create_task(provider.get())
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == TOKEN
    with pytest.raises(asyncio.CancelledError):
        await first


@respx.mock
async def test_nonce_strictly_increasing() -> None:
    route = respx.post(REST + TOKEN_PATH).mock(side_effect=_ok)
    provider = TokenProvider(KEY, SECRET, rest_url=REST, clock=lambda: 1000.0)
    for _ in range(5):
        await provider.get(refresh=True)
    nonces = [int(parse_qs(c.request.content.decode())["nonce"][0]) for c in route.calls]
    assert nonces == sorted(set(nonces))
    assert len(nonces) == 5


@respx.mock
async def test_refresh_and_invalidate() -> None:
    route = respx.post(REST + TOKEN_PATH).mock(side_effect=_ok)
    provider = TokenProvider(KEY, SECRET, rest_url=REST)
    await provider.get()
    provider.invalidate()
    await provider.get()
    await provider.get(refresh=True)
    assert route.call_count == 3


@respx.mock
async def test_token_expires_from_cache() -> None:
    now = [1000.0]
    route = respx.post(REST + TOKEN_PATH).mock(side_effect=_ok)
    provider = TokenProvider(KEY, SECRET, rest_url=REST, clock=lambda: now[0], max_age=10)
    await provider.get()
    now[0] += 11
    await provider.get()
    assert route.call_count == 2


@pytest.mark.parametrize(
    "error",
    [
        "EAPI:Invalid key",
        "EAPI:Invalid signature",
        "EAPI:Invalid nonce",
        "EGeneral:Permission denied",
    ],
)
@respx.mock
async def test_kraken_errors(error: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    respx.post(REST + TOKEN_PATH).mock(return_value=httpx.Response(200, json={"error": [error]}))
    provider = TokenProvider(KEY, SECRET, rest_url=REST)
    with pytest.raises(AuthenticationError) as info:
        await provider.get()
    assert info.value.error == error
    assert error in str(info.value)
    _assert_no_secrets(str(info.value), repr(info.value), repr(provider), caplog.text)


@respx.mock
async def test_http_error_maps() -> None:
    respx.post(REST + TOKEN_PATH).mock(side_effect=httpx.ConnectError("boom"))
    provider = TokenProvider(KEY, SECRET, rest_url=REST)
    with pytest.raises(AuthenticationError) as info:
        await provider.get()
    assert isinstance(info.value.__cause__, httpx.ConnectError)


@respx.mock
async def test_http_status_and_garbage() -> None:
    respx.post(REST + TOKEN_PATH).mock(return_value=httpx.Response(500, text="<html>"))
    provider = TokenProvider(KEY, SECRET, rest_url=REST)
    with pytest.raises(AuthenticationError, match="HTTP 500"):
        await provider.get()
    respx.post(REST + TOKEN_PATH).mock(
        return_value=httpx.Response(200, json={"error": [], "result": {}})
    )
    with pytest.raises(AuthenticationError, match="without a token"):
        await provider.get()


async def test_no_credentials() -> None:
    provider = TokenProvider("", "", rest_url=REST)
    assert not provider.has_credentials
    with pytest.raises(AuthenticationError, match="required"):
        await provider.get()


async def test_injectable_transport(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    provider = TokenProvider(KEY, SECRET, rest_url=REST, transport=httpx.MockTransport(_ok))
    token = await provider.get()
    assert token == TOKEN
    _assert_no_secrets(repr(provider), caplog.text)


def _assert_no_secrets(*texts: str) -> None:
    for text in texts:
        assert KEY not in text
        assert SECRET not in text
        assert SECRET[:12] not in text
        assert TOKEN not in text


async def test_a_key_python_kraken_sdk_signed_with_keeps_working() -> None:
    """Kraken remembers a key's last nonce: ours must not be below python-kraken-sdk's scale."""
    from kraken_ws.testing import LocalExchange

    async with LocalExchange(rate=None, heartbeat_interval=None) as ex:
        # python-kraken-sdk 3.5.1 SpotClient.get_nonce: str(int(time.time() * 100_000_000)).
        nonce = str(int(time.time() * 100_000_000))
        body = f"nonce={nonce}"
        async with httpx.AsyncClient() as http:
            response = await http.post(
                ex.rest_url + TOKEN_PATH,
                content=body,
                headers={
                    "API-Key": ex.api_key,
                    "API-Sign": sign(TOKEN_PATH, nonce, body, ex.api_secret),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        assert response.json()["error"] == []
        provider = TokenProvider(ex.api_key, ex.api_secret, rest_url=ex.rest_url)
        assert await provider.get()


async def test_tls_context_is_built_once_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx would build a TLS context (20-50 ms of CPU) on the loop for every token fetch."""
    import threading

    from kraken_ws import auth

    built_in: list[threading.Thread] = []
    real = httpx.create_ssl_context

    def spy() -> ssl.SSLContext:
        built_in.append(threading.current_thread())
        return real()

    monkeypatch.setattr(auth, "_tls_context", None)
    monkeypatch.setattr(httpx, "create_ssl_context", spy)
    first = await auth.http_client()
    second = await auth.http_client()
    try:
        assert len(built_in) == 1
        assert built_in[0] is not threading.main_thread()
        assert isinstance(auth._tls_context, ssl.SSLContext)
    finally:
        await first.aclose()
        await second.aclose()
