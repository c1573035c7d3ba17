"""The recording file format: `Recorder` writes it, `iter_recording` reads it back.

One JSON object per received frame, gzip-compressed when the name ends in ``.gz``:

```json
{"t":1732836000.123456,"frame":{"channel":"book","type":"update","data":[...]}}
```

``t`` is the receive time (Unix seconds) and ``frame`` is the frame text exactly as it arrived,
spliced in rather than re-serialised, so every price keeps its wire digits and the book
checksums verify on replay. A frame that is not one line of valid JSON is kept as a JSON string
under ``"text"`` instead.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import jiter

from ..exceptions import KrakenWSError
from ..protocol import dumps, loads  # lossless: exact digits
from ..transport.base import Connector
from .tap import tap_connector

__all__ = ["RecordedFrame", "Recorder", "RecordingError", "count_frames", "iter_recording"]

_GZIP_MAGIC = b"\x1f\x8b"
_PREFIX = '{"t":'


class RecordingError(KrakenWSError, ValueError):
    """A file is not a valid recording (the message names the file and line)."""


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One received frame of a recording.

    Attributes:
        t: Receive time, Unix seconds.
        text: The frame text as received.
        line: 1-based line number in the recording (0 for frames not read from a file).
    """

    t: float
    text: str
    line: int = 0


def _is_gzip_name(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).endswith(".gz")


def _encode_line(t: float, text: str) -> str:
    if "\n" not in text and "\r" not in text:
        try:
            jiter.from_json(text.encode())
        except ValueError:
            pass
        else:
            return f'{_PREFIX}{t:.6f},"frame":{text}}}\n'
    return f'{_PREFIX}{t:.6f},"text":{dumps(text)}}}\n'


class Recorder:
    """Writes received frames to a JSON Lines recording (gzip when the name ends in ``.gz``).

    Use it as a context manager, or call `close`:

    ```python
    with Recorder("btc.jsonl.gz") as recorder:
        async with KrakenWSClient(connector=recorder.tap()) as client:
            ...
    ```

    Args:
        path: The file to create (overwritten if it exists).
        clock: Wall clock for receive times, Unix seconds.

    Raises:
        OSError: The file cannot be created.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._file: IO[str]
        if _is_gzip_name(path):
            self._file = gzip.open(self.path, "wt", encoding="utf-8", newline="\n")  # noqa: SIM115
        else:
            self._file = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.frames = 0
        """Frames written."""
        self.bytes = 0
        """Bytes of frame text written (before compression)."""
        self._paused = False
        self._closed = False

    def __repr__(self) -> str:
        return f"Recorder({str(self.path)!r}, frames={self.frames}, closed={self._closed})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    def write(self, text: str, t: float | None = None) -> RecordedFrame | None:
        """Append one frame.

        Args:
            text: The frame text as received.
            t: Receive time (default: now on the recorder's clock).

        Returns:
            The recorded frame, or ``None`` if the recorder is closed or stopped.
        """
        if self._closed or self._paused:
            return None
        when = self._clock() if t is None else t
        self._file.write(_encode_line(when, text))
        self.frames += 1
        self.bytes += len(text)
        return RecordedFrame(when, text, self.frames)

    def stop(self) -> None:
        """Ignore every later frame (the file stays open until `close`)."""
        self._paused = True

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if not self._closed:
            self._closed = True
            self._file.close()

    def tap(
        self,
        connector: Connector | None = None,
        on_frame: Callable[[RecordedFrame], None] | None = None,
    ) -> Connector:
        """A connector whose transports record every frame they receive.

        Args:
            connector: The connector to wrap (default: the websockets transport).
            on_frame: Called with each frame just after it is written.

        Returns:
            A connector for `KrakenWSClient`'s ``connector=``.
        """
        return tap_connector(self, connector, on_frame)


# --- reading ------------------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def _parse_line(raw: str, path: Path, number: int) -> RecordedFrame:
    line = raw.rstrip("\r\n")
    if line.startswith(_PREFIX) and line.endswith("}"):
        # Fast path, the layout Recorder writes: slice the frame text out, byte for byte.
        comma = line.find(",", len(_PREFIX))
        if comma > 0 and line.startswith('"frame":', comma + 1):
            try:
                t = float(line[len(_PREFIX) : comma])
            except ValueError:
                pass
            else:
                return RecordedFrame(t, line[comma + 9 : -1], number)
    try:
        obj = loads(line)
    except ValueError as exc:
        raise RecordingError(f"{path}:{number}: not a JSON line ({exc})") from None
    if not isinstance(obj, dict) or "t" not in obj or ("frame" not in obj and "text" not in obj):
        raise RecordingError(f"{path}:{number}: expected an object with 't' and 'frame'")
    t_value = obj["t"]
    if isinstance(t_value, bool) or not isinstance(t_value, int | Decimal):
        raise RecordingError(f"{path}:{number}: 't' must be a number")
    if "frame" in obj:
        # Written by another tool: re-serialise losslessly (exact number digits).
        text = dumps(obj["frame"])
    else:
        if not isinstance(obj["text"], str):
            raise RecordingError(f"{path}:{number}: 'text' must be a string")
        text = obj["text"]
    return RecordedFrame(float(t_value), text, number)


def iter_recording(path: str | os.PathLike[str]) -> Iterator[RecordedFrame]:
    """Read a recording frame by frame (gzip is detected from the file's first bytes).

    Blank lines are skipped.

    Args:
        path: The recording.

    Yields:
        Each `RecordedFrame`, in file order.

    Raises:
        OSError: The file cannot be read (missing, permission, corrupt gzip).
        RecordingError: A line is not a recording line, or the gzip stream is truncated.
    """
    source = Path(path)
    with _open_text(source) as stream:
        number = 0
        try:
            for raw in stream:
                number += 1
                if raw.strip():
                    yield _parse_line(raw, source, number)
        except EOFError as exc:
            raise RecordingError(f"{source}: truncated after line {number} ({exc})") from None
        except UnicodeDecodeError as exc:
            raise RecordingError(f"{source}:{number + 1}: not UTF-8 text ({exc.reason})") from None


def count_frames(path: str | os.PathLike[str]) -> int:
    """Number of non-blank lines of a recording (for progress bars; lines are not parsed).

    Args:
        path: The recording.

    Returns:
        The line count.

    Raises:
        OSError: The file cannot be read.
        RecordingError: The gzip stream is truncated or the text is not UTF-8.
    """
    source = Path(path)
    count = 0
    try:
        with _open_text(source) as stream:
            for raw in stream:
                if raw.strip():
                    count += 1
    except EOFError as exc:
        raise RecordingError(f"{source}: truncated ({exc})") from None
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{source}: not UTF-8 text ({exc.reason})") from None
    return count
