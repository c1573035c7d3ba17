"""``OrderLedger``: the pure bookkeeping of in-doubt orders and delivered fills."""

from __future__ import annotations

from typing import Any

import pytest

from kraken_ws import decode
from kraken_ws.models.channels.executions import ExecutionReport
from kraken_ws.models.messages import UnknownMessage
from kraken_ws.reconcile import OrderLedger, parse_timestamp


def report(**fields: Any) -> ExecutionReport:
    return ExecutionReport.model_validate(fields)


def add_order(cl_ord_id: str | None = "a", userref: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"order_type": "limit", "side": "buy", "symbol": "BTC/USD"}
    if cl_ord_id is not None:
        params["cl_ord_id"] = cl_ord_id
    if userref is not None:
        params["order_userref"] = userref
    return {"method": "add_order", "params": params, "req_id": 7}


def test_parse_timestamp_orders_any_precision() -> None:
    assert parse_timestamp("2023-09-22T10:33:05Z") == (2023, 9, 22, 10, 33, 5, 0)
    ns = parse_timestamp("2023-09-22T10:33:05.709950123Z")
    us = parse_timestamp("2023-09-22T10:33:05.709951Z")
    assert ns is not None
    assert us is not None
    assert ns < us
    for bad in ("", "yesterday", "2023-09-22", "x" * 100, "2023-13-xxT10:33:05Z"):
        assert parse_timestamp(bad) is None


def test_found_open_order_resolves_at_once_even_if_young() -> None:
    ledger = OrderLedger(grace=5)
    [entry] = ledger.add("add_order", 7, add_order("a"), now=0, connection_gone=False, reason="t")
    [(key, event)] = ledger.resolve(
        [report(exec_type="new", cl_ord_id="a", order_id="O1", order_status="new")], taken_at=0.1
    )
    assert key == entry.key
    assert (event.outcome, event.order_id, event.order_status) == ("placed", "O1", "new")
    assert ledger.in_doubt() == []


def test_absence_is_judged_only_after_the_connection_went_and_the_grace() -> None:
    ledger = OrderLedger(grace=2)
    ledger.add("add_order", 7, add_order("a"), now=0, connection_gone=False, reason="timeout")
    # The connection is up: its answer may still come; a silent snapshot proves nothing.
    assert ledger.resolve([], taken_at=100) == []
    assert ledger.next_judgement() is None
    ledger.connection_gone(10)
    assert ledger.next_judgement() == 12
    assert ledger.resolve([], taken_at=11) == []
    [(_key, event)] = ledger.resolve([], taken_at=12)
    assert event.outcome == "not_placed"


def test_fill_names_a_filled_order() -> None:
    ledger = OrderLedger(grace=0)
    ledger.add("add_order", 7, add_order(None, 42), now=0, connection_gone=True, reason="drop")
    fill = report(exec_type="trade", order_userref=42, order_id="O9", order_status="filled")
    [(_key, event)] = ledger.resolve([fill], taken_at=1)
    assert (event.outcome, event.order_id, event.order_status) == ("placed", "O9", "filled")


def test_order_without_client_ids_is_unknown() -> None:
    ledger = OrderLedger(grace=0)
    ledger.add("add_order", 7, add_order(None), now=0, connection_gone=True, reason="drop")
    [(_key, event)] = ledger.resolve([], taken_at=1)
    assert event.outcome == "unknown"


def test_batch_add_is_one_entry_per_order() -> None:
    ledger = OrderLedger(grace=0)
    request = {
        "method": "batch_add",
        "params": {"symbol": "BTC/USD", "orders": [{"cl_ord_id": "x"}, {"cl_ord_id": "y"}]},
    }
    entries = ledger.add("batch_add", 3, request, now=0, connection_gone=True, reason="drop")
    assert [e.cl_ord_id for e in entries] == ["x", "y"]
    events = ledger.resolve([report(exec_type="new", cl_ord_id="y", order_id="OY")], taken_at=1)
    assert sorted((e.cl_ord_id, e.outcome) for _k, e in events) == [
        ("x", "not_placed"),
        ("y", "placed"),
    ]


def test_cancel_amend_and_switch_outcomes() -> None:
    ledger = OrderLedger(grace=0)
    cancel = {"method": "cancel_order", "params": {"order_id": ["O1", "O2"]}}
    ledger.add("cancel_order", 1, cancel, now=0, connection_gone=True, reason="drop")
    amend = {"method": "amend_order", "params": {"order_id": "O3", "limit_price": 101.5}}
    ledger.add("amend_order", 2, amend, now=0, connection_gone=True, reason="drop")
    switch = {"method": "cancel_all_orders_after", "params": {"timeout": 60}}
    ledger.add("cancel_all_orders_after", 3, switch, now=0, connection_gone=True, reason="d")
    still_open = [
        report(exec_type="new", order_id="O2", order_status="new"),
        report(exec_type="new", order_id="O3", order_status="new", limit_price="101.50"),
    ]
    events = {(e.method, e.order_id): e.outcome for _k, e in ledger.resolve(still_open, taken_at=1)}
    assert events == {
        ("cancel_order", "O1"): "applied",
        ("cancel_order", "O2"): "not_applied",
        ("amend_order", "O3"): "applied",
        ("cancel_all_orders_after", None): "unknown",
    }


