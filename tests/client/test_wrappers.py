"""Every keyword wrapper of ``KrakenWSClient`` takes exactly its params model's fields.

The wrappers exist for IDE completion and mypy (explicit keyword arguments); the models are
where the rules live. This test is what keeps the two from drifting apart: a field added to a
model and forgotten in its wrapper (or the reverse) fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from kraken_ws.client import KrakenWSClient
from kraken_ws.client._trading import CALL_ONLY, RENAMED
from kraken_ws.models.channels.balances import BalancesSubscribeParams
from kraken_ws.models.channels.book import BookSubscribeParams
from kraken_ws.models.channels.executions import ExecutionsSubscribeParams
from kraken_ws.models.channels.instrument import InstrumentSubscribeParams
from kraken_ws.models.channels.level3 import Level3SubscribeParams
from kraken_ws.models.channels.ohlc import OhlcSubscribeParams
from kraken_ws.models.channels.ticker import TickerSubscribeParams
from kraken_ws.models.channels.trade import TradeSubscribeParams
from kraken_ws.models.methods.add_order import AddOrderParams
from kraken_ws.models.methods.amend_order import AmendOrderParams
from kraken_ws.models.methods.batch_add import BatchAddParams
from kraken_ws.models.methods.batch_cancel import BatchCancelParams
from kraken_ws.models.methods.cancel_after import CancelAllOrdersAfterParams
from kraken_ws.models.methods.cancel_order import CancelOrderParams
from kraken_ws.models.methods.edit_order import EditOrderParams

# Fields a wrapper deliberately does not take: the token is the client's business, the channel
# is the wrapper's name, and these deprecated fields have a documented replacement.
NEVER = {"token", "channel"}
DEPRECATED = {
    "edit_order": {"price", "trigger", "stop_price"},
    "subscribe_executions": {"snapshot", "snapshot_trades"},
}
# Wrapper argument -> model field where the names differ (plural for a list of symbols).
SUBSCRIBE_RENAMED = {"symbols": "symbol"}

CASES: list[tuple[Callable[..., Any], type[BaseModel], frozenset[str]]] = [
    (KrakenWSClient.add_order, AddOrderParams, CALL_ONLY),
    (KrakenWSClient.amend_order, AmendOrderParams, CALL_ONLY),
    (KrakenWSClient.edit_order, EditOrderParams, CALL_ONLY),
    (KrakenWSClient.cancel_order, CancelOrderParams, CALL_ONLY),
    (KrakenWSClient.batch_add, BatchAddParams, CALL_ONLY),
    (KrakenWSClient.batch_cancel, BatchCancelParams, CALL_ONLY),
    # Its params field is called timeout; the call's own timeout is request_timeout.
    (
        KrakenWSClient.cancel_all_orders_after,
        CancelAllOrdersAfterParams,
        frozenset({"self", "req_id", "request_timeout"}),
    ),
    (KrakenWSClient.subscribe_ticker, TickerSubscribeParams, CALL_ONLY),
    (KrakenWSClient.subscribe_book, BookSubscribeParams, CALL_ONLY),
    (KrakenWSClient.subscribe_trade, TradeSubscribeParams, CALL_ONLY),
    (KrakenWSClient.subscribe_ohlc, OhlcSubscribeParams, CALL_ONLY),
    (KrakenWSClient.subscribe_instrument, InstrumentSubscribeParams, CALL_ONLY),
    (KrakenWSClient.subscribe_executions, ExecutionsSubscribeParams, CALL_ONLY),
    (KrakenWSClient.subscribe_balances, BalancesSubscribeParams, CALL_ONLY),
    (KrakenWSClient.subscribe_level3, Level3SubscribeParams, CALL_ONLY),
]


@pytest.mark.parametrize(
    ("wrapper", "model", "call_only"), CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_wrapper_takes_exactly_the_models_fields(
    wrapper: Callable[..., Any], model: type[BaseModel], call_only: frozenset[str]
) -> None:
    signature = inspect.signature(wrapper)
    renamed = {**RENAMED, **SUBSCRIBE_RENAMED}
    taken = {renamed.get(name, name) for name in signature.parameters if name not in call_only}
    fields = set(model.model_fields) - NEVER - DEPRECATED.get(wrapper.__name__, set())
    assert taken - fields == set(), f"{wrapper.__name__} takes what {model.__name__} lacks"
    assert fields - taken == set(), f"{wrapper.__name__} misses fields of {model.__name__}"


@pytest.mark.parametrize(
    ("wrapper", "model", "call_only"), CASES[:7], ids=lambda c: getattr(c, "__name__", "")
)
def test_trading_wrappers_are_keyword_only(
    wrapper: Callable[..., Any], model: type[BaseModel], call_only: frozenset[str]
) -> None:
    del model, call_only
    params = list(inspect.signature(wrapper).parameters.values())[1:]
    positional = [p.name for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    # cancel_all_orders_after(timeout) keeps its one positional argument (python-kraken-sdk's
    # shape); every other trading argument is keyword-only.
    assert positional in ([], ["timeout"])
