"""Reconnection policy: when to retry and how long to wait (websockets' own shape).

Theory of operation
===================

The client never decides ad hoc whether to reconnect. Two small pure pieces decide for it:

* `classify_error` looks at why a connection ended and answers ``None`` (reconnect) or
  the exception to raise to the user (give up). Kraken's own SDK treats close code **1008**
  (policy violation) as terminal and everything else, including an abrupt drop (1006), a
  server restart (1001, 1012), an internal error (1011) and a normal close (1000), as
  reconnectable ([Protocol notes §1.2][ref-1-2]). Credentials that Kraken refuses
  (``AuthenticationError`` with Kraken's error string) are terminal too: retrying would only burn
  the IP's connection budget and, for ``EAPI:Invalid key``, earn a temporary lockout. A token
  request lost in transit (a network error as its cause) is retried like any other drop.
* `backoff` yields the delays between attempts: exponential growth capped at
  ``max_delay``, with **full jitter** (a uniform draw in ``[0, delay]``) so that many clients
  dropped by the same server restart do not come back in lockstep. Cloudflare bans an IP after
  about 150 attempts in ten minutes, so the cap must stay in the seconds, not milliseconds.

The generator restarts from the beginning after each successful connection, so a brief blip
after hours of uptime reconnects fast.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Literal

from .exceptions import AuthenticationError, ConnectionClosed, InvalidState

__all__ = ["TERMINAL_CLOSE_CODES", "backoff", "classify_error"]

TERMINAL_CLOSE_CODES: frozenset[int] = frozenset({1008})
"""Close codes after which reconnecting is pointless (policy violation)."""


def backoff(
    initial: float = 0.5,
    factor: float = 2.0,
    max_delay: float = 30.0,
    jitter: Literal["full", "none"] = "full",
    *,
    rng: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Delays between reconnection attempts, forever.

    Args:
        initial: Upper bound of the first delay, in seconds.
        factor: Growth per attempt.
        max_delay: Cap of the (pre-jitter) delay.
        jitter: ``"full"``: each delay is uniform in ``[0, bound]``; ``"none"``: the bound.
        rng: Uniform ``[0, 1)`` source (injectable for tests).

    Yields:
        Seconds to wait before the next attempt.
    """
    if initial < 0 or factor < 1 or max_delay < 0:
        raise ValueError("need initial >= 0, factor >= 1, max_delay >= 0")
    bound = min(initial, max_delay)
    while True:
        yield bound * rng() if jitter == "full" else bound
        bound = min(bound * factor, max_delay)


def classify_error(exc: BaseException) -> Exception | None:
    """Decide whether a connection failure is worth a reconnect.

    Args:
        exc: Why the connection ended or could not be opened.

    Returns:
        ``None`` to reconnect; otherwise the exception to raise to the user.
    """
    if isinstance(exc, ConnectionClosed) and exc.code in TERMINAL_CLOSE_CODES:
        return exc
    if isinstance(exc, AuthenticationError):
        # Kraken refused the credentials (an error string), or there are none: terminal. A
        # token request that failed in transit (a network error as the cause) is retried.
        transient = exc.error is None and isinstance(exc.__cause__, Exception)
        return None if transient else exc
    if isinstance(exc, InvalidState):
        return exc
    if not isinstance(exc, Exception):
        # CancelledError, KeyboardInterrupt: never swallow them into a retry loop.
        return InvalidState(f"connection task interrupted by {type(exc).__name__}")
    return None
