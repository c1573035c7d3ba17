"""Base classes and shared field types for every wire model.

* `InboundModel` is lenient: unknown fields are kept (``extra="allow"``) so that a new
  Kraken field never breaks a user.
* `OutboundModel` is strict: unknown fields are refused (``extra="forbid"``) so that a
  typo fails before anything reaches the wire.
* `WireDecimal` is the type of every price and quantity: an exact `Decimal`
  that keeps the wire digits (``0.00000000`` stays ``0.00000000``) and is written back as a JSON
  number with exactly those digits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

__all__ = [
    "InboundModel",
    "OutboundModel",
    "PositiveDecimal",
    "Timestamp",
    "WireDecimal",
]

#: An exact decimal price or quantity; a JSON number on the wire, never a float.
#:
#: pydantic's native ``Decimal`` validation is used on purpose: a ``Decimal`` from the lossless
#: decoder passes through as the same object (trailing zeros kept), a user's ``float`` is converted
#: through its shortest repr (``0.1`` stays ``0.1``), ``str``/``int`` are exact, and booleans,
#: NaN and infinities are refused.
WireDecimal = Annotated[Decimal, WithJsonSchema({"type": "number"})]

#: A strictly positive `WireDecimal` (order quantities).
PositiveDecimal = Annotated[
    Decimal,
    Field(gt=0),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0}),
]

#: An RFC3339 timestamp kept as the exact wire text.
#:
#: Kraken sends micro- and nanosecond precision (and sometimes no ``Z``); ``datetime`` cannot hold
#: nanoseconds, so the text is kept verbatim. `kraken_ws.reconcile.parse_timestamp` converts.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class InboundModel(BaseModel):
    """Base of every model the server sends: lenient, keeps unknown fields, immutable."""

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
    )


class OutboundModel(BaseModel):
    """Base of every model the client sends: strict about unknown fields, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
    )
