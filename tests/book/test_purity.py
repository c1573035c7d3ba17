"""The book package is pure: no I/O, no event loop, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import kraken_ws.book

FORBIDDEN = {"asyncio", "time", "socket", "websockets", "httpx", "threading", "logging"}


def test_book_modules_import_nothing_impure() -> None:
    package = Path(kraken_ws.book.__file__).parent
    files = sorted(package.glob("*.py"))
    assert {f.name for f in files} >= {"checksum.py", "l2.py", "l3.py", "manager.py"}
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
        assert "sleep(" not in path.read_text()


def test_public_names() -> None:
    assert sorted(kraken_ws.book.__all__) == kraken_ws.book.__all__
    for name in kraken_ws.book.__all__:
        assert hasattr(kraken_ws.book, name)
