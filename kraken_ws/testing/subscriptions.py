"""The subscription registry: who receives which channel, for which symbol and variant.

One `SubscriptionRegistry` replaces a dict per channel. A subscription is
``(channel, symbol, variant)``: the symbol is ``None`` for account-wide channels (``instrument``,
``executions``, ``balances``) and the variant is what a symbol's subscribers differ in (the depth
of ``book``/``level3``, the ``event_trigger`` of ``ticker``, the interval of ``ohlc``; ``None``
for the others). Publishing asks for a topic's subscribers grouped by variant, so each frame is
built once per variant and fanned out.

What counts as *the same* subscription ("Already subscribed") follows Kraken: a connection has
one ``book`` (or ``level3``) subscription per symbol whatever the depth, but one ``ticker`` per
trigger and one ``ohlc`` per interval.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["SubscriptionRegistry", "Variant"]

_Subscriber = TypeVar("_Subscriber", bound=Hashable)

# Channels where each variant is a subscription of its own; elsewhere the variant is a setting
# of the one subscription a connection may hold per symbol.
_VARIANT_IS_SEPARATE = frozenset({"ticker", "ohlc"})

Variant = int | str | None
"""What a symbol's subscribers differ in: a depth, a ticker trigger, an interval, or nothing."""
_Topic = tuple[str, str | None]
_Slot = tuple[str, str | None, Variant]


def _slot(channel: str, symbol: str | None, variant: Variant) -> _Slot:
    return (channel, symbol, variant if channel in _VARIANT_IS_SEPARATE else None)


class SubscriptionRegistry(Generic[_Subscriber]):
    """Subscriptions of every connection, indexed both ways (by topic, by connection)."""

    def __init__(self) -> None:
        self._by_topic: dict[_Topic, dict[Variant, set[_Subscriber]]] = {}
        self._by_subscriber: dict[_Subscriber, dict[_Slot, Variant]] = {}

    def add(
        self,
        subscriber: _Subscriber,
        channel: str,
        symbol: str | None = None,
        variant: Variant = None,
    ) -> bool:
        """Subscribe; ``False`` (and nothing changes) if it already holds that subscription."""
        slots = self._by_subscriber.setdefault(subscriber, {})
        slot = _slot(channel, symbol, variant)
        if slot in slots:
            return False
        slots[slot] = variant
        by_variant = self._by_topic.setdefault((channel, symbol), {})
        by_variant.setdefault(variant, set()).add(subscriber)
        return True

    def remove(
        self,
        subscriber: _Subscriber,
        channel: str,
        symbol: str | None = None,
        variant: Variant = None,
    ) -> bool:
        """Unsubscribe; ``False`` if it holds no such subscription (with that variant)."""
        slots = self._by_subscriber.get(subscriber)
        slot = _slot(channel, symbol, variant)
        if slots is None or slot not in slots or slots[slot] != variant:
            return False
        del slots[slot]
        self._discard(subscriber, (channel, symbol), variant)
        return True

    def subscribers(
        self, channel: str, symbol: str | None = None
    ) -> dict[Variant, set[_Subscriber]]:
        """The subscribers of a topic, by variant (empty if it has none)."""
        return self._by_topic.get((channel, symbol), {})

    def drop(self, subscriber: _Subscriber) -> None:
        """Remove every subscription of ``subscriber`` (its connection closed)."""
        for (channel, symbol, _), variant in self._by_subscriber.pop(subscriber, {}).items():
            self._discard(subscriber, (channel, symbol), variant)

    def _discard(self, subscriber: _Subscriber, topic: _Topic, variant: Variant) -> None:
        # Emptied sets stay: variants keep their first-subscribed order, which is the order a
        # connection holding several (ohlc intervals) receives their frames in. Publishing
        # skips empty sets.
        self._by_topic[topic][variant].discard(subscriber)
