"""A streaming command's first connection to a remote endpoint: said at once, retried briefly.

The client alone retries a lost connection quietly and forever, which is right for a long
session and wrong for a command just typed: ``kraken-ws book BTC/USD --live`` with no network
showed ten seconds of blank screen before its error. So for ``--live`` and ``--ws-url`` the
command opens the first WebSocket itself, before the client exists:

* it prints ``connecting to URL ...`` on stderr (`announce`) before anything can block (DNS
  included), and before it imports the client and the models;
* each failed attempt is retried after a short, growing delay, shown as it happens
  (``retry 1/3 in 0.25 s: kraken.invalid does not resolve``);
* after `CONNECT_RETRIES` retries, or at once when retrying cannot help (no answer within
  `OPEN_TIMEOUT`, an HTTP status instead of a WebSocket handshake, a TLS certificate error),
  it stops with one line.

The open socket then goes to the client through its ``connector``, so nothing connects twice;
reconnects after that are the client's own (`kraken_ws.reconnect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import click

from ..reconnect import backoff
from ..transport.base import Connector, Transport

# The commands' plumbing; exported for the tests and docs that state the policy.
__all__ = ["CONNECT_RETRIES", "OPEN_TIMEOUT", "announce", "describe_failure", "first_connection"]

CONNECT_RETRIES = 3
"""Retries of a command's first connection before it gives up (docs/cli.md says so)."""

OPEN_TIMEOUT = 5.0
"""Seconds one attempt may take: DNS, TCP, TLS and the WebSocket handshake."""

# Delays before retries 1, 2, 3: 0.25, 0.5 and 1 s. No jitter: one person's terminal is not a
# crowd of clients reconnecting in lockstep, and the documented figures stay exact.
_FIRST_DELAY = 0.25
_MAX_DELAY = 1.0


def _root(exc: BaseException) -> BaseException:
    """The innermost cause: the OS or websockets error under the transport's ConnectError."""
    seen = {id(exc)}
    while exc.__cause__ is not None and id(exc.__cause__) not in seen:
        exc = exc.__cause__
        seen.add(id(exc))
    return exc


def _http_status(exc: BaseException) -> int | None:
    # websockets' InvalidStatus carries the HTTP response; duck-typed so that websockets stays
    # imported by the transport module only.
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def describe_failure(url: str, exc: BaseException) -> tuple[str, bool]:
    """Why an attempt to open ``url`` failed, in words, and whether retrying can help.

    Args:
        url: The endpoint.
        exc: What the connector raised.

    Returns:
        ``(reason, retryable)``.
    """
    parts = urlsplit(url)
    host = parts.hostname or url
    root = _root(exc)
    status = _http_status(root)
    if status is not None:
        return f"the server answered HTTP {status} instead of a WebSocket handshake", False
    if isinstance(root, socket.gaierror):
        # A name that does not resolve may be a DNS blip: worth the few short retries.
        return f"{host} does not resolve ({root.strerror or root})", True
    if isinstance(root, ConnectionRefusedError):
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        return f"connection refused by {host}:{port}", True
    if isinstance(root, TimeoutError):
        # Silence for OPEN_TIMEOUT already: a second wait as long is not "failing fast".
        return f"no answer within {OPEN_TIMEOUT:g} s", False
    if isinstance(root, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected ({root.verify_message or root})", False
    if isinstance(root, OSError) and root.strerror:
        return root.strerror, True
    return " ".join((str(root) or type(root).__name__).split()), True


class _HandOver:
    """A connector whose first call for ``url`` returns the socket opened already."""

    def __init__(self, url: str, transport: Transport, connector: Connector) -> None:
        self.url = url
        self.transport: Transport | None = transport
        self.connector = connector

    async def __call__(self, url: str) -> Transport:
        transport, self.transport = self.transport, None
        if transport is not None and url == self.url:
            return transport
        if transport is not None:
            await transport.close()
        return await self.connector(url)

    async def aclose(self) -> None:
        """Close the socket if the client never took it."""
        transport, self.transport = self.transport, None
        if transport is not None:
            with contextlib.suppress(Exception):
                await transport.close()


async def _open_timed(url: str) -> Transport:
    from ..transport.websockets import connect

    return await connect(url, open_timeout=OPEN_TIMEOUT)


def announce(url: str) -> None:
    """Print ``connecting to URL ...`` on stderr: a command's first line, before any wait."""
    click.echo(f"connecting to {url} ...", err=True)


@contextlib.asynccontextmanager
async def first_connection(url: str) -> AsyncIterator[Connector]:
    """Open ``url`` as described in the module docstring; yield the client's connector.

    The caller has said where it connects already (`announce`).

    Args:
        url: The public endpoint.

    Yields:
        A connector that hands the open socket to the client, then opens new ones.

    Raises:
        click.ClickException: No connection (one line, exit 1).
    """
    from ..transport.websockets import connect

    delays = backoff(_FIRST_DELAY, 2.0, _MAX_DELAY, jitter="none")
    attempt = 0
    while True:
        attempt += 1
        try:
            transport = await _open_timed(url)
            break
        except Exception as exc:  # the transport raises ConnectError; anything else likewise
            reason, retryable = describe_failure(url, exc)
            if not retryable:
                raise click.ClickException(f"cannot connect to {url}: {reason}") from None
            if attempt > CONNECT_RETRIES:
                raise click.ClickException(
                    f"cannot connect to {url} after {attempt} attempts: {reason}"
                ) from None
            delay = next(delays)
            click.echo(f"retry {attempt}/{CONNECT_RETRIES} in {delay:g} s: {reason}", err=True)
            await asyncio.sleep(delay)
    hand_over = _HandOver(url, transport, connect)
    try:
        yield hand_over
    finally:
        await hand_over.aclose()
