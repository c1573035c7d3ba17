"""``kraken-ws gateway``: publish Kraken's streams to NATS JetStream until SIGINT/SIGTERM.

The gateway itself is `kraken_ws.gateway.Gateway`; this module turns flags or ``--config FILE``
into its `GatewayConfig`, picks the Kraken side like the other commands (the embedded local
exchange by default, ``--live``, or explicit URLs) and prints the gateway's health.
"""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..endpoints import KRAKEN_AUTH_WS_URL, KRAKEN_L3_WS_URL, KRAKEN_REST_URL, KRAKEN_WS_URL
from .group import _check_depth, _check_symbols, _run, main
from .sources import _stop_event

if TYPE_CHECKING:
    from ..gateway import Gateway

__all__ = ["gateway"]


@main.command()
@click.option("--nats-url", metavar="URL", help="NATS server(s), comma separated.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A TOML file (see docs/deployment.md); flags given too win over it.",
)
@click.option("--book", "books", multiple=True, metavar="SYMBOL", help="Publish this L2 book.")
@click.option(
    "--depth",
    type=int,
    default=10,
    show_default=True,
    callback=_check_depth,
    help="Depth of every --book: 10, 25, 100, 500 or 1000.",
)
@click.option(
    "--level3",
    "level3",
    multiple=True,
    metavar="SYMBOL",
    help="Publish this order-by-order book (key and secret from the environment).",
)
@click.option(
    "--l3-depth",
    type=click.Choice(["10", "100", "1000"]),
    default="10",
    show_default=True,
    help="Depth of every --level3.",
)
@click.option("--trade", "trades", multiple=True, metavar="SYMBOL", help="Publish trades.")
@click.option("--ticker", "tickers", multiple=True, metavar="SYMBOL", help="Publish the ticker.")
@click.option(
    "--private",
    "private",
    multiple=True,
    type=click.Choice(["executions", "balances"]),
    help="Publish account data (key and secret from $KRAKEN_API_KEY and "
    "$KRAKEN_API_SECRET; needs a NATS server with users).",
)
@click.option(
    "--allow-anonymous-private",
    is_flag=True,
    help="Publish account data even to a server that accepts anonymous clients.",
)
@click.option(
    "--replicas",
    type=click.Choice(["1", "3", "5"]),
    default=None,
    help="Stream replicas (3 on a 3-node cluster).  [default: 1]",
)
@click.option("--live", is_flag=True, help="Kraken's production endpoints.")
@click.option("--ws-url", metavar="URL", help="Public endpoint (default: embedded exchange).")
@click.option("--auth-ws-url", metavar="URL", help="Authenticated endpoint.")
@click.option("--l3-ws-url", metavar="URL", help="Level3 endpoint.")
@click.option("--rest-url", metavar="URL", help="REST base (WebSocket tokens).")
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    help="Embedded exchange: updates per second per symbol.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Embedded exchange: seed.")
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Stop after this many seconds (default: until a signal).",
)
@click.option(
    "--health-every",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Print the health this often (0: never).",
)
def gateway(**options: Any) -> None:
    """Publish Kraken's streams to NATS JetStream for any number of readers.

    Every frame goes out as its wire text on kraken.v2.<channel>.<SYMBOL> (BTC/USD is
    BTC-USD); verified books are stored as snapshots so that a reader starting at any time
    rebuilds them with no gap (kraken_ws.gateway.Subscriber). Runs until SIGINT/SIGTERM and
    exits 0.

    \b
    Examples:
      kraken-ws gateway --nats-url nats://127.0.0.1:4222 --book BTC/USD --depth 100
      kraken-ws gateway --nats-url nats://127.0.0.1:4222 --live --book BTC/USD --trade BTC/USD
      kraken-ws gateway --config gateway.toml
    """  # noqa: D301
    for name in ("books", "level3", "trades", "tickers"):
        if options[name]:
            options[name] = _check_symbols(options[name])
    if not options["nats_url"] and not options["config_file"]:
        raise click.UsageError("give --nats-url (or --config FILE)")
    _run(_gateway(options))


