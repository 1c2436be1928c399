"""Service phrases (服务用语) for the side panel: the standards' wording (desk/data/phrases.yaml), the greeting in
today's holiday variant from the dialplan's calendar, the centre's name filled in."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml

from dialplans.model import Dialplan


@cache
def _shipped() -> dict[str, Any]:
    text = resources.files("desk").joinpath("data/phrases.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def phrases(plan: Dialplan, today: date) -> dict[str, Any]:
    """The groups of phrases, the greeting of the day first, the words never to say (服务禁语), and the
    recorded-line warning a watched caller hears."""
    data = _shipped()
    centre = plan.centre.name

    def fill(text: str) -> str:
        return text.replace("{centre}", centre)

    holiday = plan.holiday_on(today)
    variant = holiday.greeting if holiday is not None and holiday.greeting in data["greeting"] else "default"
    greeting = {"title": "首问语" + (f"（{holiday.name}）" if variant != "default" and holiday else ""),
                "text": fill(data["greeting"][variant]), "source": "000 D.1.1 / 003 B.1.2", "greeting": True}
    groups = [{"name": g["name"], "phrases": [{**p, "text": fill(p["text"])} for p in g["phrases"]]}
              for g in data["groups"]]
    groups[0]["phrases"].insert(0, greeting)
    return {"groups": groups, "forbidden": list(data.get("forbidden", [])),
            "watch_warning": plan.prompts.get("watch_warning", "")}  # what a watched caller heard (R-ACC-7)
