"""R-ACC-4: which greeting a citizen hears on each kind of day of the shipped calendar (the calls themselves are
in tests/e2e/test_ivr_routes.py, on a Spring Festival day)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest

from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from ivr.flows.inbound import InboundFlow

PLAN = load_dialplan(Settings().core.dialplan_file)


def greeting_on(day: date) -> str:
    nothing = cast(Any, None)
    return InboundFlow(calls=nothing, sounds_dir="", dialplan=PLAN, queue=nothing, lists=nothing)._greeting(day)


@pytest.mark.parametrize(("day", "prompt"), [
    (date(2026, 2, 17), "greeting_new_year"),  # 春节: 新年好
    (date(2026, 1, 1), "greeting_new_year"),  # 元旦
    (date(2026, 10, 3), "greeting_festival"),  # 国庆节: 节日好
    (date(2026, 5, 1), "greeting_festival"),  # 劳动节
    (date(2026, 4, 5), "greeting"),  # 清明节: no festive greeting, the plain one
    (date(2026, 11, 27), "greeting"),  # an ordinary Friday
])
def test_each_day_of_the_calendar_has_its_greeting(day: date, prompt: str) -> None:
    assert greeting_on(day) == prompt


def test_the_festive_greetings_say_so_and_keep_the_recording_notice() -> None:
    assert PLAN.prompts["greeting_new_year"].startswith("新年好")
    assert PLAN.prompts["greeting_festival"].startswith("节日好")
    assert all("录音" in PLAN.prompts[p] for p in ("greeting", "greeting_new_year", "greeting_festival"))
