"""Token guessing slowed down: an address with too many failed authentications in a window is refused (429)
for a while, without the token being looked up."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ThrottleLimits:
    failures: int = 20  # failed attempts from one address within `window_s` …
    window_s: float = 60.0
    block_s: float = 300.0  # … refuse it for this long
    tracked: int = 10_000  # addresses remembered at most (the oldest are forgotten)


@dataclass
class _Address:
    failures: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class FailureThrottle:
    """Failed attempts per remote address, in this process."""

    def __init__(self, limits: ThrottleLimits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or ThrottleLimits()
        self._clock = clock
        self._addresses: dict[str, _Address] = {}

    def blocked_for(self, remote: str) -> float:
        """Seconds this address is still refused (0: it may try)."""
        entry = self._addresses.get(remote)
        return max(0.0, entry.blocked_until - self._clock()) if entry else 0.0

    def failed(self, remote: str) -> bool:
        """Count a failure; True when it starts a block."""
        now, limits = self._clock(), self.limits
        entry = self._addresses.pop(remote, None) or _Address()
        self._addresses[remote] = entry  # the most recent last, so the oldest go first
        while entry.failures and entry.failures[0] <= now - limits.window_s:
            entry.failures.popleft()
        entry.failures.append(now)
        if len(self._addresses) > limits.tracked:
            del self._addresses[next(iter(self._addresses))]
        if len(entry.failures) >= limits.failures and entry.blocked_until <= now:
            entry.blocked_until = now + limits.block_s
            entry.failures.clear()
            return True
        return False