@contextlib.asynccontextmanager
async def _kraken_side(options: dict[str, Any]) -> AsyncIterator[dict[str, str]]:
    if options["live"] and options["ws_url"]:
        raise click.UsageError("--live and --ws-url are mutually exclusive")
    given = {k: options[k] for k in ("ws_url", "auth_ws_url", "l3_ws_url", "rest_url")}
    if options["live"]:
        yield {
            "ws_url": KRAKEN_WS_URL,
            "auth_ws_url": KRAKEN_AUTH_WS_URL,
            "l3_ws_url": KRAKEN_L3_WS_URL,
            "rest_url": KRAKEN_REST_URL,
        }
    elif options["ws_url"] or _file_names_endpoints(options["config_file"]):
        yield {k: v for k, v in given.items() if v}
    else:
        from ..testing.server import LocalExchange

        async with LocalExchange(rate=options["rate"], seed=options["seed"]) as ex:
            click.echo(f"kraken-ws gateway: embedded local exchange {ex.ws_url}", err=True)
            yield {
                "ws_url": ex.ws_url,
                "auth_ws_url": ex.auth_ws_url,
                "l3_ws_url": ex.l3_ws_url,
                "rest_url": ex.rest_url,
                "key": ex.api_key,  # the embedded exchange's test account
                "secret": ex.api_secret,
            }


def _file_names_endpoints(path: str | None) -> bool:
    # A config file that names Kraken's endpoints is used as it is; one that does not runs
    # against the embedded exchange like every other command (--live for Kraken itself).
    if path is None:
        return False
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False  # GatewayConfig.from_toml reports it
    return "ws_url" in data


async def _gateway(options: dict[str, Any]) -> None:
    import os

    from ..gateway import Gateway, GatewayConfig

    async with _kraken_side(options) as urls:
        fields: dict[str, Any] = dict(urls)
        if options["nats_url"]:
            fields["nats_url"] = options["nats_url"]
        if options["books"]:
            fields["books"] = dict.fromkeys(options["books"], options["depth"])
        for name in ("trades", "tickers", "private"):
            if options[name]:
                fields[name] = tuple(options[name])
        if options["level3"]:
            fields["level3"] = dict.fromkeys(options["level3"], int(options["l3_depth"]))
        if (options["private"] or options["level3"]) and "key" not in fields:
            fields["key"] = os.environ.get("KRAKEN_API_KEY", "")
            fields["secret"] = os.environ.get("KRAKEN_API_SECRET", "")
        if options["allow_anonymous_private"]:
            fields["allow_anonymous_private"] = True
        if options["replicas"]:
            fields["replicas"] = int(options["replicas"])
        if options["config_file"]:
            config = GatewayConfig.from_toml(options["config_file"], **fields)
        else:
            config = GatewayConfig(**fields)
        stop = _stop_event(options["duration"])
        async with Gateway(config) as gw:
            click.echo(
                f"kraken-ws gateway: publishing to {config.nats_url} (epoch {gw.epoch}); "
                "Ctrl-C stops",
                err=True,
            )
            every = options["health_every"]
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(every or None):
                        await stop.wait()
                if every and not stop.is_set():
                    click.echo(_health_line(gw), err=True)


def _health_line(gw: Gateway) -> str:
    health = gw.health()
    books = [s for s in health.subscriptions if s.book_valid is not None]
    valid = sum(1 for s in books if s.book_valid)
    oldest = max((s.last_frame_age for s in health.subscriptions), default=0.0)
    lag = (
        "-" if health.lag_p50_ms is None else f"{health.lag_p50_ms:.2f}/{health.lag_max_ms:.2f} ms"
    )
    conns = " ".join(f"{k}:{v}" for k, v in health.connections.items())
    return (
        f"health: {conns} nats:{'up' if health.nats_connected else 'DOWN'} "
        f"books valid {valid}/{len(books)} published {health.published} "
        f"lag p50/max {lag} oldest frame {oldest:.1f}s errors {health.publish_errors}"
    )
