"""The one import of ``nats`` (nats-py), with a clear error when the extra is missing.

Everything else in the gateway imports NATS names from here, so ``import kraken_ws.gateway``
fails once, at the top, with the command that fixes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

try:
    import nats
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.errors import NoRespondersError, TimeoutError
    from nats.js import JetStreamContext, api
    from nats.js.errors import APIError, NotFoundError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("kraken_ws.gateway needs nats-py: pip install 'kraken-ws[nats]'") from exc

__all__ = [
    "APIError",
    "Client",
    "JetStreamContext",
    "Msg",
    "NoRespondersError",
    "NotFoundError",
    "TimeoutError",
    "accepts_anonymous",
    "api",
    "connect",
    "inbox_prefix",
    "server_list",
    "without_credentials",
]


def server_list(url: str) -> list[str]:
    """``"nats://a:4222,nats://b:4222"`` -> ``["nats://a:4222", "nats://b:4222"]``."""
    return [part.strip() for part in url.split(",") if part.strip()]


def without_credentials(url: str) -> str:
    """The URL with any ``user:password@`` removed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def inbox_prefix(url: str) -> str:
    """``_INBOX.<user>`` for a URL with a user in it (its own replies only), else ``_INBOX``."""
    user = urlsplit(server_list(url)[0]).username if server_list(url) else None
    return f"_INBOX.{user}" if user else "_INBOX"


async def connect(url: str, *, name: str, **options: object) -> Client:
    """Connect to every server of ``url`` (reconnecting forever unless told otherwise)."""
    settings: dict[str, object] = {
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.2,
        "connect_timeout": 2,
        "ping_interval": 5,
        "max_outstanding_pings": 2,
    }
    settings.update(options)
    return await nats.connect(servers=server_list(url), name=name, **settings)  # type: ignore[arg-type,unused-ignore]


async def accepts_anonymous(server: str) -> bool:
    """Whether ``server`` lets in a client that presents no credentials.

    The NATS protocol by hand (INFO, CONNECT without credentials, PING): PONG means the server
    let us in, ``-ERR`` that it did not. A plain socket, so nothing is left open either way.
    An unreachable server answers ``False``: the real connection reports it.
    """
    parts = urlsplit(server if "://" in server else f"nats://{server}")
    try:
        # Bounded too: a host that drops SYNs would otherwise hold the gateway's start for the
        # OS's connect timeout (minutes).
        async with asyncio.timeout(5.0):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 4222)
    except (OSError, TimeoutError):
        return False
    try:
        async with asyncio.timeout(5.0):
            await reader.readline()  # INFO
            writer.write(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
            await writer.drain()
            answer = await reader.readline()
        return answer.startswith(b"PONG")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
