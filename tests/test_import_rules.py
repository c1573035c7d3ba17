"""The sans-I/O layers import no I/O modules; only the adapters touch websockets and httpx."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kraken_ws

PACKAGE = Path(kraken_ws.__file__).parent
PURE = ("protocol", "models", "book")
IO_MODULES = {"asyncio", "websockets", "httpx", "time", "socket", "h11"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PURE)
def test_pure_layers_do_no_io(package: str) -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) & IO_MODULES)
        for path in (PACKAGE / package).rglob("*.py")
        if _imports(path) & IO_MODULES
    }
    assert not offenders, offenders


def _importers(module: str) -> set[str]:
    return {
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if module in _imports(path)
    }


def test_only_the_transport_imports_websockets_on_the_client_side() -> None:
    client_side = {p for p in _importers("websockets") if not p.startswith("testing/")}
    assert client_side <= {"transport/websockets.py"}, client_side


def test_only_auth_imports_httpx_on_the_client_side() -> None:
    client_side = {
        p for p in _importers("httpx") if not p.startswith(("testing/", "compat/", "cli"))
    }
    assert client_side <= {"auth.py"}, client_side
