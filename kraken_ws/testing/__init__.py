"""A local Kraken Spot WebSocket v2 exchange for tests, examples and benchmarks.

:class:`LocalExchange` serves the public, auth and level3 websocket endpoints and the REST token
endpoint on 127.0.0.1, backed by a simulated market (:mod:`.market`), a matching engine
(:mod:`.engine`) and scripted faults (:mod:`.faults`).
"""

from .engine import DEFAULT_BALANCES, EngineError, MatchingEngine
from .faults import Endpoint, FaultState
from .http import TOKEN_PATH, TokenStore, api_sign, verify_api_sign
from .limits import TIERS, TierSpec
from .market import DEFAULT_INSTRUMENTS, InstrumentSpec, Market
from .proxy import Direction, FaultProxy
from .server import LocalExchange, ThreadedExchange

__all__ = [
    "DEFAULT_BALANCES",
    "DEFAULT_INSTRUMENTS",
    "TIERS",
    "TOKEN_PATH",
    "Direction",
    "Endpoint",
    "EngineError",
    "FaultProxy",
    "FaultState",
    "InstrumentSpec",
    "LocalExchange",
    "Market",
    "MatchingEngine",
    "ThreadedExchange",
    "TierSpec",
    "TokenStore",
    "api_sign",
    "verify_api_sign",
]
