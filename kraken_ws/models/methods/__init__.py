"""Method models: one module per method (request, params, result, success and error)."""

__all__: list[str] = []
