"""Lossless codec: wire text to typed models and back.

``decode`` parses numbers exactly (``Decimal`` with the wire digits, arbitrary-size ints), then
validates into the one model that the frame's tags name (``channel``/``type`` or
``method``/``success``). It never calls ``model_validate_json``, which would parse numbers as
binary floats first. A frame no model describes becomes `UnknownMessage` (or, with
``strict=True``, raises `DecodeError`), so a message Kraken adds
tomorrow never crashes a client.

``encode`` validates a request (model or plain dict) and writes it as compact JSON whose numbers
carry exactly the ``Decimal`` digits: no float round trip, no exponent form.
"""

from __future__ import annotations

import gc
import typing
from collections.abc import Callable, Generator, Iterator, Mapping
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

__all__ = [
    "MAX_ITEMS",
    "SLICE_ITEMS",
    "decode",
    "decode_in_steps",
    "decode_object",
    "encode",
    "parse",
    "request_to_wire",
    "validate_request",
]

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


SLICE_ITEMS = 256
"""Items validated per step by `decode_in_steps` (a few milliseconds of work)."""


def _item_model(annotation: Any) -> type[BaseModel] | None:
    # The model of a ``list[Model]`` field, else None.
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def _list_fields(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    out = {}
    for name, field in model.model_fields.items():
        item = _item_model(field.annotation)
        if item is not None:
            out[field.alias or name] = item
    return out


def _frame_shapes() -> dict[tuple[object, object], tuple[Any, dict[str, type[BaseModel]]]]:
    # (channel, type) -> (what ``data`` holds, the list fields inside it): where a frame's items
    # are, so that a large frame can be validated a slice of items at a time.
    shapes: dict[tuple[object, object], tuple[Any, dict[str, type[BaseModel]]]] = {}
    for tag, model in server_models().items():
        channel, _, kind = tag.partition(".")
        data = model.model_fields.get("data")
        if model.model_fields.get("channel") is None or data is None:
            continue
        item = _item_model(data.annotation)
        if item is not None:
            shapes[(channel, kind or None)] = (list, {"": item, **_list_fields(item)})
        elif isinstance(data.annotation, type) and issubclass(data.annotation, BaseModel):
            shapes[(channel, kind or None)] = (dict, _list_fields(data.annotation))
    return shapes


_FRAME_SHAPES = _frame_shapes()

# Most items (levels, orders, reports, pairs...) one frame of a channel may hold, counted over all
# its lists. Far above anything Kraken sends (a book side has at most 1000 levels, the depth
# limit; an executions snapshot lists open orders and 50 fills), so that every frame's cost in
# time and memory (about 1 KiB per validated item) has a ceiling however the peer packs 16 MiB.
# A frame over it is a DecodeError, like a number Kraken cannot send. Level3 has no documented
# ceiling on orders per price level: its limit is the widest, and unverified.
MAX_ITEMS: dict[str, int] = {
    "book": 20_000,
    "level3": 200_000,
    "executions": 20_000,
    "balances": 20_000,
    "instrument": 50_000,
}
_MAX_ITEMS_OTHER = 10_000
# Below this many characters no frame can reach a limit (an item takes at least 3: "{},").
_COUNT_FROM = 3 * _MAX_ITEMS_OTHER


def decode_in_steps(
    data: str | bytes, *, strict: bool = False
) -> Generator[None, None, ServerMessage]:
    """Decode a large frame a slice of items at a time (the same result as `decode`).

    A generator: each ``next()`` does a bounded amount of work (parsing, or validating
    `SLICE_ITEMS` items); the decoded message is the generator's return value. The client
    drives it for large frames and lets the event loop run between steps, so that no frame,
    however many items it packs, stalls the loop (validation costs 5 to 40 µs per item: a 1 MiB
    frame of small items holds tens of thousands).

    Items are validated into their models slice by slice and put back in place; the frame
    model then takes them as they are (pydantic does not validate a model instance again).

    Raises:
        DecodeError: As `decode`.
    """
    # The parse is the one step that cannot be cut: no collection in the middle of it (the
    # parser allocates an object per value, which would trigger several).
    paused = gc.isenabled()
    gc.disable()
    try:
        obj = loads(data)
    except NumberOutOfRange as exc:
        raise DecodeError(f"frame has a {exc}: {_excerpt(data)}", raw=data) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"frame is not valid JSON: {exc}: {_excerpt(data)}", raw=data) from exc
    finally:
        if paused:
            gc.enable()
    yield
    shape = _shape_of(obj)
    if shape is not None and len(data) > _COUNT_FROM:
        _check_items(obj, shape, data)
    # (holder, name, original list) of every list replaced by validated items: put back if the
    # frame is refused, so that an UnknownMessage or DecodeError carries the frame as it came.
    replaced: list[tuple[dict[str, Any], str, list[Any]]] = []
    try:
        if shape is not None:
            holder, fields = shape
            body = obj.get("data")
            if holder is list and type(body) is list:
                inner = {k: v for k, v in fields.items() if k}
                for item in body:
                    if type(item) is dict:
                        for name, model in inner.items():
                            yield from _validate_list(item, name, model, replaced)
                if len(body) > SLICE_ITEMS:
                    yield from _validate_list(obj, "data", fields[""], replaced)
            elif holder is dict and type(body) is dict:
                for name, model in fields.items():
                    yield from _validate_list(body, name, model, replaced)
        message = _validate(obj, strict, data)
    except ValidationError as exc:
        _restore(replaced)
        return cast("ServerMessage", _refused(obj, exc, strict, data))
    except DecodeError:
        _restore(replaced)
        raise
    if isinstance(message, UnknownMessage):
        _restore(replaced)
    return message


