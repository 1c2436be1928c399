"""Each section of the dialplan file, checked and built into the model (`build`); checks across sections are
in `dialplans.crosscheck`."""

from __future__ import annotations

import ipaddress
import re
from datetime import time

from dialplans.checker import Checker, Node
from dialplans.clustersection import cluster_section
from dialplans.model import (
    CALL_SOURCES,
    DIAL_CLASSES,
    DIAL_PURPOSES,
    FAILSAFES,
    GREETINGS,
    MODES,
    PHONES,
    PRIORITY_LABELS,
    RATING_LABELS,
    SEATS,
    Agent,
    Centre,
    Cluster,
    DialOut,
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
_PREFIX = re.compile(r"^\+?\d{2,20}$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_ROUTE = re.compile(r"^[a-z][a-z0-9_/-]*$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
TOP_KEYS = ("centre", "trunks", "skills", "numbers", "agents", "holidays", "prompts", "recording", "rating",
            "priorities", "queue", "supervisors", "workdays", "units", "revisit",
            "dial_out", "cluster")
REQUIRED_KEYS = ("centre", "trunks", "skills", "numbers", "prompts")


def build(c: Checker, top: dict[str, Node]) -> Dialplan:
    """The dialplan from the file's top-level sections; what is wrong is in `c.errors`."""
    centre = _centre(c, top)
    trunks = tuple(c.each(top.get("trunks"), "trunks", _trunk))
    skills = tuple(c.each(top.get("skills"), "skills", _skill))
    numbers = tuple(c.each(top.get("numbers"), "numbers", _number))
    agents = tuple(c.each(top.get("agents"), "agents", _agent))
    holidays = tuple(c.each(top.get("holidays"), "holidays", _holiday))
    prompts = _prompts(c, top["prompts"]) if "prompts" in top else {}
    recording = _recording(c, top["recording"]) if "recording" in top else Recording()
    return Dialplan(centre, trunks, skills, numbers, agents, holidays, prompts, recording,
                    _rating(c, top["rating"]) if "rating" in top else RatingSettings(),
                    _priorities(c, top["priorities"]) if "priorities" in top else Priorities(),
                    _queue(c, top["queue"]) if "queue" in top else QueueSettings(),
                    tuple(c.each(top.get("supervisors"), "supervisors", _supervisor)),
                    tuple(c.day(node, "workdays") for node in c.seq(top.get("workdays"), "workdays")),
                    tuple(c.each(top.get("units"), "units", _unit)),
                    _revisit(c, top["revisit"]) if "revisit" in top else RevisitSettings(),
                    _dial_out(c, top["dial_out"]) if "dial_out" in top else DialOut(),
                    cluster_section(c, top["cluster"]) if "cluster" in top else Cluster())


_DIAL_PATTERN = re.compile(r"[0-9\[\]{}(),|?-]+")


def _dial_out(c: Checker, node: Node) -> DialOut:
    m = c.mapping(node, "dial_out", ("allow", "per_hour"), ())
    base = DialOut()
    allow = dict(base.allow)
    raw = c.mapping(m["allow"], "dial_out.allow", DIAL_PURPOSES, ()) if "allow" in m else {}
    for purpose, entries in raw.items():
        if purpose in DIAL_PURPOSES:
            allow[purpose] = tuple(_dial_entry(c, item, f"dial_out.allow.{purpose}")
                                   for item in c.seq(entries, f"dial_out.allow.{purpose}"))
    limits = dict(base.per_hour)
    raw = c.mapping(m["per_hour"], "dial_out.per_hour", ("agent", *DIAL_PURPOSES), ()) if "per_hour" in m else {}
    for key, value in raw.items():
        limits[key] = c.count(value, f"dial_out.per_hour.{key}", limits.get(key, 0))
        if limits[key] < 1:
            c.err(value.line, f"dial_out.per_hour.{key} must be 1 or more", "write the calls allowed in an hour")
    return DialOut(tuple(allow.items()), limits)


def _dial_entry(c: Checker, node: Node, where: str) -> str:
    """A class of numbers, or a pattern of digits matched against the whole number."""
    entry = c.text(node, where)
    if entry in DIAL_CLASSES or not entry:
        return entry
    if not _DIAL_PATTERN.fullmatch(entry):
        c.err(node.line, f"{where} '{entry}' is neither a class nor a pattern of digits",
              f"use one of {', '.join(DIAL_CLASSES)}, or digits and [0-9]{{n}} as in \"9555[0-9]\"")
        return "(?!)"
    try:
        re.compile(entry)
    except re.error as exc:
        c.err(node.line, f"{where} pattern '{entry}' does not compile: {exc}", "check brackets and braces")
        return "(?!)"
    return entry


def _centre(c: Checker, top: dict[str, Node]) -> Centre:
    m = c.mapping(top["centre"], "centre", ("name", "main_number", "display_number"),
                  ("name", "main_number")) if "centre" in top else {}
    main = c.text(m.get("main_number"), "centre.main_number", "12345", _NUMBER, "digits only, e.g. '12345'")
    return Centre(c.text(m.get("name"), "centre.name", "12345"), main,
                  c.text(m.get("display_number"), "centre.display_number", main, _NUMBER))


def _prompts(c: Checker, node: Node) -> dict[str, str]:
    entries = node.value
    if not isinstance(entries, dict):
        c.err(node.line, "prompts must map a key to a text", "write prompts as 'key: 中文文本' lines")
        return {}
    prompts: dict[str, str] = {}
    for key, value in entries.items():
        if not _IDENT.fullmatch(key):
            c.err(value.line, f"prompt key '{key}' is not valid", "use lower-case letters, digits and _")
        prompts[key] = c.text(value, f"prompts.{key}")
    return prompts


def _recording(c: Checker, node: Node) -> Recording:
    m = c.mapping(node, "recording", ("enabled", "format"), ())
    return Recording(c.flag(m.get("enabled"), "recording.enabled", True),
                     c.choice(m.get("format"), "recording.format", ("wav",), "wav"))


def _revisit(c: Checker, node: Node) -> RevisitSettings:
    keys = ("hours", "on_holidays", "max_attempts", "retry_after_s", "quiet_s", "calls_per_second",
            "max_concurrent", "yield_waiting", "skill", "ring_timeout_s", "from_calls", "sample_rate",
            "yield_below_sl", "yield_sl_window_s", "yield_sl_min_offered", "tickets_sample_rate")
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
        hours, c.flag(m.get("on_holidays"), "revisit.on_holidays", base.on_holidays),
        max(1, c.count(m.get("max_attempts"), "revisit.max_attempts", base.max_attempts)),
        c.count(m.get("retry_after_s"), "revisit.retry_after_s", base.retry_after_s),
        c.count(m.get("quiet_s"), "revisit.quiet_s", base.quiet_s),
        float(rate.value) if rate is not None and isinstance(rate.value, int | float) and rate.value > 0
        else base.calls_per_second,
        max(1, c.count(m.get("max_concurrent"), "revisit.max_concurrent", base.max_concurrent)),
        max(1, c.count(m.get("yield_waiting"), "revisit.yield_waiting", base.yield_waiting)),
        c.text(m.get("skill"), "revisit.skill", base.skill),
        max(5, c.count(m.get("ring_timeout_s"), "revisit.ring_timeout_s", base.ring_timeout_s)),
        tuple(c.choice(item, "revisit.from_calls", CALL_SOURCES, "unrated") for item in c.seq(m["from_calls"],
              "revisit.from_calls")) if "from_calls" in m else base.from_calls,
        c.share(m.get("sample_rate"), "revisit.sample_rate", base.sample_rate),
        _service_level(c, m, base.service_level),
        tickets_sample_rate=c.share(m.get("tickets_sample_rate"), "revisit.tickets_sample_rate",
                                    base.tickets_sample_rate))


def _service_level(c: Checker, m: dict[str, Node], base: ServiceLevelYield) -> ServiceLevelYield:
    return ServiceLevelYield(
        c.share(m.get("yield_below_sl"), "revisit.yield_below_sl", base.below),
        max(60, c.count(m.get("yield_sl_window_s"), "revisit.yield_sl_window_s", base.window_s)),
        max(1, c.count(m.get("yield_sl_min_offered"), "revisit.yield_sl_min_offered", base.min_offered)))


def _unit(c: Checker, node: Node, where: str) -> Unit:
    m = c.mapping(node, where, ("name", "duty_number"), ("name", "duty_number"))
    return Unit(c.text(m.get("name"), f"{where}.name"),
                c.text(m.get("duty_number"), f"{where}.duty_number", "", _NUMBER, "digits only, e.g. '01062345678'"))


def _supervisor(c: Checker, node: Node, where: str) -> Supervisor:
    m = c.mapping(node, where, ("id", "name", "phone"), ("id", "name"))
    phone = c.text(m.get("id"), f"{where}.id", "", re.compile(r"^\d{3,6}$"), "digits, e.g. \"9001\"")
    return Supervisor(phone, c.text(m.get("name"), f"supervisor {phone} name"),
                      c.choice(m.get("phone"), f"supervisor {phone} phone", PHONES, "sip"))  # type: ignore[arg-type]


def _queue(c: Checker, node: Node) -> QueueSettings:
    m = c.mapping(node, "queue", ("announce_every", "self_service", "message_over_s", "capacity"), ())
    return QueueSettings(c.count(m.get("announce_every"), "queue.announce_every", 30),
                         c.flag(m.get("self_service"), "queue.self_service", True),
                         c.count(m.get("message_over_s"), "queue.message_over_s", 600),
                         c.count(m.get("capacity"), "queue.capacity", 30))


def _priorities(c: Checker, node: Node) -> Priorities:
    m = c.mapping(node, "priorities", (*PRIORITY_LABELS, "emergency_callers", "emergency_flag_h"), ())
    levels = {key: c.count(m[key], f"priorities.{key}", 0) for key in PRIORITY_LABELS if key in m}
    callers = tuple(c.text(n, "priorities.emergency_callers", "", _PREFIX, "digits, e.g. \"0108765\"")
                    for n in c.seq(m.get("emergency_callers"), "priorities.emergency_callers"))
    hours = c.count(m.get("emergency_flag_h"), "priorities.emergency_flag_h", 24)
    if not 1 <= hours <= 720:
        c.err(m["emergency_flag_h"].line, "priorities.emergency_flag_h must be 1 to 720 hours",
              "an agent's emergency flag lasts this long (24 is a day)")
    return Priorities(**levels, emergency_callers=callers, emergency_flag_h=hours)


def _rating(c: Checker, node: Node) -> RatingSettings:
    m = c.mapping(node, "rating", ("enabled", "labels"), ())
    labels = tuple(c.text(n, f"rating.labels[{i}]") for i, n in enumerate(c.seq(m.get("labels"), "rating.labels")))
    if "labels" in m and len(labels) != 5:
        c.err(m["labels"].line, f"rating.labels has {len(labels)} labels", "give five labels, for keys 1 to 5")
    return RatingSettings(c.flag(m.get("enabled"), "rating.enabled", True), labels or RATING_LABELS)


def _trunk(c: Checker, node: Node, where: str) -> Trunk:
    m = c.mapping(node, where, ("name", "match", "codecs", "dtmf_mode", "allow_wide_match"), ("name", "match"))
    wide = c.flag(m.get("allow_wide_match"), f"{where}.allow_wide_match", False)
    match = tuple(_match(c, v, f"{where}.match", wide) for v in c.seq(m.get("match"), f"{where}.match"))
    codecs = tuple(c.choice(v, f"{where}.codecs", ("alaw", "ulaw", "g722", "opus", "gsm"), "alaw")
                   for v in c.seq(m.get("codecs"), f"{where}.codecs")) or ("alaw", "ulaw")
    return Trunk(c.text(m.get("name"), f"{where}.name", "", _IDENT), match, codecs,
                 c.choice(m.get("dtmf_mode"), f"{where}.dtmf_mode", ("rfc4733", "inband", "info", "auto"), "rfc4733"),
                 wide)


def _match(c: Checker, node: Node, where: str, wide: bool) -> str:
    """One address or network calls are taken from without authentication: the carrier's, not a catch-all."""
    text = c.text(node, where)
    if wide or not text:
        return text
    fix = ("list the carrier's own addresses (an IPv4 network of /16 or narrower, IPv6 /48 or narrower), "
           "or add allow_wide_match: true to the trunk if every address in it really is the carrier's")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        c.err(node.line, f"{where} '{text}' is not an IP address or network (a host name's addresses can change)",
              fix)
        return text
    if net.prefixlen < (16 if net.version == 4 else 48):
        c.err(node.line, f"{where} '{text}' takes calls without authentication from {net.num_addresses:,} "
              "addresses", fix)
    return text


def _skill(c: Checker, node: Node, where: str) -> Skill:
    m = c.mapping(node, where, ("id", "label", "seat", "min_level", "widen"), ("id", "label", "seat"))
    skill_id = c.text(m.get("id"), f"{where}.id", "", _IDENT, "lower-case letters, digits and _")
    widen = tuple(_widening(c, w, f"skill {skill_id} widen") for w in c.seq(m.get("widen"), f"skill {skill_id} widen"))
    return Skill(skill_id, c.text(m.get("label"), f"{where}.label"),
                 c.choice(m.get("seat"), f"{where}.seat", SEATS, "general"),  # type: ignore[arg-type]
                 _level(c, m.get("min_level"), f"skill {skill_id} min_level"), widen)


def _level(c: Checker, node: Node | None, where: str) -> int:
    level = c.count(node, where, 1)
    if not 1 <= level <= 5:
        assert node is not None
        c.err(node.line, f"{where} is {level}", "skill levels go from 1 to 5")
        return 1
    return level


def _widening(c: Checker, node: Node, where: str) -> Widening:
    m = c.mapping(node, where, ("after", "to", "min_level"), ("after", "to"))
    return Widening(c.count(m.get("after"), f"{where} after", 0), c.text(m.get("to"), f"{where} to"),
                    _level(c, m.get("min_level"), f"{where} min_level"))


def _number(c: Checker, node: Node, where: str) -> Number:
    m = c.mapping(node, where, ("number", "mode", "skill", "department", "transition", "overflow", "failsafe",
                                "flow", "trunk", "full_at", "emergency_hint", "menu", "knowledge"),
                  ("number", "mode"))
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
                  c.count(m.get("full_at"), f"number {number} full_at", 10),
                  _emergency_hint(c, m.get("emergency_hint"), f"number {number} emergency_hint"),
                  _menu(c, m["menu"], f"number {number} menu") if "menu" in m else None,
                  c.flag(m.get("knowledge"), f"number {number} knowledge", False))


