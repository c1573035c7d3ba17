"""What a gateway runs: subscriptions, endpoints, streams. From flags or a small TOML file.

Every field is checked before anything connects, and a bad one raises `GatewayConfigError`
naming the field and the allowed values.

A TOML file (``kraken-ws gateway --config gateway.toml``):

```toml
nats_url = "nats://gateway:secret@127.0.0.1:4222"
ws_url = "wss://ws.kraken.com/v2"          # optional, as are auth_ws_url, l3_ws_url, rest_url

[[book]]
symbols = ["BTC/USD", "ETH/USD"]
depth = 100

[[level3]]                                  # order by order; needs the key and secret
symbols = ["BTC/USD"]
depth = 10

[trade]
symbols = ["BTC/USD"]

[ticker]
symbols = ["BTC/USD"]

[private]                                   # account data: see docs/deployment.md
channels = ["executions", "balances"]
key_env = "KRAKEN_API_KEY"                  # the key and secret come from the environment
secret_env = "KRAKEN_API_SECRET"
allow_anonymous = false

[streams]
replicas = 1                                # 3 on a 3-node cluster
max_age = 900                               # seconds of market data kept
snapshot_interval = 5.0                     # seconds between stored book snapshots
```

"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..endpoints import KRAKEN_AUTH_WS_URL, KRAKEN_L3_WS_URL, KRAKEN_REST_URL, KRAKEN_WS_URL
from ..exceptions import KrakenWSError
from ..models.common import BOOK_DEPTHS, L3_DEPTHS, PRIVATE_CHANNELS
from .subjects import symbol_token

__all__ = ["GatewayConfig", "GatewayConfigError"]


class GatewayConfigError(KrakenWSError, ValueError):
    """A gateway setting is wrong (the message names the field and the allowed values)."""


@dataclass(frozen=True)
class GatewayConfig:
    """A gateway's settings (see the module docstring for the TOML form).

    Attributes:
        nats_url: One NATS URL or several, comma separated (the nodes of a cluster);
            credentials may be in it (``nats://user:password@host:port``).
        books: Symbol -> depth of each L2 book.
        level3: Symbol -> depth of each level3 (order-by-order) book; needs the key and
            secret (the level3 endpoint is authenticated).
        trades: Symbols of the ``trade`` channel.
        tickers: Symbols of the ``ticker`` channel.
        private: Private channels (``executions``, ``balances``) to publish.
        key: API key (private channels only).
        secret: API secret.
        allow_anonymous_private: Publish account data even to a server that accepts clients
            without credentials (refused by default).
        ws_url: Kraken's public endpoint.
        auth_ws_url: The authenticated endpoint.
        l3_ws_url: The level3 endpoint.
        rest_url: The REST base (WebSocket tokens).
        replicas: Replicas of the streams (1 on one server, 3 on a 3-node cluster).
        max_age: Seconds of market data the stream keeps.
        snapshot_interval: Seconds between stored snapshots of each book.
        health_interval: Seconds between health messages.
        stale_after: A subscription silent this long while heartbeats flow is resubscribed
            (``0`` disables the check).
    """

    nats_url: str
    books: Mapping[str, int] = field(default_factory=dict)
    level3: Mapping[str, int] = field(default_factory=dict)
    trades: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    key: str = ""
    secret: str = ""
    allow_anonymous_private: bool = False
    ws_url: str = KRAKEN_WS_URL
    auth_ws_url: str = KRAKEN_AUTH_WS_URL
    l3_ws_url: str = KRAKEN_L3_WS_URL
    rest_url: str = KRAKEN_REST_URL
    replicas: int = 1
    max_age: float = 900.0
    snapshot_interval: float = 5.0
    health_interval: float = 1.0
    stale_after: float = 60.0

    def __post_init__(self) -> None:
        if not self.nats_url:
            raise GatewayConfigError("nats_url is required (e.g. nats://127.0.0.1:4222)")
        for symbol, depth in self.books.items():
            _check_symbol("book", symbol)
            if depth not in BOOK_DEPTHS:
                raise GatewayConfigError(
                    f"book depth {depth!r} for {symbol}: allowed depths are "
                    f"{', '.join(map(str, BOOK_DEPTHS))}"
                )
        for symbol, depth in self.level3.items():
            _check_symbol("level3", symbol)
            if depth not in L3_DEPTHS:
                raise GatewayConfigError(
                    f"level3 depth {depth!r} for {symbol}: allowed depths are "
                    f"{', '.join(map(str, L3_DEPTHS))}"
                )
        if self.level3 and not (self.key and self.secret):
            raise GatewayConfigError(
                "level3 books need an API key and secret (the level3 endpoint is authenticated)"
            )
        for name, symbols in (("trade", self.trades), ("ticker", self.tickers)):
            for symbol in symbols:
                _check_symbol(name, symbol)
        for channel in self.private:
            if channel not in PRIVATE_CHANNELS:
                raise GatewayConfigError(
                    f"private channel {channel!r}: allowed are "
                    f"{', '.join(sorted(PRIVATE_CHANNELS))}"
                )
        if self.private and not (self.key and self.secret):
            raise GatewayConfigError(
                "private channels need an API key and secret (private.key_env/secret_env name "
                "the environment variables holding them)"
            )
        if self.replicas not in (1, 3, 5):
            raise GatewayConfigError(f"streams.replicas {self.replicas!r}: allowed are 1, 3, 5")
        for name in ("max_age", "snapshot_interval", "health_interval"):
            if not getattr(self, name) > 0:
                raise GatewayConfigError(f"{name} must be a positive number of seconds")
        if self.stale_after < 0:
            raise GatewayConfigError("stale_after must be >= 0 seconds (0 disables the check)")
        if not (self.books or self.level3 or self.trades or self.tickers or self.private):
            raise GatewayConfigError(
                "nothing to publish: give at least one book, trade, ticker or private channel"
            )

    @classmethod
    def from_toml(
        cls, path: str | Path, *, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> GatewayConfig:
        """Read a TOML file (keys in the module docstring); ``overrides`` win over the file.

        Raises:
            GatewayConfigError: A key is unknown or a value is wrong.
        """
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise GatewayConfigError(f"{path}: {exc}") from None
        return cls.from_mapping(data, environ=environ, **overrides)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> GatewayConfig:
        """Build from parsed TOML (see `from_toml`)."""
        env = os.environ if environ is None else environ
        known = {"nats_url", "ws_url", "auth_ws_url", "l3_ws_url", "rest_url"}
        sections = {"book", "level3", "trade", "ticker", "private", "streams"}
        unknown = set(data) - known - sections
        if unknown:
            raise GatewayConfigError(
                f"unknown key(s) {', '.join(sorted(unknown))}; allowed: "
                f"{', '.join(sorted(known | sections))}"
            )
        kwargs: dict[str, Any] = {k: data[k] for k in known if k in data}
        books: dict[str, int] = {}
        book_tables = data.get("book", [])
        if isinstance(book_tables, Mapping):
            book_tables = [book_tables]
        for table in book_tables:
            depth = table.get("depth", 10)
            for symbol in _strings("book.symbols", table.get("symbols", [])):
                books[symbol] = depth
        kwargs["books"] = books
        level3: dict[str, int] = {}
        l3_tables = data.get("level3", [])
        if isinstance(l3_tables, Mapping):
            l3_tables = [l3_tables]
        for table in l3_tables:
            depth = table.get("depth", 10)
            for symbol in _strings("level3.symbols", table.get("symbols", [])):
                level3[symbol] = depth
        kwargs["level3"] = level3
        kwargs["trades"] = tuple(
            _strings("trade.symbols", data.get("trade", {}).get("symbols", []))
        )
        kwargs["tickers"] = tuple(
            _strings("ticker.symbols", data.get("ticker", {}).get("symbols", []))
        )
        private = data.get("private", {})
        kwargs["private"] = tuple(_strings("private.channels", private.get("channels", [])))
        if kwargs["private"] or level3:
            key_env = private.get("key_env", "KRAKEN_API_KEY")
            secret_env = private.get("secret_env", "KRAKEN_API_SECRET")
            kwargs["key"] = env.get(key_env, "")
            kwargs["secret"] = env.get(secret_env, "")
            if not (kwargs["key"] and kwargs["secret"]):
                raise GatewayConfigError(
                    f"private channels and level3 need ${key_env} and ${secret_env} in the "
                    "environment"
                )
        kwargs["allow_anonymous_private"] = bool(private.get("allow_anonymous", False))
        streams = data.get("streams", {})
        for name in ("replicas", "max_age", "snapshot_interval", "health_interval", "stale_after"):
            if name in streams:
                kwargs[name] = streams[name]
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kwargs)


def _check_symbol(channel: str, symbol: str) -> None:
    if "/" not in symbol:
        raise GatewayConfigError(f"{channel} symbol {symbol!r}: write pairs as BASE/QUOTE")
    try:
        symbol_token(symbol)
    except ValueError as exc:
        raise GatewayConfigError(f"{channel} symbol {symbol!r}: {exc}") from None


def _strings(name: str, value: Iterable[Any]) -> list[str]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise GatewayConfigError(f"{name} must be a list of strings")
    return list(value)
