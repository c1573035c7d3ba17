"""The tap: a transport wrapper that hands every received frame to a `Recorder`.

Wrapping the transport rather than the client records the connection exactly as the client
sees it (acks, heartbeats, status, data) without the client knowing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..transport.base import Connector, Transport

if TYPE_CHECKING:
    # Only for annotations: format.py imports this module to implement Recorder.tap().
    from .format import RecordedFrame, Recorder

__all__ = ["tap_connector"]


def tap_connector(
    recorder: Recorder,
    connector: Connector | None,
    on_frame: Callable[[RecordedFrame], None] | None,
) -> Connector:
    """Wrap ``connector`` so its transports write every received frame to ``recorder``.

    What `Recorder.tap` returns.

    Args:
        recorder: Where the frames go.
        connector: The connector to wrap (default: the websockets transport).
        on_frame: Called with each frame just after it is written.

    Returns:
        The wrapping connector.
    """
    if connector is None:
        from ..transport.websockets import connect

        connector = connect
    inner = connector

    async def connect_recording(url: str) -> Transport:
        return _TapTransport(await inner(url), recorder, on_frame)

    return connect_recording


class _TapTransport:
    """A transport that hands every received frame to a `Recorder`."""

    def __init__(
        self,
        inner: Transport,
        recorder: Recorder,
        on_frame: Callable[[RecordedFrame], None] | None,
    ) -> None:
        self._inner = inner
        self._recorder = recorder
        self._on_frame = on_frame

    async def send(self, text: str) -> None:
        await self._inner.send(text)

    async def recv(self) -> str | bytes:
        return self._seen(await self._inner.recv())

    def recv_nowait(self) -> str | bytes | None:
        # PollingTransport, when the inner transport is one (the client's reader prefers it).
        poll = getattr(self._inner, "recv_nowait", None)
        text: str | bytes | None = poll() if poll is not None else None
        return None if text is None else self._seen(text)

    def _seen(self, text: str | bytes) -> str | bytes:
        if isinstance(text, bytes):
            return text  # not Kraken's (binary); the client skips it, the recording too
        # No await between here and the return: the client processes this frame before the
        # event loop runs anything else, so the recording and the client's state agree.
        frame = self._recorder.write(text)
        if frame is not None and self._on_frame is not None:
            self._on_frame(frame)
        return text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._inner.close(code, reason)

    async def abort(self) -> None:
        await self._inner.abort()
