"""Transports: the I/O edge. Only `kraken_ws.transport.websockets` touches the network."""

from .base import Connector, PollingTransport, Transport

__all__ = ["Connector", "PollingTransport", "Transport"]
