"""`hotline agents import [--dialplan FILE]` and `hotline agents list [--json]`: the directory from the shell.

The import adds the file's agents the directory does not have (the running service does the same at start);
a running service learns of it at its next start: to add agents to a running hotline, use the API."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.directory.secrets import PhoneSecrets
from acd.directory.service import AgentDirectory, Rules
from dialplans.loader import DialplanInvalid, load_dialplan
from dialplans.model import Dialplan
from dialplans.secrets import load_phone_secrets
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.settings import CoreSettings
from hotline.core.web.audit import AuditLog


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agents = sub.add_parser("agents", help="the agent directory")
    asub = agents.add_subparsers(dest="agents_command", required=True)
    imp = asub.add_parser("import", help="add the dialplan file's agents the directory does not have yet")
    imp.add_argument("--dialplan", type=Path, help="the dialplan file (default: HOTLINE_DIALPLAN_FILE's)")
    imp.set_defaults(func=lambda a: asyncio.run(_import(a.dialplan)))
    show = asub.add_parser("list", help="the directory's agents (never their phones' passwords)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=lambda a: asyncio.run(_list(a.json)))


def _directory(settings: CoreSettings, plan: Dialplan) -> tuple[AgentDirectory, AsyncEngine]:
    path = settings.home / "secrets.json"
    engine = create_engine(settings.db_url)
    return AgentDirectory(session_factory(engine), Rules.of(plan),
                          PhoneSecrets(path, load_phone_secrets(path))), engine


async def _import(plan_file: Path | None) -> int:
    settings = CoreSettings()
    try:
        plan = load_dialplan(plan_file or settings.dialplan_file)
    except DialplanInvalid as exc:
        print(exc, file=sys.stderr)
        return 1
    directory, engine = _directory(settings, plan)
    try:
        added = await directory.seed(plan.agents, by="cli")
        if added:
            await AuditLog(session_factory(engine)).record(
                actor="cli", role="admin", action="directory.agents.import", resource="directory/agents", allowed=True,
                remote=None, detail={"added": [a.id for a in added], "file": str(plan_file or settings.dialplan_file)})
    except DBAPIError as exc:
        print(f"the database is not ready ({exc.orig}): run `hotline db upgrade` first", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"added {len(added)} of the file's {len(plan.agents)} agents" +
          (f": {', '.join(a.id for a in added)}" if added else " (the others were there)"))
    if added and settings.state_file.exists():
        print("a running hotline takes them at its next start (the API adds agents to a running one at once)")
    return 0


async def _list(as_json: bool) -> int:
    settings = CoreSettings()
    directory, engine = _directory(settings, load_dialplan(settings.dialplan_file))
    try:
        agents = await directory.agents()
    except DBAPIError as exc:
        print(f"the database is not ready ({exc.orig}): run `hotline db upgrade` first", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    if as_json:
        print(json.dumps([a.to_json() for a in agents], ensure_ascii=False, indent=2))
        return 0
    for a in agents:
        skills = " ".join(f"{s}:{lvl}" for s, lvl in a.skills.items())
        print(f"{a.id:>8}  {a.name:<8}  {a.seat:<10}  {a.team or '-':<8}  {a.phone:<6}  "
              f"{'active' if a.active else 'inactive':<8}  {skills}")
    print(f"{len(agents)} agents, {sum(a.active for a in agents)} active")
    return 0
