"""The `bench acd` scenario as data: seats, overlapping skills, widening, and the callers who arrive.

One description configures both ACDs alike:
- ours: each skill's `min_level` and `widen` in a dialplan file written beside the shipped one;
- app_queue, the usual way: one queue per skill; the skill's own seats at penalty 0 and the seats it
  widens to at penalty 1; the caller starts at QUEUE_MAX_PENALTY=0 and a queuerules.conf
  `penaltychange` lets penalty 1 in after the same wait; leastrecent (longest idle), ringinuse=no,
  autofill, shared_lastcall, the same ring time as ours and the same wrap-up on average (app_queue keeps
  it in whole seconds of the clock: see `app_queue_free_at`). Every other queue setting is
  Asterisk's default (retry=5, weight=0). `weight=1` on the expert queues was tried and served app_queue
  worse (service level 0.43 against 0.65 in one run): app_queue then holds a shared seat back for a heavier
  queue with callers even when their penalty does not let those callers have it yet.
Skills overlap: experts can take general calls after a wait, senior general seats take expert calls after
a longer one, and one expert holds two expert skills.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from dialplans.model import Skill, Widening


@dataclass(frozen=True)
class SkillPlan:
    """A skill's routing policy and its share of the callers."""

    skill: str
    number: str  # the hotline number our callers dial for it (its number in the shipped dialplan)
    share: float
    min_level: int
    widen_after_s: int
    widen_to: str
    widen_min_level: int

    @property
    def queue(self) -> str:
        """The app_queue queue's name (a queue cannot be called `general`: that is the settings section)."""
        return f"q_{self.skill}"


@dataclass(frozen=True)
class Seat:
    agent: str
    name: str
    seat: str
    skills: dict[str, int]


@dataclass(frozen=True)
class Arrival:
    """One caller: when they call, for what, how long the agent talks to them, how long they will wait."""

    at_s: float
    skill: str
    talk_s: int
    patience_s: float


SKILLS = (
    SkillPlan("general", "12345", 0.60, min_level=3, widen_after_s=10, widen_to="general", widen_min_level=1),
    SkillPlan("social_security", "12333", 0.25, min_level=4, widen_after_s=20, widen_to="general",
              widen_min_level=4),
    SkillPlan("medical_insurance", "12393", 0.15, min_level=4, widen_after_s=20, widen_to="general",
              widen_min_level=4),
)
SEATS = (
    Seat("8001", "王芳", "general", {"general": 4}),
    Seat("8002", "李强", "general", {"general": 4}),
    Seat("8003", "周杰", "general", {"general": 3}),
    Seat("8004", "吴静", "general", {"general": 3}),
    Seat("8005", "张敏", "expert", {"social_security": 5, "general": 2}),
    Seat("8006", "陈晨", "expert", {"social_security": 4, "general": 2}),
    Seat("8007", "刘洋", "expert", {"medical_insurance": 5, "general": 2}),
    Seat("8008", "杨帆", "expert", {"social_security": 4, "medical_insurance": 4, "general": 2}),
)
PLANS = {p.skill: p for p in SKILLS}
APP_QUEUE_WRAP_UP_S = 3  # app_queue's wrapuptime
OUR_WRAP_UP_S = 2.5  # the same on average as app_queue's


def app_queue_free_at(ended: float) -> float:
    """When app_queue may ring a seat again after a call: it compares whole seconds (time_t), so at the first
    whole second `APP_QUEUE_WRAP_UP_S` after the second the call ended in — 2 to 3 s later, 2.5 on average."""
    return math.floor(ended) + APP_QUEUE_WRAP_UP_S


def our_free_at(ended: float) -> float:
    """When our ACD may offer a seat a call again: after the wrap-up."""
    return ended + OUR_WRAP_UP_S


def arrivals(seed: int, rate_per_s: float, duration_s: float) -> list[Arrival]:
    """Poisson arrivals over `duration_s`; talk times around 6 s after the agent's 5.5 s opening words
    (3-20 s), patience exponential with a 45 s mean (8-90 s)."""
    rng = random.Random(seed)
    out: list[Arrival] = []
    t = rng.expovariate(rate_per_s)
    while t < duration_s:
        skill = rng.choices([p.skill for p in SKILLS], [p.share for p in SKILLS])[0]
        talk = round(min(20.0, max(3.0, rng.lognormvariate(1.7, 0.5))))
        patience = min(90.0, max(8.0, rng.expovariate(1 / 45)))
        out.append(Arrival(round(t, 3), skill, talk, round(patience, 1)))
        t += rng.expovariate(rate_per_s)
    return out


