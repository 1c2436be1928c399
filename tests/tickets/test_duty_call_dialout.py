"""A duty call passes the dial-out check before anything rings: a unit's number the plan does not allow for
duty calls is refused (403 number_not_allowed), the agent's state is left alone and nothing is dialled."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from dialplans.dialout import DialOutRefused
from dialplans.loader import load_dialplan
from dialplans.model import DialOut, Unit
from tests.dialplans.unlimited import unlimited_guard
from tickets.duty_call import DutyCaller
from tickets.models import Ticket
from tickets.service import TicketView

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"


class Agents:
    """The ACD's agent states; records every change asked for."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str]] = []

    async def agents(self) -> dict[str, dict[str, str]]:
        return {"8002": {"state": "ready"}}

    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool:
        self.changes.append((agent, state))
        return True


@pytest.mark.parametrize("duty_number", ["95588", "0044207946000", "16812345678"])
async def test_a_unit_number_not_allowed_for_duty_calls_is_refused_before_anything_rings(duty_number: str) -> None:
    plan = load_dialplan(SHIPPED)
    plan = replace(plan, units=(Unit("市供水集团", duty_number),),
                   dial_out=DialOut(allow=(("duty_call", ("national",)),)))  # units' numbers not listed
    agents = Agents()
    none = cast(Any, None)  # never reached: the check comes first
    caller = DutyCaller(none, agents, none, none, plan, none, none, unlimited_guard(plan))
    ticket = TicketView(Ticket(number="T-1", status="submitted", urgency="紧急", handling_unit="市供水集团",
                               title="停水"), None)
    with pytest.raises(DialOutRefused) as refused:
        await caller.start(ticket, "8002", "agent 8002")
    assert (refused.value.code, refused.value.id) == (403, "number_not_allowed")
    assert agents.changes == [] and caller._tasks == set()
    await caller.close()
