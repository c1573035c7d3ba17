"""Sans-I/O protocol layer: text frames in, typed events out; requests in, text frames out."""
