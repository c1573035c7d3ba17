"""Pure frame builders: market, account and request state in, wire text out.

Every frame is built from the ``kraken_ws.models`` classes (so it is valid by construction) and
serialized with the SDK's lossless JSON writer, so number tokens carry the instrument's full
precision. Nothing here reads a clock or touches a connection: callers pass timestamps in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from kraken_ws.models import GenericErrorResponse
from kraken_ws.models.channels.balances import BalancesSnapshot, BalancesUpdate
from kraken_ws.models.channels.book import BookData, BookSnapshot, BookUpdate
from kraken_ws.models.channels.executions import ExecutionsSnapshot, ExecutionsUpdate
from kraken_ws.models.channels.heartbeat import Heartbeat
from kraken_ws.models.channels.instrument import (
    InstrumentAsset,
    InstrumentData,
    InstrumentPair,
    InstrumentSnapshot,
)
from kraken_ws.models.channels.level3 import (
    Level3Snapshot,
    Level3SnapshotData,
    Level3Update,
    Level3UpdateData,
)
from kraken_ws.models.channels.ohlc import OhlcData, OhlcSnapshot, OhlcUpdate
from kraken_ws.models.channels.status import StatusData, StatusUpdate
from kraken_ws.models.channels.ticker import TickerData, TickerSnapshot, TickerUpdate
from kraken_ws.models.channels.trade import TradeData, TradeSnapshot, TradeUpdate
from kraken_ws.models.common import SystemStatus
from kraken_ws.models.methods.ping import Pong
from kraken_ws.protocol import dumps

from .engine import DEFAULT_ASSET_PRECISION
from .market import (
    BookOrder,
    Candle,
    InstrumentSpec,
    L3Event,
    SymbolMarket,
    TradeRecord,
    rfc3339,
)

__all__ = [
    "HEARTBEAT",
    "Kind",
    "balances",
    "book",
    "error",
    "executions",
    "instrument_snapshot",
    "level3_snapshot",
    "level3_update",
    "ohlc",
    "pong",
    "response",
    "status",
    "ticker",
    "trades",
    "wire",
]

Kind = Literal["snapshot", "update"]

_VERSION = "2.0.10"  # ``version`` of the status frame


def wire(model: BaseModel) -> str:
    """Serialize a model as Kraken writes it (aliases, no nulls, ``method`` first)."""
    data = model.model_dump(mode="python", exclude_none=True, by_alias=True)
    if "method" in data:
        # Kraken writes the method first; field order carries no meaning but eases reading.
        data = {"method": data.pop("method"), **data}
    return dumps(data)


HEARTBEAT = dumps(Heartbeat(channel="heartbeat").model_dump(mode="python", exclude_none=True))
"""The ``heartbeat`` frame (always the same text)."""


# -- status and requests ----------------------------------------------------------------------


def status(connection_id: int, system: SystemStatus) -> str:
    """The ``status`` frame a connection gets first, and again on every status change."""
    data = StatusData(
        api_version="v2", connection_id=connection_id, system=system, version=_VERSION
    )
    return wire(StatusUpdate(channel="status", type="update", data=[data]))


def response(
    model_cls: type[BaseModel],
    method: str,
    req_id: int | None,
    time_in: str,
    time_out: str,
    result: Any,
) -> str:
    """A successful response to ``method`` (``model_cls`` is its ``...Success`` model)."""
    frame = model_cls.model_validate(
        {
            "method": method,
            "success": True,
            "result": result,
            "req_id": req_id,
            "time_in": time_in,
            "time_out": time_out,
        }
    )
    return wire(frame)


def error(
    method: str,
    req_id: int | None,
    time_in: str,
    time_out: str,
    message: str,
    symbol: str | None = None,
) -> str:
    """A failure response (``method`` is free text: ``"error"`` for an unreadable request)."""
    frame = GenericErrorResponse(
        method=method,
        success=False,
        error=message,
        req_id=req_id,
        symbol=symbol,
        time_in=time_in,
        time_out=time_out,
    )
    return wire(frame)


def pong(req_id: int | None, time_in: str, time_out: str) -> str:
    """The answer to ``ping``."""
    return wire(Pong(method="pong", req_id=req_id, time_in=time_in, time_out=time_out))


# -- market data --------------------------------------------------------------------------------


def book(
    kind: Kind,
    symbol: str,
    bids: Sequence[tuple[Decimal, Decimal]],
    asks: Sequence[tuple[Decimal, Decimal]],
    checksum: int,
    ts: float,
) -> str:
    """A ``book`` snapshot or update of ``symbol`` (levels as ``(price, qty)``)."""
    data = BookData.model_validate(
        {
            "symbol": symbol,
            "bids": [{"price": p, "qty": q} for p, q in bids],
            "asks": [{"price": p, "qty": q} for p, q in asks],
            "checksum": checksum,
            "timestamp": rfc3339(ts),
        }
    )
    if kind == "snapshot":
        return wire(BookSnapshot(channel="book", type="snapshot", data=[data]))
    return wire(BookUpdate(channel="book", type="update", data=[data]))


def level3_update(
    symbol: str, checksum: int, ts: float, bids: list[L3Event], asks: list[L3Event]
) -> str:
    """A ``level3`` update: order events of each side."""
    update = Level3UpdateData.model_validate(
        {
            "symbol": symbol,
            "checksum": checksum,
            "timestamp": rfc3339(ts, 9),
            "bids": [_l3_event(e) for e in bids],
            "asks": [_l3_event(e) for e in asks],
        }
    )
    return wire(Level3Update(channel="level3", type="update", data=[update]))


def level3_snapshot(
    symbol: str, checksum: int, ts: float, bids: list[BookOrder], asks: list[BookOrder]
) -> str:
    """A ``level3`` snapshot: every order of the top levels of each side, in book order."""
    data = Level3SnapshotData.model_validate(
        {
            "symbol": symbol,
            "checksum": checksum,
            "timestamp": rfc3339(ts, 9),
            "bids": [_l3_order(o) for o in bids],
            "asks": [_l3_order(o) for o in asks],
        }
    )
    return wire(Level3Snapshot(channel="level3", type="snapshot", data=[data]))


def _l3_event(event: L3Event) -> dict[str, Any]:
    kind, order_id, price, qty, ts = event
    return {
        "event": kind,
        "order_id": order_id,
        "limit_price": price,
        "order_qty": qty,
        "timestamp": ts,
    }


def _l3_order(order: BookOrder) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "limit_price": order.price,
        "order_qty": order.qty,
        "timestamp": order.timestamp,
    }


def trades(kind: Kind, records: Iterable[TradeRecord]) -> str:
    """A ``trade`` snapshot or update."""
    data = [
        TradeData(
            symbol=t.symbol,
            side=t.side,
            price=t.price,
            qty=t.qty,
            ord_type=t.ord_type,
            trade_id=t.trade_id,
            timestamp=t.timestamp,
        )
        for t in records
    ]
    if kind == "snapshot":
        return wire(TradeSnapshot(channel="trade", type="snapshot", data=data))
    return wire(TradeUpdate(channel="trade", type="update", data=data))


def ticker(kind: Kind, sym: SymbolMarket, ts: float) -> str:
    """A ``ticker`` snapshot or update of ``sym`` as it is now."""
    bid = sym.best("bids")
    ask = sym.best("asks")
    zero = sym.zero_qty
    change, pct = sym.change()
    data = TickerData(
        symbol=sym.symbol,
        bid=bid[0] if bid else sym.spec.price(0),
        bid_qty=bid[1] if bid else zero,
        ask=ask[0] if ask else sym.spec.price(0),
        ask_qty=ask[1] if ask else zero,
        last=sym.last,
        volume=sym.volume,
        vwap=sym.vwap(),
        low=sym.low,
        high=sym.high,
        change=change,
        change_pct=pct,
        timestamp=rfc3339(ts),
    )
    if kind == "snapshot":
        return wire(TickerSnapshot(channel="ticker", type="snapshot", data=[data]))
    return wire(TickerUpdate(channel="ticker", type="update", data=[data]))


def ohlc(kind: Kind, sym: SymbolMarket, candles: Iterable[Candle], interval: int, ts: float) -> str:
    """An ``ohlc`` snapshot or update of ``sym``'s ``interval``-minute candles."""
    data = [_ohlc_candle(sym, c, interval) for c in candles]
    stamp = rfc3339(ts)
    if kind == "snapshot":
        return wire(OhlcSnapshot(channel="ohlc", type="snapshot", data=data, timestamp=stamp))
    return wire(OhlcUpdate(channel="ohlc", type="update", data=data, timestamp=stamp))


