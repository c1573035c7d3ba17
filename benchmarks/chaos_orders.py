"""Chaos soak for order safety: orders through a faulty network, every one accounted for.

One ``LocalExchange`` in this process, a ``FaultProxy`` in front of its auth endpoint and one in
front of its public endpoint, and one ``KrakenWSClient`` through both with a live depth-100
BTC/USD book and an ``executions`` subscription. For ``--seconds``:

* an order driver places ``--orders`` orders at a steady pace (resting limit buys far below the
  market, small market orders that fill) and now and then cancels a resting one; every call is
  wrapped in ``asyncio.timeout(request_timeout + 1)``: that outer guard firing is a *hung call*;
* one fault driver per proxy, at random (seeded) intervals: ``cut()``, a one-way or two-way
  ``stall()`` of 0.5-4 s then ``resume()`` (sometimes with a cut, before or after the resume),
  latency spikes, slow delivery (``set_chunk_size`` and ``set_bandwidth``), then ``reset()``.

At the end every fault is cleared, ``client.resolve_in_doubt(timeout=30)`` runs and the user's
view (answers, errors, ``OrderResolved`` events, fills delivered on ``executions``) is checked
against the exchange's own record of every order and fill (every execution report the matching
engine produced, taken from ``engine.drain``). Goals: 0 in doubt, 0 duplicates, 0 missed fills,
0 hung calls, book valid. The exit status is 1 if one fails.

    .venv/bin/python -m benchmarks.chaos_orders [--seconds 60] [--orders 500] [--seed N]

``make chaos`` runs it (not part of ``make bench`` or CI). ``--other-session RATE`` adds another
session of the same account trading market orders straight at the exchange: with 40/s more than
50 fills fit in one gap, past what Kraken's executions snapshot (the last 50 fills) can recover.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from kraken_ws import KrakenWSClient
from kraken_ws.book import OrderBook
from kraken_ws.exceptions import KrakenAPIError, KrakenWSError, RequestTimeout
from kraken_ws.models.channels.executions import ExecutionsSnapshot, ExecutionsUpdate
from kraken_ws.protocol.events import (
    BookResync,
    Connected,
    Disconnected,
    EventsDropped,
    FillsRecovered,
    LateResponse,
    OrderResolved,
    Reconnecting,
    SequenceGap,
)
from kraken_ws.testing import FaultProxy, LocalExchange, MatchingEngine, TierSpec

SYMBOL = "BTC/USD"
DEPTH: Final = 100
GOALS = (
    "0 in doubt",
    "0 duplicates",
    "0 missed fills",
    "0 hung calls",
    "book valid",
    "orders match",
)

# Hundreds of orders a minute would trip every real tier's rate counter and open-orders limit:
# what is tested here is the network, not Kraken's limits.
UNLIMITED = TierSpec(decay=1e9, threshold=10**9, max_open_orders=10**6)


@dataclass
class ChaosConfig:
    """Parameters of one run (the command line sets the first three)."""

    seconds: float = 60.0
    orders: int = 500
    seed: int = 1
    rate: float = 50.0
    """Market ticks per second per symbol at the exchange."""
    other_session: float = 0.0
    """Market orders per second from another session of the same account, straight to the
    exchange (no proxy): fills the user's client must learn about too. 0: none."""
    request_timeout: float = 2.0
    watchdog_timeout: float = 2.0
    reconcile_grace: float = 2.0
    cancel_share: float = 0.2
    """Chance, per order placed, that a cancel of a resting order follows."""
    market_share: float = 0.4
    """Share of the placements that are market orders (the rest rest far below the market)."""
    fault_gap: tuple[float, float] = (0.3, 2.5)
    """Seconds between the end of one fault episode and the next, per proxy."""
    stall: tuple[float, float] = (0.5, 4.0)
    resolve_timeout: float = 30.0
    settle_timeout: float = 15.0
    verbose: bool = False


@dataclass
class Attempt:
    """One order-entry call and everything the user learnt about it."""

    n: int
    kind: str  # "limit", "market" or "cancel"
    cl_ord_id: str  # the order placed, or the order a cancel targets
    sent_at: float
    done_at: float | None = None
    outcome: str = "pending"  # ok, refused, unknown, not_sent, hung
    detail: str = ""
    order_id: str | None = None
    resolution: OrderResolved | None = None


