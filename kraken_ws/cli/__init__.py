"""The ``kraken-ws`` command line (also ``python -m kraken_ws``).

Streaming commands (``book``, ``ticker``, ``trades``, ``ohlc``, ``record``) run against a local
exchange started in-process by default (`LocalExchange`), against
Kraken with ``--live``, or against any endpoint with ``--ws-url``. Errors are one line on
stderr; exit codes: 0 ok, 1 runtime failure, 2 usage error.

Where it lives: ``group`` (the click group `main`, the table of commands, each module
imported when its command runs, errors and exit codes, the option checks commands share),
``sources`` (the embedded exchange, ``--live`` or ``--ws-url``;
``--duration``), ``connect`` (the first connection to a remote endpoint: said at once, retried
briefly, one line when it fails), ``live`` (displays that redraw in place), ``streaming``
(``book``, ``ticker``, ``trades``, ``ohlc``), ``record_replay`` (``record``, ``replay``),
``admin`` (``serve``, ``schemas``, ``token``) and ``render`` (the rich renderables, no I/O).

Start-up time: a streaming command prints where it connects about 0.1 s after it starts. Its
modules import only click and small kraken_ws modules at the top; the client, the models and
rich are imported inside functions, after that line (tests/cli/test_connect.py checks both).
"""

# `main` loads each command's module when the command is used (the table in `group`).
from .group import main

__all__ = ["main"]
