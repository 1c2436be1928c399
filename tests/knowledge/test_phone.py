"""The knowledge base on the phone (issue 20), on a real call: a citizen waiting on 12329 presses 3 in the
self-service offer, hears the list of the housing-fund centre's published entries marked for the phone (first
the one a hot-issue announcement on 12329 points to; not the one without the mark, not another department's),
presses 2 and hears the answer read aloud — webrtcvad on
the caller's side hears speech for most of the answer's length right after the record's `knowledge_heard` —
and the call counts as served by self-service (`self_service = knowledge`) when the caller then hangs up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from hotline.calls.models import CallRecord
from hotline.core.audio.speech import FRAME_S, speech_frames
from hotline.core.errors import Invalid
from integration.world.call import WorldCaller
from ivr.announcements.service import Announcements, Draft
from knowledge.service import Entries
from tests.e2e.conftest import only_ready, running_stack, stack_settings, wait_for_step, world_caller
from tests.knowledge.conftest import ALL, fields, published

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
CENTRE = "市住房公积金中心"  # 12329's department in dialplans/hotline.yaml
_ = world_caller  # the fixture, used by name
ANSWER = "职工离职后，住房公积金账户封存满半年，可以携带身份证到公积金中心办理销户提取，资金三个工作日内到账。"


async def entries_draft(entries: Entries) -> int:
    return int((await entries.create(fields(department=CENTRE, phone=True, title="草稿"), "editor.a", ALL))["id"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def test_a_waiting_caller_presses_3_and_hears_an_entry_read(stack: Stack, world_caller: WorldCaller) -> None:
    entries = stack.service(Entries)
    read = await published(entries, department=CENTRE, phone=True, title="离职后怎么提取住房公积金", answer=ANSWER)
    await published(entries, department=CENTRE, phone=False, title="住房公积金贷款额度")  # not for the phone
    await published(entries, department="市医保局", phone=True, title="医保卡丢了怎么补办")  # another line's
    pointed = await published(entries, department=CENTRE, phone=True, title="公积金缴存基数调整")
    news = stack.service(Announcements)
    now = datetime.now(UTC)
    for bad in (999_999, await entries_draft(entries)):  # none, or not published: refused, naming the field
        with pytest.raises(Invalid) as refused:
            await news.publish(Draft("缴存基数调整。", "", ("12329",), now, now + timedelta(hours=1), bad), "sup")
        assert [f["field"] for f in refused.value.fields or []] == ["entry_id"], refused.value.fields
    await news.publish(Draft("七月起住房公积金缴存基数调整，详情请按3收听。", "基数调整", ("12329",), now,
                             now + timedelta(hours=1), pointed), "sup")
    await only_ready(stack)  # nobody free: the caller waits and is offered self-service
    call = await world_caller.start("12329", "13800138329", script="wait:120")
    sip = await call.answered()
    await wait_for_step(stack, sip, "self_service_offer", timeout=40)
    await call.press("3")
    listed = await wait_for_step(stack, sip, "knowledge_menu")
    menu = next(s["detail"] for s in listed.steps if s["step"] == "knowledge_menu")
    assert menu == {"line": "12329", "entries": [pointed, read]}, menu
    await call.press("2")
    record = await wait_for_step(stack, sip, "knowledge_heard", timeout=20)
    heard = next(s for s in record.steps if s["step"] == "knowledge_heard")
    assert heard["detail"]["entry_id"] == read and heard["detail"]["key"] == "2", heard
    seconds = float(heard["detail"]["seconds"])
    assert seconds > 5, heard  # the whole answer, synthesised
    await asyncio.sleep(seconds + 1)
    await call.hangup()
    outcome = await call.outcome()
    assert outcome.record is not None and outcome.record.answered_at is not None
    start = (datetime.fromisoformat(heard["at"]) - outcome.record.answered_at).total_seconds()
    frames = speech_frames(outcome.heard_audio)[int(start / FRAME_S):int((start + seconds) / FRAME_S)]
    spoken = sum(frames) * FRAME_S
    print(f"\nthe answer lasts {seconds:.1f} s; the caller heard {spoken:.1f} s of speech in it")
    assert spoken >= 0.5 * seconds, (spoken, seconds)
    assert stack.calls is not None
    async with stack.calls.sessions() as s:
        row = await s.get(CallRecord, outcome.record.call_id)
    assert row is not None and row.self_service == "knowledge" and row.agent is None, row
