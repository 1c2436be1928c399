"""Bad cases on real parts: a flow that raises, an unreachable AGI server — the caller is never left in dead air."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from hotline.app.stack import Stack
from hotline.core.asterisk.agi import AgiCall
from integration.world.call import WorldCaller
from tests.e2e.conftest import stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

BROKEN_NUMBER = "12399"


class FlowBug(RuntimeError):
    """A bug in a call flow."""


async def broken_flow(call: AgiCall) -> None:
    await call.answer()
    raise FlowBug("the flow has a bug")


def _dialplan_with_broken_number(tmp: Path) -> Path:
    shipped = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"
    data = yaml.safe_load(shipped.read_text())
    data["numbers"].append({"number": BROKEN_NUMBER, "mode": "dual", "skill": "general", "flow": "test/broken",
                            "failsafe": "apology"})
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    settings = stack_settings(home, dialplan_file=_dialplan_with_broken_number(home))
    s = Stack(settings, extra_flows={"test/broken": broken_flow})
    await s.start()
    try:
        yield s
    finally:
        await s.close()


async def test_a_flow_that_raises_sends_the_caller_to_the_apology(stack: Stack, world_caller: WorldCaller) -> None:
    outcome = await world_caller.call(BROKEN_NUMBER, "13700137000", listen_s=15)
    assert outcome.answered
    # the caller heard the fail-safe apology, not silence
    assert outcome.speech is not None and outcome.speech.has_speech, outcome.speech
    assert stack.agi is not None
    assert stack.agi.stats().failed >= 1
    record = outcome.record
    assert record is not None, "the call must have a record"
    assert record.outcome == "failsafe"
    assert record.failsafe_reason == "FlowBug"
    assert record.ended_at is not None and record.hangup_cause


async def test_good_calls_still_work_next_to_a_broken_flow(stack: Stack, world_caller: WorldCaller) -> None:
    outcome = await world_caller.call("12345", "13700137001", dtmf="5", listen_s=15)
    assert outcome.to_json()["digit_received"] == "5"
    assert outcome.record is not None and outcome.record.outcome == "connected"


async def test_a_caller_who_finds_the_agi_server_down_waits_and_is_served_when_it_is_back(
        stack: Stack, world_caller: WorldCaller) -> None:
    """Last in the module: it stops the AGI server for a while. 12345's fail-safe is the queue: the
    caller waits with music and the ACD takes them as soon as the service answers again."""
    assert stack.agi is not None
    await stack.agi.close()
    call = await world_caller.start("12345", "13700137002", script="wait:75", timeout_s=120)
    await asyncio.sleep(5)
    await stack.agi.start()
    outcome = await call.outcome()
    assert outcome.answered
    record = outcome.record
    assert record is not None, "no call may be lost: the record comes from AMI events"
    assert record.failsafe_reason is not None and record.failsafe_reason.startswith("AGI"), record
    assert any(s["step"] == "queued" and s["detail"].get("after") == "failsafe" for s in record.steps), record.steps
    assert record.agent is not None, "served by an agent once the service was back"
    assert record.recordings, "the call was still recorded"