def _ohlc_candle(sym: SymbolMarket, candle: Candle, interval: int) -> OhlcData:
    vwap = sym.spec.price(candle.notional / candle.volume) if candle.volume else candle.close
    return OhlcData(
        symbol=sym.symbol,
        open=candle.open,
        high=candle.high,
        low=candle.low,
        close=candle.close,
        vwap=vwap,
        volume=candle.volume,
        trades=candle.trades,
        interval_begin=rfc3339(candle.begin, 9),
        interval=interval,
        timestamp=rfc3339(candle.begin + interval * 60),
    )


def instrument_snapshot(instruments: Iterable[InstrumentSpec]) -> str:
    """The ``instrument`` snapshot: every asset and pair the exchange simulates."""
    assets: dict[str, InstrumentAsset] = {}
    pairs: list[InstrumentPair] = []
    for spec in instruments:
        for asset in (spec.base, spec.quote):
            precision = DEFAULT_ASSET_PRECISION.get(asset, 8)
            assets.setdefault(
                asset,
                InstrumentAsset(
                    id=asset,
                    status="enabled",
                    precision=precision,
                    precision_display=min(precision, 5),
                    borrowable=False,
                    collateral_value=Decimal("1.0") if asset == "USD" else Decimal("0.9"),
                ),
            )
        pairs.append(
            InstrumentPair(
                symbol=spec.symbol,
                base=spec.base,
                quote=spec.quote,
                status="online",
                qty_precision=spec.qty_precision,
                qty_increment=spec.qty_increment,
                qty_min=spec.min_qty,
                price_precision=spec.price_precision,
                price_increment=spec.price_increment,
                tick_size=spec.price_increment,
                cost_precision=spec.cost_precision,
                cost_min=spec.cost_min,
                marginable=False,
                has_index=True,
            )
        )
    data = InstrumentData(assets=list(assets.values()), pairs=pairs)
    return wire(InstrumentSnapshot(channel="instrument", type="snapshot", data=data))


# -- account ----------------------------------------------------------------------------------


def executions(kind: Kind, reports: list[dict[str, Any]], sequence: int) -> str:
    """An ``executions`` snapshot or update carrying the engine's report dicts."""
    model = ExecutionsSnapshot if kind == "snapshot" else ExecutionsUpdate
    frame = model.model_validate(
        {"channel": "executions", "type": kind, "data": reports, "sequence": sequence}
    )
    return wire(frame)


def balances(kind: Kind, data: list[dict[str, Any]], sequence: int) -> str:
    """A ``balances`` snapshot (balance per asset) or update (ledger entries)."""
    model = BalancesSnapshot if kind == "snapshot" else BalancesUpdate
    frame = model.model_validate(
        {"channel": "balances", "type": kind, "data": data, "sequence": sequence}
    )
    return wire(frame)
