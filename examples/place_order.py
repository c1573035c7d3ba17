"""Place orders and reconcile them from the ``executions`` feed.

The feed, not the ``add_order`` reply, is the source of truth for what happened to an order: a
reply can be lost with the connection (``ConnectionLost.outcome_unknown``) while the order lives
on. So the stream is opened *before* sending, every order carries a ``cl_ord_id`` chosen here,
and reports are matched on it, whether they arrive before or after the reply. (An order whose
reply is lost entirely is resolved by the client itself: ``client.resolve_in_doubt()`` and the
``OrderResolved`` event; this example follows the order's life after that.)::

    python examples/place_order.py
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from kraken_ws.client import ClientEvent, KrakenWSClient
from kraken_ws.models.channels.executions import (
    ExecutionReport,
    ExecutionsSnapshot,
    ExecutionsUpdate,
)

FINAL = frozenset({"filled", "canceled", "expired"})


@dataclass
class OrderState:
    """What the executions feed says about one order.

    Attributes:
        cl_ord_id: Our id, known before the order is sent.
        order_id: Kraken's id, from the first report or the reply.
        status: Last ``order_status`` reported.
        filled: Sum of ``last_qty`` over the fills.
        cost: Sum of ``last_qty * last_price`` over the fills.
        reports: Every report, in order.
    """

    cl_ord_id: str
    order_id: str | None = None
    status: str = "unknown"
    filled: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    reports: list[ExecutionReport] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Whether the order reached a final state."""
        return self.status in FINAL


class Reconciler:
    """Folds execution reports into :class:`OrderState` by ``cl_ord_id``/``order_id``."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderState] = {}
        self._by_order_id: dict[str, OrderState] = {}
        self._changed = asyncio.Event()

    def expect(self, cl_ord_id: str) -> OrderState:
        """Register an order before it is sent."""
        state = self.orders[cl_ord_id] = OrderState(cl_ord_id)
        return state

    def apply(self, event: ClientEvent) -> None:
        """Apply one event from the executions stream (other events are ignored)."""
        if not isinstance(event, ExecutionsSnapshot | ExecutionsUpdate):
            return
        for report in event.data:
            state = None
            if report.cl_ord_id is not None:
                state = self.orders.get(report.cl_ord_id)
            if state is None and report.order_id is not None:
                state = self._by_order_id.get(report.order_id)
            if state is None:
                continue  # not one of ours (e.g. an order from another session)
            if report.order_id is not None and state.order_id is None:
                state.order_id = report.order_id
                self._by_order_id[report.order_id] = state
            if report.exec_type == "trade" and report.last_qty is not None:
                state.filled += report.last_qty
                state.cost += report.last_qty * (report.last_price or Decimal(0))
            if report.order_status is not None:
                state.status = report.order_status
            state.reports.append(report)
        self._changed.set()

    async def wait(self, state: OrderState, statuses: frozenset[str]) -> None:
        """Wait until ``state.status`` is one of ``statuses``."""
        while state.status not in statuses:
            self._changed.clear()
            await self._changed.wait()


async def main(
    ws_url: str,
    auth_ws_url: str,
    rest_url: str,
    key: str,
    secret: str,
    symbol: str = "BTC/USD",
    qty: Decimal = Decimal("0.001"),
    timeout: float = 10.0,
) -> tuple[OrderState, OrderState]:
    """Buy ``qty`` at the best ask (fills), then rest a buy far below the market and cancel it.

    Args:
        ws_url: Public endpoint (for the book).
        auth_ws_url: Authenticated endpoint (orders, executions).
        rest_url: REST base for the WebSocket token.
        key: API key.
        secret: API secret.
        symbol: The pair.
        qty: Order quantity.
        timeout: Seconds to wait for each outcome.

    Returns:
        The reconciled state of the filled order and of the cancelled one.
    """
    reconciler = Reconciler()
    async with KrakenWSClient(
        key, secret, ws_url=ws_url, auth_ws_url=auth_ws_url, rest_url=rest_url
    ) as client:
        stream = client.events(channel="executions")

        async def pump() -> None:
            async for event in stream:
                reconciler.apply(event)

        pumping = asyncio.create_task(pump())
        try:
            await client.subscribe_executions(snap_orders=True)
            book = await client.book(symbol)
            ask, bid = book.best_ask, book.best_bid
            assert ask is not None
            assert bid is not None

            taker = reconciler.expect(f"take-{uuid.uuid4().hex[:12]}")
            reply = await client.add_order(
                order_type="limit",
                side="buy",
                symbol=symbol,
                order_qty=qty,
                limit_price=ask[0],
                cl_ord_id=taker.cl_ord_id,
            )
            print(f"placed {reply.order_id} ({taker.cl_ord_id}) buy {qty} @ {ask[0]}")
            async with asyncio.timeout(timeout):
                await reconciler.wait(taker, FINAL)
            avg = taker.cost / taker.filled if taker.filled else None
            print(f"  -> {taker.status}: {taker.filled} filled, average {avg}")

            maker = reconciler.expect(f"rest-{uuid.uuid4().hex[:12]}")
            low = (bid[0] * Decimal("0.9")).quantize(bid[0])
            await client.add_order(
                order_type="limit",
                side="buy",
                symbol=symbol,
                order_qty=qty,
                limit_price=low,
                post_only=True,
                cl_ord_id=maker.cl_ord_id,
            )
            async with asyncio.timeout(timeout):
                await reconciler.wait(maker, frozenset({"new"}))
            print(f"resting {maker.order_id} buy {qty} @ {low}; cancelling")
            await client.cancel_order(cl_ord_id=[maker.cl_ord_id])
            async with asyncio.timeout(timeout):
                await reconciler.wait(maker, FINAL)
            print(f"  -> {maker.status}")
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
    return taker, maker


async def _demo() -> None:
    from kraken_ws.testing import LocalExchange

    async with LocalExchange(rate=10) as ex:
        await main(ex.ws_url, ex.auth_ws_url, ex.rest_url, ex.api_key, ex.api_secret)


if __name__ == "__main__":
    asyncio.run(_demo())
