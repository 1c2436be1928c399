"""The dialplan file edited in the engineer page: checked as typed, compared with what runs, applied with rollback.

Applying renders the text's configs into the running Asterisk's folder and reloads it (`dialplans.apply`); only
when Asterisk took them is the file replaced (atomically) and the version kept in the history. A refused reload
leaves the file and the configs as they ran. Listeners of `on_applied` follow a new plan (the IVR renders its
changed prompts, so a new greeting is heard on the next call).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dialplans.apply import (
    ApplyRefused,
    ApplyRolledBack,
    Target,
    apply_everywhere,
    config_diffs,
    unified,
)
from dialplans.history import DialplanHistory, sha256_of, write_atomically
from dialplans.loader import DialplanInvalid, load_dialplan_text
from dialplans.model import Dialplan
from dialplans.secrets import load_or_create_secrets, load_phone_secrets
from hotline.core.clock import china_now

log = logging.getLogger(__name__)

NEW_SECRET = "(generated when applied)"
_SECRET_LINE = re.compile(r"^([+\- ]?\s*(?:password|secret)\s*=\s*).*$", re.MULTILINE)
_AGI_KEY = re.compile(r"(hotline_key=)[^&)\s]+")

Listener = Callable[[Dialplan], Awaitable[None]]
LIVE_SECTIONS = frozenset({"prompts"})  # followed when applied (re-rendered); the others the service reads at start
_TOP_KEY = re.compile(r"^([A-Za-z_]+)\s*:", re.MULTILINE)


def masked(diff: str) -> str:
    """A diff without the passwords and the AGI key the configs hold."""
    return _AGI_KEY.sub(r"\1******", _SECRET_LINE.sub(r"\1******", diff))


@dataclass(frozen=True)
class Problem:
    """One problem of the text, where it is (line 0: the file as a whole, or a rendered config)."""

    line: int
    column: int | None
    level: str  # "error" | "warning"
    message: str
    fix: str

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def problems_of(text: str, name: str) -> tuple[Dialplan | None, list[Problem]]:
    """The plan of the text, or None with every problem `hotline dialplan check` finds."""
    try:
        return load_dialplan_text(text, name), []
    except DialplanInvalid as exc:
        return None, [Problem(e.line, e.column or None, "error", e.message, e.fix) for e in exc.errors]


@functools.lru_cache(maxsize=4)  # the file the service started with is compared with every keystroke's text
def _sections(text: str) -> dict[str, Any]:
    loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded if isinstance(loaded, dict) else {}


def read_at_start(started: str, text: str) -> list[str]:
    """The top-level sections that differ from the file the service started with and that it reads only then."""
    old, new = _sections(started), _sections(text)
    return [k for k in [*old, *(k for k in new if k not in old)] if k not in LIVE_SECTIONS and old.get(k) != new.get(k)]


def restart_warnings(started: str, text: str) -> list[Problem]:
    """A warning at each section `read_at_start`: Asterisk's configs follow when applied, the hotline's own rules
    at its next start (and `agents:` not at all: the agent directory has them)."""
    lines = {m.group(1): text.count("\n", 0, m.start()) + 1 for m in _TOP_KEY.finditer(text)}
    out = []
    for key in read_at_start(started, text):
        if key == "agents":
            out.append(Problem(lines.get(key, 0), None, "warning", "'agents' only seeds the agent directory at the "
                               "first start: changing it here changes no agent", "add or change agents in 坐席管理 "
                               "(/agents/) or with `hotline agents import`"))
        else:
            out.append(Problem(lines.get(key, 0), None, "warning", f"'{key}' is read by the service when it starts: "
                               "applying changes Asterisk's configs now, the hotline's own routing and rules follow "
                               "at its next start", "apply, then restart the service at a quiet hour"))
    return sorted(out, key=lambda p: p.line)


class TextInvalid(Exception):
    """The text has problems; nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class FileChanged(Exception):
    """The file changed since the engineer started from it."""


class NoAsterisk(Exception):
    """No running Asterisk to compare with or apply to (yet)."""


