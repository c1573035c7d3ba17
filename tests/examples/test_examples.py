"""Every script in examples/ runs against a LocalExchange (imported by path, as a user would)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from kraken_ws.testing import LocalExchange

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(rate=50, seed=3) as ex:
        yield ex


async def test_ticker_printer(exchange: LocalExchange, capsys: pytest.CaptureFixture[str]) -> None:
    rows = await load("ticker_printer").main(exchange.ws_url, ["BTC/USD", "ETH/USD"], count=6)
    assert len(rows) >= 6
    assert {r.symbol for r in rows} == {"BTC/USD", "ETH/USD"}
    assert all(r.bid < r.ask for r in rows)
    assert capsys.readouterr().out.count(" bid ") == len(rows)


async def test_book_watcher(exchange: LocalExchange, capsys: pytest.CaptureFixture[str]) -> None:
    view = await load("book_watcher").main(exchange.ws_url, "ETH/USD", depth=25, updates=15)
    assert view.is_valid
    assert len(view.bids) == len(view.asks) == 25
    assert view.bids[0][0] < view.asks[0][0]
    assert capsys.readouterr().out.count("ETH/USD ") == 15
    with pytest.raises(ValueError, match="bad depth"):
        await load("book_watcher").main(exchange.ws_url, depth=7)


async def test_place_order_reconciles_from_executions(exchange: LocalExchange) -> None:
    taker, maker = await load("place_order").main(
        exchange.ws_url,
        exchange.auth_ws_url,
        exchange.rest_url,
        exchange.api_key,
        exchange.api_secret,
        qty=Decimal("0.002"),
    )
    assert taker.status == "filled"
    assert taker.filled == Decimal("0.002")
    assert taker.cost > 0
    assert any(r.exec_type == "trade" for r in taker.reports)
    assert maker.status == "canceled"
    assert maker.filled == 0
    assert [r.order_status for r in maker.reports][-1] == "canceled"
    assert exchange.open_orders() == []


async def test_dead_mans_switch(exchange: LocalExchange) -> None:
    outcome = await load("dead_mans_switch").main(
        exchange.ws_url,
        exchange.auth_ws_url,
        exchange.rest_url,
        exchange.api_key,
        exchange.api_secret,
        fire_after=1,
    )
    assert outcome.armed_until.endswith("Z")
    assert outcome.fired_order_status == "canceled"
    assert exchange.open_orders() == []


async def test_record_feed(exchange: LocalExchange, tmp_path: Path) -> None:
    summary = await load("record_feed").main(
        exchange.ws_url, tmp_path / "feed.jsonl.gz", ["BTC/USD", "ETH/USD"], seconds=1.0
    )
    assert summary.checksum_failed == 0
    assert summary.checksum_verified >= 50  # ~1 s at 50 updates/s per symbol
    assert {b.symbol for b in summary.books} == {"BTC/USD", "ETH/USD"}


def test_a_script_runs_on_its_own() -> None:
    """`python examples/ticker_printer.py` starts its own local exchange."""
    env = dict(os.environ, PYTHONASYNCIODEBUG="")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "ticker_printer.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(" bid ") >= 10
