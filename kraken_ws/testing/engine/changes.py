"""Changes to open orders: ``amend_order`` (in place) and ``edit_order`` (cancel and replace).

Both check everything before they change anything; the rate counter is charged by the caller
(`MatchingEngine`), which knows whether the change was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kraken_ws.models.common import SystemStatus

from ..market import Market
from .account import Account
from .matching import Matcher
from .orders import (
    TAKER_FEE,
    EngineError,
    Order,
    OrderEntry,
    check_position_flags,
    check_status,
    held_asset,
    offset_price,
)
from .reports import Reports

__all__ = ["OrderChanges"]


class OrderChanges:
    """Amends and replaces the account's open orders.

    Args:
        market: The simulated market.
        account: The account whose holds follow the changes.
        reports: Where execution reports go.
        orders: The engine's open orders.
        entry: Hold units of replacement orders.
        matcher: Re-matches a repriced order, closes replaced ones.
        clock: Epoch seconds.
        status: The engine's current system status.
    """

    def __init__(
        self,
        market: Market,
        account: Account,
        reports: Reports,
        orders: dict[str, Order],
        entry: OrderEntry,
        matcher: Matcher,
        clock: Callable[[], float],
        status: Callable[[], SystemStatus],
    ) -> None:
        self._market = market
        self._account = account
        self._reports = reports
        self._orders = orders
        self._entry = entry
        self._matcher = matcher
        self._clock = clock
        self._status = status

    def find(self, order_id: str | None, cl_ord_id: str | None) -> Order | None:
        """The open order with ``order_id`` (if given) or else with ``cl_ord_id``."""
        if order_id is not None:
            return self._orders.get(order_id)
        return next((o for o in self._orders.values() if o.cl_ord_id == cl_ord_id), None)

    def amend(
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
        """Amend an open order in place (see `MatchingEngine.amend_order`).

        Raises:
            EngineError: The amend is refused (nothing changed).
        """
        check_status(self._status(), post_only_limit=True)
        order = self.find(order_id, cl_ord_id)
        if order is None:
            raise EngineError("EOrder:Unknown order")
        sym = self._market[order.symbol]
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
                offset_price(sym.last, trigger_price, trigger_price_type or "static")
            )
        new_display = spec.qty(display_qty) if display_qty is not None else order.display_qty
        if (new_qty, new_price, new_trigger, new_display) == (
            order.order_qty,
            order.limit_price,
            order.trigger_price,
            order.display_qty,
        ):
            raise EngineError("EOrder:No amendable parameters")
        if post_only and new_price is not None and Matcher.crosses(sym, order.side, new_price):
            raise EngineError("EOrder:Post only order")
        # Funds for a larger buy.
        if order.side == "buy" and new_price is not None:
            unit = new_price * (1 + TAKER_FEE)
            extra = (new_qty - order.cum_qty) * unit - order.remaining * order.hold_unit
            if extra > self._account.available(spec.quote):
                raise EngineError("EOrder:Insufficient funds")
        elif order.side == "sell":
            extra = new_qty - order.order_qty
            if extra > self._account.available(spec.base):
                raise EngineError("EOrder:Insufficient funds")
        asset = held_asset(order, spec)
        self._account.hold(asset, -order.remaining * order.hold_unit)
        old_price = order.limit_price
        order.order_qty = max(new_qty, order.cum_qty)
        order.limit_price = new_price
        order.trigger_price = new_trigger
        order.display_qty = new_display
        order.amended = True
        if order.side == "buy" and new_price is not None:
            order.hold_unit = new_price * (1 + TAKER_FEE)
        self._account.hold(asset, order.remaining * order.hold_unit)
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
            fields["triggers"] = self._reports.triggers(order)
        self._reports.report(order, "amended", **fields)
        if order.remaining <= 0:
            self._matcher.close(order, "filled" if order.cum_qty > 0 else "canceled")
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
                self._matcher.execute(order)
        amend_id = self._market.new_id("T")
        result: dict[str, Any] = {"amend_id": amend_id}
        if order_id is not None:
            result["order_id"] = order_id
        if cl_ord_id is not None:
            result["cl_ord_id"] = cl_ord_id
        return result

    def replace(
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
        """Cancel an order and place its replacement (see `MatchingEngine.edit_order`).

        Raises:
            EngineError: The edit is refused (nothing changed).
        """
        check_status(self._status(), post_only_limit=True)
        old = self._orders.get(order_id)
        if old is None:
            raise EngineError("EOrder:Unknown order")
        if old.symbol != symbol:
            raise EngineError("EGeneral:Invalid arguments:symbol")
        if old.is_triggered_type or old.conditional is not None:
            # The docs exclude triggered orders and orders with a conditional close from
            # edit_order; the error text is a plausible choice (unverified).
            raise EngineError("EOrder:Invalid order")
        check_position_flags(reduce_only, None)
        spec = self._market.instruments[symbol]
        qty = spec.qty(order_qty) if order_qty is not None else old.order_qty
        if qty <= old.cum_qty:
            raise EngineError("EGeneral:Invalid arguments:order_qty")
        new = Order(
            order_id=self._market.new_order_id(),
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
            timestamp=self._reports.now(),
            born=self._clock(),
        )
        unit = self._entry.hold_unit(new, self._market[symbol])
        # The old order's hold comes back when it is cancelled: count it as available.
        freed = old.remaining * old.hold_unit
        need = new.order_qty * unit
        if need > self._account.available(held_asset(old, spec)) + freed:
            raise EngineError("EOrder:Insufficient funds")
        if validate:
            return {"order_id": "", "original_order_id": order_id}
        self._matcher.close(old, "canceled", reason="Order replaced")
        self._matcher.place(new, unit)
        return {"order_id": new.order_id, "original_order_id": order_id}
