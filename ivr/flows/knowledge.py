"""The knowledge base on the phone (issue 20, R-KB-1 self-service): waiting callers of a number with
`knowledge: true` hear key 3 in the self-service offer; it lists that line's published, valid entries marked
for the phone (the entries the line's hot-issue announcements point to first, then its department's; every
department's on the main number), most used first, and reads the one
the caller picks. The list and the answers are synthesised from the entries' words (espeak-ng `cmn`, as the
prompts) into files named by their words, so an edited answer is heard at once and an unchanged one is not
synthesised twice. The caller keeps their place in the queue meanwhile; an agent who becomes free takes the
call mid-sentence (the AGI session ends with the bridge), and 0 stops the reading.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall
from ivr.announcements.active import Playing
from ivr.announcements.audio import Sound

log = logging.getLogger(__name__)

MAX_ENTRIES = 5  # a short list: keys 1-5, 0 back to waiting
CHOICE_MS = 6000
STOP_KEY = "0"


class PhoneEntry(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def title(self) -> str: ...

    @property
    def answer(self) -> str: ...


class PhoneEntries(Protocol):
    async def for_phone(self, line: str, limit: int, first: Sequence[int] = ()) -> Sequence[PhoneEntry]: ...


class Pointed(Protocol):
    async def for_line(self, line: str, now: datetime) -> Sequence[Playing]: ...


class Speech(Protocol):
    async def synthesise(self, text: str) -> Sound: ...

    def played(self, sound: str) -> str: ...


def listing_words(entries: Sequence[PhoneEntry]) -> str:
    """"常见问题解答。{title}，请按1；…返回等待请按0。" """
    choices = "；".join(f"{e.title.rstrip('？?。')}，请按{n}" for n, e in enumerate(entries, 1))
    return f"常见问题解答。{choices}。返回等待请按{STOP_KEY}。"


def answer_words(entry: PhoneEntry) -> str:
    return f"{entry.title.rstrip('？?。')}。{entry.answer.strip()}"


@dataclass(frozen=True)
class PhoneKnowledge:
    """Reads the line's phone entries to a waiting caller who pressed 3."""

    calls: CallRecords
    sounds_dir: str
    entries: PhoneEntries
    speech: Speech
    announcements: Pointed | None = None  # hot-issue announcements may point to an entry: it comes first

    async def __call__(self, call: AgiCall, call_id: str, line: str) -> None:
        playing = await self.announcements.for_line(line, datetime.now(UTC)) if self.announcements else []
        first = [p.entry_id for p in playing if p.entry_id is not None]
        entries = await self.entries.for_phone(line, MAX_ENTRIES, first)
        await self.calls.step(call_id, "knowledge_menu", {"line": line, "entries": [e.id for e in entries]})
        if not entries:
            await call.stream_file(f"{self.sounds_dir}/knowledge_none")
            await call.stream_file(f"{self.sounds_dir}/back_to_waiting")
            return
        keys = "".join(str(n) for n in range(1, len(entries) + 1)) + STOP_KEY
        listing = await self.speech.synthesise(listing_words(entries))
        key = await call.stream_file(self.speech.played(listing.name), escape_digits=keys)
        if key is None:
            key = await call.wait_for_digit(CHOICE_MS)
        chosen = entries[int(key) - 1] if key and key != STOP_KEY and key in keys else None
        if chosen is None:
            await self.calls.step(call_id, "knowledge_key", {"key": key, "valid": key == STOP_KEY})
        else:
            answer = await self.speech.synthesise(answer_words(chosen))
            await self.calls.step(call_id, "knowledge_heard", {"entry_id": chosen.id, "title": chosen.title,
                                                               "key": key, "seconds": answer.seconds})
            log.info("call %s hears knowledge entry %s", call_id, chosen.id)
            await call.stream_file(self.speech.played(answer.name), escape_digits=STOP_KEY)
        await call.stream_file(f"{self.sounds_dir}/back_to_waiting")
