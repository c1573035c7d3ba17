"""The typed asyncio client: `KrakenWSClient`.

What lives here, from the user's side down:

* `._client` assembles ``KrakenWSClient`` (lifecycle, events, ``send()``, order safety)
  from `._channels` (subscriptions, live books) and `._trading` (orders, dead man's
  switch); every method delegates to
* `._core` (``ClientCore``): endpoint connections, tokens, event queues, background tasks and
  the one request pipeline, owner of
* `._connection` (one endpoint's socket, reader, timer and reconnect loop, over the
  sans-I/O `KrakenProtocol`), `._books` (live books)
  and `._orders` (in-doubt orders and fills of a gap, over `kraken_ws.reconcile`);
* `._queue` (per-consumer queues and their drop policy) and `.types` (what users write
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
