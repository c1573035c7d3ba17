"""Matching engine of the local exchange: one funded account, orders, fills, ledgers.

The engine trades against the simulated books of `kraken_ws.testing.market`. Everything it
does is reported as plain dicts with Kraken's wire field names, drained by the exchange with
`MatchingEngine.drain` and validated into the ``executions`` and ``balances`` models.
Errors are raised as `EngineError` carrying Kraken's exact error string. Every time rule
(GTD expiry, rate-counter decay, the dead man's switch) reads the injected clock.

What lives where:

* `.core`: `MatchingEngine`, one method per trading request, and the rate counter;
* `.orders`: the `Order` record and order entry (checks, holds, trigger arming);
* `.changes`: ``amend_order`` and ``edit_order``;
* `.matching`: placing, matching, resting, fills and closes;
* `.account`: balances, holds and ledger entries;
* `.reports`: execution reports;
* `.triggers`: OTO close orders, trigger prices reached, GTD expiry;
* `.timers`: timers on the injected clock (the dead man's switch).

Limits and rules modelled after [Protocol notes §7][ref-7] and [Protocol notes §10.1][ref-10-1] (see
`kraken_ws.testing.limits`):

* Per-pair trading rate counter by tier (default Intermediate): add +1, amend +1 plus the age
  penalty, edit +1 plus the age penalty, cancel by age, batch add +n/2, batch cancel by age per
  order. A transaction that would take the counter over the threshold is refused with
  ``EOrder:Rate limit exceeded`` (not charged); the fixed part is charged even when the request
  then fails validation ([Protocol notes §10.1][ref-10-1]). Judgement calls: ``validate: true``
  requests are not charged (they do not reach the matching engine); a request whose pair cannot be
  known (amend or cancel of an unknown id, an unknown symbol) charges nothing; ``cancel_all`` and
  ``cancel_all_orders_after`` cost nothing (the docs list no cost; Kraken's own SDK charges +1 in
  its local model); an amend whose quantity drops to the filled quantity (cancelling the rest) pays
  the amend cost *and* the cancel penalty.
* Open orders per pair by tier (60/80/225): ``EOrder:Orders limit exceeded``. OTO close orders
  created by fills are not refused by it, but count towards it.
* ``reduce_only``: the simulated account is spot-only and never has a margin position, so
  ``reduce_only: true`` is refused with ``EOrder:Reduce only:No position exists``.
  ``margin: true`` is refused with ``EOrder:Cannot open position`` (Kraken's error guide gives
  that code for accounts not eligible for margin trading; the exact text Kraken sends a
  spot-only account on WS v2 is unverified).
* OTO ``conditional`` and triggers: see `.triggers`; fees and self-trade prevention: see
  `.matching`.
"""

from .account import DEFAULT_ASSET_PRECISION, DEFAULT_BALANCES
from .core import MatchingEngine
from .orders import EngineError, Order

__all__ = [
    "DEFAULT_ASSET_PRECISION",
    "DEFAULT_BALANCES",
    "EngineError",
    "MatchingEngine",
    "Order",
]
