"""Matching: the account's orders meet the simulated book.

A user's taker order walks the same deep book the public feeds publish, and a resting limit order
sits in that book (visible on ``book`` and ``level3``) where simulated takers fill it. This module
places orders, matches them, rests them, books their fills and closes them.

Simplifications (documented, not Kraken facts): a single account per exchange, so any order that
would match another of the user's orders meets self-trade prevention (default ``cancel_newest``);
fees are flat (taker 0.40 %, maker 0.25 %) in the quote currency; IOC remainders and market
orders without liquidity are reported as ``canceled``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..market import BookOrder, MakerFill, Market, SymbolMarket, WireSide
from .account import Account
from .orders import MAKER_FEE, TAKER_FEE, Order, held_asset
from .reports import Reports

__all__ = ["Matcher", "PendingClose"]

PendingClose = tuple[Order, Decimal, Decimal]
"""An OTO close order still to be opened: (primary order, filled quantity, fill price)."""


class Matcher:
    """Places, matches, rests, fills and closes the account's orders.

    Args:
        market: The simulated market.
        account: The account the orders reserve and move funds of.
        reports: Where execution reports go.
        orders: The engine's open orders (added on placement, removed on close).
        online: Whether the engine matches at all (system status ``online``).
    """

    def __init__(
        self,
        market: Market,
        account: Account,
        reports: Reports,
        orders: dict[str, Order],
        online: Callable[[], bool],
    ) -> None:
        self._market = market
        self._account = account
        self._reports = reports
        self._orders = orders
        self._online = online
        self._pending_closes: list[PendingClose] = []

    def take_pending_closes(self) -> list[PendingClose]:
        """The fills of OTO primaries since the last call, in fill order."""
        pending, self._pending_closes = self._pending_closes, []
        return pending

    def place(self, order: Order, unit: Decimal) -> None:
        """Accept a checked order: reserve its funds, report it, then match or await its trigger."""
        spec = self._market.instruments[order.symbol]
        order.hold_unit = unit
        if order.cash_order_qty is None:
            self._account.hold(held_asset(order, spec), order.order_qty * unit)
        self._orders[order.order_id] = order
        self._reports.report(order, "pending_new", **self._reports.details(order))
        order.status = "new"
        self._reports.report(order, "new")
        if order.is_triggered_type:
            return
        self.execute(order)

    def execute(self, order: Order) -> None:
        """Match ``order`` as a taker, then rest, cancel or finish it."""
        sym = self._market[order.symbol]
        limit = order.limit_price
        if order.post_only and limit is not None and self.crosses(sym, order.side, limit):
            self.close(order, "canceled", reason="Post only order")
            return
        if order.time_in_force == "FOK" and not self._can_fill(sym, order):
            self.close(order, "canceled", reason="Order could not be filled completely")
            return
        stop = False

        def self_match(maker: BookOrder) -> bool:
            nonlocal stop
            assert maker.owner is not None  # only called for users' orders
            resting = self._orders.get(maker.owner)
            if order.stp_type in ("cancel_oldest", "cancel_both") and resting is not None:
                self.close(resting, "canceled", reason="Self trade prevention")
                if order.stp_type == "cancel_oldest":
                    return False
            stop = True
            return True

        if self._online():
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
        if order.order_id not in self._orders:
            return
        if order.cash_order_qty is not None:
            self.close(
                order,
                "filled" if order.cum_qty > 0 else "canceled",
                reason=None if order.cum_qty > 0 else "No liquidity",
            )
        elif order.remaining <= 0:
            return  # _fill closed it
        elif stop:
            self.close(order, "canceled", reason="Self trade prevention")
        elif limit is None or order.time_in_force == "IOC":
            self.close(
                order,
                "canceled",
                reason="Immediate or cancel" if limit is not None else "No liquidity",
            )
        else:
            self.rest(order)

    @staticmethod
    def crosses(sym: SymbolMarket, side: str, price: Decimal) -> bool:
        """Whether a ``side`` order at ``price`` would match at once (take liquidity)."""
        best = sym.best("asks" if side == "buy" else "bids")
        if best is None:
            return False
        return price >= best[0] if side == "buy" else price <= best[0]

    @staticmethod
    def _can_fill(sym: SymbolMarket, order: Order) -> bool:
        book_side: WireSide = "asks" if order.side == "buy" else "bids"
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

    def rest(self, order: Order) -> None:
        """Put ``order``'s visible quantity at the back of its price level."""
        sym = self._market[order.symbol]
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
        spec = self._market.instruments[order.symbol]
        amount = self._account.amount
        cost = amount(spec.quote, price * qty)
        fee = amount(spec.quote, cost * (TAKER_FEE if liq == "t" else MAKER_FEE))
        order.cum_qty += qty
        order.cum_cost += cost
        order.fees += fee
        # Release the hold for the filled part, then book the real movements.
        asset = held_asset(order, spec)
        if order.cash_order_qty is None:
            self._account.hold(asset, -min(qty * order.hold_unit, self._account.held(asset)))
        if order.side == "buy":
            base_amount, quote_amount = qty, -(cost + fee)
        else:
            base_amount, quote_amount = -qty, cost - fee
        exec_id = self._market.new_id("T")
        ref_id = exec_id
        now = self._reports.now()
        self._account.post(spec.base, amount(spec.base, base_amount), Decimal(0), ref_id, now)
        self._account.post(spec.quote, quote_amount, fee, ref_id, now)
        filled = order.remaining <= 0
        order.status = "filled" if filled else "partially_filled"
        avg = spec.price(order.cum_cost / order.cum_qty)
        self._reports.fill(
            order,
            {
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
                "cum_cost": amount(spec.quote, order.cum_cost),
                "avg_price": avg,
                "fee_usd_equiv": fee,
                "fees": [{"asset": spec.quote, "qty": fee}],
                "fee_ccy_pref": "fciq",
                "timestamp": now,
            },
        )
        if order.conditional is not None:
            # OTO: created once the primary's matching is over (see Triggers.open_closes).
            self._pending_closes.append((order, qty, price))
        if filled:
            self.close(order, "filled")

    def close(self, order: Order, status: str, reason: str | None = None) -> None:
        """Finish an order: out of the book, hold released, final report (once)."""
        if self._orders.pop(order.order_id, None) is None:
            return
        spec = self._market.instruments[order.symbol]
        if order.in_book:
            self._market[order.symbol].remove_order(order.order_id)
            order.in_book = False
        if order.cash_order_qty is None and order.remaining > 0:
            asset = held_asset(order, spec)
            release = min(order.remaining * order.hold_unit, self._account.held(asset))
            self._account.hold(asset, -release)
        order.status = status
        fields: dict[str, object] = {
            "cum_qty": order.cum_qty,
            "cum_cost": self._account.amount(spec.quote, order.cum_cost),
        }
        if order.cum_qty > 0:
            fields["avg_price"] = spec.price(order.cum_cost / order.cum_qty)
        if reason is not None:
            fields["reason"] = reason
        self._reports.report(order, status, **fields)

    def maker_fill(self, fill: MakerFill) -> None:
        """A simulated taker filled (part of) a user's resting order."""
        order = self._orders.get(fill.owner)
        if order is None:
            return
        self._fill(order, fill.price, fill.qty, fill.trade_id, "m")
        if order.order_id not in self._orders:
            order.in_book = False
            return
        if fill.remaining_visible <= 0:
            order.in_book = False
            if order.display_qty is not None and order.remaining > 0:
                # Iceberg: the next slice joins the back of the queue.
                self.rest(order)
                self._reports.report(
                    order,
                    "iceberg_refill",
                    display_qty_remain=min(order.remaining, order.display_qty),
                )
