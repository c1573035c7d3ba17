"""Strict wire names: a request may use only the names ``kraken_ws.encode`` puts on the wire.

The request models accept Python-side names too (``validate_only`` for the wire's ``validate``,
through ``populate_by_name``), which is right for a client SDK but wrong for an exchange: a
third-party client sending ``validate_only`` would pass here and fail on Kraken. So before the
models validate a request, every key is checked against the names ``encode()`` would put on the
wire, derived from the same models (one source of truth; nothing typed twice).
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from kraken_ws.models.messages import method_models

__all__ = ["unsupported_field"]

_ENVELOPE_FIELDS = frozenset({"method", "params", "req_id"})

_REQUEST_MODELS: dict[str, type[BaseModel]] = {
    method: request for method, (request, _response) in method_models().items()
}


@cache
def _wire_fields(model: type[BaseModel]) -> dict[str, Any]:
    """Wire name -> annotation of every field of ``model``, as ``request_to_wire`` writes it.

    ``model_dump()`` (what ``request_to_wire`` calls) uses the serialization alias (or alias)
    only when the model sets ``serialize_by_alias``, and the field name otherwise.
    """
    by_alias = bool(model.model_config.get("serialize_by_alias"))
    return {
        ((info.serialization_alias or info.alias or name) if by_alias else name): info.annotation
        for name, info in model.model_fields.items()
    }


@cache
def _models_in(annotation: Any) -> tuple[type[BaseModel], ...]:
    """The models an annotation can hold (through ``X | None``, ``list[X]``, ``Annotated``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return (annotation,)
    return tuple(m for arg in typing.get_args(annotation) for m in _models_in(arg))


def _model_for(
    models: tuple[type[BaseModel], ...], value: dict[str, Any]
) -> type[BaseModel] | None:
    """The member of a (discriminated) union that ``value`` is meant for, if one matches.

    A union member is picked by its ``Literal`` fields (``channel`` for subscribe params); when
    none matches, the models' own validation reports the bad discriminator.
    """
    if len(models) == 1:
        return models[0]
    for model in models:
        literals = {
            wire: typing.get_args(annotation)
            for wire, annotation in _wire_fields(model).items()
            if typing.get_origin(annotation) is Literal
        }
        if literals and all(
            wire in value and _literal_match(value[wire], allowed)
            for wire, allowed in literals.items()
        ):
            return model
    return None


def _literal_match(value: Any, allowed: tuple[Any, ...]) -> bool:
    # Unhashable JSON (a list or object where a channel name belongs) matches nothing.
    return isinstance(value, str | int | bool) and value in allowed


def _unsupported_in(models: tuple[type[BaseModel], ...], value: Any) -> str | None:
    """The first key in ``value`` (recursively) that is not a wire name of its model."""
    if isinstance(value, list):
        for item in value:
            found = _unsupported_in(models, item)
            if found is not None:
                return found
        return None
    if not models or not isinstance(value, dict):
        return None  # a wrong type is the models' business, not a naming question
    model = _model_for(models, value)
    if model is None:
        return None
    fields = _wire_fields(model)
    for key in value:
        if key not in fields:
            return str(key)
    for key, item in value.items():
        found = _unsupported_in(_models_in(fields[key]), item)
        if found is not None:
            return found
    return None


def unsupported_field(method: str, message: dict[str, Any]) -> str | None:
    """The first name in a request that is not a documented wire name for ``method``.

    Checks the envelope, ``params`` and the objects nested in them (``batch_add`` orders,
    ``triggers``, ``conditional``); ``None`` if every name is a wire name.
    """
    request = _REQUEST_MODELS.get(method)
    if request is None:
        # Unknown method: only the envelope can be judged; the method itself is refused later.
        return next((str(key) for key in message if key not in _ENVELOPE_FIELDS), None)
    return _unsupported_in((request,), message)
