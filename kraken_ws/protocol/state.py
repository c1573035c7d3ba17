"""Connection states and the transitions between them.

Theory of operation
===================

A `KrakenProtocol` object outlives any single WebSocket.
The client creates one per endpoint (public, auth, level3) and keeps it across reconnects,
because the protocol object is where the *desired* subscriptions live: the socket is disposable,
the intent is not. So the state machine describes one logical connection that may go through
many sockets:

```text
             connecting()          connection_opened()
DISCONNECTED ────────────► CONNECTING ─────────────────► OPEN
     ▲   ▲                     │                          │
     │   └──── connection_lost() ───────────────────────┘
     │                                                     │ close()
     │                                                     ▼
     └──────────── (never: CLOSED is final) ◄──────── CLOSING ──► CLOSED
                                                 connection_lost()
```

* ``DISCONNECTED``: no socket. Subscriptions are remembered as *desired* and nothing is sent.
  Requests are refused (`InvalidState`); the client waits for the
  connection before sending, so users do not see this.
* ``CONNECTING``: the client is opening a socket. Nothing may be sent yet.
* ``OPEN``: frames flow. On entering it the protocol queues the replay of every desired
  subscription with its original params (fresh token for private ones).
* ``CLOSING``: the user asked to close; the socket is going away. Responses still correlate
  (a response racing the close is not lost), but no new request may start.
* ``CLOSED``: final. Every pending request has failed; nothing restarts the object.

``connection_lost`` in ``OPEN``/``CONNECTING`` goes back to ``DISCONNECTED``: the loss is not the
user's decision, so the intent (subscriptions) survives for the next socket. In ``CLOSING`` the
loss is the expected end and leads to ``CLOSED``.

Why a table rather than ``if`` chains: every (state, input) pair is listed once, an unlisted
pair is a bug in the caller and raises `InvalidState` (h11's
approach), and the tests can enumerate the table.
"""

from __future__ import annotations

import enum

from ..exceptions import InvalidState

__all__ = ["TRANSITIONS", "ConnectionState", "Input", "next_state"]


class ConnectionState(enum.Enum):
    """State of one logical connection (see the module docstring)."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Input(enum.Enum):
    """What can happen to a connection."""

    CONNECTING = "connecting"
    """The client started opening a socket."""
    OPENED = "opened"
    """The socket is open."""
    LOST = "lost"
    """The socket closed or was declared dead (not at the user's request)."""
    CLOSE = "close"
    """The user asked to close."""


_S = ConnectionState
_I = Input

TRANSITIONS: dict[tuple[ConnectionState, Input], ConnectionState] = {
    (_S.DISCONNECTED, _I.CONNECTING): _S.CONNECTING,
    (_S.DISCONNECTED, _I.OPENED): _S.OPEN,
    (_S.DISCONNECTED, _I.LOST): _S.DISCONNECTED,
    (_S.DISCONNECTED, _I.CLOSE): _S.CLOSED,
    (_S.CONNECTING, _I.OPENED): _S.OPEN,
    (_S.CONNECTING, _I.LOST): _S.DISCONNECTED,
    (_S.CONNECTING, _I.CLOSE): _S.CLOSED,
    (_S.OPEN, _I.LOST): _S.DISCONNECTED,
    (_S.OPEN, _I.CLOSE): _S.CLOSING,
    (_S.CLOSING, _I.LOST): _S.CLOSED,
    (_S.CLOSING, _I.CLOSE): _S.CLOSING,
    (_S.CLOSED, _I.LOST): _S.CLOSED,
    (_S.CLOSED, _I.CLOSE): _S.CLOSED,
}
"""Every allowed transition; anything else is a local error."""


def next_state(state: ConnectionState, event: Input) -> ConnectionState:
    """Look up a transition.

    Args:
        state: The current state.
        event: What happened.

    Returns:
        The new state.

    Raises:
        InvalidState: The transition is not allowed.
    """
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidState(f"cannot handle {event.value!r} in state {state.value!r}") from None
