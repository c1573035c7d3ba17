"""The ``balances`` channel: balances and ledger entries (https://docs.kraken.com/api/docs/websocket-v2/balances).

Private (``wss://ws-auth.kraken.com/v2``, token required). A snapshot lists balances per asset;
each update is a ledger transaction.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import InboundModel, OutboundModel, Timestamp, WireDecimal

__all__ = [
    "BalanceSnapshotData",
    "BalanceUpdateData",
    "BalanceWallet",
    "BalancesMessage",
    "BalancesSnapshot",
    "BalancesSubscribeParams",
    "BalancesSubscribeResult",
    "BalancesUnsubscribeParams",
    "BalancesUpdate",
]


class BalancesSubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``balances`` channel.

    Attributes:
        channel (Literal["balances"], optional): Channel name.
        token (str | None, optional): WebSocket token; the client fills it in.
        snapshot (bool | None, optional): Send a snapshot first (default ``true``).
        rebased (bool | None, optional): xStocks only: ``true`` (default) reports in
            underlying-equity terms, ``false`` in SPV-token terms.
        users (Literal["all"] | None, optional): ``all`` (master accounts only): stream master and
            subaccount events; no snapshot is sent.
    """

    channel: Literal["balances"] = "balances"
    """Channel name."""
    token: str | None = None
    """WebSocket token; the client fills it in."""
    snapshot: bool | None = None
    """Send a snapshot first (default ``true``)."""
    rebased: bool | None = None
    """xStocks only: ``true`` (default) reports in underlying-equity terms, ``false`` in SPV-token
    terms."""
    users: Literal["all"] | None = None
    """``all`` (master accounts only): stream master and subaccount events; no snapshot is
    sent."""


class BalancesUnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``balances`` channel.

    Attributes:
        channel (Literal["balances"], optional): Channel name.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    channel: Literal["balances"] = "balances"
    """Channel name."""
    token: str | None = None
    """WebSocket token; the client fills it in."""


class BalancesSubscribeResult(InboundModel):
    """``result`` of a successful ``balances`` subscribe or unsubscribe ack.

    Attributes:
        channel (Literal["balances"]): Channel name.
        snapshot (bool | None, optional): Whether a snapshot follows.
        warnings (list[str] | None, optional): Deprecation advisories.
    """

    channel: Literal["balances"]
    """Channel name."""
    snapshot: bool | None = None
    """Whether a snapshot follows."""
    warnings: list[str] | None = None
    """Deprecation advisories."""


class BalanceWallet(InboundModel):
    """The balance of one asset in one wallet.

    Attributes:
        type (str): Wallet type. Documented values: ``spot``, ``earn``.
        id (str): Wallet id. Documented values: ``main``, ``flex``, ``bonded``, ``flexible``,
            ``liquid``, ``locked``, ``closed``.
        balance (WireDecimal): Balance in this wallet.
    """

    type: str
    """Wallet type. Documented values: ``spot``, ``earn``."""
    id: str
    """Wallet id. Documented values: ``main``, ``flex``, ``bonded``, ``flexible``, ``liquid``,
    ``locked``, ``closed``."""
    balance: WireDecimal
    """Balance in this wallet."""


class BalanceSnapshotData(InboundModel):
    """The balance of one asset.

    Attributes:
        asset (str): Asset code, e.g. ``BTC``.
        asset_class (str): Asset class; currently always ``currency``.
        balance (WireDecimal): Total balance over all wallets.
        wallets (list[BalanceWallet] | None, optional): Balance per wallet (absent in 2024 frames).
    """

    asset: str
    """Asset code, e.g. ``BTC``."""
    asset_class: str
    """Asset class; currently always ``currency``."""
    balance: WireDecimal
    """Total balance over all wallets."""
    wallets: list[BalanceWallet] | None = None
    """Balance per wallet (absent in 2024 frames)."""


