"""Work deferred until after matching: OTO close orders, triggers and GTD expiry.

Modelled after [Protocol notes §7][ref-7] (judgement calls marked):

* Stop-loss, take-profit and trailing-stop orders wait until the last trade price reaches their
  trigger price; trailing ones move their trigger with the best price since entry (the peak).
  Triggers are checked when the engine settles after a price change, not inside a match.
* OTO ``conditional``: each fill of the primary creates a close order of the filled quantity on
  the opposite side from the template (``ord_ref_id`` = the primary's id). Unverified: ``pct`` and
  ``quote`` trigger prices are offsets from that fill's price; trailing types trail from the last
  price; the close order is created after the primary's own matching has finished (so it can
  meet the primary's resting remainder and self-trade prevention).
* GTD orders expire once the injected clock passes ``expire_time``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..market import Market, rfc3339
from .matching import Matcher
from .orders import EngineError, Order, OrderEntry, offset_price, trailing_trigger
from .reports import Reports

__all__ = ["Triggers"]

# A trigger that fires trades, which move the price, which fires triggers...: bounded per settle.
_MAX_TRIGGER_ROUNDS = 100


class Triggers:
    """Runs the deferred work of the engine (see the module docstring).

    Args:
        market: The simulated market.
        orders: The engine's open orders.
        entry: Checks and holds of new orders (for OTO close orders).
        matcher: Places, matches and closes orders.
        reports: Where execution reports go.
        clock: Epoch seconds.
    """

    def __init__(
        self,
        market: Market,
        orders: dict[str, Order],
        entry: OrderEntry,
        matcher: Matcher,
        reports: Reports,
        clock: Callable[[], float],
    ) -> None:
        self._market = market
        self._orders = orders
        self._entry = entry
        self._matcher = matcher
        self._reports = reports
        self._clock = clock
        self._price_moved: set[str] = set()

    def price_moved(self, symbol: str) -> None:
        """Remember that the triggers of ``symbol`` need checking."""
        self._price_moved.add(symbol)

    def settle(self) -> None:
        """Open OTO close orders, expire GTD orders, fire the triggers whose price was reached."""
        self.open_closes()
        now = self._clock()
        for order in [o for o in self._orders.values() if o.expire_at is not None]:
            if order.expire_at is not None and order.expire_at <= now:
                self._matcher.close(order, "expired")
        rounds = 0
        while self._price_moved and rounds < _MAX_TRIGGER_ROUNDS:
            rounds += 1
            symbol = self._price_moved.pop()
            last = self._market[symbol].last
            for order in [
                o
                for o in self._orders.values()
                if o.symbol == symbol and o.is_triggered_type and not o.triggered
            ]:
                if self._should_trigger(order, last):
                    self._trigger(order, last)
            self.open_closes()

    def open_closes(self) -> None:
        """Create the OTO close orders of the fills since the last call (in fill order)."""
        while pending := self._matcher.take_pending_closes():
            for primary, qty, price in pending:
                self._open_close(primary, qty, price)

    def _open_close(self, primary: Order, qty: Decimal, fill_price: Decimal) -> None:
        """One OTO close order: ``qty`` on the opposite side, from the primary's template."""
        c = primary.conditional
        assert c is not None
        sym = self._market[primary.symbol]
        spec = sym.spec
        now = self._clock()
        order = Order(
            order_id=self._market.new_order_id(),
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
                order.trigger_price = trailing_trigger(order, sym.last, spec)
            else:
                # Unverified: relative trigger prices are taken from the fill's price.
                order.trigger_price = spec.price(offset_price(fill_price, trigger, price_type))
            # A trigger that is already reached fires on the next settle, not on the next move.
            self._price_moved.add(order.symbol)
        unit = self._entry.hold_unit(order, sym)
        prices_ok = (order.limit_price is None or order.limit_price > 0) and (
            order.trigger_price is None or order.trigger_price > 0
        )
        try:
            if not prices_ok:
                raise EngineError("EOrder:Invalid price")
            self._entry.check_funds([(order, unit)])
        except EngineError as exc:
            # The close order cannot live: report it and cancel it at once.
            self._orders[order.order_id] = order
            self._reports.report(order, "pending_new", **self._reports.details(order))
            self._matcher.close(order, "canceled", reason=exc.error.split(":", 1)[-1])
            return
        self._matcher.place(order, unit)

    def _should_trigger(self, order: Order, last: Decimal) -> bool:
        assert order.trigger_price is not None
        sell = order.side == "sell"
        if order.order_type.startswith("trailing-stop"):
            assert order.peak is not None
            if (sell and last > order.peak) or (not sell and last < order.peak):
                order.peak = last
                spec = self._market.instruments[order.symbol]
                order.trigger_price = trailing_trigger(order, last, spec)
            return last <= order.trigger_price if sell else last >= order.trigger_price
        if order.order_type.startswith("stop-loss"):
            return last <= order.trigger_price if sell else last >= order.trigger_price
        return last >= order.trigger_price if sell else last <= order.trigger_price

    def _trigger(self, order: Order, last: Decimal) -> None:
        spec = self._market.instruments[order.symbol]
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
        triggers = self._reports.triggers(order)
        triggers["last_price"] = last
        self._reports.report(order, "status", triggers=triggers)
        self._matcher.execute(order)
