"""Injected time. Every timestamp in a session comes from a Clock: the monotonic clock live, a clock moved
by hand in replay (virtual time) and in tests, which never sleep."""

from __future__ import annotations

import os
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> float:
        """Milliseconds on a monotonic timeline (origin is arbitrary)."""


class MonotonicClock:
    def now_ms(self) -> float:
        return time.monotonic_ns() / 1e6


class ManualClock:
    """Time that moves only when told to. Replay runs a session on one (it advances by the length of each
    piece of audio, so the timeline looks like the call happened live); tests move one by hand."""

    def __init__(self, start_ms: float = 0.0):
        self._now_ms = start_ms

    def now_ms(self) -> float:
        return self._now_ms

    def advance(self, ms: float) -> None:
        self._now_ms += ms


class SessionClock:
    """Milliseconds since the session started, read from an underlying clock."""

    def __init__(self, base: Clock):
        self._base = base
        self._origin_ms = base.now_ms()

    def now_ms(self) -> float:
        return self._base.now_ms() - self._origin_ms


def process_age_ms() -> float | None:
    """How long ago this process was created (Linux: from /proc), for the launch -> first word figure."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime_s = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, (uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000.0)
