"""Orders of the test account: the `Order` record and order entry.

Order entry turns a validated request into an `Order` and the hold it needs, checking
everything that can refuse it *before* anything changes (so a refused order, or a refused
batch, leaves no trace). Trigger prices are armed here too: at entry they are computed from the
last price, and `.triggers` moves and fires them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from kraken_ws.models.common import SystemStatus
from kraken_ws.models.methods.add_order import AddOrderConditional, OrderFieldsBase

from ..market import InstrumentSpec, Market, SymbolMarket, epoch, rfc3339
from .account import Account

__all__ = [
    "MAKER_FEE",
    "TAKER_FEE",
    "EngineError",
    "Order",
    "OrderEntry",
    "check_position_flags",
    "check_status",
    "client_ids",
    "held_asset",
    "offset_price",
    "trailing_trigger",
]


TAKER_FEE = Decimal("0.0040")
"""Flat taker fee, in the quote currency."""
MAKER_FEE = Decimal("0.0025")
"""Flat maker fee, in the quote currency."""
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


def held_asset(order: Order, spec: InstrumentSpec) -> str:
    """The asset ``order``'s hold is in: the quote currency for a buy, the base for a sell."""
    return spec.quote if order.side == "buy" else spec.base


def check_status(
    status: SystemStatus, *, post_only_limit: bool = False, cancel: bool = False
) -> None:
    """Refuse what the system ``status`` does not allow.

    Args:
        status: The engine's status.
        post_only_limit: The request is (or only changes) a post-only limit order.
        cancel: The request only cancels.

    Raises:
        EngineError: ``EService:...`` for a request the status refuses.
    """
    if status == "maintenance":
        raise EngineError("EService:Unavailable")
    if cancel:
        return
    if status == "cancel_only":
        raise EngineError("EService:Market in cancel_only mode")
    if status == "post_only" and not post_only_limit:
        raise EngineError("EService:Market in post_only mode")


def check_position_flags(reduce_only: bool | None, margin: bool | None) -> None:
    """Refuse margin flags: the simulated account is spot-only and never holds a position."""
    if reduce_only:
        raise EngineError("EOrder:Reduce only:No position exists")
    if margin:
        # Unverified wording for a spot-only account (Kraken's error guide lists this code
        # for users/tiers not eligible for margin trading).
        raise EngineError("EOrder:Cannot open position")


def client_ids(o: OrderFieldsBase) -> dict[str, Any]:
    """The client's own identifiers of an order, as a result echoes them."""
    ids: dict[str, Any] = {}
    if o.cl_ord_id is not None:
        ids["cl_ord_id"] = o.cl_ord_id
    if o.order_userref is not None:
        ids["order_userref"] = o.order_userref
    return ids


def offset_price(reference: Decimal, value: Decimal, price_type: str) -> Decimal:
    """A trigger price given as ``static``, ``pct`` or ``quote`` offset from ``reference``."""
    if price_type == "pct":
        return reference * (1 + value / 100)
    if price_type == "quote":
        return reference + value
    return value


def trailing_trigger(order: Order, peak: Decimal, spec: InstrumentSpec) -> Decimal:
    """The trigger price of a trailing order whose peak is ``peak``."""
    offset = order.trigger_offset or Decimal(0)
    sign = -1 if order.side == "sell" else 1
    if order.trigger_price_type == "pct":
        return spec.price(peak * (1 + sign * offset / 100))
    return spec.price(peak + sign * offset)


class OrderEntry:
    """Builds orders from request fields, with every check that can refuse them.

    Args:
        market: The simulated market.
        account: The account whose funds orders reserve.
        orders: The engine's open orders (read: duplicate ``cl_ord_id`` s).
        clock: Epoch seconds.
        status: The engine's current system status.
    """

    def __init__(
        self,
        market: Market,
        account: Account,
        orders: dict[str, Order],
        clock: Callable[[], float],
        status: Callable[[], SystemStatus],
    ) -> None:
        self._market = market
        self._account = account
        self._orders = orders
        self._clock = clock
        self._status = status

    def prepare(self, o: OrderFieldsBase, symbol: str) -> tuple[Order, Decimal]:
        """Check one order of a request and build it (nothing changes yet).

        Returns:
            The order and its hold per unit of quantity (see `hold_unit`).

        Raises:
            EngineError: The order is refused.
        """
        is_post_only_limit = bool(o.post_only) and o.order_type == "limit"
        check_status(self._status(), post_only_limit=is_post_only_limit)
        sym = self.symbol(symbol)
        spec = sym.spec
        check_position_flags(o.reduce_only, o.margin)
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
            x.cl_ord_id == o.cl_ord_id for x in self._orders.values()
        ):
            raise EngineError("EOrder:Duplicate cl_ord_id")
        now = self._clock()
        order = Order(
            order_id=self._market.new_order_id(),
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
            order.expire_at = epoch(o.expire_time)
            if order.expire_at <= now:
                raise EngineError("EGeneral:Invalid arguments:expire_time")
        self._arm_triggers(order, o, sym)
        return order, self.hold_unit(order, sym)

    def symbol(self, symbol: str) -> SymbolMarket:
        """The market of ``symbol``.

        Raises:
            EngineError: ``EQuery:Unknown asset pair``.
        """
        try:
            return self._market[symbol]
        except KeyError:
            raise EngineError("EQuery:Unknown asset pair") from None

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

    @staticmethod
    def _arm_triggers(order: Order, o: OrderFieldsBase, sym: SymbolMarket) -> None:
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
            order.trigger_price = trailing_trigger(order, spec.price(last), spec)
            if order.order_type == "trailing-stop-limit":
                order.limit_offset = o.limit_price
                order.limit_offset_type = o.limit_price_type or "quote"
        else:
            order.trigger_price = spec.price(offset_price(last, price, price_type))
        if order.trigger_price <= 0:
            raise EngineError("EOrder:Invalid price")

    @staticmethod
    def hold_unit(order: Order, sym: SymbolMarket) -> Decimal:
        """What one unit of ``order``'s quantity reserves (quote for a buy, base for a sell)."""
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
        return reference * (1 + TAKER_FEE)

    def check_funds(self, prepared: Iterable[tuple[Order, Decimal]]) -> None:
        """Refuse orders that together need more than the account has available.

        Raises:
            EngineError: ``EOrder:Insufficient funds``.
        """
        needed: dict[str, Decimal] = {}
        for order, unit in prepared:
            spec = self._market.instruments[order.symbol]
            if order.side == "buy":
                if order.cash_order_qty is not None:
                    amount = order.cash_order_qty * (1 + TAKER_FEE)
                else:
                    amount = order.order_qty * unit
                needed[spec.quote] = needed.get(spec.quote, Decimal(0)) + amount
            else:
                needed[spec.base] = needed.get(spec.base, Decimal(0)) + order.order_qty
        for asset, amount in needed.items():
            if amount > self._account.available(asset):
                raise EngineError("EOrder:Insufficient funds")
