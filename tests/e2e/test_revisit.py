"""The revisit robot on real Asterisk: the world's petitioners answer and key, ring on, are busy, are
not in service (空号) or switched off (关机), hang up mid-survey, refuse, or ask for a person; the dialer
classifies every outcome, retries as configured, keeps answers, records the calls, and yields to inbound
callers (R-ACC-8)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callback.early_media import early_media_in_growing_wav
from callback.expiry import ExpiredTickets
from callback.outcome import classify_dial
from hotline.app.stack import Stack
from hotline.core.asterisk.ami import AmiMessage
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, wait_for_step
from tests.e2e.test_first_call import stored_recording
from tests.e2e.test_tickets import cases, consultation, eventually, submitted, timeline
from tickets.models import Ticket

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

FAST = """revisit:
  hours: ["00:00-24:00"]
  on_holidays: true
  max_attempts: 2
  retry_after_s: 2
  quiet_s: 0
  calls_per_second: 5
  max_concurrent: 16
  yield_waiting: 1
  skill: revisit
  ring_timeout_s: 10
"""
# (ring_timeout_s: the carrier's SIT and 空号 announcement take about 5 s before its cause 1; with 6 s a loaded
# machine sometimes hung up first, heard only the SIT and concluded 停机 instead, calling the number again)

# What each petitioner does. Keys follow each prompt once it starts ("noise"); barge-in ends the prompt.
ANSWERS = "script:noise/dtmf:1/noise/dtmf:1/noise/dtmf:1/noise/dtmf:2/wait:12"
UNHAPPY = "script:noise/dtmf:1/noise/dtmf:2/noise/dtmf:2/noise/dtmf:5/noise/dtmf:3/wait:12"
BEHAVIOURS: list[tuple[str, str]] = [  # (behaviour, what the robot should conclude)
    (ANSWERS, "done/completed"),
    (UNHAPPY, "done/completed"),
    ("busy", "failed/exhausted"),
    ("noanswer", "failed/exhausted"),
    ("invalid", "failed/invalid_number"),
    ("off", "failed/exhausted"),
    ("script:noise/dtmf:1/noise/hangup", "failed/exhausted"),  # hangs up mid-survey
    ("script:noise/dtmf:2/wait:8", "done/refused"),
    ("script:noise/dtmf:0/wait:20", "done/human"),
    ("script:wait:120", "failed/exhausted"),  # answers, says nothing (asked twice, then goodbye)
    ("voicemail", "failed/exhausted"),  # a recorded greeting answers: not a person
    ("announced", "failed/exhausted"),  # an announcement as early media, then a cause that says nothing
    ("suspended", "failed/suspended"),  # 停机: SIT and announcement; one more try a "day" later, then stop
    ("invalid:19", "failed/not_in_service"),  # a SIT with a cause that says nothing: 空号 or 停机
]
COPIES = 5  # a campaign of 70 petitioners, each behaviour five times
PETITIONERS: dict[str, tuple[str, str]] = {
    f"137000{copy:02d}{i:03d}": BEHAVIOURS[i] for copy in range(COPIES) for i in range(len(BEHAVIOURS))}


def fast_dialplan(home: Path) -> Path:
    shipped = (Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml").read_text()
    start = shipped.index("revisit:\n")
    end = shipped.index("\n\n", start)
    path = home / "revisit.yaml"
    path.write_text(shipped[:start] + FAST.rstrip("\n") + shipped[end:])
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    async with running_stack(stack_settings(home, dialplan_file=fast_dialplan(home), revisit_dialer=True)) as s:
        yield s


async def behave(stack: Stack, number: str, behaviour: str) -> None:
    assert stack.world_ami is not None
    await stack.world_ami.action("Setvar", {"Variable": f"WORLD_PETITIONER_{number}", "Value": behaviour})


async def tasks_of(stack: Stack, token: str) -> dict[str, dict[str, Any]]:
    status, body = await api(stack, "GET", "/api/revisits/tasks?limit=1000", token)
    assert status == 200, body
    return {t["number"]: t for t in body["tasks"] if t["mode"] == "robot"}  # type: ignore[index]


@pytest.mark.timeout(360)  # seventy petitioners; the silent ones are asked twice on each of two calls
async def test_a_campaign_classifies_every_outcome_retries_and_keeps_the_answers(stack: Stack) -> None:
    assert stack.tokens is not None and stack.world_ami is not None and stack.calls is not None
    sup = await stack.tokens.create(name="rv-sup", role="supervisor")
    await only_ready(stack, "8002")  # the revisit-skilled agent takes the petitioner who presses 0
    for number, (behaviour, _) in PETITIONERS.items():
        await behave(stack, number, behaviour)
    assert (await api(stack, "POST", "/api/caller-lists", sup,
                      {"number": "13700009999", "kind": "no_revisit", "note": "明确拒绝回访"}))[0] == 201
    rows = [{"number": n, "salutation": "张女士", "topic": "小区噪音"} for n in [*PETITIONERS, "13700009999"]]
    bad = await api(stack, "POST", "/api/revisits/tasks", sup, {"tasks": [*rows, {"number": "12"}]})
    assert bad[0] == 422 and bad[1]["error"]["rows"][0]["row"] == len(rows) + 1  # type: ignore[index]
    assert (await tasks_of(stack, sup)) == {}, "nothing half-imported"
    status, imported = await api(stack, "POST", "/api/revisits/tasks", sup, {"tasks": rows})
    assert status == 201 and imported["imported"] == len(rows)  # type: ignore[index]

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        tasks = await tasks_of(stack, sup)
        if all(t["status"] in ("done", "failed") for t in tasks.values()):
            break
        await asyncio.sleep(1)
    concluded = {n: f"{t['status']}/{t['result']}" for n, t in tasks.items()}
    expected = {n: want for n, (_, want) in PETITIONERS.items()} | {"13700009999": "failed/opted_out"}
    assert concluded == expected, {n: tasks[n] for n in concluded if concluded[n] != expected[n]}

    def each(behaviour: int) -> list[dict[str, Any]]:
        return [tasks[f"137000{copy:02d}{behaviour:03d}"] for copy in range(COPIES)]

    for happy in each(0):
        assert happy["answers"] == {"consent": True, "contacted": True, "solved": True,
                                    "satisfaction": {"level": 2, "label": "满意"}} and happy["attempts"] == 1
    for unhappy in each(1):
        assert unhappy["answers"] == {"consent": True, "contacted": False, "solved": False,
                                      "satisfaction": {"level": 5, "label": "非常不满意"}, "aspect": "quality"}
    assert all(t["answers"] == {"consent": True} for t in each(6)), "a hang-up keeps what was said"
    assert all(t["attempts"] == 1 for t in each(4)), "a number not in service is not called again"
    assert all(t["attempts"] == 2 for i in (2, 3, 5, 6, 9, 10, 11) for t in each(i)), "retried once, as configured"
    outcomes = {i: {t["last_outcome"] for t in each(i)} for i in (2, 3, 4, 5, 9, 10, 11)}
    assert outcomes == {2: {"busy"}, 3: {"no_answer"}, 4: {"invalid_number"}, 5: {"phone_off"}, 9: {"no_input"},
                        10: {"machine"}, 11: {"unreachable"}}
    assert tasks["13700009999"]["attempts"] == 0, "opted out: never called"
    status, pending = await api(stack, "GET", "/api/revisits/tasks?status=pending", sup)
    assert sorted((t["number"], t["reason"], t["mode"]) for t in pending["tasks"]) == sorted(  # type: ignore[index]
        (t["number"], "second_revisit", "human") for t in each(1)), "the dissatisfied hear from a person"

    # the survey calls are recorded and their path written down; a petitioner who pressed 0 reached agent 8002
    record = (await stack.calls.list(caller=each(0)[0]["number"], limit=5))[0]
    assert record.route["mode"] == "revisit" and "revisit_outcome" in [s["step"] for s in record.steps]
    assert (await stored_recording(stack, record.call_id, timeout=30))["format"] == "opus"
    people = [c for t in each(8) for c in await stack.calls.list(caller=t["number"], limit=5)]
    assert "8002" in {c.agent for c in people}, people
    status, progress = await api(stack, "GET", "/api/revisits", sup)
    assert status == 200 and progress["total"] == len(rows) and progress["pending"] == 0  # type: ignore[index]


async def test_the_dialer_yields_while_callers_wait_and_resumes_after(stack: Stack,
                                                                      world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.dialer is not None and stack.world_ami is not None
    sup = await stack.tokens.create(name="rv-sup2", role="supervisor")
    await only_ready(stack)  # nobody ready: the caller waits
    await behave(stack, "13700000021", ANSWERS)
    call = await world_caller.start("12345", "13600136099", script="wait:30")
    sip = await call.answered()
    await wait_for_step(stack, sip, "queued")
    started = time.monotonic()
    while stack.dialer.status()["state"] != "yielding":
        assert time.monotonic() - started < 1.5, stack.dialer.status()
        await asyncio.sleep(0.05)
    assert (await api(stack, "POST", "/api/revisits/tasks", sup,
                      {"tasks": [{"number": "13700000021", "salutation": "王先生", "topic": "路灯不亮"}]}))[0] == 201
    await asyncio.sleep(3)
    assert (await tasks_of(stack, sup))["13700000021"]["attempts"] == 0, "no call while a caller waits"
    await call.hangup()
    await call.outcome()
    for _ in range(100):
        if (await tasks_of(stack, sup))["13700000021"]["attempts"] == 1:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the dialer did not resume: {stack.dialer.status()}")


async def test_a_closed_ticket_is_revisited_and_the_answers_reach_the_case_system(stack: Stack) -> None:
    assert stack.tokens is not None and stack.refcase is not None
    agent = await stack.tokens.create(name="rv-agent", role="agent", agent_id="8001")
    await behave(stack, "13700000031", ANSWERS)
    body = {**consultation(), "petitioner": {"name": "赵女士", "phone": "13700000031", "revisit_consent": True}}
    ticket = await submitted(stack, agent, body)

    async def case_no() -> str | None:
        found = [c for c in await cases(stack) if c["external_id"] == ticket["number"]]
        return found[0]["case_no"] if found else None

    number = await eventually(case_no, what="the ticket at the case system")
    for step in ("dispatched", "signed", "feedback", "closed"):
        await stack.refcase.admin("POST", f"/admin/cases/{number}/status", {"status": step, "note": step})

    async def revisit_at_case_system() -> dict[str, Any] | None:
        assert stack.refcase is not None
        got: list[dict[str, Any]] = list((await stack.refcase.admin("GET", "/admin/revisits"))["revisits"])  # type: ignore[call-overload]
        found = [r for r in got if r["external_id"] == ticket["number"]]
        return found[0] if found else None

    sent = (await eventually(revisit_at_case_system, timeout=90, what="the revisit's answers delivered"))["body"]
    assert (sent["caseNo"], sent["result"], sent["contacted"], sent["solved"]) == (number, "completed", True, True)
    assert (sent["satisfaction"], sent["satisfactionLabel"], sent["by"]) == (2, "满意", "12345-revisit-robot")
    line = await timeline(stack, agent, ticket["id"])
    revisited = next(e for e in line["timeline"] if e["kind"] == "revisited")
    assert revisited["detail"]["result"] == "completed" and line["revisits"][0]["status"] == "done"


async def test_tickets_past_their_time_limit_are_revisited_by_the_robot(stack: Stack) -> None:
    """R-REV-1 (Beijing 5.5.1 办理时限期满后…回访): one ticket's handling time limit passes, the case system
    reports another overdue; neither is closed, and the robot calls both petitioners once."""
    assert stack.tokens is not None and stack.refcase is not None and stack.sessions is not None
    agent = await stack.tokens.create(name="rv-agent-late", role="agent", agent_id="8001")
    late, overdue = "13700000041", "13700000042"
    for number in (late, overdue):
        await behave(stack, number, ANSWERS)
    tickets = {number: await submitted(stack, agent, {**consultation(), "petitioner": {
        "name": name, "phone": number, "revisit_consent": True}}) for number, name in ((late, "钱先生"),
                                                                                       (overdue, "孙女士"))}
    async with stack.sessions.begin() as s:  # time passes: the feedback deadline is behind the first ticket
        row = await s.get(Ticket, tickets[late]["id"])
        assert row is not None
        row.deadlines = {**row.deadlines, "feedback": "2026-01-05T01:00:00+00:00"}

    async def case_no() -> str | None:
        found = [c for c in await cases(stack) if c["external_id"] == tickets[overdue]["number"]]
        return found[0]["case_no"] if found else None

    number = await eventually(case_no, what="the ticket at the case system")
    await stack.refcase.admin("POST", f"/admin/cases/{number}/status", {"status": "overdue", "note": "超期"})

    async def is_overdue() -> bool:
        return (await timeline(stack, agent, tickets[overdue]["id"]))["status"] == "overdue"

    await eventually(is_overdue, what="the case system's overdue on the ticket")
    worker = stack.services.find(ExpiredTickets)
    assert worker is not None
    worker.wake()  # the service's own worker, now rather than at its next minute

    sup = await stack.tokens.create(name="rv-sup-late", role="supervisor")

    async def both_done() -> dict[str, Any] | None:
        found = {n: t for n, t in (await tasks_of(stack, sup)).items() if n in tickets}
        return found if len(found) == 2 and all(t["status"] == "done" for t in found.values()) else None

    done = await eventually(both_done, timeout=90, what="both expired tickets revisited")
    assert {(n, t["reason"], t["result"], t["attempts"]) for n, t in done.items()} == {
        (late, "time_limit_expired", "completed", 1), (overdue, "time_limit_expired", "completed", 1)}
    for number in tickets:
        kinds = [e["kind"] for e in (await timeline(stack, agent, tickets[number]["id"]))["timeline"]]
        assert kinds.count("time_limit_expired") == 1 and "revisit_planned" in kinds and "revisited" in kinds
    worker.wake()
    await asyncio.sleep(1)
    assert stack.revisits is not None
    assert sum(t["number"] in tickets for t in await stack.revisits.listing(limit=1000)) == 2, "once per ticket"


CARRIER: dict[str, tuple[str, bool]] = {  # the carrier's behaviour: (the outcome, whether a SIT precedes it)
    "invalid": ("invalid_number", True),  # 空号: SIT, "您拨打的号码是空号…", cause 1
    "invalid:19": ("not_in_service", True),  # the same from a carrier that then answers 480: the SIT tells
    "suspended": ("suspended", True),  # 停机: SIT, "您拨打的号码已停机", cause 21 (403)
    "off": ("phone_off", False),  # 关机: "您拨打的用户已关机", cause 20 (480, seen as 19)
    "announced": ("unreachable", False),  # "您拨打的电话暂时无法接通…", cause 16 (603, seen as 21)
}


async def test_the_carriers_announcements_are_told_apart_by_tones_and_causes(stack: Stack) -> None:
    """Through the revisit robot's own dial context: the world's carrier plays SIT and Chinese announcements
    as early media, the hotline records them, and the tones and the cause name 空号 / 停机 / 关机."""

    async def dial(number: str, behaviour: str) -> tuple[str, int, bool]:
        await behave(stack, number, behaviour)
        assert stack.ami is not None and stack.data is not None
        call_id = f"carrier-{number}"
        dialled: asyncio.Future[AmiMessage] = asyncio.get_running_loop().create_future()

        def on_event(event: AmiMessage) -> None:
            if event.get("UserEvent") == "HotlineRevisitDial" and event.get("CallId") == call_id:
                dialled.set_result(event)

        sub = stack.ami.subscribe("UserEvent", on_event)
        try:
            started = time.monotonic()
            origination = await stack.ami.originate(
                f"Local/{number}@hotline-revisit-dial/n", context="hotline-revisit", exten="s", timeout_s=20,
                channel_id=call_id, variables={"_HOTLINE_CALL_ID": call_id, "_HOTLINE_RING_S": "6"})
            assert not (await origination.result(timeout=30)).answered
            event = await asyncio.wait_for(dialled, 10)
            rang_s = time.monotonic() - started
        finally:
            sub.cancel()
        heard = early_media_in_growing_wav(stack.data.host(str(event["Early"])))
        cause = int(str(event.get("Cause") or 0))
        outcome = classify_dial(str(event["Status"]), cause, heard.speech_s, rang_s, 6, tones=heard.tones)
        assert heard.speech_s >= 1.5, (behaviour, heard, cause)
        return outcome, cause, heard.tones.sit

    got = await asyncio.gather(*(dial(f"1370099{i:04d}", b) for i, b in enumerate(CARRIER)))
    assert {b: (outcome, sit) for b, (outcome, _, sit) in zip(CARRIER, got, strict=True)} == CARRIER, got
