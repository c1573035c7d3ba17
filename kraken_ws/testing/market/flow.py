"""The simulated traders of one instrument: a seeded random order flow.

Every event is drawn from the market's shared random source, so the same seed (and the same
requests) replays the same market. The flow keeps each side at its target number of levels,
so depth 1000 is always full and memory stays flat however long the exchange runs.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING

from .book import BookOrder, Level, TickResult
from .instruments import WireSide

if TYPE_CHECKING:
    from .symbol import SymbolMarket

__all__ = ["RandomFlow"]

_MAX_ORDERS_PER_LEVEL = 6


class RandomFlow:
    """Random adds, cancels, modifies and market orders on one `SymbolMarket`.

    Args:
        market: The instrument's market.
        rng: Seeded random source (shared by the exchange for determinism).
        levels: Levels per side to keep in the book.
    """

    def __init__(self, market: SymbolMarket, rng: random.Random, levels: int) -> None:
        self._market = market
        self._spec = market.spec
        self._rng = rng
        self._target_levels = levels

    def seed(self) -> None:
        """Fill an empty book with ``levels`` levels per side around the start price."""
        market = self._market
        spec = market.spec
        tick = spec.price_increment
        mid = spec.price(spec.start_price)
        gap = max(1, spec.tick_gap)
        now = market.now_ns()
        for side, sign in (("bids", -1), ("asks", 1)):
            price = mid + sign * tick * self._rng.randint(1, gap)
            for _ in range(self._target_levels):
                for _ in range(self._rng.randint(1, 3)):
                    market.add_order(side, price, self._random_qty(), timestamp=now)  # type: ignore[arg-type]
                price += sign * tick * self._rng.randint(1, 2 * gap - 1)
        # The seed is not a tick anyone saw: start clean.
        market.discard_tick()

    def _random_qty(self) -> Decimal:
        factor = Decimal(self._rng.randint(1, 4000)) / 1000
        qty = self._spec.qty(
            self._spec.typical_qty * factor + self._spec.qty_increment * self._rng.randint(0, 10**6)
        )
        return max(qty, self._spec.min_qty)

    def tick(self) -> TickResult | None:
        """Apply one random market event (at least one L3 change) and flush it."""
        rng = self._rng
        side: WireSide = "bids" if rng.random() < 0.5 else "asks"
        roll = rng.random()
        # Adds outnumber removals slightly until the book holds ~2 orders per level, then less:
        # the order count (and the server's memory) stays flat however long it runs.
        add_share = 0.42 if self._market.order_count < 4 * self._target_levels else 0.30
        if roll < add_share:
            self._random_add(side)
        elif roll < 0.66:
            self._random_cancel(side)
        elif roll < 0.82:
            self._random_modify(side)
        elif self._market.trading_enabled:
            qty = self._spec.qty(self._spec.typical_qty * Decimal(rng.randint(50, 1500)) / 1000)
            self._market.take(
                "buy" if side == "asks" else "sell",
                max(qty, self._spec.min_qty),
                ord_type="market" if rng.random() < 0.7 else "limit",
            )
        else:
            self._random_add(side)
        self._maintain_depth()
        return self._market.flush()

    def _near_top_price(self, side: WireSide) -> Decimal:
        rank = min(int(self._rng.expovariate(1 / 4)), 60)
        levels = self._market.sides[side]
        return levels.peekitem(min(rank, len(levels) - 1))[0]

    def _random_add(self, side: WireSide) -> None:
        rng = self._rng
        tick = self._spec.price_increment
        best_bid = self._market.best("bids")
        best_ask = self._market.best("asks")
        assert best_bid is not None
        assert best_ask is not None
        spread_ticks = int((best_ask[0] - best_bid[0]) / tick)
        sign = -1 if side == "bids" else 1
        if spread_ticks > 1 and rng.random() < 0.25:
            # Improve the spread: this is how the mid price walks.
            price = (
                best_bid[0] + tick * rng.randint(1, spread_ticks - 1)
                if side == "bids"
                else best_ask[0] - tick * rng.randint(1, spread_ticks - 1)
            )
        else:
            price = self._near_top_price(side) + sign * tick * rng.randint(0, 2)
        level = self._market.sides[side].get(price)
        if level is not None and len(level.orders) >= _MAX_ORDERS_PER_LEVEL:
            price += sign * tick
        self._market.add_order(side, self._spec.price(price), self._random_qty())

    def _simulated_order(self, side: WireSide) -> BookOrder | None:
        for _ in range(4):
            level: Level = self._market.sides[side][self._near_top_price(side)]
            candidates = [o for o in level.orders.values() if o.owner is None]
            if candidates:
                return self._rng.choice(candidates)
        return None

    def _random_cancel(self, side: WireSide) -> None:
        order = self._simulated_order(side)
        if order is not None:
            self._market.remove_order(order.order_id)

    def _random_modify(self, side: WireSide) -> None:
        order = self._simulated_order(side)
        if order is None:
            return
        qty = self._spec.qty(order.qty * Decimal(self._rng.randint(10, 90)) / 100)
        if qty > 0:
            self._market.modify_order(order.order_id, qty)
        else:
            self._market.remove_order(order.order_id)

    def _maintain_depth(self) -> None:
        # Bounded memory and an always-full depth-1000 window: refill or trim the far end only.
        spec = self._spec
        tick = spec.price_increment
        for side, sign in (("bids", -1), ("asks", 1)):
            levels = self._market.sides[side]  # type: ignore[index]
            while len(levels) < self._target_levels:
                worst = levels.peekitem(-1)[0]
                price = worst + sign * tick * self._rng.randint(1, 2 * spec.tick_gap)
                if price <= 0:
                    break
                self._market.add_order(side, price, self._random_qty())  # type: ignore[arg-type]
            while len(levels) > self._target_levels + 200:
                _, level = levels.peekitem(-1)
                for order_id in list(level.orders):
                    if level.orders[order_id].owner is None:
                        self._market.remove_order(order_id)
                if levels.peekitem(-1)[1] is level:
                    break  # a user's order rests there; keep it
