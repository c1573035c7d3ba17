"""`MatchingEngine`: the request-level API of the engine, with the account's rate limits.

Each public method is one trading request: it charges the trading rate counter, has
`.orders` check the order, and `.matching` carry it out. Deferred work (OTO close
orders, triggers, GTD expiry, the dead man's switch) runs in `MatchingEngine.settle`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kraken_ws.models.common import SystemStatus
from kraken_ws.models.methods.add_order import OrderFieldsBase
from kraken_ws.ratelimit import AMEND_PENALTY, CANCEL_PENALTY, EDIT_PENALTY, penalty

from ..limits import (
    TIERS,
    Tier,
    TierSpec,
    TradingCounter,
)
from ..market import MakerFill, Market, rfc3339
from .account import Account
from .changes import OrderChanges
from .matching import Matcher
from .orders import (
    EngineError,
    Order,
    OrderEntry,
    check_status,
    client_ids,
)
from .reports import Reports
from .timers import ClockTimers, Timer
from .triggers import Triggers

__all__ = ["MatchingEngine"]


class MatchingEngine:
    """Orders, fills and balances of the exchange's test account.

    Args:
        market: The simulated market the engine trades in.
        clock: Epoch seconds.
        balances: Initial funds per asset (default `DEFAULT_BALANCES`).
        asset_precision: Ledger decimals per asset.
        tier: Verification tier of the account: its rate-counter threshold and decay and its
            open-orders limit per pair ([Protocol notes §10.1][ref-10-1]).
    """

    def __init__(
        self,
        market: Market,
        clock: Callable[[], float],
        balances: dict[str, Decimal] | None = None,
        asset_precision: dict[str, int] | None = None,
        *,
        tier: Tier | TierSpec = "intermediate",
    ) -> None:
        self.market = market
        self.clock = clock
        self.status: SystemStatus = "online"
        self.tier: TierSpec = TIERS[tier] if isinstance(tier, str) else tier
        """Limits of the account's tier."""
        self.rate_counter = TradingCounter(self.tier, clock)
        """Per-pair trading rate counters ([Protocol notes §10.1][ref-10-1])."""
        self.account = Account(balances, asset_precision, lambda: market.new_id("L"))
        """Balances, holds and pending ledger entries."""
        self.orders: dict[str, Order] = {}
        """Open orders (resting and untriggered), by order id."""
        self.timers = ClockTimers(clock)
        """Timers on ``clock`` (the dead man's switch), fired by `settle`."""
        self._reports = Reports(market, self.account, clock)
        self._entry = OrderEntry(market, self.account, self.orders, clock, lambda: self.status)
        self._matcher = Matcher(
            market, self.account, self._reports, self.orders, lambda: self.status == "online"
        )
        self._triggers = Triggers(
            market, self.orders, self._entry, self._matcher, self._reports, clock
        )
        self._changes = OrderChanges(
            market,
            self.account,
            self._reports,
            self.orders,
            self._entry,
            self._matcher,
            clock,
            lambda: self.status,
        )
        self._dms: Timer | None = None
        for symbol_market in market.symbols.values():
            symbol_market.listener = self

    @property
    def executions(self) -> list[dict[str, Any]]:
        """Execution reports not yet sent (drained by the server)."""
        return self._reports.pending

    @property
    def ledger(self) -> list[dict[str, Any]]:
        """Ledger entries not yet sent (drained by the server)."""
        return self.account.ledger

    @property
    def recent_fills(self) -> deque[dict[str, Any]]:
        """The last fills (``snap_trades`` of an ``executions`` subscription)."""
        return self._reports.recent_fills

    # -- limits (docs/protocol.md#ref-10-1) ------------------------------------------------------

    def _rate_gate(self, symbol: str | None, cost: float) -> None:
        """Refuse a transaction costing ``cost`` on ``symbol`` if it would exceed the limit."""
        if (
            symbol is not None
            and symbol in self.market.symbols
            and self.rate_counter.would_exceed(symbol, cost)
        ):
            raise EngineError("EOrder:Rate limit exceeded")

    def _rate_charge(self, symbol: str | None, cost: float) -> None:
        if symbol is not None and symbol in self.market.symbols:
            self.rate_counter.charge(symbol, cost)

    def _age(self, order: Order) -> float:
        return self.clock() - order.born

    def _check_open_limit(self, symbol: str, count: int) -> None:
        open_now = sum(1 for o in self.orders.values() if o.symbol == symbol)
        if open_now + count > self.tier.max_open_orders:
            raise EngineError("EOrder:Orders limit exceeded")

    def rate_count(self, symbol: str) -> float:
        """The trading rate counter of ``symbol`` now ([Protocol notes §10.1][ref-10-1])."""
        return self.rate_counter.value(symbol)

    def drain(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Take the pending execution reports and ledger entries."""
        return self._reports.drain(), self.account.drain()

    # -- public API: placing --------------------------------------------------------------

    def add_order(
        self, o: OrderFieldsBase, symbol: str, *, validate: bool = False
    ) -> dict[str, Any]:
        """Place one order (``add_order``).

        Args:
            o: The validated order fields.
            symbol: The pair.
            validate: Check only, place nothing (``validate: true``).

        Returns:
            The ``result`` object.

        Raises:
            EngineError: The order is refused.
        """
        charged = not validate  # validate-only requests never reach the engine's counter
        if charged:
            self._rate_gate(symbol, 1)
        try:
            order, hold = self._entry.prepare(o, symbol)
            self._check_open_limit(symbol, 1)
            self._entry.check_funds([(order, hold)])
        finally:
            # The fixed count is charged even if validation fails (docs/protocol.md#ref-10-1).
            if charged:
                self._rate_charge(symbol, 1)
        if validate:
            return {"order_id": "", **client_ids(o)}
        self._matcher.place(order, hold)
        return {"order_id": order.order_id, **client_ids(o)}

    def batch_add(
        self, orders: list[OrderFieldsBase], symbol: str, *, validate: bool = False
    ) -> list[dict[str, Any]]:
        """Place 2-15 orders on one symbol (``batch_add``).

        As Kraken describes it (https://docs.kraken.com/api/docs/websocket-v2/batch_add): the
        whole batch is validated first, and one invalid order (or too many open orders) refuses
        all of them; then each order goes through its funds check on its own, in request order,
        and one that fails it is refused while the others go ahead. Its row is
        ``{"error": "EOrder:Insufficient funds"}`` plus the order's client ids: the shape Kraken's
        SDK and Kraken.Net handle (Kraken does not document it, [Protocol notes §11.8][ref-11-8]).
        When every order fails that check, the batch is refused as a whole (nothing is placed), like
        an ``add_order``.

        Returns:
            One row per order, in request order: the new ``order_id`` or the ``error``.

        Raises:
            EngineError: The batch is refused (nothing is placed).
        """
        cost = len(orders) / 2
        if not validate:
            self._rate_gate(symbol, cost)
        try:
            prepared = [self._entry.prepare(o, symbol) for o in orders]
            self._check_open_limit(symbol, len(prepared))
            accepted, refused = self._funded(prepared)
            if not accepted:
                raise EngineError(refused[0])
        finally:
            if not validate:
                self._rate_charge(symbol, cost)
        results: list[dict[str, Any]] = []
        for index, ((order, hold), o) in enumerate(zip(prepared, orders, strict=True)):
            if index in refused:
                results.append({"error": refused[index], **client_ids(o)})
                continue
            if not validate:
                self._matcher.place(order, hold)
            results.append({"order_id": "" if validate else order.order_id, **client_ids(o)})
        return results

    def _funded(
        self, prepared: list[tuple[Order, Decimal]]
    ) -> tuple[list[tuple[Order, Decimal]], dict[int, str]]:
        """Split a batch by the funds check: each order on top of those accepted before it."""
        accepted: list[tuple[Order, Decimal]] = []
        refused: dict[int, str] = {}
        for index, item in enumerate(prepared):
            try:
                self._entry.check_funds([*accepted, item])
            except EngineError as exc:
                refused[index] = exc.error
            else:
                accepted.append(item)
        return accepted, refused

    # -- public API: changing -------------------------------------------------------------

    def amend_order(
        self,
        order_id: str | None,
        cl_ord_id: str | None,
        *,
        order_qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        display_qty: Decimal | None = None,
        trigger_price: Decimal | None = None,
        trigger_price_type: str | None = None,
        post_only: bool = False,
        symbol: str | None = None,
    ) -> dict[str, Any]:
        """Amend an open order in place (``amend_order``).

        Rate counter: +1 plus the amend age penalty (and the cancel penalty when the new
        quantity cancels the unfilled rest); only the +1 when the amend is refused. An amend
        restarts the order's age.

        Returns:
            The ``result`` object (``amend_id`` plus the identifier that was sent).

        Raises:
            EngineError: ``EOrder:Unknown order``, ``EOrder:No amendable parameters``,
                ``EOrder:Rate limit exceeded``, ...
        """
        order = self._changes.find(order_id, cl_ord_id)
        pair = order.symbol if order is not None else symbol
        cost = 1.0
        if order is not None:
            age = self._age(order)
            cost += penalty(AMEND_PENALTY, age)
            if order_qty is not None and order.cum_qty > 0 and order_qty <= order.cum_qty:
                cost += penalty(CANCEL_PENALTY, age)  # the unfilled rest is cancelled
        self._rate_gate(pair, cost)
        try:
            result = self._changes.amend(
                order_id,
                cl_ord_id,
                order_qty=order_qty,
                limit_price=limit_price,
                display_qty=display_qty,
                trigger_price=trigger_price,
                trigger_price_type=trigger_price_type,
                post_only=post_only,
            )
        except EngineError:
            self._rate_charge(pair, 1)
            raise
        assert order is not None
        self._rate_charge(pair, cost)
        order.born = self.clock()
        return result

    def edit_order(
        self,
        order_id: str,
        symbol: str,
        *,
        order_qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        display_qty: Decimal | None = None,
        order_userref: int | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        validate: bool = False,
    ) -> dict[str, Any]:
        """Cancel-and-replace an order (``edit_order``): the new order gets a new id.

        Rate counter: +1 plus the edit age penalty of the old order (only the +1 when refused;
        nothing with ``validate``). The new order's age starts at 0.

        Returns:
            ``{"order_id": <new>, "original_order_id": <old>}``.

        Raises:
            EngineError: Unknown order, wrong symbol, triggered or OTO order, funds, rate limit.
        """
        old = self.orders.get(order_id)
        pair = old.symbol if old is not None else symbol
        cost = 1.0 + (penalty(EDIT_PENALTY, self._age(old)) if old is not None else 0)
        if not validate:
            self._rate_gate(pair, cost)
        try:
            result = self._changes.replace(
                order_id,
                symbol,
                order_qty=order_qty,
                limit_price=limit_price,
                display_qty=display_qty,
                order_userref=order_userref,
                post_only=post_only,
                reduce_only=reduce_only,
                validate=validate,
            )
        except EngineError:
            if not validate:
                self._rate_charge(pair, 1)
            raise
        if not validate:
            self._rate_charge(pair, cost)
        return result

    def cancel(self, order: Order, reason: str = "User requested") -> None:
        """Cancel one open order."""
        self._matcher.close(order, "canceled", reason=reason)

    def cancel_order(
        self,
        order_ids: list[str] | None,
        cl_ord_ids: list[str] | None,
        userrefs: list[int] | None,
    ) -> list[dict[str, Any] | EngineError]:
        """Cancel orders by id, client id or userref (``cancel_order``).

        Returns:
            One entry per cancelled order (a ``result`` dict) or per unknown identifier (an
            `EngineError` with ``EOrder:Invalid order``), in request order.
        """
        check_status(self.status, cancel=True)
        out: list[dict[str, Any] | EngineError] = []
        for oid in order_ids or ():
            order = self.orders.get(oid)
            if order is None:
                out.append(EngineError("EOrder:Invalid order"))
            else:
                out.append(self._user_cancel(order, {"order_id": oid}))
        for cid in cl_ord_ids or ():
            order = self._changes.find(None, cid)
            if order is None:
                out.append(EngineError("EOrder:Invalid order"))
            else:
                out.append(self._user_cancel(order, {"cl_ord_id": cid}))
        for ref in userrefs or ():
            matches = [o for o in self.orders.values() if o.order_userref == ref]
            if not matches:
                out.append(EngineError("EOrder:Invalid order"))
            for order in matches:
                out.append(self._user_cancel(order, {"order_id": order.order_id}))
        return out

    def _user_cancel(
        self, order: Order, result: dict[str, Any], *, gate: bool = True
    ) -> dict[str, Any] | EngineError:
        """Cancel ``order`` at the user's request, charging the cancel penalty by age."""
        cost = penalty(CANCEL_PENALTY, self._age(order))
        if gate and self.rate_counter.would_exceed(order.symbol, cost):
            return EngineError("EOrder:Rate limit exceeded")
        self.cancel(order)
        self.rate_counter.charge(order.symbol, cost)
        return result

    def cancel_all(self, reason: str = "User requested") -> int:
        """Cancel every open order, untriggered ones included; return how many."""
        check_status(self.status, cancel=True)
        orders = list(self.orders.values())
        for order in orders:
            self.cancel(order, reason)
        return len(orders)

    def batch_cancel(self, identifiers: list[str], cl_ord_ids: list[str] | None) -> int:
        """Cancel by order ids or userrefs (as strings) and client ids; return how many."""
        check_status(self.status, cancel=True)
        # Every cancelled order pays its age penalty; the batch is accepted even when that takes
        # the counter over the threshold (docs/protocol.md#ref-10-1).
        count = 0
        for ident in identifiers:
            if ident in self.orders:
                self._user_cancel(self.orders[ident], {}, gate=False)
                count += 1
            elif ident.lstrip("-").isdigit():
                for order in [o for o in self.orders.values() if o.order_userref == int(ident)]:
                    self._user_cancel(order, {}, gate=False)
                    count += 1
        for cid in cl_ord_ids or ():
            found = self._changes.find(None, cid)
            if found is not None:
                self._user_cancel(found, {}, gate=False)
                count += 1
        return count

    def cancel_all_after(self, timeout: int) -> dict[str, Any]:
        """Arm (or with 0 disarm) the dead man's switch (``cancel_all_orders_after``).

        When the countdown ends every open order is cancelled and the switch disarms.

        Returns:
            ``{"currentTime": ..., "triggerTime": ...}`` (camelCase, as Kraken sends it).
        """
        check_status(self.status, cancel=True)
        now = self.clock()
        if self._dms is not None:
            self._dms.cancel()
            self._dms = None
        if timeout == 0:
            return {"currentTime": rfc3339(now, 0), "triggerTime": "0"}
        # On the injected clock, like every other time rule: a test moving its clock fires it.
        self._dms = self.timers.call_at(now + timeout, self._fire_dms)
        return {"currentTime": rfc3339(now, 0), "triggerTime": rfc3339(now + timeout, 0)}

    def _fire_dms(self) -> None:
        self._dms = None
        if self.status != "maintenance":
            self.cancel_all(reason="Dead man's switch")

    def stop(self) -> None:
        """Disarm timers (the exchange is stopping)."""
        self.timers.cancel_all()
        self._dms = None

    # -- market callbacks -----------------------------------------------------------------

    def on_maker_fill(self, symbol: str, fill: MakerFill) -> None:  # noqa: ARG002 (protocol)
        """A simulated taker filled (part of) a user's resting order."""
        self._matcher.maker_fill(fill)

    def on_last_price(self, symbol: str, price: Decimal) -> None:  # noqa: ARG002 (protocol)
        """Remember that triggers of ``symbol`` need checking (done in `settle`)."""
        self._triggers.price_moved(symbol)

    def settle(self) -> None:
        """Run deferred work: timers, OTO close orders, reached triggers, GTD expiry."""
        # Timers first: a switch that fired is settled like any other cancel below.
        self.timers.run_due()
        self._triggers.settle()

    # -- introspection --------------------------------------------------------------------

    def order_snapshot(self, order: Order) -> dict[str, Any]:
        """An open order as an ``executions`` snapshot report."""
        return self._reports.snapshot(order)

    def balance_snapshot(self) -> list[dict[str, Any]]:
        """One ``balances`` snapshot item per asset."""
        return self.account.snapshot()