def _emergency_hint(c: Checker, node: Node | None, where: str) -> str:
    """R-ACC-5: `true` plays the prompt `emergency_hint`, a prompt key plays that prompt (the number's own
    text), `false` or nothing plays none."""
    if node is None or node.value is False:
        return ""
    if node.value is True:
        return "emergency_hint"
    return c.text(node, where, "", _IDENT, "true, false, or a key under prompts: such as emergency_hint_12345")


def _menu(c: Checker, node: Node, where: str) -> Menu:
    m = c.mapping(node, where, ("prompt", "options", "timeout", "emergency"), ("prompt", "options"))
    options: list[tuple[str, str]] = []
    raw = m.get("options")
    if raw is not None and not isinstance(raw.value, dict):
        c.err(raw.line, f"{where} options must map a key to a skill", 'write options: {"1": tax, "2": general}')
    elif raw is not None:
        for key, skill in raw.value.items():
            if str(key) not in "0123456789" or len(str(key)) != 1:
                c.err(skill.line, f"{where} option '{key}' is not a single key 0-9", "use one digit per option")
            options.append((str(key), c.text(skill, f"{where} option {key}")))
    timeout = c.count(m.get("timeout"), f"{where} timeout", 4)
    if not 1 <= timeout <= 10:
        c.err(node.line, f"{where} timeout must be 1 to 10 seconds", "callers should reach the queue quickly")
    emergency = tuple(c.text(n, f"{where} emergency") for n in c.seq(m.get("emergency"), f"{where} emergency"))
    for key in emergency:
        if key not in dict(options):
            c.err(m["emergency"].line, f"{where} emergency key '{key}' is not one of its options",
                  "list keys of options: the key picks a skill and marks the call an emergency")
    return Menu(c.text(m.get("prompt"), f"{where} prompt", "", _IDENT), tuple(options), timeout, emergency)


def _agent(c: Checker, node: Node, where: str) -> Agent:
    m = c.mapping(node, where, ("id", "name", "seat", "skills", "group", "phone"), ("id", "name", "seat", "skills"))
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
                 tuple(skills), c.text(m.get("group"), f"agent {agent} group") if "group" in m else "",
                 c.choice(m.get("phone"), f"agent {agent} phone", PHONES, "sip"))  # type: ignore[arg-type]


def _holiday(c: Checker, node: Node, where: str) -> Holiday:
    m = c.mapping(node, where, ("name", "from", "until", "greeting"), ("name", "from", "until", "greeting"))
    start, until = c.day(m.get("from"), f"{where}.from"), c.day(m.get("until"), f"{where}.until")
    if start > until:
        c.err(node.line, f"holiday {where} ends before it starts", "swap 'from' and 'until'")
    return Holiday(c.text(m.get("name"), f"{where}.name"), Window(start, until),
                   c.choice(m.get("greeting"), f"{where}.greeting", GREETINGS, "none"))  # type: ignore[arg-type]