def _shape_of(obj: Any) -> tuple[Any, dict[str, type[BaseModel]]] | None:
    if type(obj) is not dict:
        return None
    try:
        return _FRAME_SHAPES.get((obj.get("channel"), obj.get("type")))
    except TypeError:  # an unhashable tag (a list...): the general path reports it
        return None


def _check_items(
    obj: dict[str, Any], shape: tuple[Any, dict[str, type[BaseModel]]], raw: str | bytes
) -> None:
    channel = obj.get("channel")
    limit = MAX_ITEMS.get(channel, _MAX_ITEMS_OTHER) if isinstance(channel, str) else 0
    holder, fields = shape
    body = obj.get("data")
    if holder is list and type(body) is list:
        total = len(body)
        if total <= limit:  # checked first: counting the inner lists walks every item
            inner = [k for k in fields if k]
            for item in body:
                if type(item) is dict:
                    for name in inner:
                        value = item.get(name)
                        if type(value) is list:
                            total += len(value)
    elif holder is dict and type(body) is dict:
        total = sum(len(v) for k in fields if type(v := body.get(k)) is list)
    else:
        return
    if total > limit:
        raise DecodeError(
            f"{channel} frame with {total} items: more than any frame of this channel holds "
            f"({limit}): {_excerpt(raw)}",
            raw=raw,
        )


def _restore(replaced: list[tuple[dict[str, Any], str, list[Any]]]) -> None:
    for holder, name, original in reversed(replaced):
        holder[name] = original


def _validate_list(
    holder: dict[str, Any],
    name: str,
    model: type[BaseModel],
    replaced: list[tuple[dict[str, Any], str, list[Any]]],
) -> Generator[None, None, None]:
    items = holder.get(name)
    if type(items) is not list or len(items) <= SLICE_ITEMS:
        return
    validate = model.__pydantic_validator__.validate_python
    out: list[Any] = []
    for start in range(0, len(items), SLICE_ITEMS):
        out.extend(validate(item) for item in items[start : start + SLICE_ITEMS])
        yield
    replaced.append((holder, name, items))
    holder[name] = out


