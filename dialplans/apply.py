"""Apply an edited dialplan to a running Asterisk: check, render, diff, reload, roll back on failure.

The phones' files (dialplans.phones) are left alone: the running service renders them from the agent directory."""

from __future__ import annotations

import difflib
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dialplans.confcheck import check_rendered
from dialplans.loader import DialplanError, load_dialplan
from dialplans.model import Dialplan
from dialplans.phones import PHONE_FILES
from dialplans.render import RenderContext, render

log = logging.getLogger(__name__)

RELOAD_MODULES = ("res_pjsip.so", "pbx_config.so", "manager", "res_musiconhold.so", "app_confbridge.so")


class Reloader(Protocol):
    """Reloads Asterisk modules; raises on failure."""

    async def reload(self, modules: list[str]) -> None: ...


class ApplyRefused(Exception):
    """The new dialplan was refused before anything changed."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


class ApplyRolledBack(Exception):
    """A reload failed; the previous configs were restored and reloaded (on every node already changed too)."""

    def __init__(self, message: str, node: str = "") -> None:
        super().__init__(message)
        self.node = node  # the media node that refused ("" for the one hotline Asterisk)


@dataclass(frozen=True)
class ApplyResult:
    changed: list[str]
    diff: str  # the first node's (the nodes' configs differ only in their own addresses)
    nodes: tuple[str, ...] = ()  # the media nodes reloaded, in order


@dataclass(frozen=True)
class Target:
    """A running hotline Asterisk the file is applied to: the one, or one media node (`node`, which renders the
    plan `on_node(node)` with its own context)."""

    etc_dir: Path
    ctx: RenderContext
    reloader: Reloader
    node: str = ""

    def configs(self, plan: Dialplan) -> dict[str, str]:
        return rendered_configs(plan.on_node(self.node) if self.node else plan, self.ctx)


@dataclass(frozen=True)
class _Written:
    """New configs written into one Asterisk's folder, the ones they replaced kept in `.previous`."""

    target: Target
    changed: list[str]
    diff: str

    def restore(self) -> None:
        etc, backup = self.target.etc_dir, self.target.etc_dir / ".previous"
        for name in self.changed:
            if (backup / name).exists():
                shutil.copy2(backup / name, etc / name)
            else:
                (etc / name).unlink(missing_ok=True)


async def apply_dialplan(path: Path, etc_dir: Path, ctx: RenderContext, reloader: Reloader) -> ApplyResult:
    """Refuse a broken file untouched; otherwise write, reload, and restore the old files if the reload fails."""
    from dialplans.loader import DialplanInvalid

    try:
        plan = load_dialplan(path)
    except DialplanInvalid as exc:
        raise ApplyRefused([str(e) for e in exc.errors]) from None
    return await apply_plan(plan, etc_dir, ctx, reloader)


def rendered_configs(plan: Dialplan, ctx: RenderContext) -> dict[str, str]:
    """The configs an edit of the file changes: the phones' files belong to the agent directory."""
    return {name: text for name, text in render(plan, ctx).items() if name not in PHONE_FILES}


async def apply_plan(plan: Dialplan, etc_dir: Path, ctx: RenderContext, reloader: Reloader) -> ApplyResult:
    """`apply_dialplan` of a checked plan."""
    return await apply_everywhere(plan, [Target(etc_dir, ctx, reloader)])


async def apply_everywhere(plan: Dialplan, targets: Sequence[Target]) -> ApplyResult:
    """Apply a checked plan to each target in turn (every media node): all take it, or none keeps it. Every
    node's configs are checked before any is written; when node k refuses its reload, k and the nodes changed
    before it get their previous configs back and reload them, so the nodes never run two different plans."""
    # the phones' files belong to the agent directory of the running service: an edit of the file does not touch them
    files = [(target, target.configs(plan)) for target in targets]
    problems = list(dict.fromkeys(p for _, f in files for p in check_rendered(f)))
    if problems:
        raise ApplyRefused(problems)
    done: list[_Written] = []
    for target, configs in files:
        written = _write(target, configs)
        if not written.changed:
            continue
        done.append(written)
        try:
            await target.reloader.reload(list(RELOAD_MODULES))
        except Exception as exc:
            where = f"node {target.node}: " if target.node else ""
            log.error("%sreload failed (%s); restoring the previous configs%s", where, exc,
                      " on every node changed" if len(done) > 1 else "")
            failed = await _roll_back(done)
            again = f"; node(s) {', '.join(failed)} could not reload the previous configs" if failed else ""
            raise ApplyRolledBack(f"{where}reload failed ({exc}); the previous configuration is back in force"
                                  f"{' on every node' if target.node else ''}{again}", target.node) from exc
    if not done:
        return ApplyResult([], "")
    changed = list(dict.fromkeys(name for w in done for name in w.changed))
    return ApplyResult(changed, done[0].diff, tuple(w.target.node for w in done if w.target.node))


def _write(target: Target, files: dict[str, str]) -> _Written:
    """The configs that differ written into the target's folder (atomically each), the old ones kept aside."""
    etc_dir = target.etc_dir
    diff, changed = _diff(etc_dir, files)
    if not changed:
        return _Written(target, [], "")
    backup = etc_dir / ".previous"
    shutil.rmtree(backup, ignore_errors=True)
    backup.mkdir()
    for name in changed:
        if (etc_dir / name).exists():
            shutil.copy2(etc_dir / name, backup / name)
    for name in changed:
        tmp = etc_dir / f".{name}.new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # configs may hold secrets
        with os.fdopen(fd, "w") as f:
            f.write(files[name])
        tmp.replace(etc_dir / name)
    return _Written(target, changed, diff)


async def _roll_back(done: list[_Written]) -> list[str]:
    """Each changed target's previous configs back and reloaded, the last changed first; the nodes whose reload
    of them failed too."""
    failed = []
    for written in reversed(done):
        written.restore()
        try:
            await written.target.reloader.reload(list(RELOAD_MODULES))
        except Exception:
            log.exception("rolling back node %s: its reload failed", written.target.node or "hotline")
            failed.append(written.target.node or "hotline")
    return failed


def config_diffs(etc_dir: Path, files: dict[str, str]) -> list[tuple[str, str]]:
    """(name, unified diff) of each config that differs from the running one in `etc_dir`."""
    out: list[tuple[str, str]] = []
    for name, text in sorted(files.items()):
        old_path = etc_dir / name
        old = old_path.read_text() if old_path.exists() else ""
        if old != text:
            out.append((name, unified(old, text, name)))
    return out


def unified(old: str, new: str, name: str) -> str:
    """The unified diff of one file, running → new."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"running/{name}", f"new/{name}"))


def _diff(etc_dir: Path, files: dict[str, str]) -> tuple[str, list[str]]:
    diffs = config_diffs(etc_dir, files)
    return "".join(d for _, d in diffs), [name for name, _ in diffs]


__all__ = [
    "ApplyRefused",
    "ApplyResult",
    "ApplyRolledBack",
    "DialplanError",
    "Reloader",
    "Target",
    "apply_dialplan",
    "apply_everywhere",
    "apply_plan",
    "config_diffs",
    "rendered_configs",
    "unified",
]
