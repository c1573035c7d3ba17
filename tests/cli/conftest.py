from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kraken_ws.cli import main

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run `kraken-ws ARGS` in-process (the embedded exchange runs inside the command)."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m kraken_ws ARGS` as a real process."""
    env = dict(os.environ, PYTHONASYNCIODEBUG="")
    return subprocess.run(
        [sys.executable, "-m", "kraken_ws", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    return lines[0]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
