"""Load and validate the dialplan file; every error names file, line and the fix.

YAML is composed into nodes first so each value keeps its line; validation collects ALL errors
(schema, then cross-references) before refusing the file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any, cast

import yaml

from dialplans.model import (
    CALL_SOURCES,
    FAILSAFES,
    GREETINGS,
    MODES,
    RATING_LABELS,
    REQUIRED_PROMPTS,
    SEATS,
    Agent,
    Centre,
    Dialplan,
    Holiday,
    Menu,
    Number,
    Priorities,
    QueueSettings,
    RatingSettings,
    Recording,
    RevisitSettings,
    ServiceLevelYield,
    Skill,
    Supervisor,
    Trunk,
    Unit,
    Widening,
    Window,
)

_NUMBER = re.compile(r"^\d{3,11}$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_ROUTE = re.compile(r"^[a-z][a-z0-9_/-]*$")


@dataclass(frozen=True)
class DialplanError:
    """One problem in the file, where it is, and how to fix it."""

    file: str
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message} — fix: {self.fix}"


class DialplanInvalid(ValueError):
    """The file has errors; the running configuration was not touched."""

    def __init__(self, errors: list[DialplanError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class _Node:
    """A YAML value with its line."""

    def __init__(self, value: Any, line: int) -> None:
        self.value = value
        self.line = line


def _plain(node: yaml.Node) -> _Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        for key, value in node.value:
            out[str(key.value)] = _plain(value)
            out[str(key.value)].key_line = key.start_mark.line + 1  # type: ignore[attr-defined]
        return _Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_plain(v) for v in node.value], line)
    return _Node(_scalar(node), line)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()


class _Checker:
    """Walks the node tree, converting values and collecting errors."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DialplanError] = []

    def err(self, line: int, message: str, fix: str) -> None:
        self.errors.append(DialplanError(self.file, line, message, fix))

    def mapping(self, node: _Node, where: str, allowed: Iterable[str], required: Iterable[str]) -> dict[str, _Node]:
        if not isinstance(node.value, dict):
            self.err(node.line, f"{where} must be a mapping (key: value)", f"write {where} as 'key: value' lines")
            return {}
        allowed = list(allowed)
        for key, value in node.value.items():
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{near[0]}'?" if near else f"allowed keys: {', '.join(allowed)}"
                self.err(getattr(value, "key_line", value.line), f"unknown key '{key}' in {where}", hint)
        for key in required:
            if key not in node.value:
                self.err(node.line, f"{where} has no '{key}'", f"add '{key}:' to {where}")
        return cast(dict[str, _Node], node.value)

    def seq(self, node: _Node | None, where: str) -> list[_Node]:
        if node is None:
            return []
        if not isinstance(node.value, list):
            self.err(node.line, f"{where} must be a list", f"write each entry of {where} on a line starting with '- '")
            return []
        return cast(list[_Node], node.value)

    def text(self, node: _Node | None, where: str, default: str = "", pattern: re.Pattern[str] | None = None,
             fix: str = "") -> str:
        if node is None:
            return default
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            self.err(node.line, f"{where} must be a non-empty text", f"give {where} a value in quotes")
            return default
        if pattern is not None and not pattern.match(value):
            self.err(node.line, f"{where} '{value}' is not valid", fix or f"match {pattern.pattern}")
        return value

    def choice(self, node: _Node | None, where: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(node, where, default)
        if value not in options:
            near = difflib.get_close_matches(value, options, n=1)
            assert node is not None
            self.err(node.line, f"{where} '{value}' is not one of {', '.join(options)}",
                     f"use '{near[0]}'" if near else f"use one of {', '.join(options)}")
            return default
        return value

    def day(self, node: _Node | None, where: str) -> date:
        if node is None or not isinstance(node.value, date):
            line = node.line if node is not None else 0
            self.err(line, f"{where} must be a date", "write it as YYYY-MM-DD, e.g. 2027-01-31")
            return date.min
        return node.value

    def window(self, node: _Node, where: str) -> Window:
        m = self.mapping(node, where, ("from", "until"), ("from", "until"))
        start, until = self.day(m.get("from"), f"{where}.from"), self.day(m.get("until"), f"{where}.until")
        if start > until:
            self.err(node.line, f"{where} ends ({until}) before it starts ({start})", "swap 'from' and 'until'")
        return Window(start, until)


def check_dialplan(path: Path) -> list[DialplanError]:
    """All errors in the file (empty when it is good)."""
    try:
        load_dialplan(path)
    except DialplanInvalid as exc:
        return exc.errors
    return []


def load_dialplan(path: Path) -> Dialplan:
    """Parse and validate; raise DialplanInvalid listing every error."""
    name = str(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise DialplanInvalid([DialplanError(name, (mark.line + 1) if mark else 0, f"YAML syntax: {exc.problem}",
                                             "check indentation, colons and quotes on this line")]) from None
    except OSError as exc:
        raise DialplanInvalid([DialplanError(name, 0, f"cannot read the file: {exc.strerror}",
                                             "check the path")]) from None
    if root is None:
        raise DialplanInvalid([DialplanError(name, 1, "the file is empty", "start from dialplans/hotline.yaml")])
    c = _Checker(name)
    top = c.mapping(_plain(root), "the file",
                    ("centre", "trunks", "skills", "numbers", "agents", "holidays", "prompts", "recording",
                     "rating", "priorities", "queue", "supervisors", "workdays", "units", "revisit"),
                    ("centre", "trunks", "skills", "numbers", "prompts"))
    plan = _build(c, top)
    _cross_check(c, plan, top)
    if c.errors:
        raise DialplanInvalid(sorted(c.errors, key=lambda e: e.line))
    return plan


def _build(c: _Checker, top: dict[str, _Node]) -> Dialplan:
    centre_m = c.mapping(top["centre"], "centre", ("name", "main_number", "display_number"),
                         ("name", "main_number")) if "centre" in top else {}
    main = c.text(centre_m.get("main_number"), "centre.main_number", "12345", _NUMBER, "digits only, e.g. '12345'")
    centre = Centre(c.text(centre_m.get("name"), "centre.name", "12345"), main,
                    c.text(centre_m.get("display_number"), "centre.display_number", main, _NUMBER))
    trunks = tuple(_each(c, top.get("trunks"), "trunks", _trunk))
    skills = tuple(_each(c, top.get("skills"), "skills", _skill))
    numbers = tuple(_each(c, top.get("numbers"), "numbers", _number))
    agents = tuple(_each(c, top.get("agents"), "agents", _agent))
    holidays = tuple(_each(c, top.get("holidays"), "holidays", _holiday))
    prompts: dict[str, str] = {}
    if "prompts" in top:
        entries = top["prompts"].value
        if not isinstance(entries, dict):
            c.err(top["prompts"].line, "prompts must map a key to a text", "write prompts as 'key: 中文文本' lines")
            entries = {}
        for key, value in entries.items():
            if not _IDENT.match(key):
                c.err(value.line, f"prompt key '{key}' is not valid", "use lower-case letters, digits and _")
            prompts[key] = c.text(value, f"prompts.{key}")
    recording = Recording()
    if "recording" in top:
        rm = c.mapping(top["recording"], "recording", ("enabled", "format"), ())
        recording = Recording(_flag(c, rm.get("enabled"), "recording.enabled", True),
                              c.choice(rm.get("format"), "recording.format", ("wav",), "wav"))
    return Dialplan(centre, trunks, skills, numbers, agents, holidays, prompts, recording,
                    _rating(c, top["rating"]) if "rating" in top else RatingSettings(),
                    _priorities(c, top["priorities"]) if "priorities" in top else Priorities(),
                    _queue(c, top["queue"]) if "queue" in top else QueueSettings(),
                    tuple(_each(c, top.get("supervisors"), "supervisors", _supervisor)),
                    tuple(c.day(node, "workdays") for node in c.seq(top.get("workdays"), "workdays")),
                    tuple(_each(c, top.get("units"), "units", _unit)),
                    _revisit(c, top["revisit"]) if "revisit" in top else RevisitSettings())


_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _revisit(c: _Checker, node: _Node) -> RevisitSettings:
    keys = ("hours", "on_holidays", "max_attempts", "retry_after_s", "quiet_s", "calls_per_second",
            "max_concurrent", "yield_waiting", "skill", "ring_timeout_s", "from_calls", "sample_rate",
            "yield_below_sl", "yield_sl_window_s", "yield_sl_min_offered")
    m = c.mapping(node, "revisit", keys, ())
    base = RevisitSettings()
    hours = base.hours
    if "hours" in m:
        spans = []
        for item in c.seq(m["hours"], "revisit.hours"):
            found = _HOURS.match(str(item.value))
            if not found or found.group(1, 2) >= found.group(3, 4):
                c.err(item.line, f"revisit hours '{item.value}' are not a span of the day", 'write "09:00-12:00"')
                continue
            h1, m1, h2, m2 = (int(g) for g in found.groups())
            spans.append((time(h1, m1), time(23, 59, 59) if h2 == 24 else time(h2, m2)))
        hours = tuple(spans)
    rate = m.get("calls_per_second")
    if rate is not None and (isinstance(rate.value, bool) or not isinstance(rate.value, int | float)
                             or not 0 < rate.value <= 50):
        c.err(rate.line, "revisit.calls_per_second must be more than 0 and at most 50", "write a number like 1 or 0.5")
    return RevisitSettings(
        hours, _flag(c, m.get("on_holidays"), "revisit.on_holidays", base.on_holidays),
        max(1, _count(c, m.get("max_attempts"), "revisit.max_attempts", base.max_attempts)),
        _count(c, m.get("retry_after_s"), "revisit.retry_after_s", base.retry_after_s),
        _count(c, m.get("quiet_s"), "revisit.quiet_s", base.quiet_s),
        float(rate.value) if rate is not None and isinstance(rate.value, int | float) and rate.value > 0
        else base.calls_per_second,
        max(1, _count(c, m.get("max_concurrent"), "revisit.max_concurrent", base.max_concurrent)),
        max(1, _count(c, m.get("yield_waiting"), "revisit.yield_waiting", base.yield_waiting)),
        c.text(m.get("skill"), "revisit.skill", base.skill),
        max(5, _count(c, m.get("ring_timeout_s"), "revisit.ring_timeout_s", base.ring_timeout_s)),
        tuple(c.choice(item, "revisit.from_calls", CALL_SOURCES, "unrated") for item in c.seq(m["from_calls"],
              "revisit.from_calls")) if "from_calls" in m else base.from_calls,
        _share(c, m.get("sample_rate"), "revisit.sample_rate", base.sample_rate),
        _service_level(c, m, base.service_level))


def _service_level(c: _Checker, m: dict[str, _Node], base: ServiceLevelYield) -> ServiceLevelYield:
    return ServiceLevelYield(
        _share(c, m.get("yield_below_sl"), "revisit.yield_below_sl", base.below),
        max(60, _count(c, m.get("yield_sl_window_s"), "revisit.yield_sl_window_s", base.window_s)),
        max(1, _count(c, m.get("yield_sl_min_offered"), "revisit.yield_sl_min_offered", base.min_offered)))


def _share(c: _Checker, node: _Node | None, where: str, default: float) -> float:
    if node is None:
        return default
    if isinstance(node.value, bool) or not isinstance(node.value, int | float) or not 0 <= node.value <= 1:
        c.err(node.line, f"{where} must be a share from 0 to 1", "write e.g. 0.05 for 5 %")
        return default
    return float(node.value)


def _unit(c: _Checker, node: _Node, where: str) -> Unit:
    m = c.mapping(node, where, ("name", "duty_number"), ("name", "duty_number"))
    return Unit(c.text(m.get("name"), f"{where}.name"),
                c.text(m.get("duty_number"), f"{where}.duty_number", "", _NUMBER, "digits only, e.g. '01062345678'"))


def _supervisor(c: _Checker, node: _Node, where: str) -> Supervisor:
    m = c.mapping(node, where, ("id", "name"), ("id", "name"))
    phone = c.text(m.get("id"), f"{where}.id", "", re.compile(r"^\d{3,6}$"), "digits, e.g. \"9001\"")
    return Supervisor(phone, c.text(m.get("name"), f"supervisor {phone} name"))


def _queue(c: _Checker, node: _Node) -> QueueSettings:
    m = c.mapping(node, "queue", ("announce_every", "self_service", "message_over_s", "capacity"), ())
    return QueueSettings(_count(c, m.get("announce_every"), "queue.announce_every", 30),
                         _flag(c, m.get("self_service"), "queue.self_service", True),
                         _count(c, m.get("message_over_s"), "queue.message_over_s", 600),
                         _count(c, m.get("capacity"), "queue.capacity", 30))


def _priorities(c: _Checker, node: _Node) -> Priorities:
    m = c.mapping(node, "priorities", ("vip", "elderly", "repeat_caller"), ())
    return Priorities(**{key: _count(c, value, f"priorities.{key}", 0) for key, value in m.items()})


def _flag(c: _Checker, node: _Node | None, where: str, default: bool) -> bool:
    if node is None:
        return default
    if not isinstance(node.value, bool):
        c.err(node.line, f"{where} must be true or false", "write true or false")
        return default
    return node.value


def _rating(c: _Checker, node: _Node) -> RatingSettings:
    m = c.mapping(node, "rating", ("enabled", "labels"), ())
    labels = tuple(c.text(n, f"rating.labels[{i}]") for i, n in enumerate(c.seq(m.get("labels"), "rating.labels")))
    if "labels" in m and len(labels) != 5:
        c.err(m["labels"].line, f"rating.labels has {len(labels)} labels", "give five labels, for keys 1 to 5")
    return RatingSettings(_flag(c, m.get("enabled"), "rating.enabled", True), labels or RATING_LABELS)


def _each(c: _Checker, node: _Node | None, where: str, build: Callable[[_Checker, _Node, str], Any]) -> list[Any]:
    return [build(c, item, f"{where}[{i}]") for i, item in enumerate(c.seq(node, where))]


def _trunk(c: _Checker, node: _Node, where: str) -> Trunk:
    m = c.mapping(node, where, ("name", "match", "codecs", "dtmf_mode"), ("name", "match"))
    match = tuple(c.text(v, f"{where}.match") for v in c.seq(m.get("match"), f"{where}.match"))
    codecs = tuple(c.choice(v, f"{where}.codecs", ("alaw", "ulaw", "g722", "opus", "gsm"), "alaw")
                   for v in c.seq(m.get("codecs"), f"{where}.codecs")) or ("alaw", "ulaw")
    return Trunk(c.text(m.get("name"), f"{where}.name", "", _IDENT), match, codecs,
                 c.choice(m.get("dtmf_mode"), f"{where}.dtmf_mode", ("rfc4733", "inband", "info", "auto"), "rfc4733"))


def _skill(c: _Checker, node: _Node, where: str) -> Skill:
    m = c.mapping(node, where, ("id", "label", "seat", "min_level", "widen"), ("id", "label", "seat"))
    skill_id = c.text(m.get("id"), f"{where}.id", "", _IDENT, "lower-case letters, digits and _")
    widen = tuple(_widening(c, w, f"skill {skill_id} widen") for w in c.seq(m.get("widen"), f"skill {skill_id} widen"))
    return Skill(skill_id, c.text(m.get("label"), f"{where}.label"),
                 c.choice(m.get("seat"), f"{where}.seat", SEATS, "general"),  # type: ignore[arg-type]
                 _level(c, m.get("min_level"), f"skill {skill_id} min_level"), widen)


def _level(c: _Checker, node: _Node | None, where: str) -> int:
    level = _count(c, node, where, 1)
    if not 1 <= level <= 5:
        assert node is not None
        c.err(node.line, f"{where} is {level}", "skill levels go from 1 to 5")
        return 1
    return level


def _widening(c: _Checker, node: _Node, where: str) -> Widening:
    m = c.mapping(node, where, ("after", "to", "min_level"), ("after", "to"))
    return Widening(_count(c, m.get("after"), f"{where} after", 0), c.text(m.get("to"), f"{where} to"),
                    _level(c, m.get("min_level"), f"{where} min_level"))


def _number(c: _Checker, node: _Node, where: str) -> Number:
    m = c.mapping(node, where, ("number", "mode", "skill", "department", "transition", "overflow", "failsafe",
                                "flow", "trunk", "full_at", "emergency_hint", "menu"), ("number", "mode"))
    number = c.text(m.get("number"), f"{where}.number", "", _NUMBER, "digits only, in quotes, e.g. \"12333\"")
    mode = c.choice(m.get("mode"), f"number {number} mode", MODES, "main")
    transition = c.window(m["transition"], f"number {number} transition") if "transition" in m else None
    if mode == "whole_merge" and transition is None:
        c.err(node.line, f"number {number} is a whole merge without a transition window",
              "add transition: {from: YYYY-MM-DD, until: YYYY-MM-DD} (three months by default)")
    if mode != "whole_merge" and "skill" not in m:
        c.err(node.line, f"number {number} ({mode}) has no skill", "add skill: <one of the skills' ids>")
    overflow = c.text(m.get("overflow"), f"number {number} overflow", "", _NUMBER) or None
    return Number(number, mode, c.text(m.get("skill"), f"number {number} skill", "general"),  # type: ignore[arg-type]
                  c.text(m.get("department"), f"number {number} department", ""), transition, overflow,
                  c.choice(m.get("failsafe"), f"number {number} failsafe", FAILSAFES, "queue"),  # type: ignore[arg-type]
                  c.text(m.get("flow"), f"number {number} flow", "ivr/inbound", _ROUTE),
                  c.text(m.get("trunk"), f"number {number} trunk", "") or None,
                  _count(c, m.get("full_at"), f"number {number} full_at", 10),
                  _flag(c, m.get("emergency_hint"), f"number {number} emergency_hint", False),
                  _menu(c, m["menu"], f"number {number} menu") if "menu" in m else None)


def _menu(c: _Checker, node: _Node, where: str) -> Menu:
    m = c.mapping(node, where, ("prompt", "options", "timeout"), ("prompt", "options"))
    options: list[tuple[str, str]] = []
    raw = m.get("options")
    if raw is not None and not isinstance(raw.value, dict):
        c.err(raw.line, f"{where} options must map a key to a skill", 'write options: {"1": tax, "2": general}')
    elif raw is not None:
        for key, skill in raw.value.items():
            if str(key) not in "0123456789" or len(str(key)) != 1:
                c.err(skill.line, f"{where} option '{key}' is not a single key 0-9", "use one digit per option")
            options.append((str(key), c.text(skill, f"{where} option {key}")))
    timeout = _count(c, m.get("timeout"), f"{where} timeout", 4)
    if not 1 <= timeout <= 10:
        c.err(node.line, f"{where} timeout must be 1 to 10 seconds", "callers should reach the queue quickly")
    return Menu(c.text(m.get("prompt"), f"{where} prompt", "", _IDENT), tuple(options), timeout)


def _count(c: _Checker, node: _Node | None, where: str, default: int) -> int:
    if node is None:
        return default
    if isinstance(node.value, bool) or not isinstance(node.value, int) or node.value < 0:
        c.err(node.line, f"{where} must be a whole number, 0 or more", "write a number like 10")
        return default
    return node.value


def _agent(c: _Checker, node: _Node, where: str) -> Agent:
    m = c.mapping(node, where, ("id", "name", "seat", "skills", "group"), ("id", "name", "seat", "skills"))
    agent = c.text(m.get("id"), f"{where}.id", "", re.compile(r"^\d{3,6}$"), "digits, e.g. \"8001\"")
    skills: list[tuple[str, int]] = []
    if "skills" in m:
        sm = m["skills"]
        if not isinstance(sm.value, dict):
            c.err(sm.line, f"agent {agent} skills must map skill to level", "write skills: {general: 3}")
        else:
            for skill, level in sm.value.items():
                if not isinstance(level.value, int) or not 1 <= level.value <= 5:
                    c.err(level.line, f"agent {agent} level of '{skill}' must be 1–5", "use a whole number 1 to 5")
                    continue
                skills.append((skill, level.value))
    return Agent(agent, c.text(m.get("name"), f"agent {agent} name"),
                 c.choice(m.get("seat"), f"agent {agent} seat", SEATS, "general"),  # type: ignore[arg-type]
                 tuple(skills), c.text(m.get("group"), f"agent {agent} group") if "group" in m else "")


def _holiday(c: _Checker, node: _Node, where: str) -> Holiday:
    m = c.mapping(node, where, ("name", "from", "until", "greeting"), ("name", "from", "until", "greeting"))
    start, until = c.day(m.get("from"), f"{where}.from"), c.day(m.get("until"), f"{where}.until")
    if start > until:
        c.err(node.line, f"holiday {where} ends before it starts", "swap 'from' and 'until'")
    return Holiday(c.text(m.get("name"), f"{where}.name"), Window(start, until),
                   c.choice(m.get("greeting"), f"{where}.greeting", GREETINGS, "none"))  # type: ignore[arg-type]


def _line_of(top: dict[str, _Node], section: str, index: int, key: str | None = None) -> int:
    item = top[section].value[index]
    if key and isinstance(item.value, dict) and key in item.value:
        return int(item.value[key].line)
    return int(item.line)


def _cross_check(c: _Checker, plan: Dialplan, top: dict[str, _Node]) -> None:
    skill_ids = [s.id for s in plan.skills]
    numbers = [n.number for n in plan.numbers]
    trunk_names = [t.name for t in plan.trunks]

    def unknown_skill(skill: str, line: int, who: str) -> None:
        near = difflib.get_close_matches(skill, skill_ids, n=1)
        c.err(line, f"{who} uses skill '{skill}' which is not defined",
              f"use '{near[0]}'" if near else f"use one of {', '.join(skill_ids)} or add it under skills:")

    _duplicates(c, [s.id for s in plan.skills], lambda i: _line_of(top, "skills", i), "skill")
    _duplicates(c, numbers, lambda i: _line_of(top, "numbers", i), "number")
    _duplicates(c, [a.id for a in plan.agents], lambda i: _line_of(top, "agents", i), "agent")
    for i, sup in enumerate(plan.supervisors):
        if sup.id in {a.id for a in plan.agents}:
            c.err(_line_of(top, "supervisors", i), f"supervisor phone {sup.id} is also an agent's",
                  "give the supervisor a number of their own, e.g. 9001")
    _duplicates(c, trunk_names, lambda i: _line_of(top, "trunks", i), "trunk")
    if plan.centre.main_number not in numbers:
        c.err(top["centre"].line, f"main number {plan.centre.main_number} is not listed under numbers",
              f"add - {{number: \"{plan.centre.main_number}\", mode: main, skill: general}}")
    for i, n in enumerate(plan.numbers):
        if n.mode != "whole_merge" and n.skill not in skill_ids:
            unknown_skill(n.skill, _line_of(top, "numbers", i, "skill"), f"number {n.number}")
        if n.overflow and n.overflow not in numbers:
            c.err(_line_of(top, "numbers", i, "overflow"), f"number {n.number} overflows to {n.overflow}, "
                  "which is not listed", "overflow to a listed number, usually the main number")
        if n.trunk and n.trunk not in trunk_names:
            c.err(_line_of(top, "numbers", i, "trunk"), f"number {n.number} names trunk '{n.trunk}' which is "
                  "not defined", f"use one of {', '.join(trunk_names)}")
    for i, n in enumerate(plan.numbers):
        if n.menu is None:
            continue
        if n.menu.prompt not in plan.prompts:
            c.err(_line_of(top, "numbers", i, "menu"), f"number {n.number} menu prompt '{n.menu.prompt}' is "
                  "not under prompts:", f"add {n.menu.prompt}: <the Chinese text> under prompts:")
        for _, skill in n.menu.options:
            if skill not in skill_ids:
                unknown_skill(skill, _line_of(top, "numbers", i, "menu"), f"number {n.number} menu")
    for i, skill_def in enumerate(plan.skills):
        for w in skill_def.widen:
            if w.to not in skill_ids:
                unknown_skill(w.to, _line_of(top, "skills", i, "widen"), f"skill {skill_def.id} widening")
    for i, a in enumerate(plan.agents):
        for skill, _ in a.skills:
            if skill not in skill_ids:
                unknown_skill(skill, _line_of(top, "agents", i, "skills"), f"agent {a.id}")
    if "revisit" in top and plan.revisit.skill not in skill_ids:
        unknown_skill(plan.revisit.skill, top["revisit"].line, "revisit (pressing 0 for a person)")
    for key in REQUIRED_PROMPTS:
        if key not in plan.prompts and "prompts" in top:
            c.err(top["prompts"].line, f"prompt '{key}' is missing", f"add {key}: <the Chinese text> under prompts:")


def _duplicates(c: _Checker, values: list[str], line: Callable[[int], int], what: str) -> None:
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            c.err(line(i), f"{what} '{value}' is defined twice (first on line {line(seen[value])})",
                  f"remove one of the two {what} entries")
        else:
            seen[value] = i
