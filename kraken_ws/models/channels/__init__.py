"""Channel models: one module per channel of the Kraken Spot WebSocket v2 API."""

__all__: list[str] = []
