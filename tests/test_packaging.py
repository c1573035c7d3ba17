"""The installed package as a user's type checker and packaging tools see it.

A strategy script in a folder outside the repository is type-checked with ``mypy --strict`` by the
interpreter running the tests, with no ``MYPYPATH`` and no flags, and with pyright (basedpyright)
in strict mode: this is what fails when the editable install is an import hook that type checkers
cannot follow (issue 13). A second script with deliberate type errors must fail, which proves the
checker really analysed kraken_ws rather than treating it as ``Any``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

STRATEGY = textwrap.dedent(
    """
    from __future__ import annotations

    import asyncio
    from decimal import Decimal

    from kraken_ws import KrakenWSClient
    from kraken_ws.models import AddOrderParams, AddOrderRequest, BookUpdate
    from kraken_ws.testing import LocalExchange


    def order(price: Decimal) -> AddOrderRequest:
        params = AddOrderParams(
            order_type="limit", side="buy", symbol="BTC/USD",
            order_qty=Decimal("0.5"), limit_price=price,
        )
        return AddOrderRequest(params=params)


    async def main() -> None:
        async with LocalExchange(rate=20) as ex, KrakenWSClient(
            ex.api_key, ex.api_secret,
            ws_url=ex.ws_url, auth_ws_url=ex.auth_ws_url, rest_url=ex.rest_url,
        ) as client:
            book = await client.book("BTC/USD", depth=10)
            best = book.best_bid
            if best is not None:
                price: Decimal = best[0]
                await client.send(order(price))
            async for event in client.events(channel="book"):
                if isinstance(event, BookUpdate):
                    checksum: int = event.data[0].checksum
                    print(checksum)
                    break


    asyncio.run(main())
    """
)

# Each line is a type error only if mypy sees the real types: a wrong Literal, a Decimal used as
# a str, a misspelt keyword.
BROKEN = STRATEGY.replace('side="buy"', 'side="long"').replace(
    "checksum: int = event.data[0].checksum", "checksum: str = event.data[0].checksum"
)


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    work = tmp_path / "strategy"
    work.mkdir(exist_ok=True)
    (work / "strategy.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYPY")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "strategy.py"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_strategy_outside_the_repo_type_checks(tmp_path: Path) -> None:
    assert REPO not in tmp_path.parents
    result = _mypy(tmp_path, STRATEGY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_type_error_in_the_strategy_is_caught(tmp_path: Path) -> None:
    result = _mypy(tmp_path, BROKEN)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Cannot find implementation" not in out
    assert 'Argument "side" to "AddOrderParams" has incompatible type' in out, out
    assert 'variable has type "str"' in out, out


def _pyright(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    # basedpyright is pyright with its Node.js runtime in the wheel (pyright itself downloads
    # Node.js on first use, which cannot work offline). Strict mode, this interpreter's packages.
    work = tmp_path / "strategy"
    work.mkdir(exist_ok=True)
    (work / "strategy.py").write_text(source)
    (work / "pyrightconfig.json").write_text('{"typeCheckingMode": "strict"}')
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "basedpyright"),
            "--pythonpath",
            sys.executable,
            "strategy.py",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_strategy_outside_the_repo_passes_pyright_strict(tmp_path: Path) -> None:
    result = _pyright(tmp_path, STRATEGY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_pyright_catches_the_type_errors_too(tmp_path: Path) -> None:
    result = _pyright(tmp_path, BROKEN)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 errors" in result.stdout, result.stdout
    assert 'Import "kraken_ws' not in result.stdout


def test_py_typed_ships() -> None:
    assert importlib.resources.files("kraken_ws").joinpath("py.typed").is_file()


def test_license_is_an_spdx_expression() -> None:
    meta = importlib.metadata.metadata("kraken-ws")
    assert meta["License-Expression"] == "MIT"
    assert meta.get("License") is None


def test_wheel_contains_py_typed_and_license(tmp_path: Path) -> None:
    # No build isolation: hatchling comes with the dev extra, so this builds offline.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("kraken_ws-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        headers = archive.read(metadata).decode()
    assert "kraken_ws/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT\n" in headers
