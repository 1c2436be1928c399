"""`hotline revisits progress [--watch] [--json]`: how the revisit campaign stands, with a live bar."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from callback.tasks import RevisitTasks
from dialplans.loader import load_dialplan
from hotline.db.engine import create_engine, session_factory
from hotline.db.migrate import upgrade
from hotline.settings import Settings

BAR = 40


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    revisits = sub.add_parser("revisits", help="the revisit robot's tasks")
    rsub = revisits.add_subparsers(dest="revisits_command", required=True)
    prog = rsub.add_parser("progress", help="tasks total / done / pending, reached rate and results")
    prog.add_argument("--watch", action="store_true", help="redraw every 2 s until every task is done (Ctrl-C stops)")
    prog.add_argument("--json", action="store_true")
    prog.set_defaults(func=lambda a: asyncio.run(_progress(a)))


def bar(done: int, total: int) -> str:
    filled = BAR * done // total if total else BAR
    return f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}"


def line(p: dict[str, Any]) -> str:
    results = ", ".join(f"{k} {v}" for k, v in sorted(p["by_result"].items())) or "none yet"
    return (f"{bar(p['done'], p['total'])}  pending {p['pending']}  reached {p['reached_rate']:.0%}  "
            f"results: {results}")


async def _progress(args: argparse.Namespace) -> int:
    settings = Settings()
    await upgrade(settings.db_url)  # a fresh home has no tables yet
    engine = create_engine(settings.db_url)
    tasks = RevisitTasks(session_factory(engine), load_dialplan(settings.dialplan_file).revisit)
    try:
        while True:
            p = await tasks.progress()
            if args.json:
                print(json.dumps(p, ensure_ascii=False))
                return 0
            live = args.watch and sys.stdout.isatty()
            print(("\r" if live else "") + line(p), end="" if live else "\n", flush=True)
            if not args.watch or p["pending"] == 0:
                if live:
                    print()
                return 0
            await asyncio.sleep(2)
    except KeyboardInterrupt:
        print()
        return 130
    finally:
        await engine.dispose()
