"""``kraken-ws gateway``: runs until SIGINT/SIGTERM, exits 0, health on the bus and printed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import nats
import pytest

from kraken_ws.gateway import GatewayConfig, GatewayConfigError, GatewayHealth, Subscriber
from kraken_ws.gateway.subjects import EVENTS, HEALTH
from kraken_ws.gateway.testing import NatsServer

KRAKEN_WS = str(Path(sys.executable).parent / "kraken-ws")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_runs_until_a_signal_and_exits_0(
    nats_server: NatsServer, tmp_path: Path, sig: signal.Signals
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'nats_url = "{nats_server.url}"\n[[book]]\nsymbols = ["BTC/USD"]\ndepth = 25\n'
    )
    nc = await nats.connect(nats_server.url)
    health: asyncio.Queue[GatewayHealth] = asyncio.Queue()
    events: list[bytes] = []

    async def on_health(msg: nats.aio.msg.Msg) -> None:
        health.put_nowait(GatewayHealth.from_json(msg.data))

    async def on_event(msg: nats.aio.msg.Msg) -> None:
        events.append(msg.data)

    await nc.subscribe(HEALTH, cb=on_health)
    await nc.subscribe(EVENTS, cb=on_event)
    process = await asyncio.create_subprocess_exec(
        KRAKEN_WS,
        "gateway",
        "--config",
        str(config),
        "--ticker",
        "BTC/USD",
        "--level3",
        "ETH/USD",
        "--health-every",
        "0.5",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONASYNCIODEBUG": ""},
    )
    try:
        async with asyncio.timeout(30):
            while True:
                report = await health.get()
                if report.subscriptions and report.books_valid:
                    break
        assert {(s.channel, s.symbol) for s in report.subscriptions} == {
            ("book", "BTC/USD"),
            ("ticker", "BTC/USD"),
            ("level3", "ETH/USD"),
        }
        assert report.connections == {"public": "open", "l3": "open"}
        async with Subscriber(nats_server.url) as sub:
            book = await sub.book("BTC/USD", depth=25)
            assert book.is_valid
            orders = await sub.level3("ETH/USD", depth=10)
            assert orders.is_valid
        process.send_signal(sig)
        async with asyncio.timeout(30):
            assert await process.wait() == 0
        assert process.stderr is not None
        err = (await process.stderr.read()).decode()
        assert "health: public:open l3:open nats:up books valid 2/2" in err
        await nc.flush()
        assert any(b"GatewayStopped" in e for e in events)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await nc.close()


def test_bad_settings_are_refused_before_anything_connects(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="allowed depths are 10, 25, 100, 500, 1000"):
        GatewayConfig(nats_url="nats://127.0.0.1:4222", books={"BTC/USD": 20})
    with pytest.raises(GatewayConfigError, match="BASE/QUOTE"):
        GatewayConfig(nats_url="nats://127.0.0.1:4222", trades=("BTCUSD",))
    with pytest.raises(GatewayConfigError, match="allowed are balances, executions"):
        GatewayConfig(nats_url="nats://x", private=("orders",), key="k", secret="s")
    with pytest.raises(GatewayConfigError, match="KRAKEN_API_KEY"):
        GatewayConfig.from_mapping(
            {"nats_url": "nats://x", "private": {"channels": ["executions"]}}, environ={}
        )
    path = tmp_path / "g.toml"
    path.write_text('nats_url = "nats://x"\nbooks = 3\n')
    with pytest.raises(GatewayConfigError, match="unknown key"):
        GatewayConfig.from_toml(path)
