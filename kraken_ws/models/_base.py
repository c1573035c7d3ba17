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

import inspect
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

__all__ = [
    "InboundModel",
    "OutboundModel",
    "PositiveDecimal",
    "Timestamp",
    "WireDecimal",
]

WireDecimal = Annotated[Decimal, WithJsonSchema({"type": "number"})]
"""An exact decimal price or quantity; a JSON number on the wire, never a float.

pydantic's native ``Decimal`` validation is used on purpose: a ``Decimal`` from the lossless
decoder passes through as the same object (trailing zeros kept), a user's ``float`` is converted
through its shortest repr (``0.1`` stays ``0.1``), ``str``/``int`` are exact, and booleans,
NaN and infinities are refused.
"""

PositiveDecimal = Annotated[
    Decimal,
    Field(gt=0),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0}),
]
"""A strictly positive `WireDecimal` (order quantities)."""

Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""An RFC3339 timestamp kept as the exact wire text.

Kraken sends micro- and nanosecond precision (and sometimes no ``Z``); ``datetime`` cannot hold
nanoseconds, so the text is kept verbatim. `kraken_ws.reconcile.parse_timestamp` converts.
"""


class _AsWritten:
    """An annotation that shows as its source text (``OrderType | None``) in a signature."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def readable_signature(cls: type[BaseModel]) -> inspect.Signature:
    """``cls``'s constructor signature with each annotation as written in the source.

    pydantic's own signature spells every alias out (``Literal['limit', 'market', ...]``,
    ``Optional[Annotated[Decimal, FieldInfo(...), WithJsonSchema(...)]]``): 2,000 characters for
    ``AddOrderParams``, which push the docstring, and with it the fields' descriptions, off the
    first screen of ``help()``. Only the display changes; validation never reads it.
    """
    signature = inspect.signature(cls)
    written: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        annotations = vars(klass).get("__annotations__", {})
        written |= {k: v for k, v in annotations.items() if isinstance(v, str)}
    field_of = {field.alias or name: name for name, field in cls.model_fields.items()}
    parameters = []
    for parameter in signature.parameters.values():
        text = written.get(field_of.get(parameter.name, parameter.name))
        if text is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            parameter = parameter.replace(annotation=_AsWritten(text))
        parameters.append(parameter)
    return signature.replace(parameters=parameters)


class _Readable(BaseModel):
    """Gives every model subclass the signature of `readable_signature`."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__signature__ = readable_signature(cls)


class InboundModel(_Readable):
    """Base of every model the server sends: lenient, keeps unknown fields, immutable."""

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
    )


class OutboundModel(_Readable):
    """Base of every model the client sends: strict about unknown fields, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
    )
