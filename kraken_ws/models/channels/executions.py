"""The ``executions`` channel: own orders and fills (https://docs.kraken.com/api/docs/websocket-v2/executions).

Private (``wss://ws-auth.kraken.com/v2``, token required); replaces v1 ``openOrders`` and
``ownTrades``. Reports are sparse: which fields are present depends on ``exec_type``, so every
field but ``exec_type`` is optional. Server-side states (``exec_type``, ``order_status``, ...) are
``str`` so that a value Kraken adds never drops a fill; fields that echo request enums are
``Literal``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import InboundModel, OutboundModel, Timestamp, WireDecimal
from kraken_ws.models.common import (
    ConditionalOrderType,
    LiquidityInd,
    OrderType,
    PriceType,
    ReportTimeInForce,
    Side,
    TriggerReference,
)

__all__ = [
    "ExecutionContingent",
    "ExecutionFee",
    "ExecutionReport",
    "ExecutionTriggers",
    "ExecutionsMessage",
    "ExecutionsSnapshot",
    "ExecutionsSubscribeParams",
    "ExecutionsSubscribeResult",
    "ExecutionsUnsubscribeParams",
    "ExecutionsUpdate",
]


class ExecutionsSubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``executions`` channel.

    Attributes:
        channel (Literal["executions"], optional): Channel name.
        token (str | None, optional): WebSocket token; the client fills it in.
        snap_orders (bool | None, optional): Include the open orders in the snapshot (default
            ``true``).
        snap_trades (bool | None, optional): Include the last 50 fills in the snapshot (default
            ``false``).
        order_status (bool | None, optional): ``true`` (default): stream every status transition;
            ``false``: only ``new``, ``filled``, ``canceled`` and ``expired``.
        ratecounter (bool | None, optional): Include the rate-limit counter in the stream (default
            ``false``).
        rebased (bool | None, optional): xStocks only: ``true`` (default) reports in
            underlying-equity terms, ``false`` in SPV-token terms.
        users (Literal["all"] | None, optional): ``all`` (master accounts only): stream master and
            subaccount events; no snapshot is sent and reports carry ``user``.
        snapshot (bool | None, optional): Deprecated, use ``snap_orders`` and ``snap_trades``.
        snapshot_trades (bool | None, optional): Deprecated, use ``snap_trades``.
    """

    channel: Literal["executions"] = "executions"
    """Channel name."""
    token: str | None = None
    """WebSocket token; the client fills it in."""
    snap_orders: bool | None = None
    """Include the open orders in the snapshot (default ``true``)."""
    snap_trades: bool | None = None
    """Include the last 50 fills in the snapshot (default ``false``)."""
    order_status: bool | None = None
    """``true`` (default): stream every status transition; ``false``: only ``new``, ``filled``,
    ``canceled`` and ``expired``."""
    ratecounter: bool | None = None
    """Include the rate-limit counter in the stream (default ``false``)."""
    rebased: bool | None = None
    """xStocks only: ``true`` (default) reports in underlying-equity terms, ``false`` in SPV-token
    terms."""
    users: Literal["all"] | None = None
    """``all`` (master accounts only): stream master and subaccount events; no snapshot is sent
    and reports carry ``user``."""
    snapshot: bool | None = None
    """Deprecated, use ``snap_orders`` and ``snap_trades``."""
    snapshot_trades: bool | None = None
    """Deprecated, use ``snap_trades``."""


class ExecutionsUnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``executions`` channel.

    Attributes:
        channel (Literal["executions"], optional): Channel name.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    channel: Literal["executions"] = "executions"
    """Channel name."""
    token: str | None = None
    """WebSocket token; the client fills it in."""


class ExecutionsSubscribeResult(InboundModel):
    """``result`` of a successful ``executions`` subscribe or unsubscribe ack.

    Attributes:
        channel (Literal["executions"]): Channel name.
        maxratecount (int | None, optional): Maximum rate counter of the account's tier. Do not echo
            it back when resubscribing.
        snap_orders (bool | None, optional): Whether open orders are in the snapshot.
        snap_trades (bool | None, optional): Whether recent fills are in the snapshot.
        snapshot (bool | None, optional): Deprecated, see ``snap_orders`` and ``snap_trades``.
        warnings (list[str] | None, optional): Deprecation advisories, e.g. ``cancel_reason is
            deprecated, use reason``.
    """

    channel: Literal["executions"]
    """Channel name."""
    maxratecount: int | None = None
    """Maximum rate counter of the account's tier. Do not echo it back when resubscribing."""
    snap_orders: bool | None = None
    """Whether open orders are in the snapshot."""
    snap_trades: bool | None = None
    """Whether recent fills are in the snapshot."""
    snapshot: bool | None = None
    """Deprecated, see ``snap_orders`` and ``snap_trades``."""
    warnings: list[str] | None = None
    """Deprecation advisories, e.g. ``cancel_reason is deprecated, use reason``."""


