"""The one check every number the hotline dials out passes before any Originate or Dial (toll fraud, issue 15).

A number is ASCII digits only, 3 to 20 of them (no '+', '*', '#', spaces, full-width or other scripts' digits,
control characters). Each purpose (three-way, consult, linkage, callback, revisit, duty call) dials only what
its list under `dial_out:` in the dialplan file allows: classes (`national` = `fixed` + `mobile`, `short` the
hotline's own numbers, `units` the handling units' duty phones, `linkage` 110/119/120/122) or digit patterns.
International (00…), premium and information (1600…, 168…, 95xxx, 96xxx) and carrier-select prefixes (179xx,
10xxx) never pass as `national`: only a pattern listed for the purpose lets one through. Agents' calls out are
counted per agent and hour, a machine's (the revisit robot) per purpose and hour, in Redis.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from dialplans.model import LINKAGE_NUMBERS, DialOut, Dialplan
from hotline.core.errors import DomainError
from hotline.core.privacy import mask_number

log = logging.getLogger(__name__)

DIGITS = re.compile(r"[0-9]{3,20}", re.ASCII)
CLASSES: dict[str, re.Pattern[str]] = {  # the generic classes; `short`, `units`, `linkage` come from the plan
    "fixed": re.compile(r"0[1-9][0-9]{8,10}"),  # area code and number, 10-12 digits
    "mobile": re.compile(r"1[3-9][0-9]{9}"),
}
DENIED: tuple[tuple[str, re.Pattern[str]], ...] = (  # never dialled as a member of a generic class
    ("international", re.compile(r"00[0-9]*")),
    ("premium", re.compile(r"(1600|168|9[56][0-9]{3})[0-9]*")),
    ("carrier_prefix", re.compile(r"(179[0-9]{2}|10[0-9]{3})[0-9]*")),
)


class DialOutRefused(DomainError):
    """403: this number may not be dialled for this purpose; nothing was dialled."""

    status, error_id = 403, "number_not_allowed"


class DialRateExceeded(DialOutRefused):
    """429: the agent (or the machine) has dialled out as often as the hour allows; nothing was dialled."""

    status, error_id = 429, "dial_rate_exceeded"


@dataclass(frozen=True)
class DialOutPolicy:
    """Which numbers each purpose may dial, from the dialplan file."""

    rules: DialOut
    short: frozenset[str]
    units: frozenset[str]

    @classmethod
    def of(cls, plan: Dialplan) -> DialOutPolicy:
        own = {n.number for n in plan.numbers} | {plan.centre.main_number, plan.centre.display_number}
        return cls(plan.dial_out, frozenset(own), frozenset(u.duty_number for u in plan.units))

    def refusal(self, purpose: str, number: object) -> str | None:
        """Why `number` may not be dialled for `purpose` (None: it may)."""
        if not isinstance(number, str) or not DIGITS.fullmatch(number):
            return "a number is 3 to 20 ASCII digits 0-9, nothing else"
        allowed = self.rules.allowed(purpose)
        if allowed is None:
            return f"nothing is dialled out for '{purpose}'"
        if any(re.fullmatch(p, number, re.ASCII) for p in allowed if p not in KNOWN_CLASSES):
            return None  # listed explicitly: the engineers meant it
        if ("short" in allowed and number in self.short) or ("units" in allowed and number in self.units) \
                or ("linkage" in allowed and number in LINKAGE_NUMBERS):
            return None
        denied = next((name for name, pattern in DENIED if pattern.fullmatch(number)), None)
        if denied is not None:
            return f"{denied} numbers are not dialled for {purpose} unless listed under dial_out"
        if any(CLASSES[c].fullmatch(number) for c in _generic(allowed)):
            return None
        return f"not among the numbers {purpose} may dial ({', '.join(allowed)})"

    def check(self, purpose: str, number: object) -> None:
        """DialOutRefused unless the number may be dialled for the purpose."""
        why = self.refusal(purpose, number)
        if why is not None:
            raise DialOutRefused(f"number not allowed for {purpose}: {why}")


KNOWN_CLASSES = frozenset({"national", "fixed", "mobile", "short", "units", "linkage"})


def _generic(allowed: tuple[str, ...]) -> Iterator[str]:
    for name in allowed:
        if name == "national":
            yield from ("fixed", "mobile")
        elif name in CLASSES:
            yield name


class HourlyCount:
    """Calls out per subject and clock hour, in Redis (one key per subject and hour, expiring after it)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def take(self, subject: str, limit: int, now: float | None = None) -> bool:
        """Count one more call for `subject`; False when it is beyond `limit` this hour."""
        hour = int((time.time() if now is None else now) // 3600)
        key = f"hotline:dialout:{subject}:{hour}"
        count = await self._redis.incr(key)
        if count == 1:
            await self._redis.expire(key, 3700)
        return int(count) <= limit


class DialOutGuard:
    """The policy and the hourly limits together, with the refusals counted for the metrics."""

    def __init__(self, policy: DialOutPolicy, count: HourlyCount) -> None:
        self.policy, self._count = policy, count
        self.refused: Counter[tuple[str, str]] = Counter()  # (purpose, error id) → refusals

    def screen(self, purpose: str, number: object) -> None:
        """The number check alone (no call counted): DialOutRefused, logged and counted."""
        try:
            self.policy.check(purpose, number)
        except DialOutRefused as exc:
            self._refused(purpose, number, exc)
            raise

    async def check(self, purpose: str, number: object, *, agent: str | None = None) -> None:
        """Before dialling `number` for `purpose`: the number check, then one call counted against the hour
        (the agent's when an agent dials, else the purpose's). DialOutRefused / DialRateExceeded."""
        self.screen(purpose, number)
        subject, limit = (f"agent:{agent}", self.policy.rules.per_hour.get("agent")) if agent is not None \
            else (f"purpose:{purpose}", self.policy.rules.per_hour.get(purpose))
        if limit is not None and not await self._count.take(subject, limit):
            exc = DialRateExceeded(f"{subject.replace(':', ' ')} has dialled out {limit} times this hour; "
                                   "try again later")
            self._refused(purpose, number, exc)
            raise exc

    def _refused(self, purpose: str, number: object, exc: DialOutRefused) -> None:
        self.refused[(purpose, exc.id)] += 1
        shown = mask_number(number) if isinstance(number, str) and DIGITS.fullmatch(number) else \
            f"<{len(number) if isinstance(number, str) else type(number).__name__} characters, not a number>"
        log.warning("dial-out refused (%s) for %s to %s: %s", exc.id, purpose, shown, exc.message)


class DialOutCollector(Collector):
    """`hotline_dialout_refused{purpose, reason}`: numbers the hotline would not dial."""

    def __init__(self, guard: DialOutGuard) -> None:
        self._guard = guard

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("hotline_dialout_refused", "calls out refused by the dial-out check",
                                     labels=["purpose", "reason"])
        for (purpose, reason), n in sorted(self._guard.refused.items()):
            family.add_metric([purpose, reason], n)
        yield family
