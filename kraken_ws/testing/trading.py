"""The trading methods: one handler per method, each a thin translation to the engine.

Every handler validates ``params`` into the method's model, enforces ``deadline`` where the
method has one, calls `MatchingEngine` and answers with the
method's success model. What they share (the auth endpoint, a token, the mapping of model and
engine errors to Kraken's texts) is applied once, around every handler, by `Trading.table`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from kraken_ws.models.common import TRADING_METHODS
from kraken_ws.models.methods.add_order import AddOrderParams, AddOrderResult, AddOrderSuccess
from kraken_ws.models.methods.amend_order import (
    AmendOrderParams,
    AmendOrderResult,
    AmendOrderSuccess,
)
from kraken_ws.models.methods.batch_add import BatchAddOrderResult, BatchAddParams, BatchAddSuccess
from kraken_ws.models.methods.batch_cancel import (
    BatchCancelParams,
    BatchCancelResult,
    BatchCancelSuccess,
)
from kraken_ws.models.methods.cancel_after import (
    CancelAllOrdersAfterParams,
    CancelAllOrdersAfterResult,
    CancelAllOrdersAfterSuccess,
)
from kraken_ws.models.methods.cancel_all import CancelAllParams, CancelAllResult, CancelAllSuccess
from kraken_ws.models.methods.cancel_order import (
    CancelOrderParams,
    CancelOrderResult,
    CancelOrderSuccess,
)
from kraken_ws.models.methods.edit_order import EditOrderParams, EditOrderResult, EditOrderSuccess

from .calls import Call, RequestError, TokenCheck, validation_error
from .engine import EngineError, MatchingEngine
from .market import epoch
from .router import Handler

__all__ = ["Trading"]

# deadline: allowed offset from the time the request is received (docs/protocol.md#ref-2-4,
# #ref-7-2).
_DEADLINE_MIN = 0.5
_DEADLINE_MAX = 60.0


class Trading:
    """Handles the trading methods of the auth endpoint.

    Args:
        engine: The matching engine.
        check_token: Checks the request's token.
        clock: Epoch seconds (deadlines).
    """

    def __init__(
        self, engine: MatchingEngine, check_token: TokenCheck, clock: Callable[[], float]
    ) -> None:
        self._engine = engine
        self._check_token = check_token
        self._clock = clock

    def table(self) -> dict[str, Handler]:
        """Method name -> handler, for every trading method (each wrapped by `_guarded`)."""
        handlers: dict[str, Callable[[Call, dict[str, Any]], None]] = {
            "add_order": self._add_order,
            "batch_add": self._batch_add,
            "amend_order": self._amend_order,
            "edit_order": self._edit_order,
            "cancel_order": self._cancel_order,
            "cancel_all": self._cancel_all,
            "cancel_all_orders_after": self._cancel_all_orders_after,
            "batch_cancel": self._batch_cancel,
        }
        assert handlers.keys() == TRADING_METHODS, "a trading method without a handler"
        return {method: self._guarded(handler) for method, handler in handlers.items()}

    def _guarded(self, handler: Callable[[Call, dict[str, Any]], None]) -> Handler:
        def guarded(call: Call) -> None:
            if call.conn.endpoint != "auth":
                # Unverified: Kraken's public endpoint has no trading methods; we answer with a
                # plain argument error rather than closing the socket.
                raise RequestError("EGeneral:Invalid arguments")
            params = call.params
            if not isinstance(params, dict):
                raise RequestError("ESession:Invalid session")
            self._check_token(params)
            try:
                handler(call, params)
            except ValidationError as exc:
                raise validation_error(exc, call.method) from None
            except EngineError as exc:
                raise RequestError(exc.error) from None
            except ArithmeticError:
                # decimal.InvalidOperation: a price or quantity too large for the instrument's
                # precision (quantize needs more than the context's 28 digits). The engine checks
                # orders before it changes anything, so refusing here leaves its state intact.
                # Unverified text: Kraken's answer to 1e30 BTC is not documented.
                raise RequestError("EGeneral:Invalid arguments") from None

        return guarded

    def _check_deadline(self, deadline: str | None, time_in: str) -> None:
        """Enforce ``deadline`` ([Protocol notes §2.4][ref-2-4]): 500 ms to 60 s ahead.

        Requests are handled synchronously, so the deadline only matters when it has already
        passed when the request is handled (e.g. under ``delay_responses``):
        ``EService:Deadline elapsed``, nothing placed. A deadline outside 500 ms-60 s of the
        time the request was received is refused with ``EGeneral:Invalid arguments:deadline``
        (a plausible choice: Kraken's error for that case is unverified). Neither refusal
        charges the rate counter (they are refused before the matching engine).
        """
        if deadline is None:
            return
        at = epoch(deadline)
        if at <= self._clock():
            raise RequestError("EService:Deadline elapsed")
        ahead = at - epoch(time_in)
        if not _DEADLINE_MIN <= ahead <= _DEADLINE_MAX:
            raise RequestError("EGeneral:Invalid arguments:deadline")

    def _add_order(self, call: Call, params: dict[str, Any]) -> None:
        p = AddOrderParams.model_validate(params)
        self._check_deadline(p.deadline, call.time_in)
        result = self._engine.add_order(p, p.symbol, validate=bool(p.validate_only))
        call.ok(AddOrderSuccess, AddOrderResult.model_validate(result))

    def _batch_add(self, call: Call, params: dict[str, Any]) -> None:
        b = BatchAddParams.model_validate(params)
        self._check_deadline(b.deadline, call.time_in)
        rows = self._engine.batch_add(list(b.orders), b.symbol, validate=bool(b.validate_only))
        call.ok(BatchAddSuccess, [BatchAddOrderResult.model_validate(r) for r in rows])

    def _amend_order(self, call: Call, params: dict[str, Any]) -> None:
        a = AmendOrderParams.model_validate(params)
        self._check_deadline(a.deadline, call.time_in)
        result = self._engine.amend_order(
            a.order_id,
            a.cl_ord_id,
            order_qty=a.order_qty,
            limit_price=a.limit_price,
            display_qty=a.display_qty,
            trigger_price=a.trigger_price,
            trigger_price_type=a.trigger_price_type,
            post_only=bool(a.post_only),
            symbol=a.symbol,
        )
        call.ok(AmendOrderSuccess, AmendOrderResult.model_validate(result))

    def _edit_order(self, call: Call, params: dict[str, Any]) -> None:
        e = EditOrderParams.model_validate(params)
        self._check_deadline(e.deadline, call.time_in)
        result = self._engine.edit_order(
            e.order_id,
            e.symbol,
            order_qty=e.order_qty,
            limit_price=e.limit_price if e.limit_price is not None else e.price,
            display_qty=e.display_qty,
            order_userref=e.order_userref,
            post_only=e.post_only,
            reduce_only=e.reduce_only,
            validate=bool(e.validate_only),
        )
        call.ok(EditOrderSuccess, EditOrderResult.model_validate(result))

    def _cancel_order(self, call: Call, params: dict[str, Any]) -> None:
        c = CancelOrderParams.model_validate(params)
        for outcome in self._engine.cancel_order(c.order_id, c.cl_ord_id, c.order_userref):
            if isinstance(outcome, EngineError):
                call.error(outcome.error)
            else:
                call.ok(CancelOrderSuccess, CancelOrderResult.model_validate(outcome))

    def _cancel_all(self, call: Call, params: dict[str, Any]) -> None:
        CancelAllParams.model_validate(params)
        count = self._engine.cancel_all()
        call.ok(CancelAllSuccess, CancelAllResult(count=count))

    def _cancel_all_orders_after(self, call: Call, params: dict[str, Any]) -> None:
        t = CancelAllOrdersAfterParams.model_validate(params)
        result = self._engine.cancel_all_after(t.timeout)
        call.ok(CancelAllOrdersAfterSuccess, CancelAllOrdersAfterResult.model_validate(result))

    def _batch_cancel(self, call: Call, params: dict[str, Any]) -> None:
        bc = BatchCancelParams.model_validate(params)
        count = self._engine.batch_cancel(list(bc.orders), bc.cl_ord_id)
        call.ok(BatchCancelSuccess, BatchCancelResult(count=count))
