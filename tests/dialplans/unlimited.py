"""A dial-out guard with the shipped plan's rules and no hourly limit, for unit tests that never reach Redis."""

from __future__ import annotations

from dialplans.dialout import DialOutGuard, DialOutPolicy, HourlyCount
from dialplans.model import Dialplan


class NoLimit(HourlyCount):
    """Counts nothing: every call is within the hour's limit."""

    def __init__(self) -> None:
        pass

    async def take(self, subject: str, limit: int, now: float | None = None) -> bool:
        return True


def unlimited_guard(plan: Dialplan) -> DialOutGuard:
    return DialOutGuard(DialOutPolicy.of(plan), NoLimit())