def _refused(obj: Any, exc: ValidationError, strict: bool, raw: str | bytes | None) -> Any:
    # Only the count and the first error: building every error of a frame with tens of
    # thousands of bad items costs more than validating it.
    count = exc.error_count()
    first = (
        exc.errors(include_url=False, include_context=False, include_input=False)[:1]
        if count <= 100
        else []
    )
    message = first[0]["msg"] if first else f"{count} invalid fields"
    if strict:
        where = ".".join(str(p) for p in first[0]["loc"]) if first else ""
        raise DecodeError(
            f"frame does not match {exc.title}: {count} error(s), first at "
            f"{where or 'top level'}: {message}",
            raw=raw,
        ) from exc
    return UnknownMessage(raw=obj, error=f"{exc.title}: {message}")


def _excerpt(data: str | bytes) -> str:
    # Slice before decoding: a hostile frame can be megabytes long.
    head = data[: _MAX_RAW_IN_ERROR * 4 + 4]
    text = head if isinstance(head, str) else head.decode("utf-8", "replace")
    return text if len(data) <= _MAX_RAW_IN_ERROR else text[:_MAX_RAW_IN_ERROR] + "..."


def decode(data: str | bytes, *, strict: bool = False) -> ServerMessage:
    """Decode one wire frame into its typed model.

    Args:
        data: The frame text (``str`` or UTF-8 ``bytes``).
        strict: Raise instead of returning `UnknownMessage` for frames no model
            describes or that fail validation.

    Returns:
        The specific model, one of [`ServerMessage`][kraken_ws.models.messages.ServerMessage]
        (such as `BookUpdate`, `AddOrderSuccess` or `Heartbeat`), or `UnknownMessage` holding
        the decoded object.

    Raises:
        DecodeError: The text is not JSON, holds a number outside the bound of
            `kraken_ws.protocol._json` (more than 256 significant digits, or an exponent
            beyond ±400: numbers whose text could take gigabytes), or (strict mode) matches no
            model.
    """
    return _validate(parse(data), strict, data)


def parse(data: str | bytes) -> Any:
    """The first half of `decode`: the lossless JSON value of a frame, checked but not validated.

    ``decode(data, strict=s)`` is ``decode_object(parse(data), strict=s, raw=data)``. For
    callers that look at the plain value before deciding whether they need the model at all
    (the client's book fast path, `kraken_ws.book.wire`), so that a frame is parsed once
    whichever way it goes.

    Raises:
        DecodeError: As `decode`: not JSON, a number out of bound, more items than a frame of
            its channel holds (`MAX_ITEMS`).
    """
    try:
        obj = loads(data)
    except NumberOutOfRange as exc:
        raise DecodeError(f"frame has a {exc}: {_excerpt(data)}", raw=data) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"frame is not valid JSON: {exc}: {_excerpt(data)}", raw=data) from exc
    if len(data) > _COUNT_FROM:
        shape = _shape_of(obj)
        if shape is not None:
            _check_items(obj, shape, data)
    return obj


def decode_object(
    obj: Any, *, strict: bool = False, raw: str | bytes | None = None
) -> ServerMessage:
    """Validate an already losslessly-decoded JSON value (see `decode`).

    Args:
        obj: The value from `kraken_ws.protocol._json.loads`.
        strict: Raise instead of returning `UnknownMessage`.
        raw: The original text, kept on a raised `DecodeError`.

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
            except ValidationError as exc:
                # Reported at once: validating it again on the general path (and listing every
                # error) would cost more than the first attempt, for a frame built to be costly.
                return cast("ServerMessage", _refused(obj, exc, strict, raw))
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
        return cast("ServerMessage", _refused(obj, exc, strict, raw))


def validate_request(request: BaseModel | Mapping[str, Any]) -> ClientRequest:
    """Validate a request given as a model or a plain dict.

    Raises:
        pydantic.ValidationError: The request is invalid; the message names the field. That
            includes a number outside the bound of `kraken_ws.protocol._json` (more than
            256 significant digits or an exponent beyond ±400, such as
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
        request: A request model, one of
            [`ClientRequest`][kraken_ws.models.messages.ClientRequest] (such as
            `AddOrderRequest`), or a dict with ``method`` and ``params``.

    Returns:
        Compact JSON text; ``Decimal`` values are number tokens with exactly their digits.

    Raises:
        pydantic.ValidationError: The request is invalid, before any text is produced.
    """
    return dumps(request_to_wire(validate_request(request)))
