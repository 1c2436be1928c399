"""Toll fraud (issue 15): a stolen agent token, a careless upload or a forged caller ID must not make the
hotline dial international, premium or carrier-select numbers at the centre's expense. Every number passes
the dial-out check (`dialplans.dialout`) before any Originate: refused numbers are never dialled (neither
the hotline's AMI nor the carrier — the world Asterisk — sees them), the refusal is a 4xx, audited and
counted; an agent's calls out are limited per hour; the revisit robot fails a task it may not dial."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select

from callback.dialer import Dialer
from callback.models import RevisitTask
from callback.tasks import RevisitTasks
from hotline.app.stack import Stack
from hotline.core.asterisk.ami import AmiMessage
from hotline.core.web.audit import AuditLog
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, wait_for_step

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

SECTIONS = """revisit:
  hours: ["00:00-24:00"]
  on_holidays: true
  quiet_s: 0
  calls_per_second: 5
  ring_timeout_s: 6

dial_out:
  allow:
    three_way: [national, short, units]
    consult: [national, short, units]
    linkage: [linkage]
    revisit: [national]
    duty_call: [units]
  per_hour: {agent: 2, revisit: 600}
"""
FORBIDDEN = ("0044207946000", "16812345678", "95588", "17951", "1795113800138000", "10193")
DEPARTMENTS = ("02512366001", "02512366002")  # desks outside that answer, talk 3 s and hang up


def dialplan(home: Path) -> Path:
    """The shipped file with the robot calling at any hour and agents allowed two calls out an hour."""
    text = (Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml").read_text()
    for section in ("dial_out:\n", "revisit:\n"):
        start = text.index(section)
        text = text[:start] + text[text.index("\n\n", start) + 2:]
    path = home / "hotline.yaml"
    path.write_text(text.rstrip("\n") + "\n\n" + SECTIONS)
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    async with running_stack(stack_settings(home, dialplan_file=dialplan(home), revisit_dialer=True)) as s:
        yield s


class Dialled:
    """Everything that could ring a number: the hotline's AMI actions, and calls the carrier (world) sees."""

    def __init__(self) -> None:
        self.actions: list[str] = []
        self.world: list[str] = []

    def on_world_channel(self, event: AmiMessage) -> None:
        self.world.append(f"{event.get('Exten', '')} {event.get('Channel', '')}")

    def any_of(self, numbers: tuple[str, ...]) -> list[str]:
        return [seen for seen in [*self.actions, *self.world] if any(n in seen for n in numbers)]


@pytest.fixture
def dialled(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dialled]:
    assert stack.ami is not None and stack.world_ami is not None
    seen = Dialled()
    send = stack.ami.action

    async def action(name: str, fields: Mapping[str, Any] | None = None, **kw: Any) -> AmiMessage:
        if name in ("Originate", "Atxfer", "Redirect"):
            seen.actions.append(f"{name} {dict(fields or {})}")
        return await send(name, fields, **kw)

    monkeypatch.setattr(stack.ami, "action", action)
    sub = stack.world_ami.subscribe("Newchannel", seen.on_world_channel)
    yield seen
    sub.cancel()


async def left(stack: Stack, sip_call_id: str, times: int) -> None:
    """Until a third party joined and left the call `times` times."""
    for _ in range(300):
        record = await wait_for_step(stack, sip_call_id, "agent")
        steps = [s["step"] for s in record.steps]
        if steps.count("three_way_left") >= times:
            assert steps.count("three_way") == times, steps
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the third party did not leave {times} time(s)")


async def refused_count(stack: Stack, purpose: str, reason: str) -> float:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{stack.settings.core.ports.http}/metrics") as r:
            text = await r.text()
    key = f'hotline_dialout_refused_total{{purpose="{purpose}",reason="{reason}"}} '
    return next((float(line.removeprefix(key)) for line in text.splitlines() if line.startswith(key)), 0.0)


