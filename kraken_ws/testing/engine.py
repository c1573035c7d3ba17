"""Matching engine of the local exchange: one funded account, orders, fills, ledgers.

The engine trades against the simulated books of :mod:`kraken_ws.testing.market`: a user's taker
order walks the same deep book the public feeds publish, and a user's resting limit order sits in
that book (visible on ``book`` and ``level3``) where simulated takers fill it. Everything it does is
reported as plain dicts with Kraken's wire field names, queued in :attr:`MatchingEngine.executions`
and :attr:`MatchingEngine.ledger`; the server validates them into the ``executions`` and
``balances`` models and sends them.

Errors are raised as :class:`EngineError` carrying Kraken's exact error string.

Simplifications (documented, not Kraken facts): a single account per exchange, so any
order that would match another of the user's orders meets self-trade prevention (default
``cancel_newest``); fees are flat (taker 0.40 %, maker 0.25 %) in the quote currency; IOC
remainders and market orders without liquidity are reported as ``canceled``.

Limits and rules modelled after reference §7 and §10.1 (see :mod:`.limits`):

* Per-pair trading rate counter by tier (default Intermediate): add +1, amend +1 plus the age
  penalty, edit +1 plus the age penalty, cancel by age, batch add +n/2, batch cancel by age per
  order. A transaction that would take the counter over the threshold is refused with
  ``EOrder:Rate limit exceeded`` (not charged); the fixed part is charged even when the request
  then fails validation (reference §10.1). Judgement calls: ``validate: true`` requests are not
  charged (they do not reach the matching engine); a request whose pair cannot be known (amend
  or cancel of an unknown id, an unknown symbol) charges nothing; ``cancel_all`` and
  ``cancel_all_orders_after`` cost nothing (the docs list no cost; Kraken's own SDK charges +1
  in its local model); an amend whose quantity drops to the filled quantity (cancelling the
  rest) pays the amend cost *and* the cancel penalty.
* Open orders per pair by tier (60/80/225): ``EOrder:Orders limit exceeded``. OTO close orders
  created by fills are not refused by it, but count towards it.
* ``reduce_only``: the simulated account is spot-only and never has a margin position, so
  ``reduce_only: true`` is refused with ``EOrder:Reduce only:No position exists``.
  ``margin: true`` is refused with ``EOrder:Cannot open position`` (Kraken's error guide gives
  that code for accounts not eligible for margin trading; the exact text Kraken sends a
  spot-only account on WS v2 is unverified).
* OTO ``conditional``: each fill of the primary creates a close order of the filled quantity on
  the opposite side from the template (``ord_ref_id`` = the primary's id). Unverified: ``pct`` and
  ``quote`` trigger prices are offsets from that fill's price; trailing types trail from the last
  price; the close order is created after the primary's own matching has finished (so it can
  meet the primary's resting remainder and self-trade prevention).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal
from typing import Any, Literal

from kraken_ws.models.methods.add_order import AddOrderConditional, OrderFieldsBase

from .limits import (
    AMEND_PENALTY,
    CANCEL_PENALTY,
    EDIT_PENALTY,
    TIERS,
    Tier,
    TierSpec,
    TradingCounter,
    penalty,
)
from .market import BookSide, MakerFill, Market, SymbolMarket, rfc3339

__all__ = [
    "DEFAULT_ASSET_PRECISION",
    "DEFAULT_BALANCES",
    "EngineError",
    "MatchingEngine",
    "Order",
]

DEFAULT_BALANCES: dict[str, Decimal] = {
    "USD": Decimal("1000000"),
    "BTC": Decimal("100"),
    "ETH": Decimal("1000"),
    "PEPE": Decimal("1000000000000"),
}
"""Funds of the test account."""

DEFAULT_ASSET_PRECISION: dict[str, int] = {"USD": 4, "BTC": 10, "ETH": 10, "PEPE": 2}
"""Ledger precision per asset (unknown assets: 8)."""

SystemStatus = Literal["online", "cancel_only", "maintenance", "post_only"]

_TAKER_FEE = Decimal("0.0040")
_MAKER_FEE = Decimal("0.0025")
_RECENT_FILLS = 50
# Headroom held for buy orders without a limit price (market, stop-loss, ...): the fill price is
# unknown at placement, so the hold is based on the reference price plus this margin.
_MARKET_BUY_MARGIN = Decimal("1.10")


class EngineError(Exception):
    """A request the engine refuses; ``str(exc)`` is Kraken's error string."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Order:
    """One order of the account (open, untriggered or just closed)."""

    order_id: str
    symbol: str
    side: Literal["buy", "sell"]
    order_type: str
    order_qty: Decimal
    limit_price: Decimal | None
    time_in_force: str
    cl_ord_id: str | None = None
    order_userref: int | None = None
    post_only: bool = False
    display_qty: Decimal | None = None
    stp_type: str = "cancel_newest"
    cash_order_qty: Decimal | None = None
    expire_at: float | None = None
    expire_time: str | None = None
    trigger_reference: str | None = None
    trigger_price: Decimal | None = None
    trigger_price_type: str | None = None
    trigger_offset: Decimal | None = None
    """Trailing orders: the distance (quote units or percent) from the peak."""
    limit_offset: Decimal | None = None
    limit_offset_type: str | None = None
    peak: Decimal | None = None
    triggered: bool = False
    status: str = "pending_new"
    cum_qty: Decimal = Decimal(0)
    cum_cost: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    hold_unit: Decimal = Decimal(0)
    """Held per unit of remaining quantity (quote for buys, 1 base for sells)."""
    in_book: bool = False
    amended: bool = False
    timestamp: str = ""
    born: float = 0.0
    """Creation or last amend time (epoch seconds): the age of rate-counter penalties."""
    conditional: AddOrderConditional | None = None
    """OTO close-order template: each fill creates a close order from it."""
    ord_ref_id: str | None = None
    """OTO close orders: the id of the primary order whose fill created this one."""

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.order_qty - self.cum_qty

    @property
    def is_triggered_type(self) -> bool:
        """Whether the order waits for a trigger price."""
        return self.order_type.startswith(("stop-loss", "take-profit", "trailing-stop"))


