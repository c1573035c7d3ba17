"""``python -m kraken_ws``: the ``kraken-ws`` command line."""

from kraken_ws.cli import main

if __name__ == "__main__":
    main(prog_name="kraken-ws")
