"""The ``kraken-ws`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys

import click

from .testing.market import DEFAULT_INSTRUMENTS
from .testing.server import LocalExchange

__all__ = ["main"]


@click.group()
def main() -> None:
    """kraken-ws: typed Kraken Spot WebSocket v2 tools."""


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object with the URLs and keys."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port-base",
    type=int,
    default=None,
    help="Bind public/auth/l3/REST to PORT_BASE..PORT_BASE+3 (default: free ports).",
)
@click.option(
    "--symbols",
    default=",".join(spec.symbol for spec in DEFAULT_INSTRUMENTS),
    show_default=True,
    help="Comma-separated instruments to simulate.",
)
@click.option(
    "--rate",
    type=float,
    default=10.0,
    show_default=True,
    help="Book updates per second per symbol.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Market random seed.")
def serve(
    as_json: bool, host: str, port_base: int | None, symbols: str, rate: float, seed: int
) -> None:
    """Run a local Kraken exchange until Ctrl-C (public, auth, level3 and REST endpoints)."""
    wanted = [s.strip() for s in symbols.split(",") if s.strip()]
    known = {spec.symbol: spec for spec in DEFAULT_INSTRUMENTS}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown symbol(s) {', '.join(unknown)}; choose from {', '.join(known)}",
            param_hint="--symbols",
        )
    exchange = LocalExchange(
        instruments=[known[s] for s in wanted],
        rate=rate or None,
        seed=seed,
        host=host,
        port_base=port_base,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(exchange, as_json))


async def _serve(exchange: LocalExchange, as_json: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with exchange:
        info = {
            "ws_url": exchange.ws_url,
            "auth_ws_url": exchange.auth_ws_url,
            "l3_ws_url": exchange.l3_ws_url,
            "rest_url": exchange.rest_url,
            "api_key": exchange.api_key,
            "api_secret": exchange.api_secret,
        }
        if as_json:
            click.echo(json.dumps(info))
        else:
            click.echo("kraken-ws local exchange (Ctrl-C to stop)")
            for name, value in info.items():
                click.echo(f"  {name:<12} {value}")
        sys.stdout.flush()
        await stop.wait()
