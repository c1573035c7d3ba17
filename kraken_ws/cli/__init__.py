"""The ``kraken-ws`` command line (also ``python -m kraken_ws``).

Streaming commands (``book``, ``ticker``, ``trades``, ``ohlc``, ``record``) run against a local
exchange started in-process by default (:class:`~kraken_ws.testing.LocalExchange`), against
Kraken with ``--live``, or against any endpoint with ``--ws-url``. Errors are one line on
stderr; exit codes: 0 ok, 1 runtime failure, 2 usage error.

Where it lives: ``group`` (the click group :func:`main`, errors and exit codes, the option
checks commands share), ``sources`` (the embedded exchange, ``--live`` or ``--ws-url``;
``--duration``), ``live`` (displays that redraw in place), ``streaming`` (``book``, ``ticker``,
``trades``, ``ohlc``), ``record_replay`` (``record``, ``replay``), ``admin`` (``serve``,
``schemas``, ``token``) and ``render`` (the rich renderables, no I/O).
"""

# Importing the command modules registers their commands on `main`. The names stay reachable
# here, as they were when the command line was one module; only `main` is the API.
from ..endpoints import KRAKEN_REST_URL as KRAKEN_REST_URL
from ..endpoints import KRAKEN_WS_URL as KRAKEN_WS_URL
from .admin import schemas as schemas
from .admin import serve as serve
from .admin import token as token
from .group import BOOK_DEPTHS as BOOK_DEPTHS
from .group import OHLC_INTERVALS as OHLC_INTERVALS
from .group import main
from .record_replay import record as record
from .record_replay import replay as replay
from .streaming import book as book
from .streaming import ohlc as ohlc
from .streaming import ticker as ticker
from .streaming import trades as trades

__all__ = ["main"]
