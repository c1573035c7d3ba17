"""Trading methods of ``KrakenWSClient``, and the dead man's switch.

Every wrapper takes explicit keyword arguments (IDE completion, mypy) and builds its params model
from them with one helper, `params_of`; ``tests/client/test_wrappers.py`` fails when a
wrapper and its model disagree on a field. Each goes through the core's one request pipeline,
with the local rate-limit model as one step of it (a null model by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from ..events import Endpoint
from ..exceptions import BatchPartialFailure, KrakenAPIError, KrakenWSError, api_error_for
from ..models.common import (
    FeePreference,
    OrderType,
    PriceType,
    Side,
    StpType,
    TimeInForce,
    TriggerReference,
)
from ..models.methods.add_order import (
    AddOrderConditional,
    AddOrderParams,
    AddOrderRequest,
    AddOrderResult,
    AddOrderTriggers,
)
from ..models.methods.amend_order import AmendOrderParams, AmendOrderRequest, AmendOrderResult
from ..models.methods.batch_add import (
    BatchAddError,
    BatchAddOrder,
    BatchAddOrderResult,
    BatchAddParams,
    BatchAddRequest,
    BatchAddSuccess,
)
from ..models.methods.batch_cancel import (
    BatchCancelParams,
    BatchCancelRequest,
    BatchCancelResult,
    BatchCancelSuccess,
)
from ..models.methods.cancel_after import (
    CancelAllOrdersAfterParams,
    CancelAllOrdersAfterRequest,
    CancelAllOrdersAfterResult,
)
from ..models.methods.cancel_all import CancelAllParams, CancelAllRequest, CancelAllResult
from ..models.methods.cancel_order import CancelOrderParams, CancelOrderRequest, CancelOrderResult
from ..models.methods.edit_order import EditOrderParams, EditOrderRequest, EditOrderResult
from ..models.methods.ping import PingRequest
from ._base import ClientBase
from ._core import raise_for
from .types import Number

__all__ = ["CALL_ONLY", "RENAMED", "TradingMethods", "params_of"]

_log = logging.getLogger("kraken_ws.client")

_M = TypeVar("_M", bound=BaseModel)

CALL_ONLY = frozenset({"self", "req_id", "timeout", "request_timeout"})
"""Wrapper arguments that are about the call, not the params model."""

RENAMED = {"validate": "validate_only"}
"""Wrapper argument -> params field, where Python needs another name (``validate`` is a
pydantic ``BaseModel`` method)."""


def params_of(model: type[_M], arguments: Mapping[str, Any]) -> _M:
    """Build a params model from a wrapper's keyword arguments.

    Only what the caller passed goes into the model: ``None`` means "not given" and never
    becomes a wire ``null``.

    Args:
        model: The params model.
        arguments: The wrapper's ``locals()`` (call-only arguments are ignored).

    Returns:
        The validated params.

    Raises:
        pydantic.ValidationError: Invalid params (nothing is sent).
    """
    fields = {
        RENAMED.get(name, name): value
        for name, value in arguments.items()
        if name not in CALL_ONLY and value is not None
    }
    return model.model_validate(fields)


def _request(model: type[_M], params: BaseModel, req_id: int | None) -> _M:
    given: dict[str, object] = {"params": params}
    if req_id is not None:
        given["req_id"] = req_id
    return model.model_validate(given)


class TradingMethods(ClientBase):
    """``ping``, order entry and the dead man's switch (mixed into ``KrakenWSClient``)."""

    async def ping(self, *, endpoint: Endpoint = "public", timeout: float | None = None) -> float:
        """Send an application ``ping`` and wait for the ``pong``.

        Args:
            endpoint: Which connection to ping (opened if needed).
            timeout: Seconds to wait.

        Returns:
            Round-trip time in seconds.
        """
        start = self._core.clock()
        completed = await self._core.request(endpoint, PingRequest(), token=False, timeout=timeout)
        raise_for(completed, completed.responses[0])
        return self._core.clock() - start

    async def add_order(
        self,
        *,
        order_type: OrderType,
        side: Side,
        symbol: str,
        order_qty: Number | None = None,
        limit_price: Number | None = None,
        limit_price_type: PriceType | None = None,
        triggers: AddOrderTriggers | None = None,
        time_in_force: TimeInForce | None = None,
        margin: bool | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        effective_time: str | None = None,
        expire_time: str | None = None,
        deadline: str | None = None,
        cl_ord_id: str | None = None,
        order_userref: int | None = None,
        conditional: AddOrderConditional | None = None,
        display_qty: Number | None = None,
        fee_preference: FeePreference | None = None,
        no_mpp: bool | None = None,
        stp_type: StpType | None = None,
        cash_order_qty: Number | None = None,
        validate: bool | None = None,
        sender_sub_id: str | None = None,
        stop_price: Number | None = None,
        trigger: TriggerReference | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> AddOrderResult:
        """Place an order (``add_order``).

        Arguments mirror `AddOrderParams`; the params
        are validated before anything is sent.

        Args:
            order_type: The order type; every allowed value is listed under
                [`OrderType`][kraken_ws.models.common.OrderType].
            side: ``buy`` or ``sell``.
            symbol: Pair, e.g. ``"BTC/USD"``.
            order_qty: Base-asset quantity.
            limit_price: Limit price (limit-type orders).
            limit_price_type: ``static``/``pct``/``quote`` (trailing-stop-limit).
            triggers: Trigger for stop/take-profit/trailing orders.
            time_in_force: ``gtc`` (default), ``gtd``, ``ioc``, ``fok``.
            margin: Fund on margin.
            post_only: Cancel instead of taking liquidity.
            reduce_only: Only reduce a margin position.
            effective_time: Scheduled start (RFC3339).
            expire_time: GTD expiry (RFC3339).
            deadline: Engine deadline (RFC3339, 500 ms to 60 s ahead).
            cl_ord_id: Client order id.
            order_userref: Client tag (int32).
            conditional: OTO close-order template.
            display_qty: Iceberg visible quantity.
            fee_preference: ``base`` or ``quote``.
            no_mpp: Deprecated, ignored by Kraken.
            stp_type: Self-trade prevention: ``cancel_newest``, ``cancel_oldest`` or
                ``cancel_both``.
            cash_order_qty: Quote quantity (market buys without margin).
            validate: Validate only; nothing is placed.
            sender_sub_id: Institutional STP id.
            stop_price: Deprecated; use ``triggers``.
            trigger: Deprecated; use ``triggers``.
            req_id: Request id to use (default: allocated).
            timeout: Seconds to wait (default ``request_timeout``).

        Give every order a ``cl_ord_id`` of your own (the client makes one up when you give
        neither ``cl_ord_id`` nor ``order_userref``, see ``auto_cl_ord_id``): if the answer is
        lost, that id is how the order is found in Kraken's data.

        Returns:
            The `AddOrderResult`, with Kraken's ``order_id``.

        Raises:
            pydantic.ValidationError: Invalid params; nothing was sent.
            KrakenAPIError: The subclass that matches Kraken's error string, such as
                `InsufficientFunds` or `InvalidPrice`.
            ConnectionLost: The connection dropped in flight. ``outcome_unknown`` is true if the
                request was written: the order is then tracked as in doubt and resolved by an
                ``OrderResolved`` event (`in_doubt_orders`, `resolve_in_doubt`).
            RequestTimeout: No answer within ``timeout``; same ``outcome_unknown`` rule. Its
                ``req_id`` stays reserved until the answer comes (a ``LateResponse`` event).
            RateLimitError: The local rate-limit model says the order would exceed the limit.
        """
        if cl_ord_id is None and order_userref is None and self.auto_cl_ord_id and not validate:
            # An id of our own makes the order findable in Kraken's data if its answer is lost.
            cl_ord_id = str(uuid.uuid4())
        params = params_of(AddOrderParams, locals())
        request = _request(AddOrderRequest, params, req_id)
        # A validate-only order never reaches the matching engine, so it is not counted
        # (unverified; the local exchange models it the same way).
        cost = 0.0 if validate else 1.0
        result = await self._core.call(
            request, AddOrderResult, timeout=timeout, symbol=symbol, cost=cost
        )
        if not validate:
            self._core.limiter.order_placed(symbol, result.order_id, result.cl_ord_id)
        return result

    async def amend_order(
        self,
        *,
        order_id: str | None = None,
        cl_ord_id: str | None = None,
        order_qty: Number | None = None,
        display_qty: Number | None = None,
        limit_price: Number | None = None,
        limit_price_type: PriceType | None = None,
        post_only: bool | None = None,
        trigger_price: Number | None = None,
        trigger_price_type: PriceType | None = None,
        deadline: str | None = None,
        symbol: str | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> AmendOrderResult:
        """Amend an order in place (``amend_order``), keeping its id and, where possible, priority.

        Args:
            order_id: Kraken id (or ``cl_ord_id``).
            cl_ord_id: Client id (or ``order_id``).
            order_qty: New quantity.
            display_qty: New iceberg visible quantity.
            limit_price: New limit price.
            limit_price_type: Price type (trailing-stop-limit).
            post_only: Reject a price change that would take liquidity.
            trigger_price: New trigger price.
            trigger_price_type: Trigger price type.
            deadline: Engine deadline (RFC3339).
            symbol: Required for non-crypto pairs.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The `AmendOrderResult`, with Kraken's ``amend_id``.

        Raises:
            pydantic.ValidationError: Invalid params; nothing was sent.
            KrakenAPIError: ``UnknownOrder`` and friends.
            ConnectionLost: Dropped in flight (outcome unknown).
        """
        params = params_of(AmendOrderParams, locals())
        request = _request(AmendOrderRequest, params, req_id)
        limiter_symbol, cost = self._core.limiter.modify_cost("amend", order_id or cl_ord_id or "")
        return await self._core.call(
            request, AmendOrderResult, timeout=timeout, symbol=limiter_symbol, cost=cost
        )

    async def edit_order(
        self,
        *,
        order_id: str,
        symbol: str,
        order_qty: Number | None = None,
        limit_price: Number | None = None,
        display_qty: Number | None = None,
        fee_preference: FeePreference | None = None,
        order_userref: int | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        triggers: AddOrderTriggers | None = None,
        deadline: str | None = None,
        validate: bool | None = None,
        no_mpp: bool | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> EditOrderResult:
        """Cancel-and-replace an order (``edit_order``); prefer `amend_order`.

        Args:
            order_id: The order to edit.
            symbol: Its pair.
            order_qty: New quantity.
            limit_price: New limit price.
            display_qty: New iceberg visible quantity.
            fee_preference: ``base`` or ``quote``.
            order_userref: New client tag for the new order.
            post_only: Post-only flag.
            reduce_only: Reduce-only flag.
            triggers: New trigger.
            deadline: Engine deadline (RFC3339).
            validate: Validate only.
            no_mpp: Deprecated, ignored.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The result (new ``order_id``, ``original_order_id``).
        """
        params = params_of(EditOrderParams, locals())
        request = _request(EditOrderRequest, params, req_id)
        _sym, cost = self._core.limiter.modify_cost("edit", order_id)
        result = await self._core.call(
            request, EditOrderResult, timeout=timeout, symbol=symbol, cost=cost
        )
        if not validate and result.order_id:
            # The replacement has a new id: cancelling it later must cost by its own age.
            self._core.limiter.order_replaced(order_id, result.order_id)
        return result

    async def cancel_order(
        self,
        *,
        order_id: Sequence[str] | None = None,
        cl_ord_id: Sequence[str] | None = None,
        order_userref: Sequence[int] | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> list[CancelOrderResult]:
        """Cancel orders by id (``cancel_order``); one response per id, all collected.

        Args:
            order_id: Kraken ids.
            cl_ord_id: Client ids.
            order_userref: Client tags (each cancels every order carrying it).
            req_id: Request id to use.
            timeout: Seconds to wait for every response.

        Returns:
            One result per cancelled order.

        Raises:
            KrakenAPIError: The first failed id's error (such as `InvalidOrder`); the other ids
                may have been cancelled (see ``error.response``).
        """
        params = params_of(
            CancelOrderParams,
            {
                "order_id": _listed(order_id),
                "cl_ord_id": _listed(cl_ord_id),
                "order_userref": _listed(order_userref),
            },
        )
        request = _request(CancelOrderRequest, params, req_id)
        for oid in [*(order_id or ()), *(cl_ord_id or ())]:
            self._core.limiter.charge_cancel(oid)
        completed = await self._core.request("auth", request, token=True, timeout=timeout)
        results: list[CancelOrderResult] = []
        for response in completed.responses:
            raise_for(completed, response)
            result = getattr(response, "result", None)
            if isinstance(result, CancelOrderResult):
                results.append(result)
        return results

    async def cancel_all(
        self, *, req_id: int | None = None, timeout: float | None = None
    ) -> CancelAllResult:
        """Cancel every open order (``cancel_all``).

        Args:
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The result (``count``).
        """
        request = _request(CancelAllRequest, CancelAllParams(), req_id)
        return await self._core.call(request, CancelAllResult, timeout=timeout)

    async def cancel_all_orders_after(
        self, timeout: int, *, req_id: int | None = None, request_timeout: float | None = None
    ) -> CancelAllOrdersAfterResult:
        """Arm, extend or (``timeout=0``) disarm the dead man's switch.

        Args:
            timeout: Seconds until every order is cancelled (< 86400); 0 disables.
            req_id: Request id to use.
            request_timeout: Seconds to wait for the answer.

        Returns:
            The result (``currentTime``, ``triggerTime``).
        """
        params = CancelAllOrdersAfterParams(timeout=timeout)
        request = _request(CancelAllOrdersAfterRequest, params, req_id)
        return await self._core.call(request, CancelAllOrdersAfterResult, timeout=request_timeout)

    async def batch_add(
        self,
        *,
        symbol: str,
        orders: Sequence[BatchAddOrder],
        deadline: str | None = None,
        validate: bool | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> list[BatchAddOrderResult]:
        """Place 2 to 15 orders on one pair (``batch_add``).

        Kraken validates the whole batch first (one invalid order refuses all of them), then
        single orders may still fail their own checks (funds, for example) while the others are
        placed. Such a partial failure **raises** `BatchPartialFailure`: a refused order cannot
        go unnoticed, and the exception names the placed orders (live on the exchange: keep or
        cancel them) and the refused ones, each with its error.

        Args:
            symbol: The pair.
            orders: The orders (``BatchAddOrder`` models).
            deadline: Engine deadline for the batch.
            validate: Validate only.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            One row per order, in request order, every one placed (with its ``order_id``; ``""``
            for each when ``validate`` is set).

        Raises:
            pydantic.ValidationError: Invalid params; nothing was sent.
            BatchPartialFailure: Some orders were placed, others refused (``.placed``,
                ``.failed``, ``.rows``).
            KrakenAPIError: The batch was refused and no order was placed: the matching
                subclass (for example ``InsufficientFunds``), its ``response`` holding any rows.
            ConnectionLost: Dropped in flight; each order of the batch is tracked as in doubt
                (`in_doubt_orders`).
            RequestTimeout: No answer within ``timeout``; same rule.
        """
        if self.auto_cl_ord_id and not validate:
            orders = [
                o
                if o.cl_ord_id is not None or o.order_userref is not None
                else o.model_copy(update={"cl_ord_id": str(uuid.uuid4())})
                for o in orders
            ]
        params = params_of(BatchAddParams, {**locals(), "orders": list(orders)})
        request = _request(BatchAddRequest, params, req_id)
        self._core.limiter.charge(symbol, len(params.orders) / 2)
        completed = await self._core.request("auth", request, token=True, timeout=timeout)
        response = completed.responses[0]
        if not isinstance(response, BatchAddSuccess | BatchAddError):
            raise_for(completed, response)
            raise KrakenAPIError(
                "unexpected batch_add response", method="batch_add", response=response
            )
        rows, placed, failed = response.rows, response.placed, response.failed
        if not validate:
            # Placed orders are live whatever else the answer says: never lose track of them.
            for row in placed:
                assert row.order_id is not None  # placed rows have one
                self._core.limiter.order_placed(symbol, row.order_id, row.cl_ord_id)
        if isinstance(response, BatchAddSuccess) and not failed:
            if not rows:
                raise KrakenAPIError(
                    "batch_add response without rows", method="batch_add", response=response
                )
            return rows
        error = next((row.error for row in failed if row.error), None)
        if isinstance(response, BatchAddError):
            error = error or response.error
        error = error or "refused (the answer gives no error string)"
        if placed:
            raise BatchPartialFailure(
                error,
                placed=placed,
                failed=failed,
                rows=rows,
                req_id=response.req_id,
                response=response,
            )
        raise api_error_for(error, method="batch_add", req_id=response.req_id, response=response)

    async def batch_cancel(
        self,
        *,
        orders: Sequence[str],
        cl_ord_id: Sequence[str] | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> BatchCancelResult:
        """Cancel 2 to 50 orders (``batch_cancel``).

        Args:
            orders: Kraken order ids or ``order_userref`` values as strings.
            cl_ord_id: Client ids.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The result (``count``).
        """
        params = params_of(
            BatchCancelParams, {"orders": list(orders), "cl_ord_id": _listed(cl_ord_id)}
        )
        request = _request(BatchCancelRequest, params, req_id)
        for oid in [*orders, *(cl_ord_id or ())]:
            # Kraken accepts a batch cancel beyond the maximum and only counts it.
            self._core.limiter.charge_cancel(oid, enforce=False)
        completed = await self._core.request("auth", request, token=True, timeout=timeout)
        response = completed.responses[0]
        raise_for(completed, response)
        if isinstance(response, BatchCancelSuccess):
            if response.result is not None:
                return response.result
            return BatchCancelResult(count=response.orders_cancelled or 0)
        raise KrakenAPIError(
            "unexpected batch_cancel response", method="batch_cancel", response=response
        )

    @contextlib.asynccontextmanager
    async def dead_mans_switch(
        self, timeout: int = 60, refresh_every: float = 20.0
    ) -> AsyncIterator[CancelAllOrdersAfterResult]:
        """Keep ``cancel_all_orders_after`` armed while the block runs; disarm on exit.

        If the process dies or the connection stays down for ``timeout`` seconds, Kraken
        cancels every order.

        Args:
            timeout: Countdown armed at each refresh, seconds.
            refresh_every: Seconds between refreshes (well below ``timeout``).

        Yields:
            The first arming result.
        """
        if not 0 < refresh_every < timeout:
            raise ValueError("need 0 < refresh_every < timeout")
        first = await self.cancel_all_orders_after(timeout)

        async def refresh() -> None:
            while True:
                await asyncio.sleep(refresh_every)
                try:
                    await self.cancel_all_orders_after(timeout)
                except KrakenWSError as exc:
                    # Keep trying: a refresh lost to a reconnect is retried at the next beat,
                    # still well inside the countdown.
                    _log.warning("dead man's switch refresh failed: %s", exc)

        task = self._core.spawn(refresh())
        try:
            yield first
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if not self._core.closed:
                await self.cancel_all_orders_after(0)


def _listed(values: Sequence[Any] | None) -> list[Any] | None:
    return list(values) if values is not None else None