@dataclass
class ExchangeRecord:
    """Every execution report the matching engine produced (its drain, wrapped)."""

    orders: dict[str, str | None] = field(default_factory=dict)  # order_id -> cl_ord_id
    placed_at: dict[str, float] = field(default_factory=dict)  # order_id -> time
    status: dict[str, str] = field(default_factory=dict)  # order_id -> last status
    fills: dict[str, str] = field(default_factory=dict)  # exec_id -> order_id
    fill_at: dict[str, float] = field(default_factory=dict)  # exec_id -> time
    fill_count: int = 0  # trade reports (a repeated exec_id would show here)
    reports: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    def attach(self, engine: MatchingEngine, clock: Callable[[], float]) -> None:
        """Record every report ``engine.drain()`` hands to the server from now on."""
        drain = engine.drain

        def recording_drain() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            executions, ledger = drain()
            now = clock()
            for report in executions:
                order_id = str(report["order_id"])
                exec_type = str(report["exec_type"])
                if exec_type == "pending_new":
                    self.orders[order_id] = report.get("cl_ord_id")
                    self.placed_at[order_id] = now
                if exec_type == "trade":
                    self.fills[str(report["exec_id"])] = order_id
                    self.fill_at[str(report["exec_id"])] = now
                    self.fill_count += 1
                self.status[order_id] = str(report.get("order_status", exec_type))
                self.reports.setdefault(order_id, []).append((now, exec_type))
            return executions, ledger

        engine.drain = recording_drain  # type: ignore[method-assign]


@dataclass
class Seen:
    """What the client told the user (from ``on_event``)."""

    fills: list[str] = field(default_factory=list)  # exec_ids, in delivery order
    fill_times: dict[str, float] = field(default_factory=dict)
    resolutions: list[OrderResolved] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    recovered_truncated: int = 0
    resync_reasons: Counter[str] = field(default_factory=Counter)