class ExecutionFee(InboundModel):
    """A fee charged by an execution.

    Attributes:
        asset (str): Fee currency (currently always the quote currency).
        qty (WireDecimal): Fee amount.
    """

    asset: str
    """Fee currency (currently always the quote currency)."""
    qty: WireDecimal
    """Fee amount."""


class ExecutionTriggers(InboundModel):
    """Trigger state of a stop-loss, take-profit or trailing-stop order.

    Attributes:
        reference (TriggerReference | None, optional): Price that triggers the order: ``last`` trade
            or ``index``.
        price (WireDecimal | None, optional): Trigger price as requested (absolute or offset, see
            ``price_type``).
        price_type (PriceType | None, optional): ``static`` (absolute), ``pct`` (percent offset) or
            ``quote`` (quote-currency offset).
        actual_price (WireDecimal | None, optional): Current effective trigger price.
        peak_price (WireDecimal | None, optional): Trailing orders: peak or trough price the trigger
            trails.
        last_price (WireDecimal | None, optional): Price that triggered the order.
        status (str | None, optional): Trigger status. Documented values: ``triggered``,
            ``untriggered``.
        timestamp (Timestamp | None, optional): Time the order was triggered.
    """

    reference: TriggerReference | None = None
    """Price that triggers the order: ``last`` trade or ``index``."""
    price: WireDecimal | None = None
    """Trigger price as requested (absolute or offset, see ``price_type``)."""
    price_type: PriceType | None = None
    """``static`` (absolute), ``pct`` (percent offset) or ``quote`` (quote-currency offset)."""
    actual_price: WireDecimal | None = None
    """Current effective trigger price."""
    peak_price: WireDecimal | None = None
    """Trailing orders: peak or trough price the trigger trails."""
    last_price: WireDecimal | None = None
    """Price that triggered the order."""
    status: str | None = None
    """Trigger status. Documented values: ``triggered``, ``untriggered``."""
    timestamp: Timestamp | None = None
    """Time the order was triggered."""


class ExecutionContingent(InboundModel):
    """Template of the secondary (OTO) close order.

    Attributes:
        order_type (ConditionalOrderType | None, optional): Order type of the close order. One of
            ``"limit"``, ``"stop-loss"``, ``"stop-loss-limit"``, ``"take-profit"``,
            ``"take-profit-limit"``, ``"trailing-stop"``, ``"trailing-stop-limit"``.
        trigger_price (WireDecimal | None, optional): Trigger price of the close order.
        trigger_price_type (PriceType | None, optional): ``static``, ``pct`` or ``quote``.
        limit_price (WireDecimal | None, optional): Limit price of the close order.
        limit_price_type (PriceType | None, optional): ``static``, ``pct`` or ``quote``.
    """

    order_type: ConditionalOrderType | None = None
    """Order type of the close order."""
    trigger_price: WireDecimal | None = None
    """Trigger price of the close order."""
    trigger_price_type: PriceType | None = None
    """``static``, ``pct`` or ``quote``."""
    limit_price: WireDecimal | None = None
    """Limit price of the close order."""
    limit_price_type: PriceType | None = None
    """``static``, ``pct`` or ``quote``."""


