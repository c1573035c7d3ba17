"""Local rate-limit models (reference §10.1), clock injected."""

from __future__ import annotations

import pytest

from kraken_ws.exceptions import RateLimitError
from kraken_ws.ratelimit import TIERS, MessagePacer, TradingRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counter_decays_per_tier() -> None:
    clock = Clock()
    limiter = TradingRateLimiter("intermediate", clock=clock)
    limiter.charge("BTC/USD", 10)
    clock.now += 2
    assert limiter.counter("BTC/USD") == pytest.approx(10 - 2 * 2.34)
    assert limiter.counter("ETH/USD") == 0


def test_refuses_at_threshold_per_pair() -> None:
    clock = Clock()
    limiter = TradingRateLimiter("starter", clock=clock)
    for _ in range(60):
        limiter.charge("BTC/USD", 1)
    with pytest.raises(RateLimitError) as info:
        limiter.charge("BTC/USD", 1)
    assert info.value.symbol == "BTC/USD"
    limiter.charge("ETH/USD", 1)  # other pairs unaffected
    clock.now += 1
    limiter.charge("BTC/USD", 1)  # decayed by one


def test_worked_example_from_docs() -> None:
    """add (+1), amend at 7 s (+1 fixed, +2), cancel 36 s after the amend (+4) = 8 (no decay)."""
    clock = Clock()
    limiter = TradingRateLimiter("pro", clock=clock)
    limiter.limits = type(limiter.limits)(decay=0.0, threshold=TIERS["pro"].threshold)
    limiter.charge("BTC/USD", 1)
    limiter.order_placed("BTC/USD", "O1")
    clock.now += 7
    symbol, cost = limiter.modify_cost("amend", "O1")
    assert (symbol, cost) == ("BTC/USD", 3)
    limiter.charge("BTC/USD", cost)
    clock.now += 36
    limiter.charge_cancel("O1")
    assert limiter.counter("BTC/USD") == 8


def test_unknown_orders_cost_nothing() -> None:
    limiter = TradingRateLimiter(clock=Clock())
    limiter.charge_cancel("nope")
    assert limiter.modify_cost("edit", "nope") == (None, 0.0)


def test_pacer() -> None:
    clock = Clock()
    pacer = MessagePacer(rate=10, burst=2, clock=clock)
    assert pacer.reserve() == 0
    assert pacer.reserve() == 0
    assert pacer.reserve() == pytest.approx(0.1)
    clock.now += 1
    assert pacer.reserve() == 0
    with pytest.raises(ValueError):
        MessagePacer(rate=0)


async def test_client_refuses_before_sending() -> None:
    from kraken_ws.client import KrakenWSClient

    from .fake_kraken import FakeKraken

    fake = FakeKraken()
    clock = Clock()
    limiter = TradingRateLimiter("starter", clock=clock)
    for _ in range(60):
        limiter.charge("BTC/USD", 1)
    async with KrakenWSClient(
        connector=fake.server, rate_limiter=limiter, auth_ws_url="mem://auth"
    ) as client:
        with pytest.raises(RateLimitError):
            await client.add_order(order_type="market", side="buy", symbol="BTC/USD", order_qty=1)
    assert fake.received == []
    await fake.server.aclose()


def test_calibrate_adopts_the_acks_tier() -> None:
    clock = Clock()
    limiter = TradingRateLimiter("starter", clock=clock)
    limiter.charge("BTC/USD", 50)
    limiter.calibrate(180)  # pro's maximum: pro's decay too
    assert limiter.limits == TIERS["pro"]
    assert limiter.counter("BTC/USD") == 50  # what was modelled is kept
    limiter.charge("BTC/USD", 100)  # would have been refused at starter's 60
    limiter.calibrate(500)  # not a published tier: threshold only
    assert limiter.limits.threshold == 500
    assert limiter.limits.decay == TIERS["pro"].decay
    limiter.calibrate(0)  # nonsense is ignored
    assert limiter.limits.threshold == 500
