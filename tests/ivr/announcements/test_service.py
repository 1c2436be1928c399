"""Publishing, re-recording and ending announcements on a real (SQLite) database: the checks name each bad
field, the audio is what Asterisk plays, rows are kept as a log, and what callers hear follows at once."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, DomainError, Invalid, NotFound
from ivr.announcements.audio import AnnouncementAudio
from ivr.announcements.service import Announcements, Draft
from tests.ivr.announcements.fakes import SECONDS_PER_CHAR, CountingSynthesiser, opus, tone

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
LINES = {"12345": "12345政务服务便民热线", "12319": "市城市管理局"}
WATER = "因管道抢修，今天九点至十七点东城区部分小区停水。"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def synthesiser() -> CountingSynthesiser:
    return CountingSynthesiser()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(sqlite_sessions: SessionFactory, tmp_path: Path, synthesiser: CountingSynthesiser,
            clock: Clock) -> Announcements:
    audio = AnnouncementAudio(synthesiser, tmp_path / "announcements", "/srv/data/announcements")
    return Announcements(sqlite_sessions, audio, LINES, clock)


def draft(text: str = WATER, lines: tuple[str, ...] = ("12345",), start: timedelta = timedelta(0),
          hours: float = 8) -> Draft:
    return Draft(text, "停水", lines, NOW + start, NOW + start + timedelta(hours=hours))


def fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {f["field"]: f["message"] for f in exc.value.fields or []}


async def test_a_published_announcement_is_synthesised_at_once_and_plays_on_its_line(
        service: Announcements, synthesiser: CountingSynthesiser) -> None:
    item = await service.publish(draft(), "wang.banzhang")
    assert synthesiser.texts == [WATER]
    assert item["state"] == "playing" and item["audio"] == "synthesised" and item["lines"] == ["12345"]
    assert item["created_by"] == "wang.banzhang" and item["ended_at"] is None
    assert item["seconds"] == pytest.approx(len(WATER) * SECONDS_PER_CHAR, abs=0.05)
    assert (await service.sound_file(item["id"])).is_file()
    heard = await service.active.for_line("12345", NOW)
    assert [(p.id, p.audio) for p in heard] == [(item["id"], "synthesised")]
    assert heard[0].sound.startswith("/srv/data/announcements/tts-")
    assert await service.active.for_line("12319", NOW) == []  # another line


@pytest.mark.parametrize(("bad", "field"), [
    (draft(text="停" * 301), "text"),
    (draft(text="   "), "text"),
    (draft(lines=("12345", "99999")), "lines"),
    (draft(lines=("12345", "12345")), "lines"),
    (draft(hours=-1), "ends_at"),
    (draft(hours=24 * 30 + 1), "ends_at"),
    (draft(start=timedelta(days=-3), hours=24), "ends_at"),  # entirely past
    (draft(start=timedelta(days=400)), "starts_at"),
])
async def test_bad_drafts_are_refused_naming_the_field_and_nothing_is_kept(
        service: Announcements, synthesiser: CountingSynthesiser, bad: Draft, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        await service.publish(bad, "wang")
    assert refused.value.code == 422 and field in fields(refused)
    assert synthesiser.texts == [] and await service.listing() == []


async def test_thirty_days_and_three_hundred_characters_are_allowed(service: Announcements) -> None:
    item = await service.publish(draft(text="停" * 300, lines=(), hours=24 * 30), "wang")
    assert item["lines"] == [] and item["state"] == "playing"
    assert [p.id for p in await service.active.for_line("12319", NOW)] == [item["id"]]  # [] = every line


async def test_a_synthesiser_failure_publishes_nothing(service: Announcements,
                                                       synthesiser: CountingSynthesiser) -> None:
    synthesiser.failing = True
    with pytest.raises(DomainError) as failed:
        await service.publish(draft(), "wang")
    assert (failed.value.code, failed.value.id) == (503, "synthesis_failed")
    assert await service.listing() == []


async def test_states_follow_the_hours_and_ending_by_hand_is_kept(service: Announcements, clock: Clock) -> None:
    later = await service.publish(draft(start=timedelta(hours=2), hours=1), "wang")
    now = await service.publish(draft(text="今天下午燃气检修。"), "li")
    assert later["state"] == "scheduled"
    assert [i["id"] for i in await service.listing("scheduled")] == [later["id"]]
    assert [i["id"] for i in await service.listing("playing")] == [now["id"]]
    ended = await service.end(now["id"], "zhao")
    assert (ended["state"], ended["ended_by"], ended["ended_at"]) == ("ended", "zhao", NOW.isoformat())
    assert [c["change"] for c in ended["changes"]] == ["published", "ended"]
    with pytest.raises(Conflict):
        await service.end(now["id"], "zhao")
    clock.now = NOW + timedelta(hours=3, seconds=1)  # past the later one's hours: ended on its own
    gone = await service.listing("ended")
    assert {i["id"] for i in gone} == {now["id"], later["id"]}
    assert {i["id"]: i["ended_by"] for i in gone}[later["id"]] is None
    assert len(await service.listing()) == 2  # never deleted: the log
    with pytest.raises(NotFound):
        await service.end(999, "zhao")


async def test_the_next_call_hears_what_changed_without_waiting_for_the_cache(service: Announcements) -> None:
    assert await service.active.for_line("12345", NOW) == []  # read (and cached)
    item = await service.publish(draft(), "wang")
    assert [p.id for p in await service.active.for_line("12345", NOW)] == [item["id"]]
    await service.end(item["id"], "wang")
    assert await service.active.for_line("12345", NOW) == []


async def test_only_the_hours_set_play(service: Announcements) -> None:
    item = await service.publish(draft(start=timedelta(hours=1), hours=2), "wang")
    assert await service.active.for_line("12345", NOW) == []
    assert [p.id for p in await service.active.for_line("12345", NOW + timedelta(hours=1))] == [item["id"]]
    assert await service.active.for_line("12345", NOW + timedelta(hours=3)) == []


@pytest.mark.parametrize(("fmt", "data", "kind"), [
    ("ogg", lambda: opus(2.0), "audio/ogg;codecs=opus"),
    ("webm", lambda: opus(2.0, "webm"), "audio/webm;codecs=opus"),
    ("wav", lambda: tone(2.0, "wav"), "audio/wav"),
])
async def test_a_recording_replaces_the_words_as_8khz_wav(service: Announcements, fmt: str, data: object,
                                                           kind: str) -> None:
    item = await service.publish(draft(), "wang")
    recorded = await service.record(item["id"], data(), kind, "li")  # type: ignore[operator]
    assert recorded["audio"] == "recorded" and recorded["seconds"] == pytest.approx(2.0, abs=0.1)
    assert [c["change"] for c in recorded["changes"]] == ["published", "recorded"]
    with wave.open(str(await service.sound_file(item["id"]))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    assert [p.audio for p in await service.active.for_line("12345", NOW)] == ["recorded"]


async def test_bad_recordings_are_refused_and_the_words_stay(service: Announcements) -> None:
    item = await service.publish(draft(), "wang")
    too_big = b"RIFF" + bytes(3 * 1024 * 1024)
    for data, kind, code in ((opus(2.0), "video/mp4", 415), (b"OggS" + bytes(500), "audio/ogg", 422),
                             (tone(2.0, "wav"), "audio/ogg", 422), (tone(61.0, "wav", 8000), "audio/wav", 422),
                             (tone(0.2, "wav"), "audio/wav", 422), (too_big, "audio/wav", 413)):
        with pytest.raises(DomainError) as refused:
            await service.record(item["id"], data, kind, "li")
        assert refused.value.code == code, (kind, len(data))
    assert [i["audio"] for i in await service.listing()] == ["synthesised"]
    await service.end(item["id"], "wang")
    with pytest.raises(Conflict):
        await service.record(item["id"], opus(2.0), "audio/ogg", "li")
