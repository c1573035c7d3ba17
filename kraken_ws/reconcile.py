"""Orders in doubt and fills in gaps: what the client does so no order or fill is lost.

Theory of operation
===================

An order-entry request (``add_order``, ``amend_order``, ``edit_order``, ``cancel_order``,
``cancel_all``, ``cancel_all_orders_after``, ``batch_add``, ``batch_cancel``) that was written to
the socket and then got no answer (connection lost, watchdog, timeout, endpoint failure) has an
unknown outcome: Kraken may have acted on it. The client raises ``ConnectionLost`` or
``RequestTimeout`` with ``outcome_unknown=True`` at once, and records the request here as an
`InDoubtOrder`. It is then resolved from Kraken's own data, whichever comes first:

* a **late answer** (the request's ``req_id`` stayed reserved, so the answer can only be its own);
* a **live execution report** on the user's ``executions`` subscription that names the order;
* an **executions snapshot** (open orders and the last 50 fills) that the client fetches for
  this purpose after the auth endpoint is back, whatever the user's own subscription params.

Matching is by ``cl_ord_id``, else ``order_userref``, else ``order_id``. To make every order
matchable the client gives an ``add_order`` without either client id a ``cl_ord_id`` of its own
(``auto_cl_ord_id``, on by default).

A snapshot that does *not* list an order proves little while the request may still be on its way
to the matching engine, or while its answer can still come. So "not placed" (and "not applied")
is only concluded once the connection that carried the request is gone (no answer can come any
more) and a snapshot was taken at least ``grace`` seconds after that; until then a silent snapshot
leaves the order in doubt. A snapshot that *does* list it resolves it at once.

Fills: every trade report delivered to the user is remembered by ``exec_id`` (bounded). A
snapshot's fills that were never delivered and are not older than the user's ``executions``
subscription are the fills of the gap: they are delivered once, and a replayed snapshot never
delivers a fill twice.

This module is pure: no I/O, no clock of its own; the client feeds it and emits what it returns.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from pydantic import BaseModel

from .events import OrderOutcome, OrderResolved
from .models.channels.executions import ExecutionReport
from .protocol.envelope import response_fields

__all__ = ["SNAPSHOT_FILLS", "InDoubtOrder", "OrderLedger", "Resolution", "parse_timestamp"]

Resolution: TypeAlias = tuple[int, OrderResolved]
"""``(InDoubtOrder.key, event)``: which entry a resolution closes."""

_MAX_FILLS = 100_000

SNAPSHOT_FILLS = 50
"""How many recent fills Kraken's executions snapshot lists at most (``snap_trades``)."""


def parse_timestamp(text: str | None) -> tuple[int, ...] | None:
    """An RFC3339 UTC timestamp as a sortable tuple (Kraken sends 0 to 9 fraction digits).

    Args:
        text: e.g. ``"2023-09-22T10:33:05.709950Z"``.

    Returns:
        ``(year, month, day, hour, minute, second, nanoseconds)`` or ``None`` if unreadable.
    """
    if not text or len(text) < 20 or len(text) > 40:
        return None
    try:
        date, _, clock = text.rstrip("Z").partition("T")
        year, month, day = (int(p) for p in date.split("-"))
        whole, _, fraction = clock.partition(".")
        hour, minute, second = (int(p) for p in whole.split(":"))
        nanos = int((fraction + "000000000")[:9]) if fraction else 0
    except ValueError:
        return None
    return (year, month, day, hour, minute, second, nanos)


