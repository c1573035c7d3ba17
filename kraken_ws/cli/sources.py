"""Where a streaming command's frames come from, and when it stops.

The embedded `LocalExchange` by default (it works offline), Kraken with
``--live``, any endpoint with ``--ws-url`` (both connected first by `.connect`, which gives up
fast); ``--duration`` and Ctrl-C stop the command. A command says where it connects
(`_announced`) before it imports anything slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from ..endpoints import KRAKEN_REST_URL, KRAKEN_WS_URL
from ..transport.base import Connector
from .connect import announce, first_connection

# The commands' plumbing; the options are shared with ``serve``.
__all__ = ["DEFAULT_RATE", "rate_option", "seed_option"]

_F = TypeVar("_F", bound=Callable[..., Any])

DEFAULT_RATE = 20.0
"""Market updates per second per symbol of the exchange that ``serve`` and the streaming
commands start (one default for both)."""


def rate_option(func: _F) -> _F:
    """``--rate``: the local exchange's market updates per second per symbol."""
    return click.option(
        "--rate",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_RATE,
        show_default=True,
        help="Local exchange: market updates per second per symbol.",
    )(func)


def seed_option(func: _F) -> _F:
    """``--seed``: the local exchange's market seed."""
    return click.option(
        "--seed", type=int, default=0, show_default=True, help="Local exchange: market seed."
    )(func)


@dataclass(frozen=True, slots=True)
class _Source:
    ws_url: str
    rest_url: str
    label: str
    # Hands the client the socket `first_connection` opened; None: the client's default.
    connector: Connector | None = None


def _source_options(func: _F) -> _F:
    options = [
        click.option(
            "--live",
            is_flag=True,
            help=f"Use Kraken's production endpoint ({KRAKEN_WS_URL}) instead of the embedded "
            "local exchange.",
        ),
        click.option(
            "--ws-url",
            metavar="URL",
            default=None,
            help="Use this public endpoint (e.g. one from `kraken-ws serve`).",
        ),
        click.option(
            "--duration",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            metavar="SECONDS",
            help="Stop after this many seconds (default: until Ctrl-C).",
        ),
        rate_option,
        seed_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class _SourceOptions:
    """The options every streaming command shares (see ``_source_options``)."""

    live: bool
    ws_url: str | None
    duration: float | None
    rate: float
    seed: int

    def __post_init__(self) -> None:
        if self.live and self.ws_url:
            raise click.UsageError("--live and --ws-url are mutually exclusive")

    @property
    def remote_url(self) -> str | None:
        """The endpoint ``--live`` or ``--ws-url`` names; None: the embedded exchange."""
        return KRAKEN_WS_URL if self.live else self.ws_url or None


def _announced(options: _SourceOptions) -> _SourceOptions:
    """Say where the command connects, once its arguments are checked: its first line.

    Start-up time: until here the command has imported click and a few small modules only;
    the client, the models and rich (about 0.5 s more, longer on a busy machine) are imported
    by the code that runs next, so the user is never left with a blank screen meanwhile.
    """
    if options.remote_url is not None:
        announce(options.remote_url)
    return options


@contextlib.asynccontextmanager
async def _open_source(options: _SourceOptions) -> AsyncIterator[_Source]:
    url = options.remote_url
    if url is not None:
        async with first_connection(url) as connector:
            label = f"Kraken {url}" if options.live else url
            yield _Source(url, KRAKEN_REST_URL, label, connector)
    else:
        from ..testing.server import LocalExchange

        async with LocalExchange(rate=options.rate, seed=options.seed) as exchange:
            yield _Source(exchange.ws_url, exchange.rest_url, f"local exchange {exchange.ws_url}")


def _stop_event(duration: float | None) -> asyncio.Event:
    """An event set by Ctrl-C, SIGTERM or, when given, after ``duration`` seconds."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    return stop
