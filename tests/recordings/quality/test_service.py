"""Quality review on SQLite and PostgreSQL: the flags filtered in the database and per call, paging, reach,
confidential calls, one current score with every change kept, comments, per-agent averages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from acd.directory.models import DirectoryAgent, Team
from dialplans.model import RATING_LABELS
from hotline.calls.models import CallRecord, Recording
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Invalid
from recordings.quality.flags import FlagRules
from recordings.quality.service import QualityReview, Wanted
from recordings.quality.sheet import load_sheet
from recordings.settings import RecordingSettings
from tests.postgres_server import BOTH_DATABASES, migrated_sessions
from tickets.models import Ticket, TicketCall

DAY = date(2026, 11, 27)
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in China
FULL = {"greeting": 10, "recording_notice": 5, "listening": 15, "accuracy": 20, "policy": 10, "ticket": 15,
        "closing": 10, "manner": 15}
# call id, agent, minutes after T0, seconds the agent talked, rating, longest silence, talk-over
CALLS = (("q-silence", "8001", 1, 90, 1, 41.0, 2.0), ("q-over", "8001", 2, 90, None, 3.0, 12.5),
         ("q-short", "8002", 3, 6, 5, 1.0, 0.5), ("q-clean", "8001", 4, 90, 2, 2.0, 1.0),
         ("q-other", "8003", 5, 90, 4, 35.0, 0.0), ("q-secret", "8001", 6, 90, None, 50.0, 0.0))


def steps(talk_s: int) -> list[dict[str, Any]]:
    return [{"at": T0.isoformat(), "step": "greeting", "detail": {}},
            {"at": (T0 + timedelta(seconds=5)).isoformat(), "step": "agent", "detail": {}},
            {"at": (T0 + timedelta(seconds=5 + talk_s)).isoformat(), "step": "rating_prompt", "detail": {}}]


async def seed(sessions: SessionFactory) -> None:
    async with sessions.begin() as s:
        for team in ("一组", "二组"):
            s.add(Team(name=team, created_at=T0, created_by="t"))
        await s.flush()
        for agent, name, team in (("8001", "李强", "一组"), ("8002", "王芳", "一组"), ("8003", "赵磊", "二组")):
            s.add(DirectoryAgent(id=agent, name=name, seat="general", team=team, skills={}, phone="sip",
                                 active=True, created_at=T0, updated_at=T0, updated_by="t"))
        for call_id, agent, minute, talk, rating, *_ in CALLS:
            at = T0 + timedelta(minutes=minute)
            s.add(CallRecord(call_id=call_id, caller="13800138000", dialled="12345", started_at=at, agent=agent,
                             answered_at=at, ended_at=at + timedelta(seconds=talk + 20), rating=rating,
                             steps=steps(talk)))
        s.add(CallRecord(call_id="q-unrecorded", caller="1", dialled="12345", started_at=T0, agent="8001",
                         rating=5, steps=steps(3)))
        await s.flush()
        for n, (call_id, _, minute, talk, _, silence, over) in enumerate(CALLS, start=1):
            s.add(Recording(id=n, call_id=call_id, path=f"/r/{n}.opus", format="opus", status="stored",
                            started_at=T0 + timedelta(minutes=minute), duration_s=talk + 20.0, channels=2,
                            analysis={"longest_silence_s": silence, "talk_over_s": over}, review=silence >= 30))
        s.add(Ticket(id=1, number="T1", status="submitted", channel="电话", urgency="一般", created_by="8001",
                     created_at=T0, updated_at=T0, confidential=True))
        await s.flush()
        s.add(TicketCall(ticket_id=1, call_id="q-secret", linked_at=T0))


@pytest.fixture(params=BOTH_DATABASES)
async def review(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[QualityReview]:
    async with migrated_sessions(request.param, tmp_path) as sessions:
        await seed(sessions)
        yield QualityReview(sessions, load_sheet(), FlagRules.of(RecordingSettings(), RATING_LABELS), RATING_LABELS)


async def ids(review: QualityReview, agents: frozenset[str] | None = None, confidential: bool = True,
              **wanted: Any) -> list[str]:
    calls, _ = await review.flagged(Wanted(**{"start": DAY, "end": DAY, **wanted}), agents, confidential)
    return [c["call_id"] for c in calls]


async def test_each_flag_lists_its_calls_newest_first(review: QualityReview) -> None:
    assert await ids(review, flag="silence") == ["q-secret", "q-other", "q-silence"]
    assert await ids(review, flag="talk_over") == ["q-over"]
    assert await ids(review, flag="short") == ["q-short"]
    assert await ids(review, flag="bad_rating") == ["q-other", "q-short"]
    assert await ids(review, flag="review") == ["q-secret", "q-other", "q-silence"]
    assert await ids(review) == ["q-secret", "q-other", "q-short", "q-over", "q-silence"]  # any flag
    assert await ids(review, flag="all") == ["q-secret", "q-other", "q-clean", "q-short", "q-over", "q-silence"]
    calls, _ = await review.flagged(Wanted(DAY, DAY, flag="short"), None, True)
    row = calls[0]
    assert row["flags"] == ["short", "bad_rating"] and row["talk_s"] == 6 and row["rating_label"] == "非常不满意"
    assert (row["agent_name"], row["team"], row["line"], row["recording_id"]) == ("王芳", "一组", "12345", 3)
    assert await ids(review, flag="all", start=DAY - timedelta(days=2), end=DAY - timedelta(days=1)) == []


async def test_reach_team_agent_and_confidential_calls(review: QualityReview) -> None:
    team_one = frozenset({"8001", "8002"})
    assert await ids(review, agents=team_one, flag="silence") == ["q-secret", "q-silence"]
    assert await ids(review, agents=frozenset({"8002"}), flag="all") == ["q-short"]  # an agent: their own
    assert await ids(review, agents=frozenset(), flag="all") == []  # an agent token without an agent
    assert await ids(review, team="二组", flag="all") == ["q-other"]
    assert await ids(review, agent="8001", flag="all") == ["q-secret", "q-clean", "q-over", "q-silence"]
    assert "q-secret" not in await ids(review, confidential=False, flag="all")


async def test_pages_follow_the_cursor_to_the_end(review: QualityReview) -> None:
    seen, before = [], None
    while True:
        calls, more = await review.flagged(Wanted(DAY, DAY, flag="all", limit=4, before=before), None, True)
        seen += [c["call_id"] for c in calls]
        if more is None:
            break
        at, _, call_id = more.partition("~")
        before = (datetime.fromisoformat(at), call_id)
    assert seen == ["q-secret", "q-other", "q-clean", "q-short", "q-over", "q-silence"]


async def test_one_current_score_with_every_change_kept_and_the_scored_filter(review: QualityReview) -> None:
    call = await review.reviewed("q-short")
    first = await review.score(call, FULL, "问候规范", "王班长")
    assert (first["total"], first["max"], first["version"], first["agent"]) == (100, 100, 1, "8002")
    second = await review.score(call, {**FULL, "closing": 0, "accuracy": 12}, "未邀请评价", "王班长")
    assert (second["total"], second["version"]) == (82, 2)
    with pytest.raises(Invalid):
        await review.score(call, {**FULL, "closing": 11}, "", "王班长")
    detail = await review.detail(call)
    assert detail["score"]["total"] == 82 and detail["score"]["items"]["closing"] == 0
    assert detail["score"]["comment"] == "未邀请评价"
    assert [h["total"] for h in detail["history"]] == [82, 100]  # newest first, none lost, the refusal not kept
    assert await ids(review, flag="all", scored=True) == ["q-short"]
    assert "q-short" not in await ids(review, flag="all", scored=False)
    listed, _ = await review.flagged(Wanted(DAY, DAY, flag="short"), None, True)
    assert listed[0]["score"]["total"] == 82 and listed[0]["score"]["scored_by"] == "王班长"


async def test_comments_and_per_agent_averages(review: QualityReview) -> None:
    await review.score(await review.reviewed("q-silence"), FULL, "", "班长")
    await review.score(await review.reviewed("q-over"), {**FULL, "listening": 5}, "", "班长")  # 90
    await review.score(await review.reviewed("q-other"), {**FULL, "manner": 0}, "", "班长")  # 85
    thread = await review.comment(await review.reviewed("q-over"), "抢话较多，注意倾听", "王班长", "supervisor")
    thread = await review.comment(await review.reviewed("q-over"), "收到，会改进", "李强", "agent")
    assert [(c["author"], c["author_name"], c["role"]) for c in thread] == [("王班长", "王班长", "supervisor"),
                                                                           ("李强", "李强", "agent")]
    everyone = await review.scores(None, None, DAY, DAY)
    by_agent = {a["agent"]: a for a in everyone["agents"]}
    assert by_agent["8001"]["scored"] == 2 and by_agent["8001"]["average"] == 95.0
    assert by_agent["8001"]["average_pct"] == 95.0 and by_agent["8001"]["agent_name"] == "李强"
    assert by_agent["8003"]["average"] == 85.0 and by_agent["8003"]["lowest"] == 85
    own = await review.scores(frozenset({"8001"}), None, DAY, DAY)
    assert [a["agent"] for a in own["agents"]] == ["8001"]
    assert [s["call_id"] for s in own["scores"]] == ["q-over", "q-silence"]
    assert (await review.scores(None, "8003", DAY, DAY))["scores"][0]["total"] == 85
    assert (await review.scores(None, None, DAY + timedelta(days=1), DAY + timedelta(days=1)))["agents"] == []
