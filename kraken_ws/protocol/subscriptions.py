"""Desired vs acknowledged subscriptions, and the replay plan after a reconnect.

Kraken has no session resume ([Protocol notes §1.2][ref-1-2]): after a reconnect every subscription
must be requested again. What is requested again is the user's **original** params (depth, interval,
event_trigger, snapshot, snap_orders, ...), never what an ack echoed: acks add fields such as
``maxratecount`` and ``warnings`` that a subscribe request must not carry.

One entry is kept per acknowledged unit, which is per symbol for symbol channels (Kraken acks
each symbol separately) and one for symbol-less channels (``instrument``, ``executions``,
``balances``). Entries are keyed the way Kraken keys subscriptions ([Protocol notes §4.1][ref-4-1]):
``book`` and ``level3`` by symbol (one depth per symbol), ``ticker`` by (symbol, event_trigger),
``ohlc`` by (symbol, interval).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "TOKEN_CHANNELS",
    "SubscriptionKey",
    "SubscriptionRecord",
    "Subscriptions",
    "subscription_key",
]

TOKEN_CHANNELS: frozenset[str] = frozenset({"executions", "balances", "level3"})
"""Channels whose subscribe/unsubscribe need ``params.token``."""

# Fields of an ack that must never be echoed back in a subscribe request.
_ACK_ONLY_FIELDS = frozenset({"maxratecount", "warnings", "token"})
# Fields Kraken uses (besides channel and symbol) to tell two subscriptions apart.
_KEY_FIELDS: dict[str, tuple[str, ...]] = {"ticker": ("event_trigger",), "ohlc": ("interval",)}
# What Kraken assumes for an omitted key field: omitting it and giving the default name the same
# subscription (an unsubscribe without ``event_trigger`` ends a ``"trades"`` one, and vice versa).
_KEY_DEFAULTS: dict[tuple[str, str], Any] = {("ticker", "event_trigger"): "trades"}

SubscriptionKey: TypeAlias = tuple[str, str | None, tuple[tuple[str, Any], ...]]
"""(channel, symbol or ``None``, distinguishing params)."""


def subscription_key(
    channel: str, symbol: str | None, params: Mapping[str, Any]
) -> SubscriptionKey:
    """The key Kraken identifies a subscription by.

    Args:
        channel: The channel name.
        symbol: The symbol, or ``None`` for symbol-less channels.
        params: The subscribe or unsubscribe params (only key fields are read; an omitted one
            counts as Kraken's default).

    Returns:
        A hashable key.
    """
    extra = tuple(
        (name, _KEY_DEFAULTS.get((channel, name)) if params.get(name) is None else params[name])
        for name in _KEY_FIELDS.get(channel, ())
    )
    return (channel, symbol, extra)


def _symbols(params: Mapping[str, Any]) -> list[str | None]:
    symbols = params.get("symbol")
    if isinstance(symbols, list | tuple) and symbols:
        return [str(s) for s in symbols]
    return [None]


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(slots=True)
class SubscriptionRecord:
    """One subscription as the user asked for it.

    Attributes:
        channel: Channel name.
        symbol: Symbol, or ``None`` for symbol-less channels.
        params: The original subscribe params for this one symbol (no token, no ack-only
            fields); ``symbol`` is ``[symbol]``.
        acknowledged: The server acked it on the current connection.
        desired: ``False`` once an unsubscribe was requested.
        created_by: ``req_id`` of the subscribe that created it, until acked.
        also_pending: ids of duplicate subscribes sent while it was unacknowledged;
            if the creator is refused, one of them takes over instead of the record vanishing.
    """

    channel: str
    symbol: str | None
    params: dict[str, Any]
    acknowledged: bool = False
    desired: bool = True
    created_by: int | None = None
    also_pending: list[int] = field(default_factory=list)

    @property
    def private(self) -> bool:
        """Whether (re)subscribing needs a token."""
        return self.channel in TOKEN_CHANNELS


class Subscriptions:
    """Bookkeeping of every subscription of one connection."""

    def __init__(self) -> None:
        # dict keeps insertion order, so a replay goes out in the order the user subscribed.
        self._records: dict[SubscriptionKey, SubscriptionRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[SubscriptionRecord]:
        """Every record (desired or being unsubscribed), in subscription order."""
        return list(self._records.values())

    def desired(self) -> list[SubscriptionRecord]:
        """Records the user wants live."""
        return [r for r in self._records.values() if r.desired]

    def acknowledged(self) -> list[SubscriptionRecord]:
        """Records the server acked on the current connection and that are still desired."""
        return [r for r in self._records.values() if r.acknowledged and r.desired]

    def get(self, key: SubscriptionKey) -> SubscriptionRecord | None:
        """The record for a key, if any."""
        return self._records.get(key)

    def find(self, channel: str, symbol: str | None = None) -> list[SubscriptionRecord]:
        """Desired records of a channel (and symbol, when given)."""
        return [
            r
            for r in self._records.values()
            if r.desired and r.channel == channel and (symbol is None or r.symbol == symbol)
        ]

    @property
    def needs_token(self) -> bool:
        """Whether replaying the desired subscriptions needs a token."""
        return any(r.private for r in self.desired())

    # --- driven by the protocol -------------------------------------------------------------

    def subscribe_sent(self, params: Mapping[str, Any], req_id: int) -> None:
        """A subscribe went out: remember each symbol as desired, not yet acknowledged."""
        clean = {k: v for k, v in params.items() if k not in _ACK_ONLY_FIELDS}
        channel = str(clean.get("channel"))
        for symbol in _symbols(clean):
            key = subscription_key(channel, symbol, clean)
            record = self._records.get(key)
            if record is not None and record.desired:
                # Already there: the server will answer "Already subscribed"; keep the original.
                if not record.acknowledged and record.created_by is not None:
                    record.also_pending.append(req_id)
                continue
            one = dict(clean)
            if symbol is not None:
                one["symbol"] = [symbol]
            self._records[key] = SubscriptionRecord(channel, symbol, one, created_by=req_id)

    def subscribe_acked(
        self, params: Mapping[str, Any], symbol: str | None, ok: bool, req_id: int
    ) -> None:
        """A subscribe ack (or rejection) arrived for one symbol.

        Args:
            params: The params of the request being answered.
            symbol: The symbol of the ack; ``None`` for symbol-less channels or when the whole
                request was rejected without naming a symbol.
            ok: ``success`` of the ack.
            req_id: The request's id.
        """
        channel = str(params.get("channel"))
        symbols = [symbol] if symbol is not None else _symbols(params)
        for sym in symbols:
            key = subscription_key(channel, sym, params)
            record = self._records.get(key)
            if record is None:
                continue
            if ok:
                record.acknowledged = True
                record.created_by = None
                record.also_pending.clear()
            elif record.created_by == req_id and not record.acknowledged:
                # Only the request that created the record can undo it: a rejected duplicate
                # ("Already subscribed") must not remove a live subscription. A duplicate still
                # in flight may yet be accepted: the earliest one becomes the creator.
                if record.also_pending:
                    record.created_by = record.also_pending.pop(0)
                else:
                    del self._records[key]
            elif req_id in record.also_pending:
                record.also_pending.remove(req_id)

    def unsubscribe_sent(self, params: Mapping[str, Any]) -> None:
        """An unsubscribe went out: stop wanting those subscriptions (never replay them)."""
        channel = str(params.get("channel"))
        for symbol in _symbols(params):
            record = self._records.get(subscription_key(channel, symbol, params))
            if record is not None:
                record.desired = False

    def unsubscribe_acked(self, params: Mapping[str, Any], symbol: str | None) -> None:
        """An unsubscribe was answered (either way): forget the subscription."""
        channel = str(params.get("channel"))
        symbols = [symbol] if symbol is not None else _symbols(params)
        for sym in symbols:
            key = subscription_key(channel, sym, params)
            record = self._records.get(key)
            if record is not None and not record.desired:
                del self._records[key]

    def connection_lost(self) -> None:
        """Nothing is acknowledged any more; undesired records are dropped."""
        for key, record in list(self._records.items()):
            if not record.desired:
                del self._records[key]
            else:
                record.acknowledged = False
                record.created_by = None
                record.also_pending.clear()

    def replay_plan(self) -> list[dict[str, Any]]:
        """Subscribe params to send on a fresh connection, original params, no tokens.

        Symbols that were subscribed together with identical params are grouped back into one
        request, so a replay costs as many messages as the original subscribes did.

        Returns:
            One params dict per subscribe request, in subscription order.
        """
        groups: dict[Any, dict[str, Any]] = {}
        for record in self.desired():
            rest = {k: v for k, v in record.params.items() if k != "symbol"}
            group_key = _freeze(rest)
            group = groups.get(group_key)
            if group is None:
                group = dict(rest)
                if record.symbol is not None:
                    group["symbol"] = []
                groups[group_key] = group
            if record.symbol is not None:
                symbols = group.setdefault("symbol", [])
                if record.symbol not in symbols:
                    symbols.append(record.symbol)
        # Restore the wire field order the user's params had (channel first, symbol second).
        ordered: list[dict[str, Any]] = []
        for group in groups.values():
            out: dict[str, Any] = {"channel": group["channel"]}
            if "symbol" in group:
                out["symbol"] = group["symbol"]
            out.update({k: v for k, v in group.items() if k not in ("channel", "symbol")})
            ordered.append(out)
        return ordered
