"""`kraken-ws serve --json` as a subprocess, driven by a script-like client."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from websockets.asyncio.client import connect

from .conftest import Client

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"ws_url", "auth_ws_url", "l3_ws_url", "rest_url", "api_key", "api_secret"}


async def test_serve_json() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kraken_ws",
        "serve",
        "--json",
        "--rate",
        "20",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            line = await proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == KEYS
        assert all(info[k].endswith("/v2") for k in ("ws_url", "auth_ws_url", "l3_ws_url"))
        assert info["rest_url"].startswith("http://127.0.0.1:")
        async with connect(info["ws_url"], max_queue=None) as ws:
            client = Client(ws)
            assert (await client.recv())["channel"] == "status"
            rid = await client.request("subscribe", {"channel": "book", "symbol": ["BTC/USD"]})
            assert (await client.response(rid))["success"] is True
            await client.wait_for(lambda f: f.get("channel") == "book" and f["type"] == "update")
    finally:
        proc.terminate()
        async with asyncio.timeout(10):
            await proc.wait()
        assert proc.stderr is not None
        await proc.stderr.read()
