"""The market-data gateway: one Kraken connection set, any number of readers, over NATS JetStream.

Needs the ``nats`` extra (``pip install 'kraken-ws[nats]'``). What lives here:

* `Gateway` (``gateway``): runs a `KrakenWSClient` and publishes every frame's wire text on
  ``kraken.v2.<channel>.<SYMBOL>`` with receive time, connection sequence and checksum
  verdict in headers, the verified books as stored snapshots, lifecycle events and health;
  `GatewayConfig` (``config``) says what, from flags or TOML.
* `Subscriber` (``subscriber``): the same typed events and live verified `OrderBook` and
  `L3Book` objects as the client, read from the bus; late joiners start from a stored snapshot
  with no gap.
* ``subjects`` (the subject layout, stream and header names), ``events`` (lifecycle events on
  the bus), ``health``, ``snapshot`` (a book as a snapshot frame), ``outbox`` (the ordered
  publisher and the acknowledged queue of account data) and ``testing`` (a real
  ``nats-server`` for tests: `NatsServer`, `NatsCluster`, `secured_config`).

See docs/deployment.md for the deployment, subject layout, retention and failure behaviour.
"""

from .config import GatewayConfig, GatewayConfigError
from .events import GatewayEvent, GatewayGap, GatewayStarted, GatewayStopped, SubscriptionStale
from .gateway import Gateway
from .health import GatewayHealth, SubscriptionHealth
from .subscriber import GatewayPermissionError, Subscriber, SubscriberEvent

__all__ = [
    "Gateway",
    "GatewayConfig",
    "GatewayConfigError",
    "GatewayEvent",
    "GatewayGap",
    "GatewayHealth",
    "GatewayPermissionError",
    "GatewayStarted",
    "GatewayStopped",
    "Subscriber",
    "SubscriberEvent",
    "SubscriptionHealth",
    "SubscriptionStale",
]
