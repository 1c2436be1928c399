"""`hotline db upgrade` and `hotline token create | list | revoke`."""

from __future__ import annotations

import argparse
import asyncio
import json

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.settings import CoreSettings
from hotline.core.web.tokens import ApiTokens


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
    create.set_defaults(func=lambda a: asyncio.run(_create(a)))
    tsub.add_parser("list", help="list tokens").set_defaults(func=lambda a: asyncio.run(_list()))
    revoke = tsub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=lambda a: asyncio.run(_revoke(a.id)))


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
        token = await tokens.create(name=args.name, role=args.role, agent_id=args.agent, group=args.group)
    finally:
        await engine.dispose()
    print(token)
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
        ok = await tokens.revoke(token_id)
    finally:
        await engine.dispose()
    print("revoked" if ok else "no such live token")
    return 0 if ok else 1
