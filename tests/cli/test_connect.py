"""A streaming command that cannot connect says where at once, shows its retries, fails fast.

Real processes against endpoints that cannot answer: a name under ``.invalid`` (reserved, it
never resolves) and a refused port on 127.0.0.1. Nothing here touches the internet.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kraken_ws.cli.connect import CONNECT_RETRIES, OPEN_TIMEOUT, describe_failure
from kraken_ws.exceptions import ConnectError
from kraken_ws.testing import LocalExchange, ThreadedExchange

from .conftest import ROOT, invoke

# Timing bounds are generous: the machine running the tests may be busy.
SLACK = 2.0


@dataclass
class Run:
    returncode: int
    stdout: str
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)
    seconds: float = 0.0


def run_timed(*args: str, timeout: float = 60) -> Run:
    """Run ``python -m kraken_ws ARGS``, timing each stderr line from the process start."""
    env = dict(os.environ, PYTHONASYNCIODEBUG="")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "WSS_PROXY", "WS_PROXY"):
        # A proxy would answer for the unresolvable name: these tests are about the name.
        env.pop(name, None)
        env.pop(name.lower(), None)
    began = time.monotonic()
    run = Run(returncode=-1, stdout="")
    with subprocess.Popen(
        [sys.executable, "-m", "kraken_ws", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:

        def read_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                run.lines.append((time.monotonic() - began, line.rstrip("\n")))

        reader = threading.Thread(target=read_stderr)
        reader.start()
        try:
            assert proc.stdout is not None
            run.stdout = proc.stdout.read()  # until the process closes it (exits)
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join()
    run.returncode = proc.returncode
    run.seconds = time.monotonic() - began
    return run


def startup_seconds() -> float:
    """How long the CLI takes to start and exit doing nothing, on this machine, now."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kraken_ws", "--version"], cwd=ROOT, capture_output=True, check=True
    )
    assert done.returncode == 0
    return time.monotonic() - began


def check_fails_fast(run: Run, url: str, reason: str) -> None:
    texts = [text for _, text in run.lines]
    assert run.returncode == 1, texts
    assert run.stdout == ""
    assert texts[0] == f"connecting to {url} ..."
    retries = [t for t in texts if t.startswith("retry ")]
    assert [r.split(":")[0].split(" in ")[0] for r in retries] == [
        f"retry {n}/{CONNECT_RETRIES}" for n in range(1, CONNECT_RETRIES + 1)
    ]
    assert all(reason in r for r in retries), retries
    errors = [t for t in texts if t.startswith("Error:")]
    assert errors == [texts[-1]], texts  # one error line, the last one
    assert texts[-1] == (
        f"Error: cannot connect to {url} after {CONNECT_RETRIES + 1} attempts: {reason}"
    )
    assert len(texts) == CONNECT_RETRIES + 2


def test_refused_port_fails_fast_with_one_line() -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"ws://127.0.0.1:{port}/v2"
        startup = startup_seconds()
        run = run_timed("book", "BTC/USD", "--ws-url", url)
    check_fails_fast(run, url, f"connection refused by 127.0.0.1:{port}")
    first_line_at = run.lines[0][0]
    # Where it connects comes as soon as the CLI has started, before any network wait.
    assert first_line_at < startup + SLACK, (first_line_at, startup)
    # 4 attempts refused at once, 0.25 + 0.5 + 1 s between them.
    assert run.seconds - first_line_at < 1.75 + SLACK + 1.0, run.lines


def test_unresolvable_name_fails_fast_with_one_line() -> None:
    url = "wss://kraken.invalid/v2"
    began = time.monotonic()
    try:
        socket.getaddrinfo("kraken.invalid", 443)
    except socket.gaierror:
        pass
    else:
        pytest.skip("this host's resolver answers for .invalid names")
    lookup = time.monotonic() - began
    startup = startup_seconds()
    run = run_timed("ticker", "BTC/USD", "--ws-url", url)
    texts = [text for _, text in run.lines]
    reason = texts[-1].rsplit("attempts: ", 1)[-1]
    assert reason.startswith("kraken.invalid does not resolve"), texts
    check_fails_fast(run, url, reason)
    assert run.lines[0][0] < startup + SLACK
    # The lookups themselves take what this host's resolver takes; the rest is bounded.
    assert run.seconds - run.lines[0][0] < 4 * lookup + 1.75 + SLACK + 1.0, (lookup, run.lines)


def test_record_that_cannot_connect_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "feed.jsonl.gz"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{sock.getsockname()[1]}/v2"
        result = invoke("record", "-c", "book", "-s", "BTC/USD", "-o", str(out), "--ws-url", url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(f"Error: cannot connect to {url} after ")
    assert not out.exists()


def test_record_refused_before_the_first_subscription_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "feed.jsonl"
    result = invoke("record", "-c", "book", "-s", "FOO/BAR", "-o", str(out), "--duration", "5")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: Kraken refused subscribe FOO/BAR: Currency pair not supported"
    )
    assert not out.exists()


def test_ws_url_that_connects_hands_its_socket_to_the_client(tmp_path: Path) -> None:
    with ThreadedExchange(LocalExchange(rate=20)) as exchange:
        out = tmp_path / "feed.jsonl"
        result = invoke(
            "record", "-c", "book", "-s", "BTC/USD", "-o", str(out), "--ws-url", exchange.ws_url,
            "--duration", "0.5",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines()[0] == f"connecting to {exchange.ws_url} ..."
        # One connection: the one the CLI opened (the status frame opens the recording).
        assert out.read_text().startswith('{"t":')
        assert '"channel":"status"' in out.read_text().splitlines()[0]


def test_an_http_answer_is_not_retried() -> None:
    with ThreadedExchange(LocalExchange(rate=None)) as exchange:
        url = exchange.rest_url.replace("http://", "ws://") + "/v2"
        result = invoke("book", "BTC/USD", "--ws-url", url)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"connecting to {url} ..."
    assert len(lines) == 2, lines
    assert lines[1].startswith(f"Error: cannot connect to {url}: the server answered HTTP ")


def test_describe_failure_names_the_cause() -> None:
    url = "wss://ws.example.invalid/v2"
    error = ConnectError("cannot connect")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert describe_failure(url, error) == (
        "ws.example.invalid does not resolve (Name or service not known)",
        True,
    )
    refused = ConnectError("cannot connect")
    refused.__cause__ = ConnectionRefusedError(111, "Connect call failed")
    assert describe_failure(url, refused) == ("connection refused by ws.example.invalid:443", True)
    assert describe_failure(url, ConnectError("x"))[1] is True
    timeout = ConnectError("cannot connect")
    timeout.__cause__ = TimeoutError()
    assert describe_failure(url, timeout) == ("no answer within 5 s", False)


def test_docs_state_the_retry_policy() -> None:
    text = " ".join((ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split())
    attempts = f"tries **{CONNECT_RETRIES + 1} times** (the first attempt and "
    assert f"{attempts}**{CONNECT_RETRIES} retries**" in text
    assert f"each attempt bounded to **{OPEN_TIMEOUT:g} s**" in text
