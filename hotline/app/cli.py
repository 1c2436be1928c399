"""The `hotline` command: run the stack, place test calls, and the parts' own sub-commands."""

from __future__ import annotations

import argparse
import asyncio
import json
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

    call = sub.add_parser("call", help="place a test call from the simulated world into the running hotline")
    call.add_argument("number", help="number dialled, e.g. 12345")
    call.add_argument("--from", dest="caller", required=True, help="the citizen's number (caller ID)")
    call.add_argument("--dtmf", default="", help="keys to press a second into the greeting (barge-in)")
    call.add_argument("--listen", type=int, default=20, help="seconds to stay on the line after the keys")
    call.add_argument("--script", default=None,
                      help="what the citizen does, '/'-separated: noise, silence, wait:<s>, dtmf:<keys>, hangup "
                           "(e.g. 'noise/silence/dtmf:1/wait:20'); overrides --dtmf/--listen")
    call.add_argument("--json", action="store_true", help="print one JSON object")
    call.set_defaults(func=_cmd_call)

    from callback.commands import register as register_revisits
    from dialplans.commands import register as register_dialplan
    from hotline.app.db_commands import register as register_db
    from ivr.catalogue import register as register_prompts
    from recordings.verify import register as register_recordings

    register_dialplan(sub)
    register_db(sub)
    register_recordings(sub)
    register_revisits(sub)
    register_prompts(sub)

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

        settings = replace(settings, with_world=False)
    return asyncio.run(_run(settings))


async def _run(settings: Settings) -> int:
    from hotline.app.stack import Stack

    stack = Stack(settings)
    log = logging.getLogger("hotline")
    log.info("starting the hotline stack in %s", settings.home)
    await stack.start()
    token_note = await _ensure_admin_token(stack, settings.home / "admin-token")
    ports = settings.ports
    print(
        f"""
12345 hotline is up.
  SIP      sip:12345@{settings.bind_host}:{ports.hotline_sip}   (any SIP client on loopback; carrier matched by address)
  Web      http://{settings.bind_host}:{ports.http}/api/health   /metrics   /api/openapi.json
  Admin    {token_note}
  Try      .venv/bin/hotline call 12345 --from 13800138000 --dtmf 1
Ctrl-C stops everything.""",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    await stack.close()
    return 0


async def _ensure_admin_token(stack: object, path: Path) -> str:
    """On the first run, create an admin API token and keep it in a 0600 file."""
    from hotline.app.stack import Stack

    assert isinstance(stack, Stack) and stack.tokens is not None
    if path.exists():
        return f"API token in {path}"
    token = await stack.tokens.create(name="admin", role="admin")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return f"API token created and saved in {path} (Authorization: Bearer $(cat {path}))"


def _cmd_call(args: argparse.Namespace) -> int:
    return asyncio.run(_call(Settings(), args))


async def _call(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.calls.records import CallRecords
    from hotline.core.asterisk.ami import AmiClient
    from hotline.core.db.engine import create_engine, session_factory
    from integration.world.call import WorldCaller

    if not settings.state_file.exists():
        print(f"no running hotline found ({settings.state_file} is missing): start it with `make run`",
              file=sys.stderr)
        return 2
    state = json.loads(settings.state_file.read_text())
    creds = state.get("world_ami")
    if not creds:
        print("the running hotline has no simulated world (started with --no-world)", file=sys.stderr)
        return 2
    root = Path(state["asterisk_root"])
    ami = AmiClient(creds["host"], int(creds["port"]), creds["username"], creds["secret"], name="world")
    engine = create_engine(state["database_url"])
    try:
        await ami.connect()
        heard_inner = f"{state['data_dir_inner']}/heard"
        (root / heard_inner.lstrip("/")).mkdir(parents=True, exist_ok=True)
        caller = WorldCaller(ami, heard_inner, lambda inner: root / inner.lstrip("/"),
                             CallRecords(session_factory(engine)))
        if not args.json:
            print(f"calling {args.number} from {args.caller} …", file=sys.stderr)
        outcome = await caller.call(args.number, args.caller, dtmf=args.dtmf, listen_s=args.listen,
                                    script=args.script)
    finally:
        await ami.close()
        await engine.dispose()
    data = outcome.to_json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        heard = data["heard"] or {}
        print(f"call id      {data['call_id']}")
        print(f"answered     {data['answered']} ({data['originate_result']})")
        print(f"heard        {heard.get('speech_s', 0)} s of speech in {heard.get('duration_s', 0)} s")
        print(f"heard audio  {data['heard_audio']}")
        print(f"keys sent    {data['dtmf_sent']!r}, received by the flow: {data['digit_received']!r}")
        route = (data["record"] or {}).get("route") or {}
        print(f"route        {', '.join(f'{k}={v}' for k, v in route.items() if v) or '(none)'}")
        print(f"agent        {(data['record'] or {}).get('agent') or '-'}, rating "
              f"{(data['record'] or {}).get('rating') or (data['record'] or {}).get('rating_status') or '-'}")
        print("path")
        for line in data["path"] or ["(no steps recorded)"]:
            print(f"  {line}")
        for rec in data["recordings"]:
            print(f"recording    {rec.get('path')}")
    return 0 if outcome.answered else 1


if __name__ == "__main__":
    raise SystemExit(main())
