"""The typed asyncio client: :class:`KrakenWSClient`.

What lives here, from the user's side down:

* :mod:`._client` assembles ``KrakenWSClient`` (lifecycle, events, ``send()``, order safety)
  from :mod:`._channels` (subscriptions, live books) and :mod:`._trading` (orders, dead man's
  switch); every method delegates to
* :mod:`._core` (``ClientCore``): endpoint connections, tokens, event queues, background tasks and
  the one request pipeline, owner of
* :mod:`._connection` (one endpoint's socket, reader, timer and reconnect loop, over the
  sans-I/O :class:`~kraken_ws.protocol.connection.KrakenProtocol`), :mod:`._books` (live books)
  and :mod:`._orders` (in-doubt orders and fills of a gap, over :mod:`kraken_ws.reconcile`);
* :mod:`._queue` (per-consumer queues and their drop policy) and :mod:`.types` (what users write
  in signatures).

Connections open lazily: the public one on the first public subscription, the auth one on the
first private subscription or trading method, the level3 one on the first ``level3`` request.
"""

from ._client import KrakenWSClient
from .types import ClientEvent, EventCallback, Number, SubscribeParamsModel, UnsubscribeParamsModel

__all__ = [
    "ClientEvent",
    "EventCallback",
    "KrakenWSClient",
    "Number",
    "SubscribeParamsModel",
    "UnsubscribeParamsModel",
]
