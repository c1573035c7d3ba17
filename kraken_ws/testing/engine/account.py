"""The test account: balances, holds and the ledger entries that report their changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

__all__ = ["DEFAULT_ASSET_PRECISION", "DEFAULT_BALANCES", "Account"]

DEFAULT_BALANCES: dict[str, Decimal] = {
    "USD": Decimal("1000000"),
    "BTC": Decimal("100"),
    "ETH": Decimal("1000"),
    "PEPE": Decimal("1000000000000"),
}
"""Funds of the test account."""

DEFAULT_ASSET_PRECISION: dict[str, int] = {"USD": 4, "BTC": 10, "ETH": 10, "PEPE": 2}
"""Ledger precision per asset (unknown assets: 8)."""


class Account:
    """Balances and holds of the exchange's one account, and its pending ledger entries.

    A hold is the part of a balance that open orders have reserved; `available` is what a
    new order may still use. Every balance change goes through `post`, which also queues
    the ledger entry the ``balances`` channel reports.

    Args:
        balances: Initial funds per asset (default `DEFAULT_BALANCES`).
        precision: Ledger decimals per asset, on top of `DEFAULT_ASSET_PRECISION`.
        new_ledger_id: Generates a Kraken-style ledger id (``L...``).
    """

    def __init__(
        self,
        balances: Mapping[str, Decimal] | None,
        precision: Mapping[str, int] | None,
        new_ledger_id: Callable[[], str],
    ) -> None:
        self._precision = dict(DEFAULT_ASSET_PRECISION)
        self._precision.update(precision or {})
        self._new_ledger_id = new_ledger_id
        initial = DEFAULT_BALANCES if balances is None else balances
        self.balances: dict[str, Decimal] = {
            asset: self.amount(asset, Decimal(value)) for asset, value in initial.items()
        }
        """Total balance per asset."""
        self.holds: dict[str, Decimal] = {}
        """Amount reserved by open orders, per asset."""
        self.ledger: list[dict[str, Any]] = []
        """Ledger entries not yet sent (see `drain`)."""

    def amount(self, asset: str, value: Decimal) -> Decimal:
        """``value`` rounded to the ledger precision of ``asset``."""
        quant = Decimal(1).scaleb(-self._precision.get(asset, 8))
        return value.quantize(quant, rounding=ROUND_HALF_EVEN)

    def available(self, asset: str) -> Decimal:
        """Balance of ``asset`` not reserved by open orders."""
        return self.balances.get(asset, Decimal(0)) - self.holds.get(asset, Decimal(0))

    def held(self, asset: str) -> Decimal:
        """Amount of ``asset`` reserved by open orders."""
        return self.holds.get(asset, Decimal(0))

    def hold(self, asset: str, amount: Decimal) -> None:
        """Reserve ``amount`` of ``asset`` (a negative amount releases it)."""
        self.holds[asset] = self.holds.get(asset, Decimal(0)) + amount

    def post(self, asset: str, amount: Decimal, fee: Decimal, ref_id: str, now: str) -> None:
        """Move ``amount`` of ``asset`` (fee included) and queue its ledger entry.

        Args:
            asset: The asset.
            amount: Signed change of the balance.
            fee: Fee part of ``amount`` (reported, not charged again).
            ref_id: The trade the entry belongs to.
            now: RFC3339 timestamp of the entry.
        """
        balance = self.amount(asset, self.balances.get(asset, Decimal(0)) + amount)
        self.balances[asset] = balance
        self.ledger.append(
            {
                "ledger_id": self._new_ledger_id(),
                "ref_id": ref_id,
                "timestamp": now,
                "type": "trade",
                "category": "trade",
                "asset": asset,
                "asset_class": "currency",
                "amount": self.amount(asset, amount),
                "fee": self.amount(asset, fee),
                "balance": balance,
                "wallet_type": "spot",
                "wallet_id": "main",
            }
        )

    def drain(self) -> list[dict[str, Any]]:
        """Take the pending ledger entries."""
        ledger, self.ledger = self.ledger, []
        return ledger

    def snapshot(self) -> list[dict[str, Any]]:
        """One ``balances`` snapshot item per asset, by asset name."""
        return [
            {
                "asset": asset,
                "asset_class": "currency",
                "balance": balance,
                "wallets": [{"type": "spot", "id": "main", "balance": balance}],
            }
            for asset, balance in sorted(self.balances.items())
        ]
