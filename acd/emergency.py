"""Emergency callers an agent flags (R-ACD-1: priorities for emergencies, before VIPs).

The Beijing standard (003 5.2) tells the agent "遇紧急诉求，及时上报管理人员"; an emergency (不稳定因素、
突发事件、水电气热 …, 003 note to 5.2) is often called in again as it develops. So an agent who hears one flags
the caller (`POST /api/calls/{call_id}/flag-emergency`): that caller's next calls, for the dialplan's
`priorities.emergency_flag_h` hours, queue with the `emergency` level, before VIPs. The flag is kept in
Redis with that lifetime and ends by itself; who flagged, when and why is on the call record and in the audit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from hotline.calls.caller_lists import NUMBER
from hotline.calls.records import CallRecords

KEY = "acd:emergency:"  # + caller number -> who flagged them, on which call, why (expires by itself)


class UnknownCall(LookupError):
    """No record of that call."""


class NoCallerNumber(ValueError):
    """The caller's number is withheld: there is nothing to flag."""


class EmergencyFlags:
    """Callers flagged as emergencies, each for a limited time."""

    def __init__(self, redis: aioredis.Redis, calls: CallRecords, hours: int) -> None:
        self._redis, self._calls, self.hours = redis, calls, hours

    async def flag_caller_of(self, call_id: str, *, by: str, note: str) -> datetime:
        """Flag the caller of `call_id` from now, noted on the call; returns when the flag ends."""
        record = await self._calls.get(call_id)
        if record is None:
            raise UnknownCall(f"no call {call_id}")
        if not NUMBER.match(record.caller):
            raise NoCallerNumber("the caller's number is withheld: there is no number to flag")
        until = datetime.now(UTC) + timedelta(hours=self.hours)
        await self._redis.set(KEY + record.caller, json.dumps({"call_id": call_id, "by": by, "note": note,
                                                               "until": until.isoformat()}), ex=self.hours * 3600)
        await self._calls.step(call_id, "emergency_flagged", {"by": by, "note": note, "until": until.isoformat()})
        return until

    async def flagged(self, number: str) -> bool:
        return bool(await self._redis.exists(KEY + number))
