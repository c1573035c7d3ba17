"""The commands around the streams: ``serve`` (a local exchange), ``schemas`` and ``token``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import click

from ..endpoints import KRAKEN_REST_URL
from ..testing.market import DEFAULT_INSTRUMENTS
from ..testing.server import LocalExchange
from .group import _describe, _one_line
from .sources import rate_option, seed_option

__all__ = ["schemas", "serve", "token"]


@click.command(short_help="Write the JSON Schemas of every message.")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write (created if missing).",
)
def schemas(out: Path) -> None:
    """Write the JSON Schemas of every message, generated from the models.

    \b
    Examples:
      kraken-ws schemas --out schemas/
    """  # noqa: D301
    from ..models.schema import build_schemas

    files = build_schemas()
    try:
        for name, text in files.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write schemas to {out}: {_describe(exc)}") from None
    click.echo(f"wrote {len(files)} schema files to {out}")


@click.command()
@click.option(
    "--rest-url",
    default=KRAKEN_REST_URL,
    show_default=True,
    metavar="URL",
    help="REST base URL (e.g. a local exchange's rest_url).",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...} instead.')
def token(rest_url: str, as_json: bool) -> None:
    """Print a WebSocket token (for private channels and trading).

    Reads the API key and secret from KRAKEN_API_KEY and KRAKEN_API_SECRET; the secret is
    never printed.

    \b
    Examples:
      KRAKEN_API_KEY=... KRAKEN_API_SECRET=... kraken-ws token
      kraken-ws token --rest-url http://127.0.0.1:8080
    """  # noqa: D301
    key = os.environ.get("KRAKEN_API_KEY", "")
    secret = os.environ.get("KRAKEN_API_SECRET", "")
    if not key or not secret:
        raise click.UsageError("set KRAKEN_API_KEY and KRAKEN_API_SECRET in the environment")
    from ..auth import TokenProvider
    from ..exceptions import AuthenticationError

    async def fetch() -> str:
        provider = TokenProvider(key, secret, rest_url=rest_url)
        try:
            return await provider.get()
        finally:
            await provider.aclose()

    try:
        value = asyncio.run(fetch())
    except AuthenticationError as exc:
        message = _one_line(str(exc)).replace(secret, "***")
        raise click.ClickException(message) from None
    click.echo(json.dumps({"token": value}) if as_json else value)


# --- serve --------------------------------------------------------------------------------------


@click.command(short_help="Run a local Kraken exchange (all four endpoints) until Ctrl-C.")
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
@rate_option
@seed_option
def serve(
    as_json: bool, host: str, port_base: int | None, symbols: str, rate: float, seed: int
) -> None:
    """Run a local Kraken exchange until Ctrl-C (public, auth, level3 and REST endpoints).

    Prints its URLs and API credentials, then a command to try against it. Point the CLI
    (--ws-url), KrakenWSClient (ws_url=, auth_ws_url=, l3_ws_url=, rest_url=) or
    python-kraken-sdk code at them.

    \b
    Examples:
      kraken-ws serve                          free ports, until Ctrl-C
      kraken-ws serve --json                   one JSON line with the URLs, for scripts
      kraken-ws serve --port-base 8800 --symbols BTC/USD --rate 50
      kraken-ws book BTC/USD --ws-url ws://127.0.0.1:8800/v2   (then, elsewhere)
    """  # noqa: D301
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
        rate=rate,
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
            # What to type next, with this run's URLs (a first-time user's question).
            click.echo("next, in another terminal:")
            click.echo(
                f"  kraken-ws book {exchange.instruments[0].symbol} --ws-url {exchange.ws_url}"
            )
            click.echo(
                f"  KRAKEN_API_KEY={exchange.api_key} KRAKEN_API_SECRET={exchange.api_secret} "
                f"kraken-ws token --rest-url {exchange.rest_url}"
            )
        sys.stdout.flush()
        await stop.wait()
