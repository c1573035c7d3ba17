"""Public names: __all__ is sorted, complete and importable (httpx-style)."""

from __future__ import annotations

import importlib

import pytest

import kraken_ws

MODULES = ["kraken_ws", "kraken_ws.models", "kraken_ws.exceptions"]


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then CamelCase, then everything else.
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    assert len(set(exported)) == len(exported)
    for item in exported:
        assert hasattr(module, item), item


def test_top_level_names_are_documented() -> None:
    for item in kraken_ws.__all__:
        value = getattr(kraken_ws, item)
        if callable(value) and not item.startswith("_"):
            assert value.__doc__, item


def test_codec_at_top_level() -> None:
    assert kraken_ws.decode.__module__ == "kraken_ws.protocol.codec"
    assert kraken_ws.encode.__module__ == "kraken_ws.protocol.codec"