def test_late_answer_resolves_its_request() -> None:
    ledger = OrderLedger()
    ledger.add("add_order", 7, add_order("a"), now=0, connection_gone=False, reason="timeout")
    ok = decode(
        b'{"method":"add_order","req_id":7,"success":true,'
        b'"result":{"order_id":"O1","cl_ord_id":"a"}}'
    )
    assert not isinstance(ok, UnknownMessage)
    assert ledger.late_response(8, "add_order", ok) == []  # another request's id
    [(_key, event)] = ledger.late_response(7, "add_order", ok)
    assert (event.outcome, event.source, event.order_id) == ("placed", "late_response", "O1")
    ledger.add("add_order", 9, add_order("b"), now=0, connection_gone=False, reason="timeout")
    refused = decode(
        b'{"method":"add_order","req_id":9,"success":false,"error":"EOrder:Insufficient funds"}'
    )
    [(_key, event)] = ledger.late_response(9, "add_order", refused)
    assert (event.outcome, event.reason) == ("not_placed", "EOrder:Insufficient funds")


def test_live_reports_resolve_placements() -> None:
    ledger = OrderLedger()
    ledger.add("add_order", 7, add_order("a"), now=0, connection_gone=False, reason="timeout")
    assert ledger.observe([report(exec_type="new", cl_ord_id="zzz")]) == []
    [(_key, event)] = ledger.observe(
        [report(exec_type="pending_new", cl_ord_id="a", order_id="O1")]
    )
    assert (event.outcome, event.source) == ("placed", "executions")


def test_fills_are_delivered_once_and_gap_fills_found() -> None:
    ledger = OrderLedger(max_fills=3)
    t1 = report(exec_type="trade", exec_id="T1", timestamp="2024-01-01T00:00:01Z")
    t2 = report(exec_type="trade", exec_id="T2", timestamp="2024-01-01T00:00:02Z")
    new = report(exec_type="new", order_id="O1")
    assert ledger.deliver([new, t1]) is None  # nothing dropped: the frame goes out as it is
    assert ledger.deliver([t1, new, t2]) == [new, t2]
    old = report(exec_type="trade", exec_id="T0", timestamp="2023-12-31T23:59:59Z")
    gap = report(exec_type="trade", exec_id="T3", timestamp="2024-01-01T00:00:03Z")
    ledger.fills_since = parse_timestamp("2024-01-01T00:00:00Z")
    assert ledger.missed_fills([old, t1, t2, gap, new]) == ([gap], False)
    assert ledger.missed_fills([gap]) == ([], False)  # delivered now
    assert ledger.deliver([t1]) == []  # every fill of the frame was delivered before
    # Bounded memory: the oldest ids are forgotten past max_fills (3 here).
    t4 = report(exec_type="trade", exec_id="T4", timestamp="2024-01-01T00:00:04Z")
    assert ledger.deliver([t4]) is None
    assert ledger.deliver([t1]) is None


@pytest.mark.parametrize("grace", [0.0, 1.5])
def test_in_doubt_lists_oldest_first(grace: float) -> None:
    ledger = OrderLedger(grace=grace)
    for name in "abc":
        ledger.add("add_order", 1, add_order(name), now=0, connection_gone=False, reason="t")
    assert [e.cl_ord_id for e in ledger.in_doubt()] == ["a", "b", "c"]
    assert [e.key for e in ledger.in_doubt()] == sorted(e.key for e in ledger.in_doubt())


def fills(first: int, count: int) -> list[ExecutionReport]:
    return [
        report(
            exec_type="trade",
            exec_id=f"T{n}",
            order_id=f"X{n}",
            timestamp=f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}Z",
        )
        for n in range(first, first + count)
    ]


def test_a_full_window_of_fills_cannot_prove_an_order_absent() -> None:
    """50+ fills since the order was sent: it may have traded and dropped out of the list."""
    ledger = OrderLedger(grace=0)
    ledger.add(
        "add_order", 7, add_order("a"), now=5, connection_gone=True, reason="drop", sent_at=5
    )
    [(_key, event)] = ledger.resolve(fills(100, 50), taken_at=10)
    assert event.outcome == "unknown"
    assert "more fills" in event.reason


def test_a_window_reaching_back_past_the_send_proves_absence() -> None:
    ledger = OrderLedger(grace=0)
    ledger.deliver(fills(0, 1), now=1)  # T0 reached the client before the order was sent
    ledger.add(
        "add_order", 7, add_order("a"), now=5, connection_gone=True, reason="drop", sent_at=4
    )
    [(_key, event)] = ledger.resolve(fills(0, 50), taken_at=10)
    assert event.outcome == "not_placed"
    # Fills first seen in that snapshot (at 10) prove coverage for orders sent after 10 only.
    ledger.add(
        "add_order", 8, add_order("b"), now=20, connection_gone=True, reason="drop", sent_at=9
    )
    ledger.add(
        "add_order", 9, add_order("c"), now=20, connection_gone=True, reason="drop", sent_at=15
    )
    outcomes = {e.cl_ord_id: e.outcome for _k, e in ledger.resolve(fills(40, 50), taken_at=30)}
    assert outcomes == {"b": "unknown", "c": "not_placed"}


def test_truncated_only_when_the_window_starts_after_what_the_user_has() -> None:
    ledger = OrderLedger()
    ledger.deliver(fills(0, 10), now=1)
    missed, truncated = ledger.missed_fills(fills(5, 50), now=2)
    assert [r.exec_id for r in missed] == [f"T{n}" for n in range(10, 55)]
    assert truncated is False  # the window's oldest fill (T5) was delivered: no hole before it
    missed, truncated = ledger.missed_fills(fills(100, 50), now=3)
    assert len(missed) == 50
    assert truncated is True  # T55..T99 may be missing