async def test_the_revisit_robot_never_dials_a_forbidden_number(stack: Stack, dialled: Dialled) -> None:
    """First in the module, while no other call has made revisit tasks; the robot is paused afterwards."""
    assert stack.tokens is not None and stack.sessions is not None
    ops = await stack.tokens.create(name="ops", role="admin")
    status, body = await api(stack, "POST", "/api/revisits/tasks", ops,
                             {"tasks": [{"number": "13800138000"}, *({"number": n} for n in FORBIDDEN[:3])]})
    assert status == 422, body
    rows = body["error"]["rows"]  # type: ignore[index]
    assert [r["row"] for r in rows] == [2, 3, 4] and all("number_not_allowed" in r["error"] for r in rows), rows
    # A task that did not come through the upload (an old campaign, a forged caller ID on a call): the dialer
    # itself refuses it and fails it with the reason.
    tasks = stack.service(RevisitTasks)
    ids = await tasks.add([{"number": n, "salutation": "", "topic": "", "reason": "campaign"} for n in FORBIDDEN[:2]])
    for _ in range(200):
        async with stack.sessions() as s:
            done = (await s.scalars(select(RevisitTask).where(RevisitTask.id.in_(ids)))).all()
        if all(t.status == "failed" for t in done):
            break
        await asyncio.sleep(0.1)
    assert [(t.status, t.result, t.attempts) for t in done] == [("failed", "number_not_allowed", 0)] * 2
    stack.service(Dialer).paused = True
    assert dialled.any_of(FORBIDDEN) == []
    assert await refused_count(stack, "revisit", "number_not_allowed") == 2


async def test_an_agent_cannot_bring_a_forbidden_number_into_a_call_and_is_limited_per_hour(
        stack: Stack, world_caller: WorldCaller, dialled: Dialled) -> None:
    assert stack.tokens is not None and stack.world_ami is not None and stack.sessions is not None
    mine = await stack.tokens.create(name="a1", role="agent", agent_id="8001")
    for desk in DEPARTMENTS:
        await stack.world_ami.action("Setvar", {"Variable": f"WORLD_PETITIONER_{desk}", "Value": "script:wait:3"})
    await only_ready(stack, "8001")
    call = await world_caller.start("12345", "13600136100", script="wait:90", timeout_s=150)
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent")
    path = f"/api/calls/{record.call_id}"

    for number in FORBIDDEN:
        for what in ("three-way", "consult"):
            status, body = await api(stack, "POST", f"{path}/{what}", mine, {"number": number})
            assert (status, body["error"]["id"]) == (403, "number_not_allowed"), (number, body)  # type: ignore[index]
    for number in ("１３８００１３８０００", "+442079460000", "13800138000\r\nAction: Originate"):
        status, _ = await api(stack, "POST", f"{path}/three-way", mine, {"number": number})
        assert 400 <= status < 500, (number, status)
    assert await refused_count(stack, "three_way", "number_not_allowed") == len(FORBIDDEN)
    audited = [r for r in await AuditLog(stack.sessions).recent(200) if r["action"] == "calls.three_way"]
    assert sum(r["detail"].get("refused") == "number_not_allowed" and not r["allowed"] for r in audited) \
        == len(FORBIDDEN)

    for n, desk in enumerate(DEPARTMENTS, 1):  # the agent's two calls out this hour: a department still joins
        status, _ = await api(stack, "POST", f"{path}/three-way", mine, {"number": desk})
        assert status == 202
        await left(stack, sip, n)
    status, body = await api(stack, "POST", f"{path}/three-way", mine, {"number": DEPARTMENTS[0]})
    assert (status, body["error"]["id"]) == (429, "dial_rate_exceeded"), body  # type: ignore[index]
    await call.hangup()
    await call.outcome()

    assert dialled.any_of(FORBIDDEN) == [], "neither the hotline nor the carrier saw a forbidden number"
    assert len([a for a in dialled.actions if "Originate" in a and DEPARTMENTS[0] in a]) == 1, "not a third time"
    assert len(dialled.any_of(DEPARTMENTS[1:])) >= 1
    assert await refused_count(stack, "three_way", "dial_rate_exceeded") == 1


async def test_a_caller_with_a_foreign_or_premium_caller_id_cannot_book_a_callback(
        stack: Stack, world_caller: WorldCaller, dialled: Dialled) -> None:
    """A forged caller ID is the cheapest way to make a centre call a premium line: pressing 2 for a callback
    from such a number books nothing; the caller keeps waiting for a person."""
    assert stack.sessions is not None
    await only_ready(stack)  # nobody free: the caller waits and is offered self-service
    call = await world_caller.start("12345", "0044207946000", script="wait:40", timeout_s=90)
    sip = await call.answered()
    await wait_for_step(stack, sip, "self_service_offer", timeout=25)
    await call.press("2")
    record = await wait_for_step(stack, sip, "callback_refused", timeout=15)
    await call.hangup()
    done = (await call.outcome()).record
    assert done is not None and done.outcome != "callback_requested", done
    async with stack.sessions() as s:
        booked = await s.scalar(select(RevisitTask).where(RevisitTask.call_id == record.call_id))
    assert booked is None
    assert not [a for a in dialled.actions if "0044207946000" in a]