class Chaos:
    """One chaos run (see the module docstring); :meth:`run` returns the report."""

    def __init__(self, config: ChaosConfig) -> None:
        self.config = config
        self.t0 = time.monotonic()
        self.attempts: list[Attempt] = []
        self.exchange_record = ExchangeRecord()
        self.seen = Seen()
        self.fault_log: list[tuple[float, str, str]] = []
        self.lags: list[float] = []
        self.resting: dict[str, Attempt] = {}  # limit orders the user believes open
        self.calls: set[asyncio.Task[None]] = set()

    def now(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.t0

    # --- events ---------------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        seen = self.seen
        if isinstance(event, ExecutionsSnapshot | ExecutionsUpdate):
            for report in event.data:
                if report.exec_type == "trade" and report.exec_id is not None:
                    seen.fills.append(report.exec_id)
                    seen.fill_times.setdefault(report.exec_id, self.now())
            return
        if isinstance(event, OrderResolved):
            seen.resolutions.append(event)
            seen.counts[f"resolved {event.method} {event.outcome} ({event.source})"] += 1
        elif isinstance(event, Disconnected):
            seen.counts[f"disconnected {event.endpoint}"] += 1
            self._log_fault("client", f"disconnected {event.endpoint} ({event.reason})")
        elif isinstance(event, Connected):
            seen.counts[f"connected {event.endpoint}"] += 1
            self._log_fault("client", f"connected {event.endpoint}")
        elif isinstance(event, Reconnecting):
            seen.counts[f"reconnecting {event.endpoint}"] += 1
        elif isinstance(event, LateResponse):
            seen.counts["late responses"] += 1
        elif isinstance(event, FillsRecovered):
            seen.counts["FillsRecovered events"] += 1
            seen.recovered += event.count
            seen.recovered_truncated += event.truncated
            self._log_fault("client", f"FillsRecovered {event.count} truncated={event.truncated}")
        elif isinstance(event, BookResync):
            seen.counts["book resyncs"] += 1
            seen.resync_reasons[event.reason] += 1
        elif isinstance(event, SequenceGap):
            seen.counts[f"sequence gaps {event.channel_name}"] += 1
        elif isinstance(event, EventsDropped):
            seen.counts["events dropped"] += event.count
        else:
            seen.counts[type(event).__name__] += 0  # book frames and the like: not counted

    # --- drivers --------------------------------------------------------------------------

    async def _lag_monitor(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.05)
            self.lags.append(loop.time() - before - 0.05)

    def _log_fault(self, proxy: str, action: str) -> None:
        self.fault_log.append((self.now(), proxy, action))
        if self.config.verbose:
            print(f"  {self.now():6.2f}s {proxy:6} {action}")

    async def _fault_driver(self, name: str, proxy: FaultProxy, rng: random.Random) -> None:
        cfg = self.config
        log = self._log_fault
        while True:
            await asyncio.sleep(rng.uniform(*cfg.fault_gap))
            roll = rng.random()
            if roll < 0.25:
                log(name, f"cut ({proxy.cut()} connections)")
            elif roll < 0.6:
                direction = rng.choice(["downstream", "upstream", "upstream", "downstream", "both"])
                seconds = rng.uniform(*cfg.stall)
                log(name, f"stall {direction} {seconds:.2f}s")
                proxy.stall(direction)  # type: ignore[arg-type]
                await asyncio.sleep(seconds)
                ending = rng.random()
                if ending < 0.2:
                    log(name, f"cut while stalled ({proxy.cut()}), then resume")
                    proxy.resume()
                elif ending < 0.35:
                    proxy.resume()
                    await asyncio.sleep(rng.uniform(0, 0.3))
                    log(name, f"resume, then cut ({proxy.cut()})")
                else:
                    log(name, "resume")
                    proxy.resume()
            elif roll < 0.8:
                latency = rng.uniform(0.1, 1.5)
                jitter = rng.uniform(0, 0.3)
                direction = rng.choice(["downstream", "upstream", "both"])
                seconds = rng.uniform(1, 4)
                log(name, f"latency {latency:.2f}s+{jitter:.2f} {direction} for {seconds:.1f}s")
                proxy.set_latency(latency, jitter, direction)  # type: ignore[arg-type]
                await asyncio.sleep(seconds)
            else:
                chunk = rng.choice([1, 3, 17, 64, 512, None])
                bandwidth = rng.choice([2_000, 8_000, 30_000, 100_000, None])
                seconds = rng.uniform(1, 4)
                log(name, f"slow: chunk {chunk} bandwidth {bandwidth} B/s for {seconds:.1f}s")
                proxy.set_chunk_size(chunk)
                proxy.set_bandwidth(bandwidth)
                await asyncio.sleep(seconds)
            proxy.reset()
            log(name, "reset")

    async def _guarded(self, attempt: Attempt, call: Any) -> Any:
        cfg = self.config
        try:
            async with asyncio.timeout(cfg.request_timeout + 1) as guard:
                result = await call
        except KrakenAPIError as exc:
            attempt.outcome, attempt.detail = "refused", exc.error
            result = None
        except (KrakenWSError, TimeoutError) as exc:
            if guard.expired():
                attempt.outcome, attempt.detail = "hung", f"outer guard fired ({exc!r})"
            elif getattr(exc, "outcome_unknown", False):
                attempt.outcome, attempt.detail = "unknown", f"{type(exc).__name__}: {exc}"
            else:
                attempt.outcome, attempt.detail = "not_sent", f"{type(exc).__name__}: {exc}"
            result = None
        else:
            attempt.outcome = "ok"
        attempt.done_at = self.now()
        return result

    async def _place(
        self, client: KrakenWSClient, attempt: Attempt, params: dict[str, Any]
    ) -> None:
        result = await self._guarded(
            attempt, client.add_order(cl_ord_id=attempt.cl_ord_id, **params)
        )
        if result is not None:
            attempt.order_id = result.order_id
            if attempt.kind == "limit":
                self.resting[attempt.cl_ord_id] = attempt

    async def _cancel(self, client: KrakenWSClient, attempt: Attempt, target: Attempt) -> None:
        by_id = target.order_id is not None and attempt.n % 2 == 0
        call = (
            client.cancel_order(order_id=[target.order_id])  # type: ignore[list-item]
            if by_id
            else client.cancel_order(cl_ord_id=[target.cl_ord_id])
        )
        await self._guarded(attempt, call)

    async def _other_session(self, ex: LocalExchange) -> None:
        """Another session of the account trades straight at the exchange (no faults)."""
        other = KrakenWSClient(
            ex.api_key,
            ex.api_secret,
            ws_url=ex.ws_url,
            auth_ws_url=ex.auth_ws_url,
            l3_ws_url=ex.l3_ws_url,
            rest_url=ex.rest_url,
        )
        async with other:
            for n in itertools.count():
                await asyncio.sleep(1 / self.config.other_session)
                with contextlib.suppress(KrakenWSError):
                    await other.add_order(
                        order_type="market",
                        side="buy" if n % 2 else "sell",
                        symbol=SYMBOL,
                        order_qty=Decimal("0.0005"),
                        cl_ord_id=f"other-{n}",
                    )
                self.seen.counts["other-session orders"] += 1

    def _spawn_call(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.calls.add(task)
        task.add_done_callback(self.calls.discard)

    async def _order_driver(self, client: KrakenWSClient, rng: random.Random) -> None:
        cfg = self.config
        interval = cfg.seconds / cfg.orders
        start = time.monotonic()
        for n in range(cfg.orders):
            delay = start + n * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if rng.random() < cfg.market_share:
                kind = "market"
                qty = Decimal(rng.randint(50_000, 200_000)).scaleb(-8)
                params: dict[str, Any] = {
                    "order_type": "market",
                    "side": "buy" if n % 2 else "sell",
                    "symbol": SYMBOL,
                    "order_qty": qty,
                }
            else:
                kind = "limit"
                params = {
                    "order_type": "limit",
                    "side": "buy",
                    "symbol": SYMBOL,
                    "order_qty": Decimal("0.001"),
                    "limit_price": Decimal(rng.randint(200_000, 300_000)).scaleb(-1),
                }
            attempt = Attempt(n, kind, f"chaos-{cfg.seed}-{n}-{kind[0]}", self.now())
            self.attempts.append(attempt)
            self._spawn_call(self._place(client, attempt, params))
            if self.resting and rng.random() < cfg.cancel_share:
                target = self.resting.pop(rng.choice(sorted(self.resting)))
                cancel = Attempt(n, "cancel", target.cl_ord_id, self.now())
                self.attempts.append(cancel)
                self._spawn_call(self._cancel(client, cancel, target))

    # --- the run --------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        cfg = self.config
        rng = random.Random(cfg.seed)
        async with (
            LocalExchange(rate=cfg.rate, seed=cfg.seed, tier=UNLIMITED) as ex,
            FaultProxy.for_url(ex.auth_ws_url, seed=cfg.seed) as auth_proxy,
            FaultProxy.for_url(ex.ws_url, seed=cfg.seed + 1) as public_proxy,
        ):
            self.exchange_record.attach(ex.engine, self.now)
            client = KrakenWSClient(
                ex.api_key,
                ex.api_secret,
                ws_url=public_proxy.url(ex.ws_url),
                auth_ws_url=auth_proxy.url(ex.auth_ws_url),
                l3_ws_url=ex.l3_ws_url,
                rest_url=ex.rest_url,
                request_timeout=cfg.request_timeout,
                watchdog_timeout=cfg.watchdog_timeout,
                reconnect_initial_delay=0.1,
                reconnect_max_delay=1.0,
                reconcile_grace=cfg.reconcile_grace,
                on_event=self.on_event,
            )
            async with client:
                book = await client.book(SYMBOL, depth=DEPTH)
                await client.subscribe_executions()
                self.fault_log.clear()  # the first connects, on the old clock: not the run's
                self.t0 = time.monotonic()
                helpers = [
                    asyncio.create_task(self._lag_monitor()),
                    asyncio.create_task(
                        self._fault_driver("auth", auth_proxy, random.Random(rng.random()))
                    ),
                    asyncio.create_task(
                        self._fault_driver("public", public_proxy, random.Random(rng.random()))
                    ),
                ]
                if cfg.other_session > 0:
                    helpers.append(asyncio.create_task(self._other_session(ex)))
                try:
                    await self._order_driver(client, random.Random(rng.random()))
                    # Every call ends by its guard at the latest.
                    if self.calls:
                        await asyncio.wait(list(self.calls))
                    run_seconds = self.now()
                finally:
                    for task in helpers:
                        task.cancel()
                    await asyncio.gather(*helpers, return_exceptions=True)
                    auth_proxy.reset()
                    public_proxy.reset()
                self._log_fault("both", "final reset")
                return await self._finish(client, ex, book, run_seconds)

    async def _finish(
        self, client: KrakenWSClient, ex: LocalExchange, book: OrderBook, run_seconds: float
    ) -> dict[str, Any]:
        cfg = self.config
        in_doubt_before = len(client.in_doubt_orders())
        started = time.monotonic()
        resolve_error = ""
        try:
            await client.resolve_in_doubt(timeout=cfg.resolve_timeout)
        except RequestTimeout as exc:
            resolve_error = str(exc)
        resolve_seconds = time.monotonic() - started
        still = client.in_doubt_orders()
        # Settle: the book's next snapshot, the executions stream caught up with the exchange.
        deadline = time.monotonic() + cfg.settle_timeout
        with contextlib.suppress(KrakenWSError, TimeoutError):
            await client.ping(endpoint="auth")
        while time.monotonic() < deadline:
            caught_up = set(self.exchange_record.fills) <= set(self.seen.fills)
            if book.is_valid and caught_up:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        settle_seconds = time.monotonic() - started - resolve_seconds
        return self._report(
            run_seconds,
            in_doubt_before,
            still,
            resolve_seconds,
            resolve_error,
            settle_seconds,
            book,
            ex,
        )

    # --- accounting -----------------------------------------------------------------------

    def _report(
        self,
        run_seconds: float,
        in_doubt_before: int,
        still: list[Any],
        resolve_seconds: float,
        resolve_error: str,
        settle_seconds: float,
        book: OrderBook,
        ex: LocalExchange,
    ) -> dict[str, Any]:
        record = self.exchange_record
        seen = self.seen
        placements = [a for a in self.attempts if a.kind != "cancel"]
        cancels = [a for a in self.attempts if a.kind == "cancel"]
        by_cl = {a.cl_ord_id: a for a in placements}
        for event in seen.resolutions:
            if event.method == "add_order" and event.cl_ord_id in by_cl:
                by_cl[event.cl_ord_id].resolution = event
        for event in seen.resolutions:
            if event.method == "cancel_order":
                for a in cancels:
                    if a.outcome in ("unknown", "hung") and a.cl_ord_id == event.cl_ord_id:
                        a.resolution = event

        # What the user believes now, per cl_ord_id.
        believed: dict[str, str] = {}
        for a in placements:
            if a.resolution is not None:
                outcome = a.resolution.outcome
                believed[a.cl_ord_id] = (
                    "placed"
                    if outcome == "placed"
                    else "not_placed"
                    if outcome == "not_placed"
                    else "in_doubt"
                )
            elif a.outcome == "ok":
                believed[a.cl_ord_id] = "placed"
            elif a.outcome in ("refused", "not_sent"):
                believed[a.cl_ord_id] = "not_placed"
            else:
                believed[a.cl_ord_id] = "in_doubt"
        in_doubt_ids = {e.cl_ord_id for e in still}
        for cl in in_doubt_ids:
            if cl in believed:
                believed[cl] = "in_doubt"

        # What the exchange has.
        exchange_by_cl: dict[str | None, list[str]] = {}
        for order_id, cl in record.orders.items():
            exchange_by_cl.setdefault(cl, []).append(order_id)
        duplicates = {cl: ids for cl, ids in exchange_by_cl.items() if len(ids) > 1}
        placed_ids = {cl for cl, b in believed.items() if b == "placed"}
        phantom = sorted(placed_ids - set(exchange_by_cl))
        prefix = f"chaos-{self.config.seed}-"
        lost = sorted(
            cl
            for cl in exchange_by_cl
            if cl is not None
            and cl.startswith(prefix)
            and believed.get(cl) not in ("placed", "in_doubt")
        )
        exchange_fills = set(record.fills)
        seen_set = set(seen.fills)
        missed = sorted(exchange_fills - seen_set)
        dup_deliveries = len(seen.fills) - len(seen_set)
        unknown_fills = sorted(seen_set - exchange_fills)
        # A cancel the user believes done must have closed its order; one believed not done
        # must have left it open (nothing else cancels these orders).
        wrong_cancels: list[tuple[Attempt, str, str]] = []
        for a in cancels:
            verdict = a.resolution.outcome if a.resolution is not None else a.outcome
            if verdict in ("unknown", "hung"):
                continue
            done = verdict in ("ok", "applied")
            for order_id in exchange_by_cl.get(a.cl_ord_id, []):
                status = record.status.get(order_id, "?")
                if done != (status == "canceled"):
                    wrong_cancels.append((a, verdict, status))
        hung = [a for a in self.attempts if a.outcome == "hung"]

        def count(items: list[Attempt], outcome: str) -> int:
            return sum(1 for a in items if a.outcome == outcome)

        resolved = [a.resolution for a in placements if a.resolution is not None]
        lags = sorted(self.lags) or [0.0]
        report: dict[str, Any] = {
            "seconds": round(run_seconds, 1),
            "orders_attempted": len(placements),
            "limit_orders": sum(1 for a in placements if a.kind == "limit"),
            "market_orders": sum(1 for a in placements if a.kind == "market"),
            "answered_ok": count(placements, "ok"),
            "refused": count(placements, "refused"),
            "outcome_unknown": count(placements, "unknown"),
            "not_sent": count(placements, "not_sent"),
            "hung_placements": count(placements, "hung"),
            "refusals": dict(Counter(a.detail for a in placements if a.outcome == "refused")),
            "cancels_attempted": len(cancels),
            "cancels_ok": count(cancels, "ok"),
            "cancels_refused": count(cancels, "refused"),
            "cancels_outcome_unknown": count(cancels, "unknown"),
            "cancels_not_sent": count(cancels, "not_sent"),
            "hung_cancels": count(cancels, "hung"),
            "in_doubt_before_resolve": in_doubt_before,
            "resolved_placed": sum(1 for r in resolved if r.outcome == "placed"),
            "resolved_not_placed": sum(1 for r in resolved if r.outcome == "not_placed"),
            "resolved_unknown": sum(1 for r in resolved if r.outcome == "unknown"),
            "resolved_late_response": sum(1 for r in resolved if r.source == "late_response"),
            "still_in_doubt": len(still),
            "resolve_seconds": round(resolve_seconds, 2),
            "resolve_error": resolve_error,
            "believed_placed": len(placed_ids),
            "believed_not_placed": sum(1 for b in believed.values() if b == "not_placed"),
            "exchange_orders": len(record.orders),
            "exchange_open_orders": len(ex.open_orders()),
            "duplicates": len(duplicates),
            "phantom": len(phantom),
            "lost": len(lost),
            "exchange_fills": len(exchange_fills),
            "fills_seen": len(seen_set),
            "fills_recovered": seen.recovered,
            "fills_recovered_truncated": seen.recovered_truncated,
            "missed_fills": len(missed),
            "duplicate_fill_deliveries": dup_deliveries,
            "unknown_fills": len(unknown_fills),
            "wrong_cancel_verdicts": len(wrong_cancels),
            "hung_calls": len(hung),
            "book_valid": book.is_valid,
            "book_resyncs": seen.counts["book resyncs"],
            "checksum_mismatches": seen.resync_reasons["checksum_mismatch"],
            "settle_seconds": round(settle_seconds, 2),
            "faults": sum(
                1
                for _t, who, action in self.fault_log
                if who in ("auth", "public") and action.startswith(("cut", "stall", "lat", "slow"))
            ),
            "events": dict(sorted(seen.counts.items())),
            "loop_lag_p50_ms": round(statistics.median(lags) * 1000, 1),
            "loop_lag_p99_ms": round(lags[int(len(lags) * 0.99)] * 1000, 1),
            "loop_lag_max_ms": round(lags[-1] * 1000, 1),
        }
        goals = {
            "0 in doubt": report["still_in_doubt"] == 0,
            "0 duplicates": report["duplicates"] == 0 and dup_deliveries == 0,
            "0 missed fills": not missed and not unknown_fills,
            "0 hung calls": not hung,
            "book valid": book.is_valid,
            "orders match": not lost and not phantom and not wrong_cancels,
        }
        report["goals"] = goals
        report["passed"] = all(goals.values())
        report["details"] = self._details(
            duplicates, phantom, lost, missed, unknown_fills, hung, still, by_cl, believed
        ) + [
            f"cancel of {a.cl_ord_id} sent {a.sent_at:.2f}s: user has {verdict!r} "
            f"({a.detail}), the order's status at the exchange is {status!r}"
            for a, verdict, status in wrong_cancels[:10]
        ]
        return report

    def _details(
        self,
        duplicates: dict[str | None, list[str]],
        phantom: list[str],
        lost: list[str],
        missed: list[str],
        unknown_fills: list[str],
        hung: list[Attempt],
        still: list[Any],
        by_cl: dict[str, Attempt],
        believed: dict[str, str],
    ) -> list[str]:
        """A forensic line per failure: the order's story and the faults around it."""
        record = self.exchange_record
        lines: list[str] = []

        def story(cl: str | None) -> str:
            a = by_cl.get(cl or "")
            if a is None:
                return f"{cl}: not an order of this run"
            text = (
                f"{cl} ({a.kind}): sent {a.sent_at:.2f}s, {a.outcome}"
                f"{f' at {a.done_at:.2f}s' if a.done_at is not None else ''}"
                f"{f' [{a.detail}]' if a.detail else ''}; user believes {believed.get(cl or '')}"
            )
            if a.resolution is not None:
                r = a.resolution
                text += f"; resolved {r.outcome} via {r.source} ({r.reason})"
            for order_id in [o for o, c in record.orders.items() if c == cl]:
                text += (
                    f"; exchange {order_id} placed {record.placed_at[order_id]:.2f}s "
                    f"reports {[(round(t, 2), e) for t, e in record.reports[order_id]]}"
                )
            start = a.sent_at - 5
            end = (a.done_at or a.sent_at) + 5
            faults = [f"{t:.2f}s {p} {x}" for t, p, x in self.fault_log if start <= t <= end]
            return text + f"; timeline around it: {faults}"

        for cl in list(duplicates)[:10]:
            lines.append("duplicate: " + story(cl))
        for cl in phantom[:10]:
            lines.append("believed placed, absent at the exchange: " + story(cl))
        for cl in lost[:10]:
            lines.append("at the exchange, user does not know: " + story(cl))
        if missed:
            # Missed fills come in runs (one per gap): one line per run of them, with its story.
            times = sorted((record.fill_at[e], e) for e in missed)
            runs: list[list[tuple[float, str]]] = [[times[0]]]
            for item in times[1:]:
                if item[0] - runs[-1][-1][0] > 1.0:
                    runs.append([])
                runs[-1].append(item)
            for run in runs[:10]:
                first, last = run[0][0], run[-1][0]
                around = [
                    f"{t:.2f}s {p} {x}" for t, p, x in self.fault_log if first - 3 <= t <= last + 3
                ]
                examples = [f"{e} ({record.orders.get(record.fills[e])})" for _t, e in run[:3]]
                lines.append(
                    f"{len(run)} missed fill(s) made {first:.2f}s-{last:.2f}s, e.g. {examples}; "
                    f"timeline: {around}"
                )
        for exec_id in unknown_fills[:10]:
            lines.append(f"fill {exec_id} delivered but not at the exchange")
        for a in hung[:10]:
            lines.append(f"hung {a.kind} {a.cl_ord_id} sent {a.sent_at:.2f}s")
        for entry in still[:10]:
            lines.append("still in doubt: " + story(entry.cl_ord_id))
        return lines


def print_report(report: dict[str, Any]) -> None:
    """The summary table and the goals line."""
    rows = [
        ("run", f"{report['seconds']} s, {report['faults']} fault episodes"),
        (
            "add_order calls",
            f"{report['orders_attempted']} ({report['limit_orders']} resting limit, "
            f"{report['market_orders']} market)",
        ),
        ("  answered OK", report["answered_ok"]),
        ("  refused by Kraken", f"{report['refused']} {report['refusals'] or ''}"),
        ("  outcome unknown", report["outcome_unknown"]),
        ("  not sent", report["not_sent"]),
        ("  hung", report["hung_placements"]),
        (
            "cancels",
            f"{report['cancels_attempted']}: {report['cancels_ok']} ok, "
            f"{report['cancels_refused']} refused, {report['cancels_outcome_unknown']} unknown, "
            f"{report['cancels_not_sent']} not sent, {report['hung_cancels']} hung",
        ),
        ("in doubt before resolve", report["in_doubt_before_resolve"]),
        (
            "resolved",
            f"{report['resolved_placed']} placed, {report['resolved_not_placed']} not placed, "
            f"{report['resolved_unknown']} unknown ({report['resolved_late_response']} by a "
            f"late answer)",
        ),
        (
            "still in doubt",
            f"{report['still_in_doubt']} (resolve took {report['resolve_seconds']} s)",
        ),
        (
            "user believes placed",
            f"{report['believed_placed']} (not placed: {report['believed_not_placed']})",
        ),
        (
            "exchange orders",
            f"{report['exchange_orders']} ({report['exchange_open_orders']} open at the end)",
        ),
        ("duplicates (cl_ord_id)", report["duplicates"]),
        ("believed placed, absent", report["phantom"]),
        ("placed, user unaware", report["lost"]),
        ("wrong cancel verdicts", report["wrong_cancel_verdicts"]),
        (
            "fills",
            f"exchange {report['exchange_fills']}, seen {report['fills_seen']} "
            f"({report['fills_recovered']} recovered after gaps, "
            f"{report['fills_recovered_truncated']} truncated snapshots)",
        ),
        ("  missed fills", report["missed_fills"]),
        ("  delivered twice", report["duplicate_fill_deliveries"]),
        ("  not at the exchange", report["unknown_fills"]),
        ("hung calls", report["hung_calls"]),
        (
            "book",
            f"valid={report['book_valid']}, {report['book_resyncs']} resyncs "
            f"({report['checksum_mismatches']} checksum mismatches), settled in "
            f"{report['settle_seconds']} s",
        ),
        (
            "event loop lag",
            f"p50 {report['loop_lag_p50_ms']} ms, p99 {report['loop_lag_p99_ms']} ms, "
            f"max {report['loop_lag_max_ms']} ms",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("events: " + ", ".join(f"{k} {v}" for k, v in report["events"].items() if v))
    if report["resolve_error"]:
        print(f"resolve_in_doubt: {report['resolve_error']}")
    for line in report["details"]:
        print("  " + line)
    goals = report["goals"]
    print("goals: " + ", ".join(f"{g}: {'PASS' if goals[g] else 'FAIL'}" for g in GOALS))


async def chaos(config: ChaosConfig) -> dict[str, Any]:
    """Run one chaos soak; return its report (see :meth:`Chaos._report` for the keys)."""
    return await Chaos(config).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="run length (default 60)")
    parser.add_argument("--orders", type=int, default=500, help="orders placed (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice")
    parser.add_argument(
        "--other-session",
        type=float,
        default=0.0,
        metavar="RATE",
        help="market orders/s from another session of the account, not through the proxy",
    )
    parser.add_argument("--verbose", action="store_true", help="print each fault as it happens")
    args = parser.parse_args(argv)
    # The client's warnings (watchdog, recovered fills...) narrate the faults: only with -v.
    logging.basicConfig(
        level=logging.WARNING if args.verbose else logging.ERROR,
        format="  %(relativeCreated)7.0fms %(name)s %(message)s",
    )
    config = ChaosConfig(
        seconds=args.seconds,
        orders=args.orders,
        seed=args.seed,
        other_session=args.other_session,
        verbose=args.verbose,
    )
    print(
        f"chaos soak: {config.orders} orders over {config.seconds:.0f} s through FaultProxy "
        f"(auth and public), depth-{DEPTH} {SYMBOL} book, seed {config.seed}"
    )
    report = asyncio.run(chaos(config))
    print_report(report)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
