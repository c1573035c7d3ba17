"""kraken-ws (bootstrapping: the public API is wired in once the models land)."""
