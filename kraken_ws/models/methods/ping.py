"""``ping``: application-level keepalive (https://docs.kraken.com/api/docs/websocket-v2/ping).

The request has no ``params``. Kraken answers ``{"method": "pong", ...}``, normally without
``success``/``result``; a malformed ping (e.g. one with ``params``) is answered
``{"method": "ping", "success": false, "error": ...}`` instead ([Protocol notes §4.2][ref-4-2]).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import OutboundModel

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase

__all__ = [
    "PingError",
    "PingRequest",
    "PingResponse",
    "Pong",
]


class PingRequest(OutboundModel):
    """The ``ping`` request: method and optional ``req_id``, no params.

    Attributes:
        method (Literal["ping"], optional): Method name.
        req_id (int | None, optional): Client request id, echoed in the pong.
    """

    method: Literal["ping"] = "ping"
    """Method name."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the pong."""


class Pong(ResponseBase):
    """Answer to a ``ping``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["pong"]): Always ``pong``.
        success (bool | None, optional): Allowed by the schema, not sent in practice.
        result (ResultBase | None, optional): Allowed by the schema (``warnings``), not sent in
            practice.
        error (str | None, optional): Allowed by the schema, not sent in practice.
    """

    method: Literal["pong"]
    """Always ``pong``."""
    success: bool | None = None
    """Allowed by the schema, not sent in practice."""
    result: ResultBase | None = None
    """Allowed by the schema (``warnings``), not sent in practice."""
    error: str | None = None
    """Allowed by the schema, not sent in practice."""


class PingError(ErrorFields):
    """A rejected ``ping`` (answered with ``method: "ping"``, not ``pong``).

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["ping"]): Always ``ping``.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["ping"]
    """Always ``ping``."""
    success: Literal[False]
    """Always ``false``."""


PingResponse = Annotated[Pong | PingError, Field(discriminator="method")]
"""Response to ``ping``: a pong or an error."""