@dataclass
class _Account:
    balances: dict[str, Decimal]
    holds: dict[str, Decimal] = field(default_factory=dict)

    def available(self, asset: str) -> Decimal:
        return self.balances.get(asset, Decimal(0)) - self.holds.get(asset, Decimal(0))

    def hold(self, asset: str, amount: Decimal) -> None:
        self.holds[asset] = self.holds.get(asset, Decimal(0)) + amount


def _parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).timestamp()


class MatchingEngine:
    """Orders, fills and balances of the exchange's test account.

    Args:
        market: The simulated market the engine trades in.
        clock: Epoch seconds.
        balances: Initial funds per asset (default :data:`DEFAULT_BALANCES`).
        asset_precision: Ledger decimals per asset.
        tier: Verification tier of the account: its rate-counter threshold and decay and its
            open-orders limit per pair (reference §10.1).
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
        """Per-pair trading rate counters (reference §10.1)."""
        self._pending_closes: list[tuple[Order, Decimal, Decimal]] = []
        self._precision = dict(DEFAULT_ASSET_PRECISION)
        self._precision.update(asset_precision or {})
        initial = DEFAULT_BALANCES if balances is None else balances
        self.account = _Account({a: self._amount(a, Decimal(v)) for a, v in initial.items()})
        self.orders: dict[str, Order] = {}
        """Open orders (resting and untriggered), by order id."""
        self.executions: list[dict[str, Any]] = []
        """Execution reports not yet sent (drained by the server)."""
        self.ledger: list[dict[str, Any]] = []
        """Ledger entries not yet sent (drained by the server)."""
        self.recent_fills: deque[dict[str, Any]] = deque(maxlen=_RECENT_FILLS)
        self.on_activity: Callable[[], None] | None = None
        """Called after timer-driven changes (dead man's switch) so the server flushes them."""
        self._dms: asyncio.TimerHandle | None = None
        self._dms_at: float | None = None
        self._price_moved: set[str] = set()
        for symbol_market in market.symbols.values():
            symbol_market.listener = self

    # -- helpers --------------------------------------------------------------------------

    def _quant(self, asset: str) -> Decimal:
        return Decimal(1).scaleb(-self._precision.get(asset, 8))

    def _amount(self, asset: str, value: Decimal) -> Decimal:
        return value.quantize(self._quant(asset), rounding=ROUND_HALF_EVEN)

    def _now(self) -> str:
        return rfc3339(self.clock())

    def _sym(self, symbol: str) -> SymbolMarket:
        try:
            return self.market[symbol]
        except KeyError:
            raise EngineError("EQuery:Unknown asset pair") from None

    def _ids(self, order: Order) -> dict[str, Any]:
        ids: dict[str, Any] = {"order_id": order.order_id}
        if order.cl_ord_id is not None:
            ids["cl_ord_id"] = order.cl_ord_id
        if order.order_userref is not None:
            ids["order_userref"] = order.order_userref
        return ids

    def _report(self, order: Order, exec_type: str, **fields: Any) -> None:
        report: dict[str, Any] = {"exec_type": exec_type, **self._ids(order)}
        report.setdefault("order_status", order.status)
        report.update(fields)
        report.setdefault("timestamp", self._now())
        self.executions.append(report)

    def _details(self, order: Order) -> dict[str, Any]:
        spec = self.market.instruments[order.symbol]
        details: dict[str, Any] = {
            "symbol": order.symbol,
            "side": order.side,
            "order_type": order.order_type,
            "order_qty": order.order_qty,
            "time_in_force": order.time_in_force,
            "cum_qty": order.cum_qty,
            "cum_cost": self._amount(spec.quote, order.cum_cost),
            "fee_usd_equiv": self._amount(spec.quote, order.fees),
            "fee_ccy_pref": "fciq",
            "post_only": order.post_only,
        }
        if order.limit_price is not None:
            details["limit_price"] = order.limit_price
            details["limit_price_type"] = "static"
        if order.display_qty is not None:
            details["display_qty"] = order.display_qty
        if order.expire_time is not None:
            details["expire_time"] = order.expire_time
        if order.trigger_price is not None:
            details["triggers"] = self._triggers(order)
        if order.amended:
            details["amended"] = True
        if order.conditional is not None:
            details["contingent"] = self._contingent(order.conditional)
        if order.ord_ref_id is not None:
            details["ord_ref_id"] = order.ord_ref_id
        return details

    @staticmethod
    def _contingent(c: AddOrderConditional) -> dict[str, Any]:
        contingent: dict[str, Any] = {"order_type": c.order_type}
        trigger = c.trigger_price if c.trigger_price is not None else c.stop_price
        if trigger is not None:
            contingent["trigger_price"] = trigger
            contingent["trigger_price_type"] = c.trigger_price_type or "static"
        if c.limit_price is not None:
            contingent["limit_price"] = c.limit_price
            contingent["limit_price_type"] = c.limit_price_type or (
                "quote" if c.order_type == "trailing-stop-limit" else "static"
            )
        return contingent

    def _triggers(self, order: Order) -> dict[str, Any]:
        spec = self.market.instruments[order.symbol]
        triggers: dict[str, Any] = {
            "reference": order.trigger_reference or "last",
            "price": order.trigger_offset
            if order.trigger_offset is not None
            else order.trigger_price,
            "price_type": order.trigger_price_type or "static",
            "actual_price": spec.price(order.trigger_price or 0),
            "status": "triggered" if order.triggered else "untriggered",
            "timestamp": self._now(),
        }
        if order.peak is not None:
            triggers["peak_price"] = order.peak
        return triggers

    def _check_status(self, *, post_only_limit: bool = False, cancel: bool = False) -> None:
        if self.status == "maintenance":
            raise EngineError("EService:Unavailable")
        if cancel:
            return
        if self.status == "cancel_only":
            raise EngineError("EService:Market in cancel_only mode")
        if self.status == "post_only" and not post_only_limit:
            raise EngineError("EService:Market in post_only mode")

    # -- limits (reference §10.1) ---------------------------------------------------------

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

    @staticmethod
    def _check_position_flags(reduce_only: bool | None, margin: bool | None) -> None:
        # The simulated account is spot-only: it never holds a margin position.
        if reduce_only:
            raise EngineError("EOrder:Reduce only:No position exists")
        if margin:
            # Unverified wording for a spot-only account (Kraken's error guide lists this code
            # for users/tiers not eligible for margin trading).
            raise EngineError("EOrder:Cannot open position")

    def rate_count(self, symbol: str) -> float:
        """The trading rate counter of ``symbol`` now (reference §10.1)."""
        return self.rate_counter.value(symbol)

    def drain(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Take the pending execution reports and ledger entries."""
        executions, self.executions = self.executions, []
        ledger, self.ledger = self.ledger, []
        return executions, ledger

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
            order, hold = self._prepare(o, symbol)
            self._check_open_limit(symbol, 1)
            self._check_funds([(order, hold)])
        finally:
            # The fixed count is charged even if validation fails (reference §10.1).
            if charged:
                self._rate_charge(symbol, 1)
        if validate:
            return {"order_id": "", **self._client_ids(o)}
        self._place(order, hold)
        return {"order_id": order.order_id, **self._client_ids(o)}

    def batch_add(
        self, orders: list[OrderFieldsBase], symbol: str, *, validate: bool = False
    ) -> list[dict[str, Any]]:
        """Place 2-15 orders on one symbol; any refusal refuses the whole batch.

        Returns:
            One result per order, in request order.

        Raises:
            EngineError: An order is refused (nothing is placed).
        """
        cost = len(orders) / 2
        if not validate:
            self._rate_gate(symbol, cost)
        try:
            prepared = [self._prepare(o, symbol) for o in orders]
            self._check_open_limit(symbol, len(prepared))
            self._check_funds(prepared)
        finally:
            if not validate:
                self._rate_charge(symbol, cost)
        results: list[dict[str, Any]] = []
        for (order, hold), o in zip(prepared, orders, strict=True):
            if not validate:
                self._place(order, hold)
            results.append({"order_id": "" if validate else order.order_id, **self._client_ids(o)})
        return results

    @staticmethod
    def _client_ids(o: OrderFieldsBase) -> dict[str, Any]:
        ids: dict[str, Any] = {}
        if o.cl_ord_id is not None:
            ids["cl_ord_id"] = o.cl_ord_id
        if o.order_userref is not None:
            ids["order_userref"] = o.order_userref
        return ids

    def _prepare(self, o: OrderFieldsBase, symbol: str) -> tuple[Order, Decimal]:
        is_post_only_limit = bool(o.post_only) and o.order_type == "limit"
        self._check_status(post_only_limit=is_post_only_limit)
        sym = self._sym(symbol)
        spec = sym.spec
        self._check_position_flags(o.reduce_only, o.margin)
        if o.conditional is not None:
            self._check_conditional(o.conditional, spec.price_increment)
        qty = o.order_qty
        if qty is not None:
            if qty != qty.quantize(spec.qty_increment):
                raise EngineError("EGeneral:Invalid arguments:order_qty")
            if qty < spec.min_qty:
                raise EngineError("EGeneral:Invalid arguments:volume minimum not met")
            qty = spec.qty(qty)
        limit = o.limit_price
        if limit is not None and o.order_type != "trailing-stop-limit":
            if limit <= 0 or limit != limit.quantize(spec.price_increment):
                raise EngineError("EOrder:Invalid price")
            limit = spec.price(limit)
        if o.cl_ord_id is not None and any(
            x.cl_ord_id == o.cl_ord_id for x in self.orders.values()
        ):
            raise EngineError("EOrder:Duplicate cl_ord_id")
        now = self.clock()
        order = Order(
            order_id=self.market.new_order_id(),
            symbol=symbol,
            side=o.side,
            order_type=o.order_type,
            order_qty=qty if qty is not None else spec.qty(0),
            limit_price=limit if o.order_type != "trailing-stop-limit" else None,
            time_in_force=(o.time_in_force or "gtc").upper(),
            cl_ord_id=o.cl_ord_id,
            order_userref=o.order_userref,
            post_only=bool(o.post_only),
            display_qty=spec.qty(o.display_qty) if o.display_qty is not None else None,
            stp_type=o.stp_type or "cancel_newest",
            cash_order_qty=o.cash_order_qty,
            timestamp=rfc3339(now),
            cum_qty=spec.qty(0),
            born=now,
            conditional=o.conditional,
        )
        if o.expire_time is not None:
            order.expire_time = o.expire_time
            order.expire_at = _parse_time(o.expire_time)
            if order.expire_at <= now:
                raise EngineError("EGeneral:Invalid arguments:expire_time")
        self._prepare_triggers(order, o, sym)
        return order, self._hold_unit(order, sym)

    @staticmethod
    def _check_conditional(c: AddOrderConditional, increment: Decimal) -> None:
        prices = []
        if c.limit_price is not None and c.order_type != "trailing-stop-limit":
            prices.append(c.limit_price)
        trigger = c.trigger_price if c.trigger_price is not None else c.stop_price
        if trigger is not None and (c.trigger_price_type or "static") == "static":
            prices.append(trigger)
        for price in prices:
            if price <= 0 or price != price.quantize(increment):
                raise EngineError("EOrder:Invalid price")

    def _prepare_triggers(self, order: Order, o: OrderFieldsBase, sym: SymbolMarket) -> None:
        if not order.is_triggered_type:
            return
        last = sym.last
        spec = sym.spec
        if o.triggers is not None:
            price, price_type = o.triggers.price, o.triggers.price_type or "static"
            order.trigger_reference = o.triggers.reference or "last"
        else:
            assert o.stop_price is not None  # the model guarantees one of them
            price, price_type = o.stop_price, "static"
            order.trigger_reference = o.trigger or "last"
        order.trigger_price_type = price_type
        if order.order_type.startswith("trailing-stop"):
            order.trigger_offset = price
            order.peak = last
            order.trigger_price = self._trailing_trigger(order, spec.price(last))
            if order.order_type == "trailing-stop-limit":
                order.limit_offset = o.limit_price
                order.limit_offset_type = o.limit_price_type or "quote"
        else:
            order.trigger_price = spec.price(self._offset_price(last, price, price_type))
        if order.trigger_price <= 0:
            raise EngineError("EOrder:Invalid price")

    @staticmethod
    def _offset_price(reference: Decimal, value: Decimal, price_type: str) -> Decimal:
        if price_type == "pct":
            return reference * (1 + value / 100)
        if price_type == "quote":
            return reference + value
        return value

    def _trailing_trigger(self, order: Order, peak: Decimal) -> Decimal:
        spec = self.market.instruments[order.symbol]
        offset = order.trigger_offset or Decimal(0)
        sign = -1 if order.side == "sell" else 1
        if order.trigger_price_type == "pct":
            return spec.price(peak * (1 + sign * offset / 100))
        return spec.price(peak + sign * offset)

    def _hold_unit(self, order: Order, sym: SymbolMarket) -> Decimal:
        if order.side == "sell":
            return Decimal(1)
        if order.limit_price is not None:
            reference = order.limit_price
        else:
            best_ask = sym.best("asks")
            reference = max(sym.last, best_ask[0] if best_ask else sym.last)
            if order.trigger_price is not None:
                reference = max(reference, order.trigger_price)
            reference *= _MARKET_BUY_MARGIN
        return reference * (1 + _TAKER_FEE)

    def _check_funds(self, prepared: Iterable[tuple[Order, Decimal]]) -> None:
        needed: dict[str, Decimal] = {}
        for order, unit in prepared:
            spec = self.market.instruments[order.symbol]
            if order.side == "buy":
                if order.cash_order_qty is not None:
                    amount = order.cash_order_qty * (1 + _TAKER_FEE)
                else:
                    amount = order.order_qty * unit
                needed[spec.quote] = needed.get(spec.quote, Decimal(0)) + amount
            else:
                needed[spec.base] = needed.get(spec.base, Decimal(0)) + order.order_qty
        for asset, amount in needed.items():
            if amount > self.account.available(asset):
                raise EngineError("EOrder:Insufficient funds")

    def _place(self, order: Order, unit: Decimal) -> None:
        spec = self.market.instruments[order.symbol]
        order.hold_unit = unit
        if order.cash_order_qty is None:
            self.account.hold(
                spec.quote if order.side == "buy" else spec.base, order.order_qty * unit
            )
        self.orders[order.order_id] = order
        self._report(order, "pending_new", **self._details(order))
        order.status = "new"
        self._report(order, "new")
        if order.is_triggered_type:
            return
        self._execute(order)

    def _execute(self, order: Order) -> None:
        """Match ``order`` as a taker, then rest, cancel or finish it."""
        sym = self.market[order.symbol]
        limit = order.limit_price
        if order.post_only and limit is not None and self._crosses(sym, order.side, limit):
            self._close(order, "canceled", reason="Post only order")
            return
        if order.time_in_force == "FOK" and not self._can_fill(sym, order):
            self._close(order, "canceled", reason="Order could not be filled completely")
            return
        stop = False

        def self_match(maker: Any) -> bool:
            nonlocal stop
            resting = self.orders.get(maker.owner)
            if order.stp_type in ("cancel_oldest", "cancel_both") and resting is not None:
                self._close(resting, "canceled", reason="Self trade prevention")
                if order.stp_type == "cancel_oldest":
                    return False
            stop = True
            return True

        if self.status == "online":
            if order.cash_order_qty is not None:
                spent = order.cum_cost
                fills = sym.take(
                    order.side,
                    None,
                    None,
                    order.cash_order_qty - spent,
                    ord_type="market",
                    self_match=self_match,
                )
            else:
                fills = sym.take(
                    order.side,
                    order.remaining,
                    limit,
                    ord_type="limit" if limit is not None else "market",
                    self_match=self_match,
                )
            for price, qty, trade_id, _owner in fills:
                self._fill(order, price, qty, trade_id, "t")
        if order.order_id not in self.orders:
            return
        if order.cash_order_qty is not None:
            self._close(
                order,
                "filled" if order.cum_qty > 0 else "canceled",
                reason=None if order.cum_qty > 0 else "No liquidity",
            )
        elif order.remaining <= 0:
            return  # _fill closed it
        elif stop:
            self._close(order, "canceled", reason="Self trade prevention")
        elif limit is None or order.time_in_force == "IOC":
            self._close(
                order,
                "canceled",
                reason="Immediate or cancel" if limit is not None else "No liquidity",
            )
        else:
            self._rest(order)

    @staticmethod
    def _crosses(sym: SymbolMarket, side: str, price: Decimal) -> bool:
        best = sym.best("asks" if side == "buy" else "bids")
        if best is None:
            return False
        return price >= best[0] if side == "buy" else price <= best[0]

    @staticmethod
    def _can_fill(sym: SymbolMarket, order: Order) -> bool:
        book_side: BookSide = "asks" if order.side == "buy" else "bids"
        available = Decimal(0)
        for price, qty in sym.top(book_side, 1000):
            if order.limit_price is not None and (
                price > order.limit_price if order.side == "buy" else price < order.limit_price
            ):
                break
            available += qty
            if available >= order.remaining:
                return True
        return False

    def _rest(self, order: Order) -> None:
        sym = self.market[order.symbol]
        assert order.limit_price is not None
        visible = order.remaining
        if order.display_qty is not None:
            visible = min(visible, order.display_qty)
        sym.add_order(
            "bids" if order.side == "buy" else "asks",
            order.limit_price,
            visible,
            owner=order.order_id,
            order_id=order.order_id,
        )
        order.in_book = True

    def _fill(self, order: Order, price: Decimal, qty: Decimal, trade_id: int, liq: str) -> None:
        spec = self.market.instruments[order.symbol]
        cost = self._amount(spec.quote, price * qty)
        fee = self._amount(spec.quote, cost * (_TAKER_FEE if liq == "t" else _MAKER_FEE))
        order.cum_qty += qty
        order.cum_cost += cost
        order.fees += fee
        # Release the hold for the filled part, then book the real movements.
        held_asset = spec.quote if order.side == "buy" else spec.base
        if order.cash_order_qty is None:
            self.account.hold(
                held_asset,
                -min(qty * order.hold_unit, self.account.holds.get(held_asset, Decimal(0))),
            )
        if order.side == "buy":
            base_amount, quote_amount = qty, -(cost + fee)
        else:
            base_amount, quote_amount = -qty, cost - fee
        exec_id = self.market.new_id("T")
        ref_id = exec_id
        now = self._now()
        self._ledger(spec.base, self._amount(spec.base, base_amount), Decimal(0), ref_id, now)
        self._ledger(spec.quote, quote_amount, fee, ref_id, now)
        filled = order.remaining <= 0
        order.status = "filled" if filled else "partially_filled"
        avg = spec.price(order.cum_cost / order.cum_qty)
        report = {
            "exec_id": exec_id,
            "trade_id": trade_id,
            "symbol": order.symbol,
            "side": order.side,
            "order_type": order.order_type,
            "last_qty": qty,
            "last_price": price,
            "liquidity_ind": liq,
            "cost": cost,
            "cum_qty": order.cum_qty,
            "cum_cost": self._amount(spec.quote, order.cum_cost),
            "avg_price": avg,
            "fee_usd_equiv": fee,
            "fees": [{"asset": spec.quote, "qty": fee}],
            "fee_ccy_pref": "fciq",
            "timestamp": now,
        }
        self._report(order, "trade", **report)
        self.recent_fills.append(
            {"exec_type": "trade", **self._ids(order), "order_status": order.status, **report}
        )
        if order.conditional is not None:
            # OTO: created once the primary's matching is over (see _open_closes).
            self._pending_closes.append((order, qty, price))
        if filled:
            self._close(order, "filled")

    def _ledger(self, asset: str, amount: Decimal, fee: Decimal, ref_id: str, now: str) -> None:
        balance = self._amount(asset, self.account.balances.get(asset, Decimal(0)) + amount)
        self.account.balances[asset] = balance
        self.ledger.append(
            {
                "ledger_id": self.market.new_id("L"),
                "ref_id": ref_id,
                "timestamp": now,
                "type": "trade",
                "category": "trade",
                "asset": asset,
                "asset_class": "currency",
                "amount": self._amount(asset, amount),
                "fee": self._amount(asset, fee),
                "balance": balance,
                "wallet_type": "spot",
                "wallet_id": "main",
            }
        )

    def _close(self, order: Order, status: str, reason: str | None = None) -> None:
        """Finish an order: out of the book, hold released, final report."""
        if self.orders.pop(order.order_id, None) is None:
            return
        spec = self.market.instruments[order.symbol]
        if order.in_book:
            self.market[order.symbol].remove_order(order.order_id)
            order.in_book = False
        if order.cash_order_qty is None and order.remaining > 0:
            held_asset = spec.quote if order.side == "buy" else spec.base
            release = min(
                order.remaining * order.hold_unit, self.account.holds.get(held_asset, Decimal(0))
            )
            self.account.hold(held_asset, -release)
        order.status = status
        fields: dict[str, Any] = {
            "cum_qty": order.cum_qty,
            "cum_cost": self._amount(spec.quote, order.cum_cost),
        }
        if order.cum_qty > 0:
            fields["avg_price"] = spec.price(order.cum_cost / order.cum_qty)
        if reason is not None:
            fields["reason"] = reason
        self._report(order, status, **fields)

    # -- public API: changing -------------------------------------------------------------

    def _find(self, order_id: str | None, cl_ord_id: str | None) -> Order | None:
        if order_id is not None:
            return self.orders.get(order_id)
        return next((o for o in self.orders.values() if o.cl_ord_id == cl_ord_id), None)

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
        order = self._find(order_id, cl_ord_id)
        pair = order.symbol if order is not None else symbol
        cost = 1.0
        if order is not None:
            age = self._age(order)
            cost += penalty(AMEND_PENALTY, age)
            if order_qty is not None and order.cum_qty > 0 and order_qty <= order.cum_qty:
                cost += penalty(CANCEL_PENALTY, age)  # the unfilled rest is cancelled
        self._rate_gate(pair, cost)
        try:
            result = self._amend_order(
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

    def _amend_order(
        self,
        order_id: str | None,
        cl_ord_id: str | None,
        *,
        order_qty: Decimal | None,
        limit_price: Decimal | None,
        display_qty: Decimal | None,
        trigger_price: Decimal | None,
        trigger_price_type: str | None,
        post_only: bool,
    ) -> dict[str, Any]:
        self._check_status(post_only_limit=True)
        order = self._find(order_id, cl_ord_id)
        if order is None:
            raise EngineError("EOrder:Unknown order")
        sym = self.market[order.symbol]
        spec = sym.spec
        new_qty = spec.qty(order_qty) if order_qty is not None else order.order_qty
        new_price = spec.price(limit_price) if limit_price is not None else order.limit_price
        if limit_price is not None and order.limit_price is None:
            raise EngineError("EGeneral:Invalid arguments:limit_price")
        if limit_price is not None and limit_price != spec.price(limit_price):
            raise EngineError("EOrder:Invalid price")
        new_trigger = order.trigger_price
        if trigger_price is not None:
            if not order.is_triggered_type or order.triggered:
                raise EngineError("EGeneral:Invalid arguments:trigger_price")
            new_trigger = spec.price(
                self._offset_price(sym.last, trigger_price, trigger_price_type or "static")
            )
        new_display = spec.qty(display_qty) if display_qty is not None else order.display_qty
        if (new_qty, new_price, new_trigger, new_display) == (
            order.order_qty,
            order.limit_price,
            order.trigger_price,
            order.display_qty,
        ):
            raise EngineError("EOrder:No amendable parameters")
        if post_only and new_price is not None and self._crosses(sym, order.side, new_price):
            raise EngineError("EOrder:Post only order")
        # Funds for a larger buy.
        if order.side == "buy" and new_price is not None:
            unit = new_price * (1 + _TAKER_FEE)
            extra = (new_qty - order.cum_qty) * unit - order.remaining * order.hold_unit
            if extra > self.account.available(spec.quote):
                raise EngineError("EOrder:Insufficient funds")
        elif order.side == "sell" and new_qty - order.order_qty > self.account.available(spec.base):
            raise EngineError("EOrder:Insufficient funds")
        held_asset = spec.quote if order.side == "buy" else spec.base
        self.account.hold(held_asset, -order.remaining * order.hold_unit)
        old_price = order.limit_price
        order.order_qty = max(new_qty, order.cum_qty)
        order.limit_price = new_price
        order.trigger_price = new_trigger
        order.display_qty = new_display
        order.amended = True
        if order.side == "buy" and new_price is not None:
            order.hold_unit = new_price * (1 + _TAKER_FEE)
        self.account.hold(held_asset, order.remaining * order.hold_unit)
        fields: dict[str, Any] = {
            "order_qty": order.order_qty,
            "amended": True,
            "reason": "User requested",
        }
        if order.limit_price is not None:
            fields["limit_price"] = order.limit_price
        if order.display_qty is not None:
            fields["display_qty"] = order.display_qty
        if order.trigger_price is not None:
            fields["triggers"] = self._triggers(order)
        self._report(order, "amended", **fields)
        if order.remaining <= 0:
            self._close(order, "filled" if order.cum_qty > 0 else "canceled")
        elif order.in_book:
            book_order = sym.get_order(order.order_id)
            visible = (
                order.remaining
                if order.display_qty is None
                else min(order.remaining, order.display_qty)
            )
            if new_price == old_price and book_order is not None and visible <= book_order.qty:
                sym.modify_order(order.order_id, visible)  # a smaller order keeps its priority
            else:
                sym.remove_order(order.order_id)
                order.in_book = False
                self._execute(order)
        amend_id = self.market.new_id("T")
        result: dict[str, Any] = {"amend_id": amend_id}
        if order_id is not None:
            result["order_id"] = order_id
        if cl_ord_id is not None:
            result["cl_ord_id"] = cl_ord_id
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
            result = self._edit_order(
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

    def _edit_order(
        self,
        order_id: str,
        symbol: str,
        *,
        order_qty: Decimal | None,
        limit_price: Decimal | None,
        display_qty: Decimal | None,
        order_userref: int | None,
        post_only: bool | None,
        reduce_only: bool | None,
        validate: bool,
    ) -> dict[str, Any]:
        self._check_status(post_only_limit=True)
        old = self.orders.get(order_id)
        if old is None:
            raise EngineError("EOrder:Unknown order")
        if old.symbol != symbol:
            raise EngineError("EGeneral:Invalid arguments:symbol")
        if old.is_triggered_type or old.conditional is not None:
            # The docs exclude triggered orders and orders with a conditional close from
            # edit_order; the error text is a plausible choice (unverified).
            raise EngineError("EOrder:Invalid order")
        self._check_position_flags(reduce_only, None)
        spec = self.market.instruments[symbol]
        qty = spec.qty(order_qty) if order_qty is not None else old.order_qty
        if qty <= old.cum_qty:
            raise EngineError("EGeneral:Invalid arguments:order_qty")
        new = Order(
            order_id=self.market.new_order_id(),
            symbol=symbol,
            side=old.side,
            order_type=old.order_type,
            order_qty=qty - old.cum_qty,
            limit_price=spec.price(limit_price) if limit_price is not None else old.limit_price,
            time_in_force=old.time_in_force,
            order_userref=order_userref if order_userref is not None else old.order_userref,
            post_only=old.post_only if post_only is None else post_only,
            display_qty=spec.qty(display_qty) if display_qty is not None else old.display_qty,
            stp_type=old.stp_type,
            expire_at=old.expire_at,
            expire_time=old.expire_time,
            timestamp=self._now(),
            born=self.clock(),
        )
        unit = self._hold_unit(new, self.market[symbol])
        # The old order's hold comes back when it is cancelled: count it as available.
        held_asset = spec.quote if old.side == "buy" else spec.base
        freed = old.remaining * old.hold_unit
        need = new.order_qty * unit
        if need > self.account.available(held_asset) + freed:
            raise EngineError("EOrder:Insufficient funds")
        if validate:
            return {"order_id": "", "original_order_id": order_id}
        self._close(old, "canceled", reason="Order replaced")
        self._place(new, unit)
        return {"order_id": new.order_id, "original_order_id": order_id}

    def cancel(self, order: Order, reason: str = "User requested") -> None:
        """Cancel one open order."""
        self._close(order, "canceled", reason=reason)

    def cancel_order(
        self,
        order_ids: list[str] | None,
        cl_ord_ids: list[str] | None,
        userrefs: list[int] | None,
    ) -> list[dict[str, Any] | EngineError]:
        """Cancel orders by id, client id or userref (``cancel_order``).

        Returns:
            One entry per cancelled order (a ``result`` dict) or per unknown identifier (an
            :class:`EngineError` with ``EOrder:Invalid order``), in request order.
        """
        self._check_status(cancel=True)
        out: list[dict[str, Any] | EngineError] = []
        for oid in order_ids or ():
            order = self.orders.get(oid)
            if order is None:
                out.append(EngineError("EOrder:Invalid order"))
            else:
                out.append(self._user_cancel(order, {"order_id": oid}))
        for cid in cl_ord_ids or ():
            order = self._find(None, cid)
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
        self._check_status(cancel=True)
        orders = list(self.orders.values())
        for order in orders:
            self.cancel(order, reason)
        return len(orders)

    def batch_cancel(self, identifiers: list[str], cl_ord_ids: list[str] | None) -> int:
        """Cancel by order ids or userrefs (as strings) and client ids; return how many."""
        self._check_status(cancel=True)
        # Every cancelled order pays its age penalty; the batch is accepted even when that takes
        # the counter over the threshold (reference §10.1).
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
            found = self._find(None, cid)
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
        self._check_status(cancel=True)
        now = self.clock()
        if self._dms is not None:
            self._dms.cancel()
            self._dms = None
        if timeout == 0:
            self._dms_at = None
            return {"currentTime": rfc3339(now, 0), "triggerTime": "0"}
        self._dms_at = now + timeout
        self._dms = asyncio.get_running_loop().call_later(timeout, self._fire_dms)
        return {"currentTime": rfc3339(now, 0), "triggerTime": rfc3339(now + timeout, 0)}

    def _fire_dms(self) -> None:
        self._dms = None
        self._dms_at = None
        if self.status != "maintenance":
            self.cancel_all(reason="Dead man's switch")
        if self.on_activity is not None:
            self.on_activity()

    def stop(self) -> None:
        """Disarm timers (the exchange is stopping)."""
        if self._dms is not None:
            self._dms.cancel()
            self._dms = None

    # -- market callbacks -----------------------------------------------------------------

    def on_maker_fill(self, symbol: str, fill: MakerFill) -> None:  # noqa: ARG002 (protocol)
        """A simulated taker filled (part of) a user's resting order."""
        order = self.orders.get(fill.owner)
        if order is None:
            return
        self._fill(order, fill.price, fill.qty, fill.trade_id, "m")
        if order.order_id not in self.orders:
            order.in_book = False
            return
        if fill.remaining_visible <= 0:
            order.in_book = False
            if order.display_qty is not None and order.remaining > 0:
                # Iceberg: the next slice joins the back of the queue.
                self._rest(order)
                self._report(
                    order,
                    "iceberg_refill",
                    display_qty_remain=min(order.remaining, order.display_qty),
                )

    def on_last_price(self, symbol: str, price: Decimal) -> None:  # noqa: ARG002 (protocol)
        """Remember that triggers of ``symbol`` need checking (done in :meth:`settle`)."""
        self._price_moved.add(symbol)

    def settle(self) -> None:
        """Run deferred work: OTO close orders, triggers whose price was reached, GTD expiry."""
        self._open_closes()
        now = self.clock()
        for order in [o for o in self.orders.values() if o.expire_at is not None]:
            if order.expire_at is not None and order.expire_at <= now:
                self._close(order, "expired")
        rounds = 0
        while self._price_moved and rounds < 100:
            rounds += 1
            symbol = self._price_moved.pop()
            last = self.market[symbol].last
            for order in [
                o
                for o in self.orders.values()
                if o.symbol == symbol and o.is_triggered_type and not o.triggered
            ]:
                if self._should_trigger(order, last):
                    self._trigger(order, last)
            self._open_closes()

    def _open_closes(self) -> None:
        """Create the OTO close orders of the fills since the last call (in fill order)."""
        while self._pending_closes:
            pending, self._pending_closes = self._pending_closes, []
            for primary, qty, price in pending:
                self._open_close(primary, qty, price)

    def _open_close(self, primary: Order, qty: Decimal, fill_price: Decimal) -> None:
        """One OTO close order: ``qty`` on the opposite side, from the primary's template."""
        c = primary.conditional
        assert c is not None
        sym = self.market[primary.symbol]
        spec = sym.spec
        now = self.clock()
        order = Order(
            order_id=self.market.new_order_id(),
            symbol=primary.symbol,
            side="sell" if primary.side == "buy" else "buy",
            order_type=c.order_type,
            order_qty=spec.qty(qty),
            limit_price=None,
            time_in_force="GTC",
            timestamp=rfc3339(now),
            cum_qty=spec.qty(0),
            born=now,
            ord_ref_id=primary.order_id,
        )
        if c.order_type == "trailing-stop-limit":
            order.limit_offset = c.limit_price
            order.limit_offset_type = c.limit_price_type or "quote"
        elif c.limit_price is not None:
            order.limit_price = spec.price(c.limit_price)
        if order.is_triggered_type:
            trigger = c.trigger_price if c.trigger_price is not None else c.stop_price
            assert trigger is not None  # the model guarantees it for triggered types
            price_type = c.trigger_price_type or "static"
            order.trigger_reference = "last"
            order.trigger_price_type = price_type
            if order.order_type.startswith("trailing-stop"):
                order.trigger_offset = trigger
                order.peak = sym.last
                order.trigger_price = self._trailing_trigger(order, sym.last)
            else:
                # Unverified: relative trigger prices are taken from the fill's price.
                order.trigger_price = spec.price(
                    self._offset_price(fill_price, trigger, price_type)
                )
            # A trigger that is already reached fires on the next settle, not on the next move.
            self._price_moved.add(order.symbol)
        unit = self._hold_unit(order, sym)
        prices_ok = (order.limit_price is None or order.limit_price > 0) and (
            order.trigger_price is None or order.trigger_price > 0
        )
        try:
            if not prices_ok:
                raise EngineError("EOrder:Invalid price")
            self._check_funds([(order, unit)])
        except EngineError as exc:
            # The close order cannot live: report it and cancel it at once.
            self.orders[order.order_id] = order
            self._report(order, "pending_new", **self._details(order))
            self._close(order, "canceled", reason=exc.error.split(":", 1)[-1])
            return
        self._place(order, unit)

    def _should_trigger(self, order: Order, last: Decimal) -> bool:
        assert order.trigger_price is not None
        sell = order.side == "sell"
        if order.order_type.startswith("trailing-stop"):
            assert order.peak is not None
            if (sell and last > order.peak) or (not sell and last < order.peak):
                order.peak = last
                order.trigger_price = self._trailing_trigger(order, last)
            return last <= order.trigger_price if sell else last >= order.trigger_price
        if order.order_type.startswith("stop-loss"):
            return last <= order.trigger_price if sell else last >= order.trigger_price
        return last >= order.trigger_price if sell else last <= order.trigger_price

    def _trigger(self, order: Order, last: Decimal) -> None:
        spec = self.market.instruments[order.symbol]
        order.triggered = True
        if order.order_type == "trailing-stop-limit":
            assert order.trigger_price is not None
            offset = order.limit_offset or Decimal(0)
            sign = -1 if order.side == "sell" else 1
            if order.limit_offset_type == "pct":
                order.limit_price = spec.price(order.trigger_price * (1 + sign * offset / 100))
            elif order.limit_offset_type == "static":
                order.limit_price = spec.price(offset)
            else:
                order.limit_price = spec.price(order.trigger_price + sign * offset)
        triggers = self._triggers(order)
        triggers["last_price"] = last
        self._report(order, "status", triggers=triggers)
        self._execute(order)

    # -- introspection --------------------------------------------------------------------

    def order_snapshot(self, order: Order) -> dict[str, Any]:
        """An open order as an ``executions`` snapshot report."""
        return {
            "exec_type": order.status if order.status != "partially_filled" else "new",
            **self._ids(order),
            "order_status": order.status,
            "timestamp": order.timestamp,
            **self._details(order),
        }

    def balance_snapshot(self) -> list[dict[str, Any]]:
        """One ``balances`` snapshot item per asset."""
        return [
            {
                "asset": asset,
                "asset_class": "currency",
                "balance": balance,
                "wallets": [{"type": "spot", "id": "main", "balance": balance}],
            }
            for asset, balance in sorted(self.account.balances.items())
        ]

    @staticmethod
    def round_up(value: Decimal, quant: Decimal) -> Decimal:
        """Round ``value`` up to a multiple of ``quant``."""
        return value.quantize(quant, rounding=ROUND_UP)
