"""Per-member token-bucket rate limiting (in memory, per hub process)."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """``allow(key)`` returns 0 when a request may proceed, else seconds to wait.

    A bucket holds ``burst`` tokens and refills at ``rate`` per second; ``rate <= 0``
    disables limiting. Buckets are per member so one noisy lab cannot starve the others.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: int) -> int:
        if self.rate <= 0:
            return 0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))
