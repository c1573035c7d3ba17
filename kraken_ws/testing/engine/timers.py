"""Timers on the exchange's injected clock.

The engine never asks the event loop for time: a timer is due when the *injected* clock says so,
and fires when the exchange next settles the engine (on every request, market tick and its 50 ms
housekeeping pass). With the default wall clock that is within about 50 ms of the due time; with
a hand-moved test clock it is deterministic: move the clock, then settle (``await ex.step()``,
any request, or the next housekeeping pass).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

__all__ = ["ClockTimers", "Timer"]


class Timer:
    """One scheduled callback; `cancel` it to stop it from firing."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        """Clock time at which it is due."""
        self.callback = callback
        self.cancelled = False
        """Whether it was cancelled (or has fired: timers fire once)."""

    def cancel(self) -> None:
        """Do not fire (idempotent; harmless after it fired)."""
        self.cancelled = True


class ClockTimers:
    """One-shot callbacks due at times of an injected clock, run by `run_due`.

    Args:
        clock: Epoch seconds (the exchange's injectable clock).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Timer]] = []
        # Breaks ties between equal due times: timers due together fire in scheduling order.
        self._sequence = itertools.count()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once the clock reads ``when`` or later."""
        timer = Timer(when, callback)
        heapq.heappush(self._heap, (when, next(self._sequence), timer))
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` ``delay`` seconds from now (on the clock)."""
        return self.call_at(self._clock() + delay, callback)

    def run_due(self) -> int:
        """Fire every timer that is due, earliest first; return how many fired.

        A timer a callback schedules for a time already reached fires in the same call.
        """
        fired = 0
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            _, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            timer.cancelled = True  # one-shot: a later cancel() is a no-op
            timer.callback()
            fired += 1
        return fired

    def cancel_all(self) -> None:
        """Cancel every pending timer."""
        for _, _, timer in self._heap:
            timer.cancel()
        self._heap.clear()

    def __len__(self) -> int:
        """Timers still pending (cancelled ones excluded)."""
        return sum(1 for _, _, timer in self._heap if not timer.cancelled)
