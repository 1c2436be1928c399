"""`hotline user create | disable | enable | reset-password | list`: people's accounts from the command line
(audited as the system user who ran it)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from hotline.core.accounts.users import NewUser, Users, UserView
from hotline.core.errors import DomainError
from hotline.core.settings import CoreSettings
from hotline.core.web.tokens import ROLES, Actor


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="people's accounts (sign-in to the pages)")
    usub = user.add_subparsers(dest="user_command", required=True)
    create = usub.add_parser("create", help="create a user; prints a generated one-time password once")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--agent", help="agent id (role agent: required)")
    create.add_argument("--team", help="the agent's team, the team a supervisor looks after, or an editor's "
                        "department (e.g. 市人社局)")
    create.add_argument("--name", default="", help="display name (e.g. 王芳)")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from stdin instead (not to be changed at first sign-in)")
    create.set_defaults(func=lambda a: _run(_create(a)))
    for name, what in (("disable", "disable a user (their sessions end)"), ("enable", "enable a user again"),
                       ("reset-password", "a new one-time password (printed once; their sessions end)")):
        one = usub.add_parser(name, help=what)
        one.add_argument("username")
        one.set_defaults(func=lambda a, name=name: _run(_change(name, a.username)))
    usub.add_parser("list", help="list users").set_defaults(func=lambda a: _run(_list()))


def _run(job: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(job)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 1


@asynccontextmanager
async def _users() -> AsyncIterator[Users]:
    from hotline.app.plugins import upgrade_database
    from hotline.core.db.engine import create_engine, session_factory

    settings = CoreSettings()
    settings.home.mkdir(parents=True, exist_ok=True)
    await upgrade_database(settings.db_url)
    engine = create_engine(settings.db_url)
    try:
        yield Users(session_factory(engine))
    finally:
        await engine.dispose()


def _actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}", "admin")


async def _create(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    async with _users() as users:
        user, one_time = await users.create(NewUser(args.username, args.role, args.name, args.agent, args.team,
                                                    password), by=_actor())
    print(f"user {user.username} created (id {user.id}, {user.role})", file=sys.stderr)
    if one_time is not None:
        print("one-time password (shown once; to be changed at first sign-in):", file=sys.stderr)
        print(one_time)
    return 0


async def _change(command: str, username: str) -> int:
    async with _users() as users:
        user = await users.named(username)
        if user is None:
            print(f"no user {username}", file=sys.stderr)
            return 1
        act: dict[str, Callable[[], Awaitable[object]]] = {
            "disable": lambda: users.disable(user.id, by=_actor()),
            "enable": lambda: users.enable(user.id, by=_actor()),
            "reset-password": lambda: users.reset_password(user.id, by=_actor())}
        done = await act[command]()
    if isinstance(done, tuple):
        print(f"user {user.username}: one-time password (shown once; to be changed at next sign-in):",
              file=sys.stderr)
        print(done[1])
    else:
        print(f"user {user.username}: {command}d", file=sys.stderr)
    return 0


async def _list() -> int:
    async with _users() as users:
        listed: list[UserView] = await users.list()
    print(json.dumps([u.to_json() for u in listed], indent=2, ensure_ascii=False))
    return 0
