"""`hotline call`: a test call from the simulated world into the running hotline, heard and traced."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from hotline.core.settings import CoreSettings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _cmd_call(args: argparse.Namespace) -> int:
    return asyncio.run(_call(CoreSettings(), args))


async def _call(settings: CoreSettings, args: argparse.Namespace) -> int:
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
