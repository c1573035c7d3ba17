"""Record raw WebSocket frames to JSON Lines and replay them through the decoder and book engine.

A recording is a text file (gzip-compressed when its name ends in ``.gz``) with one JSON object
per received frame:

```json
{"t":1732836000.123456,"frame":{"channel":"book","type":"update","data":[...]}}
```

``t`` is the receive time (Unix seconds) and ``frame`` is the frame text exactly as it arrived,
spliced in rather than re-serialised, so every price keeps its wire digits and the book
checksums verify on replay. A frame that is not one line of valid JSON is kept as a JSON string
under ``"text"`` instead.

* `Recorder` writes a recording; `Recorder.tap` wraps a transport connector so a
  `KrakenWSClient` records every frame it receives.
* `record` subscribes public channels on a client and records them (what
  ``kraken-ws record`` runs).
* `iter_recording` reads a recording back, frame by frame.
* `Replayer` / `replay` feed the frames through `kraken_ws.decode` and a
  `BookManager`, verifying every checksum, and report a
  `ReplaySummary`.

Where it lives: ``format`` (the file format: `Recorder`, `iter_recording`,
`count_frames`), ``tap`` (the transport wrapper behind `Recorder.tap`), ``live``
(`record`) and ``replayer`` (`Replayer`, `replay`). Import from
``kraken_ws.recording`` itself: the module layout is not part of the API.
"""

from .format import RecordedFrame, Recorder, RecordingError, count_frames, iter_recording
from .live import RECORDABLE_CHANNELS, RecordSummary, record
from .replayer import BookSummary, Replayer, ReplaySummary, replay

__all__ = [
    "RECORDABLE_CHANNELS",
    "BookSummary",
    "RecordSummary",
    "RecordedFrame",
    "Recorder",
    "RecordingError",
    "ReplaySummary",
    "Replayer",
    "count_frames",
    "iter_recording",
    "record",
    "replay",
]