@dataclass
class DialplanEditor:
    """The file at `path`, its history, and (once Asterisk is up) the configs it is applied to."""

    path: Path
    history: DialplanHistory
    secrets_file: Path
    target: Target | None = None  # the hotline's Asterisk, or the first media node (its diff is the one shown)
    others: tuple[Target, ...] = ()  # the other media nodes: applied to after the first, rolled back with it
    on_applied: list[Listener] = field(default_factory=list)
    started_text: str | None = None  # the file as the service read it when it started
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    def started(self, target: Target, *others: Target, by: str = "hotline run") -> None:
        """Asterisk runs the file as it is now (rendered at start): the one, or each media node."""
        self.target, self.others = target, others
        self.started_text = text = self.text()
        running = self.history.running()
        if running is None or running.sha256 != sha256_of(text):
            self.history.set_running(text, by, china_now(), "running at start")

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def current(self) -> dict[str, Any]:
        text = self.text()
        running = self.history.running()
        return {"path": str(self.path), "text": text, "sha256": sha256_of(text),
                "running_sha256": running.sha256 if running else None,
                "applied_at": running.applied_at if running else None,
                "applied_by": running.applied_by if running else None}

    def check(self, text: str) -> list[Problem]:
        """Errors of the text, or (when it has none) warnings about what takes effect only at the next start."""
        plan, problems = problems_of(text, self.name)
        if plan is None or self.started_text is None:
            return problems
        return restart_warnings(self.started_text, text)

    def _plan(self, text: str) -> Dialplan:
        plan, problems = problems_of(text, self.name)
        if plan is None:
            raise TextInvalid(problems)
        return plan

    def _target(self) -> Target:
        if self.target is None:
            raise NoAsterisk("the hotline's Asterisk is not running yet")
        return self.target

    def diff(self, text: str) -> list[tuple[str, str]]:
        """(name, unified diff) of the file against the running version, then of each config it renders (on the
        first media node: the others' differ only in their own addresses)."""
        plan, target = self._plan(text), self._target()
        secrets = load_phone_secrets(self.secrets_file)
        phones = [a.id for a in plan.agents] + [s.id for s in plan.supervisors]
        ctx = dataclasses.replace(target.ctx, agent_secrets={p: secrets.get(p, NEW_SECRET) for p in phones})
        running = self.history.running()
        old = (self.history.text_of(running.sha256) if running else None) or ""
        out = [(self.name, unified(old, text, self.name))] if old != text else []
        configs = dataclasses.replace(target, ctx=ctx).configs(plan)
        return out + [(n, masked(d)) for n, d in config_diffs(target.etc_dir, configs)]

    async def apply(self, text: str, started_from: str, by: str) -> dict[str, Any]:
        """Apply the text the engineer edited from the version `started_from` (its sha256)."""
        async with self._lock:
            before = self.text()
            if sha256_of(before) != started_from:
                raise FileChanged("the dialplan file changed since you opened it: reload it, then make your change "
                                  "again")
            plan, target = self._plan(text), self._target()
            secrets = load_or_create_secrets(self.secrets_file, plan)
            targets = [dataclasses.replace(t, ctx=dataclasses.replace(t.ctx, agent_secrets=secrets.agent_secrets))
                       for t in (target, *self.others)]
            running_before = self.history.running()
            try:
                result = await apply_everywhere(plan, targets)
            except ApplyRefused as exc:
                raise TextInvalid([Problem(0, None, "error", e, "correct the file so its configs parse")
                                   for e in exc.errors]) from None
            except ApplyRolledBack as exc:
                return {"applied": False, "rolled_back": True, "error": str(exc),
                        "sha256": running_before.sha256 if running_before else sha256_of(before),
                        **({"node": exc.node} if exc.node else {})}
            now = china_now()
            self.history.keep(before, "(the file before)", now, "before the first apply")
            write_atomically(self.path, text)
            running = self.history.set_running(text, by, now, "applied")
            prompts = sorted(k for k, v in plan.prompts.items() if _prompts_before(before).get(k) != v)
            failed = await self._tell(plan)
            later = read_at_start(self.started_text, text) if self.started_text is not None else []
        return {"applied": True, "at_next_start": later, "sha256": running.sha256, "previous_sha256": started_from,
                "diff": masked(result.diff), "changed": result.changed, "prompts": prompts,
                "applied_at": running.applied_at, "applied_by": by,
                **({"nodes": list(result.nodes)} if result.nodes else {}),
                **({"listener_errors": failed} if failed else {})}

    async def _tell(self, plan: Dialplan) -> list[str]:
        """Every listener follows the new plan; one that fails is logged and named, the others still run."""
        failed = []
        for listener in self.on_applied:
            try:
                await listener(plan)
            except Exception as exc:
                log.exception("after the dialplan was applied: %s failed", listener)
                failed.append(f"{getattr(listener, '__qualname__', listener)}: {exc}")
        return failed


def _prompts_before(text: str) -> dict[str, str]:
    plan, _ = problems_of(text, "before")
    return dict(plan.prompts) if plan is not None else {}
