"""`hotline db upgrade` and `hotline token create | list | revoke | rotate`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.settings import CoreSettings
from hotline.core.web.tokens import Actor, ApiTokens


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database")
    dsub = db.add_subparsers(dest="db_command", required=True)
    dsub.add_parser("upgrade", help="apply migrations").set_defaults(func=lambda a: asyncio.run(_upgrade()))
    token = sub.add_parser("token", help="API tokens")
    tsub = token.add_subparsers(dest="token_command", required=True)
    create = tsub.add_parser("create", help="create a token (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=["agent", "supervisor", "engineer", "auditor", "admin"])
    create.add_argument("--agent", help="agent id (role agent); a supervisor's own phone (listens in only from it)")
    create.add_argument("--group", help="the team a supervisor looks after (default: the whole centre)")
    create.add_argument("--days", type=float, help="lifetime in days (default HOTLINE_TOKEN_DAYS, 90)")
    create.add_argument("--machine", action="store_true",
                        help="a machine token: no expiry unless --days is given")
    create.set_defaults(func=lambda a: asyncio.run(_create(a)))
    tsub.add_parser("list", help="list tokens").set_defaults(func=lambda a: asyncio.run(_list()))
    revoke = tsub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=lambda a: asyncio.run(_revoke(a.id)))
    rotate = tsub.add_parser("rotate", help="issue a new token for the same principal and retire the old one")
    rotate.add_argument("id", type=int)
    rotate.add_argument("--grace", type=float, default=0.0,
                        help="seconds the old token still works (default: revoked at once)")
    rotate.set_defaults(func=lambda a: asyncio.run(_rotate(a.id, a.grace)))


async def _upgrade() -> int:
    from hotline.app.plugins import upgrade_database

    url = CoreSettings().db_url
    await upgrade_database(url)
    print(f"database at {url.split('://', 1)[0]} is up to date")
    return 0


async def _with_tokens() -> tuple[AsyncEngine, ApiTokens]:
    from hotline.app.plugins import upgrade_database
    from hotline.core.db.engine import create_engine, session_factory

    settings = CoreSettings()
    settings.home.mkdir(parents=True, exist_ok=True)
    await upgrade_database(settings.db_url)
    engine = create_engine(settings.db_url)
    return engine, ApiTokens(session_factory(engine))


async def _create(args: argparse.Namespace) -> int:
    engine, tokens = await _with_tokens()
    try:
        issued = await tokens.issue(name=args.name, role=args.role, agent_id=args.agent, group=args.group,
                                    lifetime=timedelta(days=args.days) if args.days else None,
                                    machine=args.machine, by=_cli_actor())
    finally:
        await engine.dispose()
    print(issued.token)
    return 0


async def _list() -> int:
    engine, tokens = await _with_tokens()
    try:
        print(json.dumps(await tokens.list(), indent=2))
    finally:
        await engine.dispose()
    return 0


async def _revoke(token_id: int) -> int:
    engine, tokens = await _with_tokens()
    try:
        ok = await tokens.revoke(token_id, by=_cli_actor())
    finally:
        await engine.dispose()
    print("revoked" if ok else "no such live token")
    return 0 if ok else 1


async def _rotate(token_id: int, grace_s: float) -> int:
    engine, tokens = await _with_tokens()
    try:
        issued = await tokens.rotate(token_id, grace=timedelta(seconds=grace_s), by=_cli_actor())
    finally:
        await engine.dispose()
    if issued is None:
        print("no such live token", file=sys.stderr)
        return 1
    print(json.dumps({"id": issued.id, "token": issued.token, "replaces": token_id}))
    return 0


def _cli_actor() -> Actor:
    """The audit rows of the command line name the system user who ran it."""
    return Actor(f"cli:{getpass.getuser()}", "admin")
