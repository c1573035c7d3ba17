"""Pieces every method response shares."""

from __future__ import annotations

from pydantic import Field

from .._base import InboundModel, Timestamp

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

#: ``req_id`` as the client sends it: a non-negative int32 (Kraken echoes it as a JSON number).
REQ_ID_FIELD = Field(default=None, ge=0, le=INT32_MAX)


class ResponseBase(InboundModel):
    """Fields of every method response envelope.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
    """

    req_id: int | None = None
    """Echo of the request's ``req_id``; absent when none was sent."""
    time_in: Timestamp | None = None
    """When the server received the request."""
    time_out: Timestamp | None = None
    """When the server sent the response."""


class ResultBase(InboundModel):
    """Fields every ``result`` object may carry.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
    """

    warnings: list[str] | None = None
    """Advisories such as deprecation notices."""


class ErrorFields(ResponseBase):
    """The failure half of every method response: ``success`` is ``false``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
    """

    error: str
    """Kraken's error string, e.g. ``"EOrder:Insufficient funds"``."""
    symbol: str | None = None
    """Symbol echoed by some subscription errors (undocumented, observed)."""
    status: str | None = None
    """``"error"`` on some captured responses (undocumented)."""
