"""Checks across the dialplan's sections: nothing defined twice, every skill, number, trunk and prompt that is
named somewhere defined somewhere."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from dialplans.checker import Checker, Node
from dialplans.model import KNOWLEDGE_PROMPTS, REQUIRED_PROMPTS, Dialplan


class _Refs:
    """The file's top-level nodes (for lines) and the ids of what is defined."""

    def __init__(self, c: Checker, plan: Dialplan, top: dict[str, Node]) -> None:
        self.c, self.plan, self.top = c, plan, top
        self.skills = [s.id for s in plan.skills]
        self.numbers = [n.number for n in plan.numbers]
        self.trunks = [t.name for t in plan.trunks]

    def line(self, section: str, index: int, key: str | None = None) -> int:
        """The line of entry `index` of a list section (of its `key`, when it has one)."""
        item = self.top[section].value[index]
        if key and isinstance(item.value, dict) and key in item.value:
            return int(item.value[key].line)
        return int(item.line)

    def skill(self, skill: str, line: int, who: str) -> None:
        """`who` uses `skill`: an error when no skill has that id."""
        if skill in self.skills:
            return
        near = difflib.get_close_matches(skill, self.skills, n=1)
        self.c.err(line, f"{who} uses skill '{skill}' which is not defined",
                   f"use '{near[0]}'" if near else f"use one of {', '.join(self.skills)} or add it under skills:")


def cross_check(c: Checker, plan: Dialplan, top: dict[str, Node]) -> None:
    """Add to `c.errors` what is wrong between sections."""
    refs = _Refs(c, plan, top)
    _no_duplicates(refs)
    _numbers(refs)
    _menus(refs)
    _skill_users(refs)
    _rating_words(refs)
    for key in REQUIRED_PROMPTS:
        if key not in plan.prompts and "prompts" in top:
            c.err(top["prompts"].line, f"prompt '{key}' is missing", f"add {key}: <the Chinese text> under prompts:")


def _no_duplicates(refs: _Refs) -> None:
    c, plan = refs.c, refs.plan
    _duplicates(c, refs.skills, lambda i: refs.line("skills", i), "skill")
    _duplicates(c, refs.numbers, lambda i: refs.line("numbers", i), "number")
    _duplicates(c, [a.id for a in plan.agents], lambda i: refs.line("agents", i), "agent")
    for i, sup in enumerate(plan.supervisors):
        if sup.id in {a.id for a in plan.agents}:
            c.err(refs.line("supervisors", i), f"supervisor phone {sup.id} is also an agent's",
                  "give the supervisor a number of their own, e.g. 9001")
    _duplicates(c, refs.trunks, lambda i: refs.line("trunks", i), "trunk")


def _numbers(refs: _Refs) -> None:
    """The main number is listed; each number's skill, overflow, trunk and emergency hint prompt exist."""
    c, plan = refs.c, refs.plan
    if plan.centre.main_number not in refs.numbers:
        c.err(refs.top["centre"].line, f"main number {plan.centre.main_number} is not listed under numbers",
              f"add - {{number: \"{plan.centre.main_number}\", mode: main, skill: general}}")
    for i, n in enumerate(plan.numbers):
        if n.mode != "whole_merge":
            refs.skill(n.skill, refs.line("numbers", i, "skill"), f"number {n.number}")
        if n.overflow and n.overflow not in refs.numbers:
            c.err(refs.line("numbers", i, "overflow"), f"number {n.number} overflows to {n.overflow}, "
                  "which is not listed", "overflow to a listed number, usually the main number")
        if n.trunk and n.trunk not in refs.trunks:
            c.err(refs.line("numbers", i, "trunk"), f"number {n.number} names trunk '{n.trunk}' which is "
                  "not defined", f"use one of {', '.join(refs.trunks)}")
        for prompt in KNOWLEDGE_PROMPTS if n.knowledge else ():
            if prompt not in plan.prompts:
                c.err(refs.line("numbers", i, "knowledge"), f"number {n.number} reads the knowledge base to waiting "
                      f"callers, but prompt '{prompt}' is not under prompts:", f"add {prompt}: <the Chinese text>")
        if n.knowledge and not plan.queue.self_service:
            c.err(refs.line("numbers", i, "knowledge"), f"number {n.number} reads the knowledge base from the "
                  "self-service offer, which queue.self_service turns off", "set queue.self_service: true")
        if n.emergency_hint and n.emergency_hint not in plan.prompts:
            c.err(refs.line("numbers", i, "emergency_hint"), f"number {n.number} emergency_hint prompt "
                  f"'{n.emergency_hint}' is not under prompts:", f"add {n.emergency_hint}: <the Chinese text>")


def _menus(refs: _Refs) -> None:
    """A number's menu plays a prompt that exists and leads to skills that exist."""
    for i, n in enumerate(refs.plan.numbers):
        if n.menu is None:
            continue
        if n.menu.prompt not in refs.plan.prompts:
            refs.c.err(refs.line("numbers", i, "menu"), f"number {n.number} menu prompt '{n.menu.prompt}' is "
                       "not under prompts:", f"add {n.menu.prompt}: <the Chinese text> under prompts:")
        for _, skill in n.menu.options:
            refs.skill(skill, refs.line("numbers", i, "menu"), f"number {n.number} menu")


def _rating_words(refs: _Refs) -> None:
    """The spoken rating prompt names every label with its key (R-RATE-1): the labels are stored with each rating,
    so a prompt that still says 基本满意 where the labels say 理解 would store what the caller never heard."""
    plan, top = refs.plan, refs.top
    spoken = plan.prompts.get("rating")
    if not plan.rating.enabled or spoken is None or "prompts" not in top:
        return
    line = int(top["prompts"].value["rating"].line) if isinstance(top["prompts"].value, dict) else top["prompts"].line
    for key, label in enumerate(plan.rating.labels, start=1):
        if f"{label}请按{key}" not in spoken and not (label in spoken and f"按{key}" in spoken):
            refs.c.err(line, f"prompts.rating does not say key {key} is '{label}' (rating.labels[{key - 1}])",
                       f"say '{label}请按{key}' in prompts.rating, or change rating.labels to the words it speaks")


def _skill_users(refs: _Refs) -> None:
    """Widenings, agents and the revisit's person all name skills that exist."""
    plan = refs.plan
    for i, skill_def in enumerate(plan.skills):
        for w in skill_def.widen:
            refs.skill(w.to, refs.line("skills", i, "widen"), f"skill {skill_def.id} widening")
    for i, a in enumerate(plan.agents):
        for skill, _ in a.skills:
            refs.skill(skill, refs.line("agents", i, "skills"), f"agent {a.id}")
    if "revisit" in refs.top:
        refs.skill(plan.revisit.skill, refs.top["revisit"].line, "revisit (pressing 0 for a person)")


def _duplicates(c: Checker, values: list[str], line: Callable[[int], int], what: str) -> None:
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            c.err(line(i), f"{what} '{value}' is defined twice (first on line {line(seen[value])})",
                  f"remove one of the two {what} entries")
        else:
            seen[value] = i
