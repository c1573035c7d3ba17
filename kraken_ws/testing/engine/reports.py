"""Execution reports: what the ``executions`` channel says about the account's orders.

Reports are plain dicts with Kraken's wire field names (``Decimal`` values), queued until the
exchange drains them and validates them into the ``executions`` models.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from kraken_ws.models.methods.add_order import AddOrderConditional

from ..market import Market, rfc3339
from .account import Account
from .orders import Order

__all__ = ["Reports"]

_RECENT_FILLS = 50


class Reports:
    """Builds and queues the account's execution reports.

    Args:
        market: The simulated market (instrument precisions).
        account: The account (ledger precision of costs and fees).
        clock: Epoch seconds.
    """

    def __init__(self, market: Market, account: Account, clock: Callable[[], float]) -> None:
        self._market = market
        self._account = account
        self._clock = clock
        self.pending: list[dict[str, Any]] = []
        """Reports not yet sent (see `drain`)."""
        self.recent_fills: deque[dict[str, Any]] = deque(maxlen=_RECENT_FILLS)
        """The last fills, for an ``executions`` subscription with ``snap_trades``."""

    def now(self) -> str:
        """The clock as an RFC3339 timestamp (microseconds)."""
        return rfc3339(self._clock())

    @staticmethod
    def ids(order: Order) -> dict[str, Any]:
        """``order_id`` and the client identifiers the order has."""
        ids: dict[str, Any] = {"order_id": order.order_id}
        if order.cl_ord_id is not None:
            ids["cl_ord_id"] = order.cl_ord_id
        if order.order_userref is not None:
            ids["order_userref"] = order.order_userref
        return ids

    def report(self, order: Order, exec_type: str, **fields: Any) -> None:
        """Queue one report of ``order`` (its status and a timestamp unless ``fields`` set them)."""
        report: dict[str, Any] = {"exec_type": exec_type, **self.ids(order)}
        report.setdefault("order_status", order.status)
        report.update(fields)
        report.setdefault("timestamp", self.now())
        self.pending.append(report)

    def fill(self, order: Order, fields: dict[str, Any]) -> None:
        """Queue a ``trade`` report of ``order`` and remember it among the recent fills."""
        self.report(order, "trade", **fields)
        self.recent_fills.append(
            {"exec_type": "trade", **self.ids(order), "order_status": order.status, **fields}
        )

    def details(self, order: Order) -> dict[str, Any]:
        """Every field describing ``order`` (a ``pending_new`` report or a snapshot)."""
        spec = self._market.instruments[order.symbol]
        amount = self._account.amount
        details: dict[str, Any] = {
            "symbol": order.symbol,
            "side": order.side,
            "order_type": order.order_type,
            "order_qty": order.order_qty,
            "time_in_force": order.time_in_force,
            "cum_qty": order.cum_qty,
            "cum_cost": amount(spec.quote, order.cum_cost),
            "fee_usd_equiv": amount(spec.quote, order.fees),
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
            details["triggers"] = self.triggers(order)
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

    def triggers(self, order: Order) -> dict[str, Any]:
        """The ``triggers`` object of a triggered order type."""
        spec = self._market.instruments[order.symbol]
        triggers: dict[str, Any] = {
            "reference": order.trigger_reference or "last",
            "price": order.trigger_offset
            if order.trigger_offset is not None
            else order.trigger_price,
            "price_type": order.trigger_price_type or "static",
            "actual_price": spec.price(order.trigger_price or 0),
            "status": "triggered" if order.triggered else "untriggered",
            "timestamp": self.now(),
        }
        if order.peak is not None:
            triggers["peak_price"] = order.peak
        return triggers

    def snapshot(self, order: Order) -> dict[str, Any]:
        """An open order as an ``executions`` snapshot report."""
        return {
            "exec_type": order.status if order.status != "partially_filled" else "new",
            **self.ids(order),
            "order_status": order.status,
            "timestamp": order.timestamp,
            **self.details(order),
        }

    def drain(self) -> list[dict[str, Any]]:
        """Take the pending reports."""
        pending, self.pending = self.pending, []
        return pending