class ExecutionReport(InboundModel):
    """One execution report: an order event or a fill.

    Attributes:
        exec_type (str): Event type. Documented values: ``pending_new`` (received, not live yet),
            ``new`` (live), ``trade`` (a fill), ``filled`` (fully filled), ``iceberg_refill``,
            ``canceled``, ``expired``, ``amended`` (user amend), ``restated`` (engine amend, see
            ``reason``), ``status`` (status change, e.g. a trigger price moved).
        order_id (str | None, optional): Kraken order id.
        cl_ord_id (str | None, optional): Client order id.
        order_userref (int | None, optional): Client order tag (non-unique).
        symbol (str | None, optional): Currency pair.
        side (Side | None, optional): Order side. One of ``"buy"``, ``"sell"``.
        order_type (OrderType | None, optional): Order type. One of ``"limit"``, ``"market"``,
            ``"iceberg"``, ``"stop-loss"``, ``"stop-loss-limit"``, ``"take-profit"``,
            ``"take-profit-limit"``, ``"trailing-stop"``, ``"trailing-stop-limit"``,
            ``"settle-position"``.
        order_qty (WireDecimal | None, optional): Order quantity, in base currency.
        cash_order_qty (WireDecimal | None, optional): Order quantity in quote currency, if the
            order was specified that way.
        limit_price (WireDecimal | None, optional): Limit price.
        limit_price_type (PriceType | None, optional): How ``limit_price`` is expressed: ``static``,
            ``pct`` or ``quote``.
        display_qty (WireDecimal | None, optional): Iceberg orders: visible quantity.
        display_qty_remain (WireDecimal | None, optional): Iceberg orders: quantity of the next
            display.
        time_in_force (ReportTimeInForce | None, optional): Time in force, uppercase in reports:
            ``GTC``, ``GTD``, ``IOC`` or ``FOK``.
        effective_time (Timestamp | None, optional): Scheduled start time of the order.
        expire_time (Timestamp | None, optional): Expiry time of a GTD order.
        order_status (str | None, optional): Order status after the event. Documented values:
            ``pending_new``, ``new``, ``partially_filled``, ``filled``, ``canceled``, ``expired``.
        timestamp (Timestamp | None, optional): Event time.
        exec_id (str | None, optional): Trade events: execution id.
        trade_id (int | None, optional): Trade events: trade sequence number of the book.
        last_qty (WireDecimal | None, optional): Trade events: quantity filled by this execution.
        last_price (WireDecimal | None, optional): Trade events: average price of this execution.
        cost (WireDecimal | None, optional): Trade events: value of this execution, in quote
            currency.
        liquidity_ind (LiquidityInd | None, optional): Trade events: ``m`` maker or ``t`` taker.
        fees (list[ExecutionFee] | None, optional): Trade events: fees charged.
        fee_usd_equiv (WireDecimal | None, optional): Total fee of the order, in USD.
        fee_ccy_pref (str | None, optional): Fee currency preference. Documented values: ``fcib``
            (base), ``fciq`` (quote).
        cum_qty (WireDecimal | None, optional): Cumulative filled quantity.
        cum_cost (WireDecimal | None, optional): Cumulative value of the fills, in quote currency.
        avg_price (WireDecimal | None, optional): Average fill price.
        post_only (bool | None, optional): Post-only order.
        reduce_only (bool | None, optional): Reduce-only order.
        margin (bool | None, optional): Margin order.
        no_mpp (bool | None, optional): Market price protection disabled.
        margin_borrow (bool | None, optional): Trade events: the execution changed margin borrowing.
        liquidated (bool | None, optional): The order was a liquidation.
        amended (bool | None, optional): The order has been amended (snapshots and
            ``amended``/``restated`` events).
        position_status (str | None, optional): Margin position status. Documented values:
            ``opened``, ``closing``, ``closed``.
        reason (str | None, optional): Reason of a cancel, expiry or restatement, e.g. ``User
            requested``.
        ord_ref_id (str | None, optional): Id of the referral order that created this order.
        sender_sub_id (str | None, optional): Institutional self-trade prevention sub-account id.
        ext_ord_id (str | None, optional): External partner order id.
        ext_exec_id (str | None, optional): External partner execution id.
        contingent (ExecutionContingent | None, optional): OTO close-order template.
        triggers (ExecutionTriggers | None, optional): Trigger state of a triggered order type.
        user (str | None, optional): Account of the event (only with ``users="all"``).
        cancel_reason (str | None, optional): Deprecated, use ``reason``.
        stop_price (WireDecimal | None, optional): Deprecated, use ``triggers.price``.
        trigger (str | None, optional): Deprecated, use ``triggers.reference``.
        triggered_price (WireDecimal | None, optional): Deprecated, use ``triggers.last_price``.
    """

    exec_type: str
    """Event type. Documented values: ``pending_new`` (received, not live yet), ``new`` (live),
    ``trade`` (a fill), ``filled`` (fully filled), ``iceberg_refill``, ``canceled``, ``expired``,
    ``amended`` (user amend), ``restated`` (engine amend, see ``reason``), ``status`` (status
    change, e.g. a trigger price moved)."""
    order_id: str | None = None
    """Kraken order id."""
    cl_ord_id: str | None = None
    """Client order id."""
    order_userref: int | None = None
    """Client order tag (non-unique)."""
    symbol: str | None = None
    """Currency pair."""
    side: Side | None = None
    """Order side."""
    order_type: OrderType | None = None
    """Order type."""
    order_qty: WireDecimal | None = None
    """Order quantity, in base currency."""
    cash_order_qty: WireDecimal | None = None
    """Order quantity in quote currency, if the order was specified that way."""
    limit_price: WireDecimal | None = None
    """Limit price."""
    limit_price_type: PriceType | None = None
    """How ``limit_price`` is expressed: ``static``, ``pct`` or ``quote``."""
    display_qty: WireDecimal | None = None
    """Iceberg orders: visible quantity."""
    display_qty_remain: WireDecimal | None = None
    """Iceberg orders: quantity of the next display."""
    time_in_force: ReportTimeInForce | None = None
    """Time in force, uppercase in reports: ``GTC``, ``GTD``, ``IOC`` or ``FOK``."""
    effective_time: Timestamp | None = None
    """Scheduled start time of the order."""
    expire_time: Timestamp | None = None
    """Expiry time of a GTD order."""
    order_status: str | None = None
    """Order status after the event. Documented values: ``pending_new``, ``new``,
    ``partially_filled``, ``filled``, ``canceled``, ``expired``."""
    timestamp: Timestamp | None = None
    """Event time."""
    exec_id: str | None = None
    """Trade events: execution id."""
    trade_id: int | None = None
    """Trade events: trade sequence number of the book."""
    last_qty: WireDecimal | None = None
    """Trade events: quantity filled by this execution."""
    last_price: WireDecimal | None = None
    """Trade events: average price of this execution."""
    cost: WireDecimal | None = None
    """Trade events: value of this execution, in quote currency."""
    liquidity_ind: LiquidityInd | None = None
    """Trade events: ``m`` maker or ``t`` taker."""
    fees: list[ExecutionFee] | None = None
    """Trade events: fees charged."""
    fee_usd_equiv: WireDecimal | None = None
    """Total fee of the order, in USD."""
    fee_ccy_pref: str | None = None
    """Fee currency preference. Documented values: ``fcib`` (base), ``fciq`` (quote)."""
    cum_qty: WireDecimal | None = None
    """Cumulative filled quantity."""
    cum_cost: WireDecimal | None = None
    """Cumulative value of the fills, in quote currency."""
    avg_price: WireDecimal | None = None
    """Average fill price."""
    post_only: bool | None = None
    """Post-only order."""
    reduce_only: bool | None = None
    """Reduce-only order."""
    margin: bool | None = None
    """Margin order."""
    no_mpp: bool | None = None
    """Market price protection disabled."""
    margin_borrow: bool | None = None
    """Trade events: the execution changed margin borrowing."""
    liquidated: bool | None = None
    """The order was a liquidation."""
    amended: bool | None = None
    """The order has been amended (snapshots and ``amended``/``restated`` events)."""
    position_status: str | None = None
    """Margin position status. Documented values: ``opened``, ``closing``, ``closed``."""
    reason: str | None = None
    """Reason of a cancel, expiry or restatement, e.g. ``User requested``."""
    ord_ref_id: str | None = None
    """Id of the referral order that created this order."""
    sender_sub_id: str | None = None
    """Institutional self-trade prevention sub-account id."""
    ext_ord_id: str | None = None
    """External partner order id."""
    ext_exec_id: str | None = None
    """External partner execution id."""
    contingent: ExecutionContingent | None = None
    """OTO close-order template."""
    triggers: ExecutionTriggers | None = None
    """Trigger state of a triggered order type."""
    user: str | None = None
    """Account of the event (only with ``users="all"``)."""
    cancel_reason: str | None = None
    """Deprecated, use ``reason``."""
    stop_price: WireDecimal | None = None
    """Deprecated, use ``triggers.price``."""
    trigger: str | None = None
    """Deprecated, use ``triggers.reference``."""
    triggered_price: WireDecimal | None = None
    """Deprecated, use ``triggers.last_price``."""


class ExecutionsSnapshot(InboundModel):
    """Open orders and/or recent fills, sent after subscribing.

    Attributes:
        channel (Literal["executions"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (list[ExecutionReport]): Reports (may be empty).
        sequence (int | None, optional): Sequence number of the message in this subscription.
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["executions"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: list[ExecutionReport]
    """Reports (may be empty)."""
    sequence: int | None = None
    """Sequence number of the message in this subscription."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


class ExecutionsUpdate(InboundModel):
    """New order events and fills.

    Attributes:
        channel (Literal["executions"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[ExecutionReport]): Reports, in event order.
        sequence (int | None, optional): Sequence number of the message in this subscription.
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["executions"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[ExecutionReport]
    """Reports, in event order."""
    sequence: int | None = None
    """Sequence number of the message in this subscription."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


ExecutionsMessage = Annotated[ExecutionsSnapshot | ExecutionsUpdate, Field(discriminator="type")]
"""An ``executions`` snapshot or update."""
