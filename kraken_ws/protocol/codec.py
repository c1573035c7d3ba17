"""Lossless codec: wire text to typed models and back.

``decode`` parses numbers exactly (``Decimal`` with the wire digits, arbitrary-size ints), then
validates into the one model that the frame's tags name (``channel``/``type`` or
``method``/``success``). It never calls ``model_validate_json``, which would parse numbers as
binary floats first. A frame no model describes becomes :class:`UnknownMessage` (or, with
``strict=True``, raises :class:`~kraken_ws.exceptions.DecodeError`), so a message Kraken adds
tomorrow never crashes a client.

``encode`` validates a request (model or plain dict) and writes it as compact JSON whose numbers
carry exactly the ``Decimal`` digits: no float round trip, no exponent form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..exceptions import DecodeError
from ..models.messages import (
    ClientRequest,
    ServerMessage,
    UnknownMessage,
    message_model_for,
    method_models,
    server_models,
)
from ._json import MAX_DIGITS, MAX_EXPONENT, NumberOutOfRange, dumps, loads, number_in_range

__all__ = ["decode", "encode", "request_to_wire", "validate_request"]

_REQUEST_ADAPTER: TypeAdapter[ClientRequest] = TypeAdapter(ClientRequest)
_REQUEST_MODELS: dict[str, type[BaseModel]] = {
    method: request for method, (request, _response) in method_models().items()
}
_MAX_RAW_IN_ERROR = 200


def _channel_validators() -> dict[tuple[object, object], Callable[[Any], ServerMessage]]:
    # (channel, type) -> the model's compiled validator, for the frames that make up nearly all
    # traffic. Calling the validator directly skips model_validate's Python wrapper, and a tuple
    # lookup skips building the "channel.type" tag: together ~0.5 µs of a ~5 µs book update.
    # The validator is the one model_validate calls, so the result is the same object.
    table: dict[tuple[object, object], Callable[[Any], ServerMessage]] = {}
    for tag, model in server_models().items():
        channel, _, kind = tag.partition(".")
        if model.model_fields.get("channel") is None:
            continue  # method responses: dispatched on method/success below
        table[(channel, kind or None)] = model.__pydantic_validator__.validate_python
    return table


_CHANNEL_VALIDATORS = _channel_validators()


def _excerpt(data: str | bytes) -> str:
    # Slice before decoding: a hostile frame can be megabytes long.
    head = data[: _MAX_RAW_IN_ERROR * 4 + 4]
    text = head if isinstance(head, str) else head.decode("utf-8", "replace")
    return text if len(data) <= _MAX_RAW_IN_ERROR else text[:_MAX_RAW_IN_ERROR] + "..."


def decode(data: str | bytes, *, strict: bool = False) -> ServerMessage:
    """Decode one wire frame into its typed model.

    Args:
        data: The frame text (``str`` or UTF-8 ``bytes``).
        strict: Raise instead of returning :class:`UnknownMessage` for frames no model
            describes or that fail validation.

    Returns:
        The specific model (``BookUpdate``, ``AddOrderSuccess``, ``Heartbeat``...), or
        :class:`UnknownMessage` holding the decoded object.

    Raises:
        DecodeError: The text is not JSON, holds a number outside the bound of
            :mod:`kraken_ws.protocol._json` (more than 40 significant digits, or an exponent
            beyond ±400: numbers whose text could take gigabytes), or (strict mode) matches no
            model.
    """
    try:
        obj = loads(data)
    except NumberOutOfRange as exc:
        raise DecodeError(f"frame has a {exc}: {_excerpt(data)}", raw=data) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"frame is not valid JSON: {exc}: {_excerpt(data)}", raw=data) from exc
    return _validate(obj, strict, data)


def decode_object(
    obj: Any, *, strict: bool = False, raw: str | bytes | None = None
) -> ServerMessage:
    """Validate an already losslessly-decoded JSON value (see :func:`decode`).

    Args:
        obj: The value from :func:`kraken_ws.protocol._json.loads`.
        strict: Raise instead of returning :class:`UnknownMessage`.
        raw: The original text, kept on a raised :class:`DecodeError`.

    Raises:
        DecodeError: (strict mode) the value matches no model.
    """
    return _validate(obj, strict, raw)


def _validate(obj: Any, strict: bool, raw: str | bytes | None) -> ServerMessage:
    # Positional and in one frame: this runs for every inbound frame.
    if type(obj) is dict:
        try:
            validate = _CHANNEL_VALIDATORS.get((obj.get("channel"), obj.get("type")))
        except TypeError:  # an unhashable tag (a list...): the general path reports it
            validate = None
        if validate is not None:
            try:
                return validate(obj)
            except ValidationError:
                pass  # the general path below reports it the same way as any other
    model = message_model_for(obj)
    if model is None:
        if strict:
            shown = raw if raw is not None else repr(obj)
            raise DecodeError(f"no model for frame: {_excerpt(shown)}", raw=raw)
        return UnknownMessage(raw=obj)
    try:
        # message_model_for only returns members of ServerMessage.
        return cast("ServerMessage", model.model_validate(obj))
    except ValidationError as exc:
        if strict:
            raise DecodeError(
                f"frame does not match {model.__name__}: {exc.error_count()} error(s): {exc}",
                raw=raw,
            ) from exc
        return UnknownMessage(raw=obj, error=f"{model.__name__}: {exc.errors()[0]['msg']}")


def validate_request(request: BaseModel | Mapping[str, Any]) -> ClientRequest:
    """Validate a request given as a model or a plain dict.

    Raises:
        pydantic.ValidationError: The request is invalid; the message names the field. That
            includes a number outside the bound of :mod:`kraken_ws.protocol._json` (more than
            40 significant digits or an exponent beyond ±400, such as
            ``Decimal("1e999999999")``, whose wire text would take gigabytes): the server could
            not send it back either.
    """
    validated = _validate_request(request)
    errors = [
        InitErrorDetails(type=_OUT_OF_RANGE, loc=loc, input=value)
        for loc, value in _numbers_out_of_range(validated, ())
    ]
    if errors:
        raise ValidationError.from_exception_data(type(validated).__name__, errors)
    return validated


_OUT_OF_RANGE = PydanticCustomError(
    "number_out_of_range",
    "Number outside the accepted range: at most {max_digits} significant digits and an "
    "exponent within ±{max_exponent}",
    {"max_digits": MAX_DIGITS, "max_exponent": MAX_EXPONENT},
)


def _numbers_out_of_range(
    value: object, loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], object]]:
    # Requests are small (a batch holds at most 15 orders): a plain walk of the model.
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        items = dict(value.__dict__)
        items.update(value.__pydantic_extra__ or {})
        for name, item in items.items():
            field = fields.get(name)
            key = field.alias if field is not None and field.alias else name
            yield from _numbers_out_of_range(item, (*loc, key))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _numbers_out_of_range(item, (*loc, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _numbers_out_of_range(item, (*loc, index))
    elif isinstance(value, Decimal | int | float) and not number_in_range(value):
        yield loc, value


def _validate_request(request: BaseModel | Mapping[str, Any]) -> ClientRequest:
    if isinstance(request, BaseModel):
        # Re-validating a model built by the user is cheap and catches models assembled with
        # model_construct().
        data: dict[str, Any] = request.model_dump(mode="python")
    else:
        data = dict(request)
    # Validate with the request model that ``method`` names, so that errors read
    # "AddOrderRequest / params.limit_price ..."; an unknown method goes through the union,
    # whose error lists the methods that exist.
    model = _REQUEST_MODELS.get(data.get("method"))  # type: ignore[arg-type]
    if model is not None:
        return cast("ClientRequest", model.model_validate(data))
    return _REQUEST_ADAPTER.validate_python(data)


def request_to_wire(request: BaseModel) -> dict[str, Any]:
    """The wire object of a validated request: absent optional fields are omitted, not ``null``."""
    return request.model_dump(mode="python", exclude_none=True)


def encode(request: BaseModel | Mapping[str, Any]) -> str:
    """Validate a request and write it as wire JSON.

    Args:
        request: A request model (``AddOrderRequest``...) or a dict with ``method``/``params``.

    Returns:
        Compact JSON text; ``Decimal`` values are number tokens with exactly their digits.

    Raises:
        pydantic.ValidationError: The request is invalid, before any text is produced.
    """
    return dumps(request_to_wire(validate_request(request)))
