"""A local Kraken Spot WebSocket v2 exchange for tests, examples and benchmarks.

:class:`LocalExchange` serves the public, auth and level3 websocket endpoints and the REST token
endpoint on 127.0.0.1, backed by a simulated market (:mod:`.market`), a matching engine
(:mod:`.engine`) and scripted faults (:mod:`.faults`). :class:`FaultProxy` (:mod:`.proxy`) adds
network faults underneath any client.

What lives where:

* :mod:`.server`: :class:`LocalExchange`: lifecycle, endpoints, URLs and the fault API;
* :mod:`.threaded`: :class:`ThreadedExchange`, the exchange on its own loop and thread;
* :mod:`.connection`: per-connection state (send queue, heartbeat, sequences) and the pool;
* :mod:`.router`: each message parsed once, then dispatched through a method table;
* :mod:`.calls`: one request being answered, token checks, error mapping;
* :mod:`.wire_names`: the strict check that requests use Kraken's wire names only;
* :mod:`.channels`: ``subscribe``/``unsubscribe`` and their snapshots;
* :mod:`.trading`: the trading methods, each a thin translation to the engine;
* :mod:`.subscriptions`: the one registry of who is subscribed to what;
* :mod:`.publish`: market driving and fan-out of every change;
* :mod:`.frames`: pure frame builders (state in, wire text out);
* :mod:`.market`: the simulated books, trades, candles and order flow;
* :mod:`.engine`: the matching engine and its one funded account;
* :mod:`.faults`: the exchange's armed faults; :mod:`.limits`: rate limits;
* :mod:`.http`: the REST side (tokens, ``AssetPairs``);
* :mod:`.proxy`: :class:`FaultProxy`, a TCP proxy injecting network faults.
"""

from .engine import DEFAULT_BALANCES, EngineError, MatchingEngine
from .faults import Endpoint, FaultState
from .http import TOKEN_PATH, TokenStore, api_sign, verify_api_sign
from .limits import TIERS, TierSpec
from .market import DEFAULT_INSTRUMENTS, InstrumentSpec, Market
from .proxy import Direction, FaultProxy
from .server import LocalExchange
from .threaded import ThreadedExchange

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
