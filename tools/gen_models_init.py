"""Regenerate kraken_ws/models/__init__.py: re-export every public model and alias."""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path

MODULES = [
    "common",
    "_base",
    "channels.status",
    "channels.heartbeat",
    "channels.ticker",
    "channels.book",
    "channels.level3",
    "channels.ohlc",
    "channels.trade",
    "channels.instrument",
    "channels.executions",
    "channels.balances",
    "methods._common",
    "methods.subscribe",
    "methods.unsubscribe",
    "methods.ping",
    "methods.add_order",
    "methods.amend_order",
    "methods.edit_order",
    "methods.cancel_order",
    "methods.cancel_all",
    "methods.cancel_after",
    "methods.batch_add",
    "methods.batch_cancel",
    "messages",
]
SKIP = {"REQ_ID_FIELD", "INT32_MAX", "ResultBase", "ResponseBase", "ErrorFields"}


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(f"kraken_ws.models.{module_name}")
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or name in SKIP:
            continue
        if inspect.ismodule(value):
            continue
        if inspect.isclass(value) and value.__module__ != module.__name__:
            continue
        if inspect.isfunction(value) and value.__module__ != module.__name__:
            continue
        if name in {"annotations", "TypeAlias", "Any", "Literal", "Annotated"}:
            continue
        if module_name == "_base" and name not in {
            "InboundModel",
            "OutboundModel",
            "WireDecimal",
            "PositiveDecimal",
            "Timestamp",
        }:
            continue
        origin = typing.get_origin(value)
        if (
            not inspect.isclass(value)
            and not inspect.isfunction(value)
            and origin is None
            and not isinstance(value, frozenset)
            and not hasattr(value, "__value__")
        ):
            continue
        if module_name == "messages" and name not in {
            "ChannelFrame",
            "ResponseFrame",
            "ClientRequest",
            "GenericErrorResponse",
            "ServerMessage",
            "UnknownMessage",
        }:
            continue
        names.append(name)
    return names


def main() -> None:
    seen: set[str] = set()
    lines = [
        '"""Every wire model of the Kraken Spot WebSocket v2 protocol (generated re-exports).',
        "",
        "Regenerate with ``python tools/gen_models_init.py``.",
        '"""',
        "",
    ]
    all_names: list[str] = []
    for module_name in MODULES:
        names = [n for n in public_names(module_name) if n not in seen]
        seen.update(names)
        if not names:
            continue
        all_names.extend(names)
        lines.append(f"from .{module_name} import (")
        lines.extend(f"    {n}," for n in sorted(names))
        lines.append(")")
    lines.append("")
    lines.append("__all__ = [")
    lines.extend(f'    "{n}",' for n in sorted(all_names))
    lines.append("]")
    Path("kraken_ws/models/__init__.py").write_text("\n".join(lines) + "\n")
    print(f"{len(all_names)} names")


if __name__ == "__main__":
    main()
