"""The post-call rating (好差评, R-RATE-1): after the agent hangs up the caller keys 1-5.

Reached from `[hotline-after-agent]` as `agi://…/ivr/rating?call=<call id>`. One re-prompt after an
invalid key or silence, then thanks; the rating is stored once with the call and its agent (a second
one is refused by the database). A caller who hangs up first is marked `not_rated` by the call
life-cycle, which feeds the voice revisit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from hotline.calls.records import CallRecords, RatingRefused
from hotline.core.asterisk.agi import AgiCall
from ivr.flows.inbound import KEYS

log = logging.getLogger(__name__)

RATING_KEYS = "12345"
KEY_WAIT_MS = 5000


@dataclass(frozen=True)
class RatingFlow:
    """Asks for, validates and stores the caller's rating."""

    calls: CallRecords
    sounds_dir: str
    labels: tuple[str, ...]

    def _prompt(self, key: str) -> str:
        return f"{self.sounds_dir}/{key}"

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.params.get("call") or call.env.get("agi_uniqueid", "")
        rating = await self._ask(call, call_id)
        if rating is None:
            await self.calls.step(call_id, "not_rated", {})
            await call.stream_file(self._prompt("goodbye"))
            return
        try:
            await self.calls.rate(call_id, rating, self.labels[rating - 1], datetime.now(UTC))
        except RatingRefused as exc:
            log.warning("rating %s for call %s refused: %s", rating, call_id, exc)
            await self.calls.step(call_id, "rating_refused", {"rating": rating})
        await call.stream_file(self._prompt("rating_thanks"))

    async def _ask(self, call: AgiCall, call_id: str) -> int | None:
        """The rating keyed, or None after two tries without a valid key."""
        for attempt in (1, 2):
            await self.calls.step(call_id, "rating_prompt", {"attempt": attempt})
            key = await call.stream_file(self._prompt("rating"), escape_digits=KEYS)
            if key is None:
                key = await call.wait_for_digit(KEY_WAIT_MS)
            await self.calls.step(call_id, "rating_key", {"key": key, "valid": key is not None and key in RATING_KEYS})
            if key is not None and key in RATING_KEYS:
                return int(key)
            if key is not None and attempt == 1:
                await call.stream_file(self._prompt("rating_invalid"))
        return None
