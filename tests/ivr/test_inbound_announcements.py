"""The inbound flow with hot-issue announcements, on a real (SQLite) call record and a scripted AGI call: they
play right after the greeting and before the queue, each once, noted on the call's path; a key skips them; and
a database that fails leaves the caller greeted and queued as ever."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from acd.store import SkillLoad
from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from hotline.calls.caller_lists import CallerLists
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCommandError
from hotline.core.db.engine import SessionFactory
from ivr.announcements.active import ActiveAnnouncements, Playing
from ivr.flows.inbound import InboundFlow

PLAN = load_dialplan(Settings().core.dialplan_file)


@dataclass
class ScriptedCall:
    """An AGI call: plays nothing, answers each prompt with the key the script gives for it."""

    dialled: str
    keys: dict[str, str] = field(default_factory=dict)  # prompt (as streamed) → key pressed during it
    missing: frozenset[str] = frozenset()  # prompts Asterisk cannot find (STREAM FILE fails)
    played: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {"agi_uniqueid": f"call-{self.dialled}", "agi_callerid": "13800138000",
                "agi_channel": "PJSIP/hotline-1"}

    @property
    def params(self) -> dict[str, str]:
        return {"number": self.dialled, "mode": "main", "skill": "general"}

    async def get_full_variable(self, expression: str) -> str | None:
        return f"sip-{self.dialled}"

    async def stream_file(self, name: str, escape_digits: str = "", *, timeout: float = 300) -> str | None:
        if name in self.missing:
            raise AgiCommandError(f"STREAM FILE {name} failed")
        self.played.append(name)
        return self.keys.get(name)

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        return None

    async def hangup(self) -> None:
        pass


class Queue:
    def __init__(self) -> None:
        self.queued: list[str] = []

    async def enqueue(self, call_id: str, **_: object) -> None:
        self.queued.append(call_id)

    async def skill_load(self, skill: str) -> SkillLoad:
        return SkillLoad(staffed=1, waiting=0)

    async def queued_skill(self, call_id: str) -> str | None:
        return None


def news(*items: Playing, failing: bool = False) -> ActiveAnnouncements:
    async def load(now: datetime) -> Sequence[Playing]:
        if failing:
            raise OSError("disk I/O error")
        return items

    return ActiveAnnouncements(load)


def item(n: int, lines: tuple[str, ...] = ("12345",)) -> Playing:
    now = datetime.now(UTC)
    return Playing(n, f"停水{n}", "recorded", f"/data/announcements/rec-{n}", 6.0, frozenset(lines),
                   now - timedelta(hours=1), now + timedelta(hours=1))


async def run(sessions: SessionFactory, call: ScriptedCall, active: ActiveAnnouncements) -> tuple[list[str], list[
        tuple[str, dict[str, object]]], Queue]:
    calls, queue = CallRecords(sessions), Queue()
    flow = InboundFlow(calls, "/sounds", PLAN, queue, CallerLists(sessions), announcements=active)
    await flow(call)  # type: ignore[arg-type]
    record = await calls.get(call.env["agi_uniqueid"])
    assert record is not None
    return call.played, [(s["step"], s.get("detail", {})) for s in record.steps], queue


async def test_announcements_play_after_the_greeting_and_before_the_queue(sqlite_sessions: SessionFactory) -> None:
    played, steps, queue = await run(sqlite_sessions, ScriptedCall("12345"), news(item(1), item(2, ())))
    assert played[:3] == ["/sounds/greeting", "/data/announcements/rec-1", "/data/announcements/rec-2"]
    names = [s for s, _ in steps]
    assert names.index("greeting") < names.index("announcement") < names.index("queued")
    assert [d for s, d in steps if s == "announcement"] == [
        {"id": 1, "title": "停水1", "audio": "recorded", "key": None},
        {"id": 2, "title": "停水2", "audio": "recorded", "key": None}]
    assert queue.queued == ["call-12345"]


async def test_another_line_hears_none(sqlite_sessions: SessionFactory) -> None:
    played, steps, queue = await run(sqlite_sessions, ScriptedCall("12319"), news(item(1)))
    assert not [p for p in played if "announcements" in p] and "announcement" not in [s for s, _ in steps]
    assert queue.queued == ["call-12319"]


async def test_a_key_skips_the_rest_and_counts_as_a_barge_in(sqlite_sessions: SessionFactory) -> None:
    call = ScriptedCall("12345", keys={"/data/announcements/rec-1": "5"})
    played, steps, _ = await run(sqlite_sessions, call, news(item(1), item(2)))
    assert "/data/announcements/rec-2" not in played
    assert [d["id"] for s, d in steps if s == "announcement"] == [1]
    assert ("digit", {"digit": "5", "keys": "5", "barge_in": True}) in steps


async def test_a_failing_database_leaves_the_call_greeted_and_queued(sqlite_sessions: SessionFactory) -> None:
    played, steps, queue = await run(sqlite_sessions, ScriptedCall("12345"), news(item(1), failing=True))
    assert played[0] == "/sounds/greeting" and not [p for p in played if "announcements" in p]
    assert "announcement" not in [s for s, _ in steps] and queue.queued == ["call-12345"]


async def test_a_broken_source_never_drops_the_call(sqlite_sessions: SessionFactory) -> None:
    class Broken:
        async def for_line(self, line: str, now: datetime) -> list[Playing]:
            raise RuntimeError("a bug")

    calls, queue = CallRecords(sqlite_sessions), Queue()
    flow = InboundFlow(calls, "/sounds", PLAN, queue, CallerLists(sqlite_sessions), announcements=Broken())
    await flow(ScriptedCall("12345"))  # type: ignore[arg-type]
    assert queue.queued == ["call-12345"]


async def test_an_announcement_whose_audio_is_gone_is_passed_over(sqlite_sessions: SessionFactory) -> None:
    call = ScriptedCall("12345", missing=frozenset({"/data/announcements/rec-1"}))
    played, steps, queue = await run(sqlite_sessions, call, news(item(1), item(2)))
    assert played[:2] == ["/sounds/greeting", "/data/announcements/rec-2"]
    assert [d["id"] for s, d in steps if s == "announcement"] == [2] and queue.queued == ["call-12345"]
