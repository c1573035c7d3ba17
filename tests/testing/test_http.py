"""Token endpoint, signature verification, token lifetime and REST AssetPairs."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect

from kraken_ws.testing import LocalExchange, TokenStore, api_sign, verify_api_sign

from .conftest import Client, get_token, next_nonce, token_request

VECTOR_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
VECTOR_POSTDATA = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
VECTOR_SIGN = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_signature_vector_3_4() -> None:
    args = (VECTOR_SECRET, "/0/private/AddOrder", "1616492376594", VECTOR_POSTDATA)
    assert api_sign(*args) == VECTOR_SIGN
    assert verify_api_sign(*args, VECTOR_SIGN)
    assert not verify_api_sign(*args, VECTOR_SIGN.replace("4/", "5/", 1))


async def test_token_form_and_json(exchange: LocalExchange) -> None:
    form = await token_request(exchange)
    assert form["error"] == []
    assert form["result"]["expires"] == 900
    assert isinstance(form["result"]["token"], str)
    assert form["result"]["token"]
    js = await token_request(exchange, as_json=True)
    assert js["error"] == []
    assert js["result"]["token"] != form["result"]["token"]


async def test_token_errors(exchange: LocalExchange) -> None:
    assert (await token_request(exchange, key="nope"))["error"] == ["EAPI:Invalid key"]
    other = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"
    assert (await token_request(exchange, secret=other))["error"] == ["EAPI:Invalid signature"]
    nonce = next_nonce()
    assert (await token_request(exchange, nonce=nonce))["error"] == []
    assert (await token_request(exchange, nonce=nonce))["error"] == ["EAPI:Invalid nonce"]
    older = str(int(nonce) - 5)
    assert (await token_request(exchange, nonce=older))["error"] == ["EAPI:Invalid nonce"]


async def test_asset_pairs(exchange: LocalExchange) -> None:
    async with httpx.AsyncClient() as http:
        one = (
            await http.get(exchange.rest_url + "/0/public/AssetPairs", params={"pair": "BTC/USD"})
        ).json()
        everything = (await http.get(exchange.rest_url + "/0/public/AssetPairs")).json()
        bad = (await http.get(exchange.rest_url + "/0/public/AssetPairs?pair=NOPE")).json()
        missing = await http.get(exchange.rest_url + "/nothing")
    assert one["result"]["BTC/USD"]["pair_decimals"] == 1
    assert one["result"]["BTC/USD"]["lot_decimals"] == 8
    assert everything["result"]["XXBTZUSD"]["wsname"] == "XBT/USD"
    assert everything["result"]["PEPEUSD"]["pair_decimals"] == 9
    assert bad["error"] == ["EQuery:Unknown asset pair"]
    assert missing.status_code == 404


def test_token_store_expiry_and_pinning() -> None:
    now = [1000.0]
    store = TokenStore(lambda: now[0])
    token = store.issue("key")
    now[0] += 899
    assert store.check(token) == "key"  # a use restarts the 900 s countdown
    now[0] += 899
    assert store.check(token) == "key"
    store.pin(token)
    now[0] += 5000
    assert store.check(token) == "key"  # pinned by a live connection
    store.unpin(token)
    now[0] += 900
    assert store.check(token) is None
    assert store.check("unknown") is None


async def test_expired_token_rejected_and_live_subscription_keeps_it() -> None:
    now = [1_700_000_000.0]
    # The clock jumps 901 s without a client message: no idle timeout for this test.
    async with LocalExchange(rate=None, clock=lambda: now[0], idle_timeout=None) as ex:
        stale = await get_token(ex)
        kept = await get_token(ex)
        async with connect(ex.auth_ws_url, max_queue=None) as ws:
            client = Client(ws)
            await client.recv()
            rid = await client.request("subscribe", {"channel": "balances", "token": kept})
            assert (await client.response(rid))["success"] is True
            now[0] += 901
            rid = await client.request("subscribe", {"channel": "executions", "token": stale})
            err = await client.response(rid)
            assert err["error"] == "EAPI:Invalid token"
            assert err["success"] is False
            rid = await client.request("subscribe", {"channel": "executions", "token": kept})
            assert (await client.response(rid))["success"] is True


@pytest.mark.parametrize("body", [b"not json {", b"nonce=abc"])
async def test_token_bad_nonce_body(exchange: LocalExchange, body: bytes) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            exchange.rest_url + "/0/private/GetWebSocketsToken",
            content=body,
            headers={"API-Key": exchange.api_key, "API-Sign": "x"},
        )
    assert json.loads(response.text)["error"] == ["EAPI:Invalid nonce"]
