"""`hotline revisits progress [--campaign ID] [--watch] [--json]`: how the revisit campaigns stand, a live
bar each (the campaigns not finished, and all of them together; or the one asked for)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from sqlalchemy.exc import DBAPIError

from callback.campaigns import RevisitCampaigns
from callback.tasks import RevisitTasks
from dialplans.loader import load_dialplan
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.settings import CoreSettings

BAR = 40
UP, CLEAR = "\x1b[{}F", "\x1b[2K"  # cursor to the start of n lines up; clear the line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    revisits = sub.add_parser("revisits", help="the revisit robot's tasks")
    rsub = revisits.add_subparsers(dest="revisits_command", required=True)
    prog = rsub.add_parser("progress", help="tasks total / done / pending, reached rate and results, per campaign")
    prog.add_argument("--campaign", type=int, metavar="ID", help="only this campaign")
    prog.add_argument("--watch", action="store_true", help="redraw every 2 s until every task is done (Ctrl-C stops)")
    prog.add_argument("--json", action="store_true")
    prog.set_defaults(func=lambda a: asyncio.run(_progress(a)))


def bar(done: int, total: int) -> str:
    filled = BAR * done // total if total else BAR
    return f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}"


def line(title: str, p: dict[str, Any]) -> str:
    results = ", ".join(f"{k} {v}" for k, v in sorted(p["by_result"].items())) or "none yet"
    return (f"{title}  {bar(p['done'], p['total'])}  pending {p['pending']}  reached {p['reached_rate']:.0%}  "
            f"results: {results}")


def campaign_title(c: dict[str, Any]) -> str:
    return f"#{c['id']} {c['name']} ({c['state']})"


async def _shown(campaigns: RevisitCampaigns, only: int | None) -> list[dict[str, Any]] | None:
    """The campaigns to draw, each with its progress; None when the one asked for does not exist."""
    if only is not None:
        found = await campaigns.get(only)
        return None if found is None else await campaigns.with_progress([found])
    return await campaigns.with_progress([c for c in await campaigns.listing() if c.state != "finished"])


async def _progress(args: argparse.Namespace) -> int:
    settings = CoreSettings()
    engine = create_engine(settings.db_url)
    tasks = RevisitTasks(session_factory(engine), load_dialplan(settings.dialplan_file).revisit)
    campaigns = RevisitCampaigns(tasks)
    drawn = 0
    try:
        while True:
            try:
                shown = await _shown(campaigns, args.campaign)
            except DBAPIError as exc:  # a fresh home: no tables yet
                print(f"cannot read the revisit campaigns ({type(exc.orig).__name__}): start the hotline once "
                      "(`make run`) or run `hotline db upgrade`", file=sys.stderr)
                return 2
            if shown is None:
                print(f"no revisit campaign {args.campaign}", file=sys.stderr)
                return 1
            total = shown[0]["progress"] if args.campaign is not None else await tasks.progress()
            if args.json:
                print(json.dumps(shown[0] if args.campaign is not None else {**total, "campaigns": shown},
                                 ensure_ascii=False))
                return 0
            lines = [line(campaign_title(c), c["progress"]) for c in shown]
            if args.campaign is None:
                lines.append(line("all", total))
            live = args.watch and sys.stdout.isatty()
            if live and drawn:
                print(UP.format(drawn), end="")
            print("\n".join((CLEAR if live else "") + text for text in lines), flush=True)
            drawn = len(lines)
            if not args.watch or total["pending"] == 0:
                return 0
            await asyncio.sleep(2)
    except KeyboardInterrupt:
        print()
        return 130
    finally:
        await engine.dispose()