def eligible_after_s(skill: str, agent: str) -> float | None:
    """How long a caller for `skill` waits, by policy, before `agent` may take them; None: never."""
    plan, seat = PLANS[skill], next(s for s in SEATS if s.agent == agent)
    if seat.skills.get(skill, 0) >= plan.min_level:
        return 0.0
    if seat.skills.get(plan.widen_to, 0) >= plan.widen_min_level:
        return float(plan.widen_after_s)
    return None


# --- ours: the dialplan file -------------------------------------------------------------------

def skills_yaml(shipped: tuple[Skill, ...]) -> str:
    """The `skills:` section: the shipped skills, with the scenario's policy for its own."""
    lines = ["skills:"]
    for skill in shipped:
        plan = PLANS.get(skill.id)
        if plan is not None:
            skill = Skill(skill.id, skill.label, skill.seat, plan.min_level,
                          (Widening(plan.widen_after_s, plan.widen_to, plan.widen_min_level),))
        widen = ", ".join(f"{{after: {w.after_s}, to: {w.to}, min_level: {w.min_level}}}" for w in skill.widen)
        lines.append(f"  - {{id: {skill.id}, label: {skill.label}, seat: {skill.seat}, "
                     f"min_level: {skill.min_level}, widen: [{widen}]}}")
    return "\n".join(lines)


def agents_yaml() -> str:
    """The `agents:` section: the scenario's seats."""
    lines = ["agents:"]
    for s in SEATS:
        skills = ", ".join(f"{k}: {v}" for k, v in s.skills.items())
        lines.append(f'  - {{id: "{s.agent}", name: {s.name}, seat: {s.seat}, group: 一组, skills: {{{skills}}}}}')
    return "\n".join(lines)


def replace_section(text: str, key: str, section: str) -> str:
    """The dialplan text with the top-level `key:` block (up to the next blank line) replaced."""
    start = text.index(f"\n{key}:\n") + 1
    end = text.index("\n\n", start)
    return text[:start] + section + text[end:]


# --- app_queue: queues.conf, queuerules.conf and the bench context --------------------------------

def queues_conf(ring_timeout_s: float) -> str:
    out = ["; bench acd: app_queue configured the usual way (see bench/acd_scenario.py)",
           "[general]", "autofill=yes", "shared_lastcall=yes", "persistentmembers=no", ""]
    for plan in SKILLS:
        out += [f"[{plan.queue}]", "strategy=leastrecent", "ringinuse=no", f"timeout={round(ring_timeout_s)}",
                f"wrapuptime={APP_QUEUE_WRAP_UP_S}", "joinempty=yes", "leavewhenempty=no",
                "announce-frequency=0", "servicelevel=15", "musicclass=default", f"defaultrule=widen_{plan.skill}"]
        for seat in SEATS:
            after = eligible_after_s(plan.skill, seat.agent)
            if after is not None:
                out.append(f"member => PJSIP/{seat.agent},{0 if after == 0 else 1},{seat.agent},PJSIP/{seat.agent}")
        out.append("")
    return "\n".join(out)


def queuerules_conf() -> str:
    return "\n".join(f"[widen_{p.skill}]\npenaltychange => {p.widen_after_s},1\n" for p in SKILLS)


def app_queue_context(recordings_dir: str) -> str:
    """Dialplan added to the hotline's: the carrier's `q_<skill>` calls go straight into Queue(), recorded
    like ours (mix, caller, heard) so both sides cost Asterisk the same."""
    out = ["", "; bench acd: callers for app_queue come in from the carrier as q_<skill>", "[from-carrier]"]
    out += [f"exten => {p.queue},1,Goto(bench-app-queue,{p.queue},1)" for p in SKILLS]
    out += ["", "[bench-app-queue]"]
    for p in SKILLS:
        out += [f"exten => {p.queue},1,NoOp(bench caller ${{CALLERID(num)}} for app_queue {p.queue})",
                " same => n,Answer()",
                f" same => n,Set(REC={recordings_dir}/${{UNIQUEID}})",
                " same => n,MixMonitor(${REC}.wav,r(${REC}-caller.wav)t(${REC}-heard.wav))",
                " same => n,Set(QUEUE_MAX_PENALTY=0)",
                f" same => n,Queue({p.queue})",
                " same => n,Hangup()"]
    return "\n".join(out) + "\n"
