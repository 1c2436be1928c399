"""Apply an edited dialplan to a running Asterisk: check, render, diff, reload, roll back on failure.

The phones' files (dialplans.phones) are left alone: the running service renders them from the agent directory."""

from __future__ import annotations

import difflib
import logging
import os
import shutil
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
    """The reload failed; the previous configs were restored and reloaded."""


@dataclass(frozen=True)
class ApplyResult:
    changed: list[str]
    diff: str


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
    # the phones' files belong to the agent directory of the running service: an edit of the file does not touch them
    files = rendered_configs(plan, ctx)
    problems = check_rendered(files)
    if problems:
        raise ApplyRefused(problems)
    diff, changed = _diff(etc_dir, files)
    if not changed:
        return ApplyResult([], "")
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
    try:
        await reloader.reload(list(RELOAD_MODULES))
    except Exception as exc:
        log.error("reload failed (%s); restoring the previous configs", exc)
        for name in changed:
            if (backup / name).exists():
                shutil.copy2(backup / name, etc_dir / name)
            else:
                (etc_dir / name).unlink(missing_ok=True)
        await reloader.reload(list(RELOAD_MODULES))
        raise ApplyRolledBack(f"reload failed ({exc}); the previous configuration is back in force") from exc
    return ApplyResult(changed, diff)


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


__all__ = ["ApplyRefused", "ApplyResult", "ApplyRolledBack", "DialplanError", "Reloader", "apply_dialplan",
           "apply_plan", "config_diffs", "rendered_configs", "unified"]
