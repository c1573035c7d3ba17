"""A local Kraken Spot WebSocket v2 exchange for tests, examples and benchmarks.

`LocalExchange` serves the public, auth and level3 websocket endpoints and the REST token
endpoint on 127.0.0.1, backed by a simulated market (`.market`), a matching engine
(`.engine`) and scripted faults (`.faults`). `FaultProxy` (`.proxy`) adds
network faults underneath any client.

What lives where:

* `.server`: `LocalExchange`: lifecycle, endpoints, URLs and the fault API;
* `.threaded`: `ThreadedExchange`, the exchange on its own loop and thread;
* `.connection`: per-connection state (send queue, heartbeat, sequences) and the pool;
* `.router`: each message parsed once, then dispatched through a method table;
* `.calls`: one request being answered, token checks, error mapping;
* `.wire_names`: the strict check that requests use Kraken's wire names only;
* `.channels`: ``subscribe``/``unsubscribe`` and their snapshots;
* `.trading`: the trading methods, each a thin translation to the engine;
* `.subscriptions`: the one registry of who is subscribed to what;
* `.publish`: market driving and fan-out of every change;
* `.frames`: pure frame builders (state in, wire text out);
* `.market`: the simulated books, trades, candles and order flow;
* `.engine`: the matching engine and its one funded account;
* `.faults`: the exchange's armed faults; `.limits`: rate limits;
* `.http`: the REST side (tokens, ``AssetPairs``);
* `.proxy`: `FaultProxy`, a TCP proxy injecting network faults.
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
