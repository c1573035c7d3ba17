"""The ``instrument`` channel: reference data (https://docs.kraken.com/api/docs/websocket-v2/instrument).

Assets and pairs with their precisions, steps and limits. Unlike every other channel, ``data`` is
an object ``{"assets": [...], "pairs": [...]}``. Steps and minimums may arrive in exponent form
(``1e-08``); they are exact ``Decimal`` values.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import InboundModel, OutboundModel, Timestamp, WireDecimal
from kraken_ws.models.common import ExecutionVenue

__all__ = [
    "InstrumentAsset",
    "InstrumentData",
    "InstrumentMessage",
    "InstrumentPair",
    "InstrumentSnapshot",
    "InstrumentSubscribeParams",
    "InstrumentSubscribeResult",
    "InstrumentUnsubscribeParams",
    "InstrumentUpdate",
]


class InstrumentSubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``instrument`` channel (no ``symbol``).

    Attributes:
        channel (Literal["instrument"], optional): Channel name.
        snapshot (bool | None, optional): Send a snapshot first (default ``true``).
        include_tokenized_assets (bool | None, optional): Include tokenized assets (xStocks)
            (default ``false``).
        execution_venue (ExecutionVenue | None, optional): ``international`` (default) or
            ``bitnomial-exchange``.
    """

    channel: Literal["instrument"] = "instrument"
    """Channel name."""
    snapshot: bool | None = None
    """Send a snapshot first (default ``true``)."""
    include_tokenized_assets: bool | None = None
    """Include tokenized assets (xStocks) (default ``false``)."""
    execution_venue: ExecutionVenue | None = None
    """``international`` (default) or ``bitnomial-exchange``."""


class InstrumentUnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``instrument`` channel.

    Attributes:
        channel (Literal["instrument"], optional): Channel name.
    """

    channel: Literal["instrument"] = "instrument"
    """Channel name."""


class InstrumentSubscribeResult(InboundModel):
    """``result`` of a successful ``instrument`` subscribe or unsubscribe ack.

    Attributes:
        channel (Literal["instrument"]): Channel name.
        snapshot (bool | None, optional): Whether a snapshot follows.
        warnings (list[str] | None, optional): Deprecation advisories, e.g. ``tick_size is
            deprecated, use price_increment``.
    """

    channel: Literal["instrument"]
    """Channel name."""
    snapshot: bool | None = None
    """Whether a snapshot follows."""
    warnings: list[str] | None = None
    """Deprecation advisories, e.g. ``tick_size is deprecated, use price_increment``."""


class InstrumentAsset(InboundModel):
    """Reference data of one asset.

    Attributes:
        id (str): Asset code, e.g. ``BTC``.
        status (str): Asset status. Documented values: ``depositonly``, ``disabled``, ``enabled``,
            ``fundingtemporarilydisabled``, ``withdrawalonly``, ``workinprogress``.
        precision (int): Maximum precision of ledger and balance values.
        precision_display (int): Recommended display precision.
        borrowable (bool): Whether the asset can be borrowed on margin.
        collateral_value (WireDecimal): Valuation of the asset as margin collateral.
        margin_rate (WireDecimal | None, optional): Interest rate to borrow the asset (borrowable
            assets only).
        multiplier (WireDecimal | None, optional): Tokenized assets only: multiplier of the
            underlying.
    """

    id: str
    """Asset code, e.g. ``BTC``."""
    status: str
    """Asset status. Documented values: ``depositonly``, ``disabled``, ``enabled``,
    ``fundingtemporarilydisabled``, ``withdrawalonly``, ``workinprogress``."""
    precision: int
    """Maximum precision of ledger and balance values."""
    precision_display: int
    """Recommended display precision."""
    borrowable: bool
    """Whether the asset can be borrowed on margin."""
    collateral_value: WireDecimal
    """Valuation of the asset as margin collateral."""
    margin_rate: WireDecimal | None = None
    """Interest rate to borrow the asset (borrowable assets only)."""
    multiplier: WireDecimal | None = None
    """Tokenized assets only: multiplier of the underlying."""


class InstrumentPair(InboundModel):
    """Reference data of one currency pair.

    Attributes:
        symbol (str): Currency pair, e.g. ``BTC/USD``: the v2 name, the source of truth for symbols.
        base (str): Base asset.
        quote (str): Quote asset.
        status (str): Pair status. Documented values: ``cancel_only``, ``delisted``, ``limit_only``,
            ``maintenance``, ``online``, ``post_only``, ``reduce_only``, ``work_in_progress``.
        qty_precision (int): Maximum number of decimals of an order quantity (and of book
            quantities).
        qty_increment (WireDecimal): Minimum quantity step (exponent form possible, e.g. ``1e-08``).
        qty_min (WireDecimal): Minimum order quantity, in base currency.
        price_precision (int): Maximum number of decimals of a price (and of book prices).
        price_increment (WireDecimal): Minimum price step (tick).
        tick_size (WireDecimal | None, optional): Deprecated, use ``price_increment``.
        cost_precision (int): Maximum number of decimals of a cost (price times quantity).
        cost_min (WireDecimal): Minimum order cost, in quote currency (documented as a string; a
            number on the wire).
        marginable (bool): Whether the pair can be traded on margin.
        has_index (bool): Whether an index price is available (for ``index`` triggers).
        margin_initial (WireDecimal | None, optional): Initial margin requirement (marginable pairs
            only).
        position_limit_long (int | None, optional): Maximum long margin position size (marginable
            pairs only).
        position_limit_short (int | None, optional): Maximum short margin position size (marginable
            pairs only).
        ws_display_price_precision (int | None, optional): Display precision of prices. Not
            documented; observed live.
    """

    symbol: str
    """Currency pair, e.g. ``BTC/USD``: the v2 name, the source of truth for symbols."""
    base: str
    """Base asset."""
    quote: str
    """Quote asset."""
    status: str
    """Pair status. Documented values: ``cancel_only``, ``delisted``, ``limit_only``,
    ``maintenance``, ``online``, ``post_only``, ``reduce_only``, ``work_in_progress``."""
    qty_precision: int
    """Maximum number of decimals of an order quantity (and of book quantities)."""
    qty_increment: WireDecimal
    """Minimum quantity step (exponent form possible, e.g. ``1e-08``)."""
    qty_min: WireDecimal
    """Minimum order quantity, in base currency."""
    price_precision: int
    """Maximum number of decimals of a price (and of book prices)."""
    price_increment: WireDecimal
    """Minimum price step (tick)."""
    tick_size: WireDecimal | None = None
    """Deprecated, use ``price_increment``."""
    cost_precision: int
    """Maximum number of decimals of a cost (price times quantity)."""
    cost_min: WireDecimal
    """Minimum order cost, in quote currency (documented as a string; a number on the wire)."""
    marginable: bool
    """Whether the pair can be traded on margin."""
    has_index: bool
    """Whether an index price is available (for ``index`` triggers)."""
    margin_initial: WireDecimal | None = None
    """Initial margin requirement (marginable pairs only)."""
    position_limit_long: int | None = None
    """Maximum long margin position size (marginable pairs only)."""
    position_limit_short: int | None = None
    """Maximum short margin position size (marginable pairs only)."""
    ws_display_price_precision: int | None = None
    """Display precision of prices. Not documented; observed live."""


class InstrumentData(InboundModel):
    """Assets and pairs: everything in a snapshot, the changed items in an update.

    Attributes:
        assets (list[InstrumentAsset]): Assets.
        pairs (list[InstrumentPair]): Currency pairs.
    """

    assets: list[InstrumentAsset]
    """Assets."""
    pairs: list[InstrumentPair]
    """Currency pairs."""


class InstrumentSnapshot(InboundModel):
    """All assets and pairs, sent after subscribing.

    Attributes:
        channel (Literal["instrument"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (InstrumentData): Assets and pairs (an object, not a list).
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["instrument"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: InstrumentData
    """Assets and pairs (an object, not a list)."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


class InstrumentUpdate(InboundModel):
    """Changed assets or pairs.

    Attributes:
        channel (Literal["instrument"]): Channel name.
        type (Literal["update"]): Frame type.
        data (InstrumentData): Changed assets and pairs (an object, not a list).
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["instrument"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: InstrumentData
    """Changed assets and pairs (an object, not a list)."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


InstrumentMessage = Annotated[InstrumentSnapshot | InstrumentUpdate, Field(discriminator="type")]
"""An ``instrument`` snapshot or update."""
