"""The `hotline` command: run the stack, place test calls, and the parts' own sub-commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from hotline.app.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 government-service hotline (voice side)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole stack in the foreground (Ctrl-C stops it)")
    run.add_argument("--no-world", action="store_true", help="without the simulated outside world")
    run.set_defaults(func=_cmd_run)


    from hotline.app.db_commands import register as register_db
    from hotline.app.medianode import register as register_media_node
    from hotline.app.plugins import PLUGINS
    from hotline.app.user_commands import register as register_users

    register_db(sub)
    register_users(sub)
    register_media_node(sub)
    for plugin in PLUGINS:
        for register in plugin.commands:
            register(sub)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    result = args.func(args)
    return int(result or 0)


def _cmd_run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.no_world:
        from dataclasses import replace

        settings = replace(settings, core=replace(settings.core, with_world=False))
    return asyncio.run(_run(settings))


async def _run(settings: Settings) -> int:
    from hotline.app.stack import Stack

    stack = Stack(settings)
    log = logging.getLogger("hotline")
    stop = asyncio.Event()  # (a SIGTERM while starting stops it as gracefully, once up)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("starting the hotline stack in %s", settings.core.home)
    await stack.start()
    token_note = await _ensure_admin_token(stack, settings.core.home / "admin-token")
    first_note = await _first_admin(stack, settings.core.home / "first-admin-password")
    ports, host = settings.core.ports, settings.core.bind_host
    print(
        f"""
12345 hotline is up.
  SIP      sip:12345@{host}:{ports.hotline_sip}   (from 127.0.0.1: the demo trunk's `match`)
  Web      http://{host}:{ports.http}/api/health   /metrics   /api/openapi.json
  Admin    {token_note}
  Users    {first_note}
  Try      .venv/bin/hotline call 12345 --from 13800138000 --dtmf 1
Ctrl-C stops everything.""",
        flush=True,
    )
    await stop.wait()
    log.info("stopping")
    await stack.close()
    return 0


async def _first_admin(stack: object, path: Path) -> str:
    """With no users yet: `admin` with a generated password in a 0600 file (changed at first sign-in)."""
    from hotline.app.stack import Stack
    from hotline.core.accounts.first import ensure_first_admin

    assert isinstance(stack, Stack) and stack.users is not None
    if await ensure_first_admin(stack.users, path) or path.exists():
        return f"first sign-in: user admin, password in {path}"
    return "people sign in with their accounts (hotline user create … makes more)"


async def _ensure_admin_token(stack: object, path: Path) -> str:
    """On the first run, create an admin API token and keep it in a 0600 file; a new one when the kept one has
    expired or was revoked."""
    from hotline.app.stack import Stack

    assert isinstance(stack, Stack) and stack.tokens is not None
    if path.exists():
        if await stack.tokens.verify(path.read_text().strip()) is not None:
            return f"API token in {path}"
        path.unlink()  # expired or revoked: replaced below
    token = await stack.tokens.create(name="admin", role="admin")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return f"API token created and saved in {path} (Authorization: Bearer $(cat {path}))"




if __name__ == "__main__":
    raise SystemExit(main())
