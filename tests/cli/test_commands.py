"""Streaming tables, schemas, token, and the one-line error paths with their exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kraken_ws.models.schema import build_schemas
from kraken_ws.testing import LocalExchange, ThreadedExchange

from .conftest import invoke, one_line, run_cli


class TestStreams:
    def test_ticker(self) -> None:
        result = invoke("ticker", "BTC/USD", "ETH/USD", "--duration", "1")
        assert result.exit_code == 0, result.output
        assert "kraken-ws ticker" in result.stdout
        rows = [line for line in result.stdout.splitlines() if re.match(r"\s*(BTC|ETH)/USD", line)]
        assert len(rows) == 2
        bid, ask = (float(x) for x in rows[0].split()[1:3])
        assert bid < ask

    def test_trades(self) -> None:
        result = invoke("trades", "BTC/USD", "--duration", "1.5", "--rate", "50", "--rows", "5")
        assert result.exit_code == 0, result.output
        assert "kraken-ws trades" in result.stdout
        assert re.search(r"BTC/USD\s+(buy|sell)\s+[0-9.]+\s+[0-9.]+", result.stdout)

    def test_ohlc(self) -> None:
        result = invoke("ohlc", "BTC/USD", "--interval", "5", "--duration", "1")
        assert result.exit_code == 0, result.output
        assert "5 min candles" in result.stdout
        assert re.search(r"BTC/USD\s+[0-9.]+\s+[0-9.]+", result.stdout)

    def test_book_without_a_terminal_prints_the_final_ladder(self) -> None:
        result = invoke("book", "ETH/USD", "--depth", "25", "--rows", "3", "--duration", "1")
        assert result.exit_code == 0, result.output
        assert result.stdout.count("│ ask") == 3
        assert result.stdout.count("│ bid") == 3
        assert "✓ checksum verified" in result.stdout
        assert "depth 25" in result.stdout


class TestErrors:
    @pytest.mark.parametrize(
        ("args", "needle"),
        [
            (["book", "BTC/USD", "--depth", "7"], "'--depth': 7 is not a book depth"),
            (["book", "BTCUSD"], "'BTCUSD' is not a pair"),
            (["record", "-c", "book", "-s", "BTC/USD", "--depth", "11", "-o", "x"], "--depth"),
            (["ohlc", "BTC/USD", "--interval", "7"], "7 is not a candle interval"),
            (["record", "-c", "book", "-o", "x.jsonl"], "Missing option '-s' / '--symbol'"),
            (["record", "-c", "book", "-s", "BTCUSD", "-o", "x"], "for '-s' / '--symbol': 'BTC"),
            (["record", "-c", "level3", "-s", "BTC/USD", "-o", "x"], "'level3' is not one of"),
            (["replay", "/nonexistent/feed.jsonl"], "does not exist"),
            (["replay", "x.jsonl", "--speed", "2", "-f"], "mutually exclusive"),
            (["book", "BTC/USD", "--live", "--ws-url", "ws://x"], "mutually exclusive"),
            (["token"], "set KRAKEN_API_KEY and KRAKEN_API_SECRET"),
            (["nosuchcommand"], "No such command"),
        ],
    )
    def test_usage_errors_exit_2_with_one_line(
        self, args: list[str], needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "x.jsonl").write_text("")
        result = invoke(*args, env={"KRAKEN_API_KEY": "", "KRAKEN_API_SECRET": ""})
        assert result.exit_code == 2, result.output
        line = one_line(result.stderr)
        assert line.startswith("Error: "), line
        assert needle in line, line
        assert result.stdout == ""

    def test_unknown_symbol_exits_1(self) -> None:
        result = invoke("book", "FOO/BAR", "--duration", "5")
        assert result.exit_code == 1
        # The pair once, though Kraken's text ends with it too.
        assert one_line(result.stderr) == (
            "Error: Kraken refused subscribe FOO/BAR: Currency pair not supported"
        )

    def test_unreadable_file_exits_1(self, tmp_path: Path) -> None:
        path = tmp_path / "feed.jsonl"
        path.write_bytes(b"\xff\xfe not text\n")
        result = invoke("replay", str(path), "-f")
        assert result.exit_code == 1
        assert one_line(result.stderr).startswith(f"Error: cannot replay {path}: ")
        assert "not UTF-8 text" in result.stderr

    def test_unreadable_permissions(self, tmp_path: Path) -> None:
        path = tmp_path / "feed.jsonl"
        path.write_text("")
        path.chmod(0)
        try:
            with open(path, "rb"):
                pytest.skip("running as a user who can read mode-000 files (root)")
        except PermissionError:
            pass
        result = invoke("replay", str(path), "-f")
        assert result.exit_code in (1, 2)
        assert "Permission denied" in one_line(result.stderr) or "not readable" in result.stderr

    def test_directory_is_a_usage_error(self, tmp_path: Path) -> None:
        result = invoke("replay", str(tmp_path))
        assert result.exit_code == 2
        assert "is a directory" in one_line(result.stderr)

    def test_real_process_exit_codes(self, tmp_path: Path) -> None:
        bad = run_cli("book", "BTC/USD", "--depth", "3")
        assert bad.returncode == 2
        assert one_line(bad.stderr).startswith("Error: Invalid value for '--depth'")
        help_text = run_cli("book", "--help")
        assert help_text.returncode == 0
        assert "Examples:" in help_text.stdout
        assert "kraken-ws book BTC/USD" in help_text.stdout


def test_every_command_has_help_with_examples() -> None:
    commands = ("book", "ticker", "trades", "ohlc", "record", "replay", "schemas", "token", "serve")
    for command in commands:
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.stdout, command
        assert f"kraken-ws {command}" in result.stdout or command == "token"


def test_schemas_out_writes_build_schemas(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    result = invoke("schemas", "--out", str(out))
    assert result.exit_code == 0, result.output
    expected = build_schemas()
    written = {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
        for p in out.rglob("*")
        if p.is_file()
    }
    assert written == expected
    assert result.stdout.strip() == f"wrote {len(expected)} schema files to {out}"


class TestToken:
    def test_prints_a_token_and_never_the_secret(self) -> None:
        with ThreadedExchange(LocalExchange(rate=None)) as exchange:
            env = {"KRAKEN_API_KEY": exchange.api_key, "KRAKEN_API_SECRET": exchange.api_secret}
            result = invoke("token", "--rest-url", exchange.rest_url, env=env)
            assert result.exit_code == 0, result.output
            token = one_line(result.stdout)
            assert exchange.tokens.check(token) is not None
            assert exchange.api_secret not in result.output
            as_json = invoke("token", "--rest-url", exchange.rest_url, "--json", env=env)
            assert as_json.stdout.startswith('{"token": "')

    def test_refused_credentials_exit_1_without_the_secret(self) -> None:
        with ThreadedExchange(LocalExchange(rate=None)) as exchange:
            secret = "c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1wcmludGVk"
            env = {"KRAKEN_API_KEY": exchange.api_key, "KRAKEN_API_SECRET": secret}
            result = invoke("token", "--rest-url", exchange.rest_url, env=env)
        assert result.exit_code == 1
        line = one_line(result.stderr)
        assert line.startswith("Error: token request refused: EAPI:Invalid")
        assert secret not in result.output
