"""Market driving and publishing: ticks in, frames out to every subscriber.

State changes happen synchronously on the exchange's loop: a request is handled or a market
tick applied, then `Publisher.flush` sends everything it changed to the connections' send
queues before the next await. Each frame is built once per subscription variant (a book depth,
a ticker trigger, a candle interval) and queued for every connection holding it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import frames
from .connection import Connection
from .engine import MatchingEngine
from .faults import CHECKSUM_CORRUPTION, FaultState
from .market import Market, SymbolMarket, TickResult
from .subscriptions import SubscriptionRegistry

__all__ = ["Publisher"]

# Rounds of "settle the engine, flush the books" per flush: a fill can trigger an order whose
# fills trigger another...; bounded so that a pathological cascade cannot hang the loop.
_FLUSH_ROUNDS = 10


class Publisher:
    """Drives the simulated market and publishes every change.

    Args:
        market: The simulated market.
        engine: The matching engine (settled before each publication; its reports drained).
        registry: Who is subscribed to what.
        faults: Armed faults (wrong checksums).
    """

    def __init__(
        self,
        market: Market,
        engine: MatchingEngine,
        registry: SubscriptionRegistry[Connection],
        faults: FaultState,
    ) -> None:
        self._market = market
        self._engine = engine
        self._registry = registry
        self._faults = faults
        self.frames_published = 0
        """Market-data frames queued since start (all connections)."""

    # -- market driving -------------------------------------------------------------------

    def tick(self, sym: SymbolMarket) -> None:
        """Apply one random market event to ``sym`` and publish it."""
        result = sym.random_tick()
        if result is not None:
            self._publish_tick(sym, result)
        self._engine.settle()

    async def step(self, count: int, symbol: str | None) -> None:
        """Apply ``count`` ticks to ``symbol`` (or each symbol), then flush."""
        market = self._market
        symbols = [market[symbol]] if symbol else list(market.symbols.values())
        for _ in range(count):
            for sym in symbols:
                self.tick(sym)
        self.flush()
        await asyncio.sleep(0)

    async def drive(self, rate: float) -> None:
        """Tick every symbol ``rate`` times a second, on the event loop's time, until cancelled."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        done = 0
        symbols = list(self._market.symbols.values())
        while True:
            await asyncio.sleep(min(0.005, 1 / rate))
            due = int((loop.time() - start) * rate) - done
            if due > rate * 0.25 + 10:
                # Fell behind (slow machine, debugger): skip ahead rather than burst.
                start = loop.time() - done / rate
                due = int(rate * 0.05) + 1
            for _ in range(due):
                for sym in symbols:
                    self.tick(sym)
            done += due
            self.flush()

    # -- publishing -----------------------------------------------------------------------

    def flush(self) -> None:
        """Publish everything the engine and the market changed since the last flush."""
        for _ in range(_FLUSH_ROUNDS):
            self._engine.settle()
            changed = False
            for sym in self._market.symbols.values():
                result = sym.flush()
                if result is not None:
                    changed = True
                    self._publish_tick(sym, result)
            if not changed:
                break
        executions, ledger = self._engine.drain()
        if executions:
            self._publish_executions(executions)
        if ledger:
            self._publish_ledger(ledger)

    def _publish_executions(self, reports: list[dict[str, Any]]) -> None:
        conns = self._registry.subscribers("executions").get(None)
        if not conns:
            return
        for report in reports:
            for conn in conns:
                if not conn.exec_order_status and report["exec_type"] in ("pending_new", "amended"):
                    continue
                conn.exec_sequence += 1
                conn.send(frames.executions("update", [report], conn.exec_sequence))

    def _publish_ledger(self, ledger: list[dict[str, Any]]) -> None:
        conns = self._registry.subscribers("balances").get(None)
        if not conns:
            return
        for entry in ledger:
            for conn in conns:
                conn.balance_sequence += 1
                conn.send(frames.balances("update", [entry], conn.balance_sequence))

    def _publish_tick(self, sym: SymbolMarket, result: TickResult) -> None:
        symbol = sym.symbol
        registry = self._registry
        corrupt = False
        by_depth = registry.subscribers("book", symbol)
        if by_depth and result.book_changed:
            checksum = self._faults.checksum(symbol, result.checksum)
            corrupt = checksum != result.checksum
            for depth, conns in by_depth.items():
                assert isinstance(depth, int)
                if not conns:
                    continue
                bids = result.book_changes("bids", depth)
                asks = result.book_changes("asks", depth)
                if not bids and not asks:
                    continue
                text = frames.book("update", symbol, bids, asks, checksum, result.timestamp)
                self._fanout(conns, text)
        l3_by_depth = registry.subscribers("level3", symbol)
        if l3_by_depth and result.book_changed:
            checksum = result.l3_checksum
            # One armed corruption spoils this tick's book and level3 frames alike.
            if corrupt or self._faults.take_checksum_corruption(symbol):
                checksum ^= CHECKSUM_CORRUPTION
            for depth, conns in l3_by_depth.items():
                assert isinstance(depth, int)
                if not conns:
                    continue
                l3_bids = result.l3_changes("bids", depth)
                l3_asks = result.l3_changes("asks", depth)
                if not l3_bids and not l3_asks:
                    continue
                text = frames.level3_update(symbol, checksum, result.timestamp, l3_bids, l3_asks)
                self._fanout(conns, text)
        if result.trades:
            trade_conns = registry.subscribers("trade", symbol).get(None)
            if trade_conns:
                self._fanout(trade_conns, frames.trades("update", result.trades))
            for interval, conns in registry.subscribers("ohlc", symbol).items():
                assert isinstance(interval, int)
                if conns:
                    candle = sym.candle(interval)
                    text = frames.ohlc("update", sym, [candle], interval, result.timestamp)
                    self._fanout(conns, text)
        for trigger, conns in registry.subscribers("ticker", symbol).items():
            fire = result.trades if trigger == "trades" else result.bbo_changed
            if conns and fire:
                self._fanout(conns, frames.ticker("update", sym, result.timestamp))

    def _fanout(self, conns: set[Connection], text: str) -> None:
        for conn in conns:
            conn.send(text)
            self.frames_published += 1