@dataclass(slots=True)
class InDoubtOrder:
    """One order whose request got no answer, until Kraken's data tells what happened.

    Attributes:
        key: A number unique within the client.
        method: The request's method.
        req_id: The request's id.
        request: The request as sent (token removed).
        since: Client clock when it became in doubt.
        sent_at: Client clock when it was queued for sending (``None``: unknown).
        gone_at: Client clock when the connection that carried it went (``None``: still up, so
            its answer may still come); the grace period counts from here.
        reason: The error that left it in doubt.
        cl_ord_id: The order's client id (the one this entry tracks, for batches).
        order_userref: The order's client tag.
        order_id: Kraken's id of the order acted on (amend, edit, cancel).
        fields: For ``amend_order``: the requested values, to compare with the open order.
    """

    key: int
    method: str
    req_id: int | None
    request: dict[str, Any]
    since: float
    sent_at: float | None
    gone_at: float | None
    reason: str
    cl_ord_id: str | None = None
    order_userref: int | None = None
    order_id: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()

    def resolved(
        self,
        outcome: OrderOutcome,
        source: str,
        *,
        order_id: str | None = None,
        order_status: str | None = None,
        reason: str = "",
    ) -> OrderResolved:
        """The event that closes this entry."""
        return OrderResolved(
            method=self.method,
            req_id=self.req_id,
            outcome=outcome,
            source="late_response" if source == "late_response" else "executions",
            cl_ord_id=self.cl_ord_id,
            order_userref=self.order_userref,
            order_id=order_id or self.order_id,
            order_status=order_status,
            request=self.request,
            reason=reason,
        )


def _split(
    method: str, request: Mapping[str, Any]
) -> list[tuple[str | None, int | None, str | None, tuple[tuple[str, Any], ...]]]:
    # (cl_ord_id, order_userref, order_id, amend fields) for every order the request touches.
    params = request.get("params") or {}
    if method == "add_order":
        return [(params.get("cl_ord_id"), params.get("order_userref"), None, ())]
    if method == "batch_add":
        return [
            (o.get("cl_ord_id"), o.get("order_userref"), None, ())
            for o in params.get("orders") or ()
            if isinstance(o, Mapping)
        ]
    if method == "amend_order":
        changes = tuple(
            (k, params[k])
            for k in ("order_qty", "limit_price", "display_qty", "post_only")
            if k in params
        )
        return [(params.get("cl_ord_id"), None, params.get("order_id"), changes)]
    if method == "edit_order":
        return [(None, None, params.get("order_id"), ())]
    if method == "cancel_order":
        rows: list[tuple[str | None, int | None, str | None, tuple[tuple[str, Any], ...]]] = []
        rows += [(None, None, oid, ()) for oid in params.get("order_id") or ()]
        rows += [(cid, None, None, ()) for cid in params.get("cl_ord_id") or ()]
        rows += [(None, ref, None, ()) for ref in params.get("order_userref") or ()]
        return rows or [(None, None, None, ())]
    if method == "batch_cancel":
        out: list[tuple[str | None, int | None, str | None, tuple[tuple[str, Any], ...]]] = []
        out += [(None, None, str(oid), ()) for oid in params.get("orders") or ()]
        out += [(cid, None, None, ()) for cid in params.get("cl_ord_id") or ()]
        return out or [(None, None, None, ())]
    return [(None, None, None, ())]


def _same(requested: Any, reported: Any) -> bool:
    if isinstance(requested, bool) or isinstance(reported, bool):
        return bool(requested) == bool(reported)
    try:
        return Decimal(str(requested)) == Decimal(str(reported))
    except (InvalidOperation, ValueError):
        return False