class BalanceUpdateData(InboundModel):
    """One ledger transaction (a trade produces two, sharing ``ref_id``).

    Attributes:
        ledger_id (str): Ledger entry id.
        ref_id (str): Reference id of the originating event, e.g. the trade id.
        timestamp (Timestamp): Time of the transaction.
        type (str): Transaction type. Documented values: ``deposit``, ``withdrawal``, ``trade``,
            ``margin``, ``adjustment``, ``rollover``, ``credit``, ``transfer``, ``settled``,
            ``staking``, ``sale``, ``reserve``, ``conversion``, ``dividend``, ``reward``,
            ``creator_fee``.
        subtype (str | None, optional): Transaction subtype. Documented values: ``spotfromfutures``,
            ``spottofutures``, ``stakingfromspot``, ``spotfromstaking``, ``stakingtospot``,
            ``spottostaking``.
        category (str): Transaction category. Documented values: ``deposit``, ``withdrawal``,
            ``trade``, ``margin-trade``, ``margin-settle``, ``margin-conversion``, ``conversion``,
            ``credit``, ``marginrollover``, ``staking-rewards``, ``instant``, ``equity-trade``,
            ``airdrop``, ``equity-dividend``, ``reward-bonus``, ``nft``, ``block-trade``.
        asset (str): Asset code.
        asset_class (str): Asset class; currently always ``currency``.
        amount (WireDecimal): Signed change of the balance.
        fee (WireDecimal): Fee paid.
        balance (WireDecimal): Total balance of the asset after the transaction.
        wallet_type (str): Wallet type. Documented values: ``spot``, ``earn``.
        wallet_id (str): Wallet id. Documented values: ``main`` (spot); ``bonded``, ``flexible``,
            ``liquid``, ``locked`` (earn).
        user (str | None, optional): Account of the transaction (only with ``users="all"``).
    """

    ledger_id: str
    """Ledger entry id."""
    ref_id: str
    """Reference id of the originating event, e.g. the trade id."""
    timestamp: Timestamp
    """Time of the transaction."""
    type: str
    """Transaction type. Documented values: ``deposit``, ``withdrawal``, ``trade``, ``margin``,
    ``adjustment``, ``rollover``, ``credit``, ``transfer``, ``settled``, ``staking``, ``sale``,
    ``reserve``, ``conversion``, ``dividend``, ``reward``, ``creator_fee``."""
    subtype: str | None = None
    """Transaction subtype. Documented values: ``spotfromfutures``, ``spottofutures``,
    ``stakingfromspot``, ``spotfromstaking``, ``stakingtospot``, ``spottostaking``."""
    category: str
    """Transaction category. Documented values: ``deposit``, ``withdrawal``, ``trade``,
    ``margin-trade``, ``margin-settle``, ``margin-conversion``, ``conversion``, ``credit``,
    ``marginrollover``, ``staking-rewards``, ``instant``, ``equity-trade``, ``airdrop``,
    ``equity-dividend``, ``reward-bonus``, ``nft``, ``block-trade``."""
    asset: str
    """Asset code."""
    asset_class: str
    """Asset class; currently always ``currency``."""
    amount: WireDecimal
    """Signed change of the balance."""
    fee: WireDecimal
    """Fee paid."""
    balance: WireDecimal
    """Total balance of the asset after the transaction."""
    wallet_type: str
    """Wallet type. Documented values: ``spot``, ``earn``."""
    wallet_id: str
    """Wallet id. Documented values: ``main`` (spot); ``bonded``, ``flexible``, ``liquid``,
    ``locked`` (earn)."""
    user: str | None = None
    """Account of the transaction (only with ``users="all"``)."""


class BalancesSnapshot(InboundModel):
    """Balances of every asset, sent after subscribing.

    Attributes:
        channel (Literal["balances"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (list[BalanceSnapshotData]): One item per asset.
        sequence (int | None, optional): Sequence number of the message in this subscription.
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["balances"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: list[BalanceSnapshotData]
    """One item per asset."""
    sequence: int | None = None
    """Sequence number of the message in this subscription."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


class BalancesUpdate(InboundModel):
    """Ledger transactions.

    Attributes:
        channel (Literal["balances"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[BalanceUpdateData]): Ledger transactions, in order.
        sequence (int | None, optional): Sequence number of the message in this subscription.
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["balances"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[BalanceUpdateData]
    """Ledger transactions, in order."""
    sequence: int | None = None
    """Sequence number of the message in this subscription."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


BalancesMessage = Annotated[BalancesSnapshot | BalancesUpdate, Field(discriminator="type")]
"""A ``balances`` snapshot or update."""
