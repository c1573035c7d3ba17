"""A byte-level network fault layer: a TCP proxy between any client and any server.

`FaultProxy` listens on 127.0.0.1 and forwards every accepted connection to one target
address. It knows nothing of WebSocket or Kraken: it moves bytes, and its faults are the ones a
bad network produces (resets, silence, latency, a thin pipe, fragmented segments, refused
connects). `LocalExchange`'s own faults work at the message level;
this works underneath any client, including ones that are not ours.

The model:

- A *connection pair* is one accepted client socket plus the socket the proxy opened to the
  target for it. Each pair has two *pumps*, one per direction: ``upstream`` (client to server)
  and ``downstream`` (server to client). A pump is a queue of chunks (each read from the source
  socket, stamped with its arrival time) and one task that writes them to the other socket.
- Fault settings live in one state object per direction, shared by every pump of that
  direction, and are read by the pump each time it decides what to do next. A change therefore
  applies at once to existing and new connections alike; a pump waiting on an old setting is
  woken to re-read it.
- Reading is never delayed by a fault, only writing: a chunk's latency counts from when it
  arrived, and a stalled direction keeps reading. What a pump holds is bounded: above
  `MAX_HELD_BYTES` it stops reading its source, so TCP flow control pushes back on the
  sender as a real congested path would.
- One writer per direction delivers chunks strictly in arrival order, whatever the jitter.
- End of stream travels in order behind the data (a half-close is propagated); once both
  directions have ended, both sockets are closed. A socket that fails (a reset from its peer,
  for instance) takes the pair down at once: the other socket is reset too, and bytes still
  held are dropped, as a reset drops them on a real network.

What lives where: `.fault_proxy` holds `FaultProxy` (lifecycle, addresses, the
fault settings, counters); `.pairs` the machinery of one proxied connection (its sockets,
its pumps) and the `Switchboard` every connection of one proxy shares.
"""

from .fault_proxy import FaultProxy
from .pairs import MAX_HELD_BYTES, Direction

__all__ = ["MAX_HELD_BYTES", "Direction", "FaultProxy"]