class OrderLedger:
    """In-doubt orders and delivered fills (see the module docstring).

    Args:
        grace: Seconds after the carrying connection went before a snapshot's silence means
            "not placed".
        max_fills: How many delivered ``exec_id`` values are remembered.
    """

    def __init__(self, *, grace: float = 2.0, max_fills: int = _MAX_FILLS) -> None:
        self.grace = grace
        self._max_fills = max_fills
        self._keys = itertools.count(1)
        self._in_doubt: dict[int, InDoubtOrder] = {}
        # exec_id -> client clock when the user got it (dedup; bounded).
        self._delivered: OrderedDict[str, float] = OrderedDict()
        # exec_id -> client clock when the client first saw it anywhere (a delivered frame or a
        # snapshot): a fill seen before a request was sent happened before it (bounded).
        self._seen: OrderedDict[str, float] = OrderedDict()
        self.fills_since: tuple[int, ...] | None = None
        """Exchange time the user's ``executions`` subscription started (older fills are not
        the user's to recover)."""

    # --- in-doubt orders ------------------------------------------------------------------------

    def in_doubt(self) -> list[InDoubtOrder]:
        """Orders still in doubt, oldest first."""
        return list(self._in_doubt.values())

    def add(
        self,
        method: str,
        req_id: int | None,
        request: Mapping[str, Any],
        *,
        now: float,
        connection_gone: bool,
        reason: str,
        sent_at: float | None = None,
    ) -> list[InDoubtOrder]:
        """Record a request whose outcome is unknown (one entry per order it touches).

        Args:
            method: The request's method.
            req_id: Its id.
            request: The request as sent, token removed.
            now: Current client clock.
            connection_gone: Whether the connection that carried it is already gone (a drop)
                rather than still up (a timeout).
            reason: The error's text.
            sent_at: Client clock when the request was queued (from the error).
        """
        added = []
        for cl_ord_id, userref, order_id, fields in _split(method, request):
            entry = InDoubtOrder(
                key=next(self._keys),
                method=method,
                req_id=req_id,
                request=dict(request),
                since=now,
                sent_at=sent_at,
                gone_at=now if connection_gone else None,
                reason=reason,
                cl_ord_id=cl_ord_id,
                order_userref=userref,
                order_id=order_id,
                fields=fields,
            )
            self._in_doubt[entry.key] = entry
            added.append(entry)
        return added

    def connection_gone(self, now: float) -> None:
        """The auth connection went: answers to the in-doubt requests can no longer come."""
        for entry in self._in_doubt.values():
            if entry.gone_at is None:
                entry.gone_at = now

    def next_judgement(self) -> float | None:
        """When the youngest-gone entry becomes old enough to be judged absent, if any."""
        times = [e.gone_at + self.grace for e in self._in_doubt.values() if e.gone_at is not None]
        return min(times) if times else None

    def late_response(self, req_id: int, method: str, response: BaseModel) -> list[Resolution]:
        """Resolve the entries of a request from its late answer."""
        entries = [e for e in self._in_doubt.values() if e.req_id == req_id and e.method == method]
        if not entries:
            return []
        _m, _r, ok, error, _s = response_fields(response)
        result = getattr(response, "result", None)
        rows: list[Any] = result if isinstance(result, list) else [result]
        if method == "batch_add":
            # One row per order, whatever the answer's shape; a failed row is an order not
            # placed, a placed row an order placed, even when the batch says success: false.
            rows = list(getattr(response, "rows", []))
            return self._batch_rows(entries, rows, ok is True, error)
        if method == "cancel_order":
            # One answer per id: close the entry this answer names (else the oldest).
            named = [e for e in entries if _answer_names(e, result)]
            entries = named[:1] or entries[:1]
        out: list[Resolution] = []
        for index, entry in enumerate(entries):
            del self._in_doubt[entry.key]
            if not ok:
                outcome: OrderOutcome = "not_placed" if method in _PLACING else "not_applied"
                event = entry.resolved(outcome, "late_response", reason=error or "refused")
                out.append((entry.key, event))
                continue
            row = rows[index] if index < len(rows) else None
            order_id = getattr(row, "order_id", None)
            outcome = "placed" if method in _PLACING else "applied"
            event = entry.resolved(
                outcome,
                "late_response",
                order_id=order_id if isinstance(order_id, str) else None,
                reason="the answer arrived after the request gave up",
            )
            out.append((entry.key, event))
        return out

    def _batch_rows(
        self, entries: list[InDoubtOrder], rows: list[Any], ok: bool, error: str | None
    ) -> list[Resolution]:
        """Resolve a batch's entries (one per order, in request order) from its answer's rows."""
        out: list[Resolution] = []
        for index, entry in enumerate(entries):
            del self._in_doubt[entry.key]
            # A row that echoes a client id is matched by it; else rows are in request order.
            row = next((r for r in rows if _row_names(entry, r)), None)
            if row is None and index < len(rows):
                row = rows[index]
            if row is not None and row.placed:
                event = entry.resolved(
                    "placed",
                    "late_response",
                    order_id=row.order_id,
                    reason="the answer arrived after the request gave up",
                )
            elif row is not None and row.failed:
                event = entry.resolved("not_placed", "late_response", reason=row.error or "refused")
            elif row is None and not ok:
                event = entry.resolved("not_placed", "late_response", reason=error or "refused")
            else:
                # No row for it in an accepted batch, or a row without id or error: saying
                # "not placed" could double an order.
                event = entry.resolved(
                    "unknown", "late_response", reason="the answer's row does not say"
                )
            out.append((entry.key, event))
        return out

    def observe(self, reports: Iterable[ExecutionReport]) -> list[Resolution]:
        """Resolve placements named by live execution reports (``pending_new``, ``new``...)."""
        if not self._in_doubt:
            return []
        out: list[Resolution] = []
        for report in reports:
            for entry in list(self._in_doubt.values()):
                if entry.method in _PLACING and _names(entry, report):
                    del self._in_doubt[entry.key]
                    event = entry.resolved(
                        "placed",
                        "executions",
                        order_id=report.order_id,
                        order_status=report.order_status,
                        reason=f"reported by the executions stream ({report.exec_type})",
                    )
                    out.append((entry.key, event))
        return out

    def resolve(self, reports: Sequence[ExecutionReport], *, taken_at: float) -> list[Resolution]:
        """Resolve what an executions snapshot (open orders + recent fills) can tell.

        Args:
            reports: The snapshot's reports.
            taken_at: Client clock when the snapshot was requested.

        Returns:
            One event per entry resolved; entries too young to be judged absent stay.
        """
        open_orders = [r for r in reports if r.exec_type != "trade"]
        fills = [r for r in reports if r.exec_type == "trade"]
        out: list[Resolution] = []
        for entry in list(self._in_doubt.values()):
            old = entry.gone_at is not None and taken_at - entry.gone_at >= self.grace
            covers = self._covers(fills, entry.sent_at)
            event = self._judge(entry, open_orders, fills, old=old, covers=covers)
            if event is not None:
                del self._in_doubt[entry.key]
                out.append((entry.key, event))
        for fill in fills:
            if fill.exec_id is not None:
                _remember(self._seen, fill.exec_id, taken_at, self._max_fills)
        return out

    def _covers(self, fills: list[ExecutionReport], sent_at: float | None) -> bool:
        # Kraken lists only the last 50 fills. The list reaches back past a request if it is not
        # full (it is every fill there is), or if it holds a fill the client saw before sending
        # the request (that fill happened earlier, and the list is the latest ones, unbroken).
        if len(fills) < SNAPSHOT_FILLS:
            return True
        if sent_at is None:
            return False
        seen = self._seen
        return any(
            f.exec_id is not None and seen.get(f.exec_id, sent_at + 1) <= sent_at for f in fills
        )

    def _judge(
        self,
        entry: InDoubtOrder,
        open_orders: list[ExecutionReport],
        fills: list[ExecutionReport],
        *,
        old: bool,
        covers: bool,
    ) -> OrderResolved | None:
        method = entry.method
        if method == "cancel_all_orders_after":
            return entry.resolved(
                "unknown", "executions", reason="Kraken's data does not show it; arm it again"
            )
        if method in _PLACING:
            if entry.cl_ord_id is None and entry.order_userref is None:
                return entry.resolved(
                    "unknown", "executions", reason="no cl_ord_id or order_userref to match"
                )
            live = next((r for r in open_orders if _names(entry, r)), None)
            if live is not None:
                return entry.resolved(
                    "placed",
                    "executions",
                    order_id=live.order_id,
                    order_status=live.order_status,
                    reason="listed among the open orders",
                )
            traded = [r for r in fills if _names(entry, r)]
            if traded:
                last = traded[-1]
                return entry.resolved(
                    "placed",
                    "executions",
                    order_id=last.order_id,
                    order_status=last.order_status,
                    reason="listed among the recent fills",
                )
            if not old:
                return None
            if not covers:
                # More fills since it was sent than the snapshot holds: it may have traded and
                # dropped out of the list. Saying "not placed" could double a position.
                return entry.resolved(
                    "unknown",
                    "executions",
                    reason="more fills happened since it was sent than Kraken's snapshot lists; "
                    "check the REST ClosedOrders/TradesHistory",
                )
            return entry.resolved(
                "not_placed", "executions", reason="no open order and no recent fill carries it"
            )
        if method == "cancel_all":
            if not open_orders:
                return entry.resolved("applied", "executions", reason="no order is open")
            return entry.resolved(
                "unknown", "executions", reason="orders are open (they may be newer)"
            )
        # amend, edit, cancel, batch_cancel: what matters is the order as it stands now.
        live = next((r for r in open_orders if _names(entry, r)), None)
        if method in ("cancel_order", "batch_cancel"):
            if live is None:
                return entry.resolved("applied", "executions", reason="the order is not open")
            return (
                entry.resolved("not_applied", "executions", reason="the order is still open")
                if old
                else None
            )
        if live is None:
            return entry.resolved(
                "unknown", "executions", reason="the order is no longer open (filled or cancelled)"
            )
        if (
            method == "amend_order"
            and entry.fields
            and all(_same(v, getattr(live, k, None)) for k, v in entry.fields)
        ):
            return entry.resolved(
                "applied", "executions", order_id=live.order_id, order_status=live.order_status
            )
        if not old:
            return None
        return entry.resolved(
            "not_applied",
            "executions",
            order_id=live.order_id,
            order_status=live.order_status,
            reason="the open order does not show the change",
        )

    # --- fills ----------------------------------------------------------------------------------

    def deliver(
        self, reports: list[ExecutionReport], *, now: float = 0.0
    ) -> list[ExecutionReport] | None:
        """Filter a frame's reports before the user sees them: drop fills already delivered.

        Returns:
            ``None`` when nothing was dropped (the frame goes out as it is), else the reports
            to keep.
        """
        delivered = self._delivered
        kept: list[ExecutionReport] | None = None
        for index, report in enumerate(reports):
            exec_id = report.exec_id
            if report.exec_type != "trade" or exec_id is None:
                if kept is not None:
                    kept.append(report)
                continue
            if exec_id in delivered:
                if kept is None:
                    kept = list(reports[:index])
                continue
            self._remember(exec_id, now)
            if kept is not None:
                kept.append(report)
        return kept

    def _remember(self, exec_id: str, now: float) -> None:
        _remember(self._delivered, exec_id, now, self._max_fills)
        if exec_id not in self._seen:
            _remember(self._seen, exec_id, now, self._max_fills)

    def missed_fills(
        self, reports: Sequence[ExecutionReport], *, now: float = 0.0
    ) -> tuple[list[ExecutionReport], bool]:
        """Fills in a snapshot that the user never got (and now gets), in the snapshot's order.

        Returns:
            ``(fills, truncated)``. ``truncated``: the snapshot is a full window of the last 50
            fills and its oldest one is new to the user, so fills older than the window may be
            missing too.
        """
        fills = [r for r in reports if r.exec_type == "trade" and r.exec_id is not None]
        truncated = False
        if len(fills) >= SNAPSHOT_FILLS:
            oldest = min(fills, key=lambda r: parse_timestamp(r.timestamp) or ())
            truncated = oldest.exec_id not in self._delivered
        since = self.fills_since
        out = []
        for report in fills:
            exec_id = report.exec_id
            assert exec_id is not None
            if exec_id in self._delivered:
                continue
            stamp = parse_timestamp(report.timestamp)
            if since is not None and stamp is not None and stamp < since:
                continue
            self._remember(exec_id, now)
            out.append(report)
        return out, truncated and bool(out)


_PLACING = frozenset({"add_order", "batch_add"})


def _names(entry: InDoubtOrder, report: ExecutionReport) -> bool:
    # Does the report speak of this entry's order? The strongest id the entry has decides.
    if entry.cl_ord_id is not None:
        return report.cl_ord_id == entry.cl_ord_id
    if entry.order_userref is not None:
        return report.order_userref == entry.order_userref
    return entry.order_id is not None and report.order_id == entry.order_id


def _row_names(entry: InDoubtOrder, row: Any) -> bool:
    # Does a batch_add row echo this entry's client id?
    if entry.cl_ord_id is not None:
        return getattr(row, "cl_ord_id", None) == entry.cl_ord_id
    return entry.order_userref is not None and getattr(row, "order_userref", None) == (
        entry.order_userref
    )


def _answer_names(entry: InDoubtOrder, result: Any) -> bool:
    if entry.cl_ord_id is not None:
        return getattr(result, "cl_ord_id", None) == entry.cl_ord_id
    return entry.order_id is not None and getattr(result, "order_id", None) == entry.order_id


def _remember(ids: OrderedDict[str, float], exec_id: str, now: float, limit: int) -> None:
    ids[exec_id] = now
    if len(ids) > limit:
        ids.popitem(last=False)
