"""`hotline reports rebuild`: build the daily rollups of closed days again, after stored calls, tickets or ratings
of past days were corrected, or after a change to what a rollup holds. The worker only builds days that are new
or were rolled up before they settled; a day rolled up once is otherwise frozen."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, timedelta

from console.reports.periods import Span
from console.reports.rollup import SETTLE, Rollups
from hotline.core.clock import china_day, now
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.settings import CoreSettings


def last_closed_day() -> date:
    """The last China day whose rollup can be built: the open day (and the hour it settles) is counted live."""
    return china_day(now() - SETTLE) - timedelta(days=1)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reports = sub.add_parser("reports", help="the KPI reports' daily rollups")
    rsub = reports.add_subparsers(dest="reports_command", required=True)
    rebuild = rsub.add_parser("rebuild", help="rebuild the rollups of closed days (China dates, both included)")
    rebuild.add_argument("--from", dest="first", required=True, type=_day, metavar="YYYY-MM-DD")
    rebuild.add_argument("--to", dest="last", type=_day, metavar="YYYY-MM-DD",
                         help="default: the last closed day (yesterday, once today's first hour has passed)")
    rebuild.set_defaults(func=lambda a: asyncio.run(_rebuild(a)))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _progress(day: date, rows: int, done: int, of: int) -> None:
    print(f"{day}: {rows} row(s) ({done}/{of})", file=sys.stderr, flush=True)


async def _rebuild(args: argparse.Namespace) -> int:
    closed = last_closed_day()
    last: date = args.last or closed
    if last > closed:
        print(f"hotline reports rebuild: {last} is not closed yet (the last closed day is {closed}); "
              "the open day is counted live", file=sys.stderr)
        return 2
    if args.first > last:
        print(f"hotline reports rebuild: --from {args.first} is after --to {last}", file=sys.stderr)
        return 2
    engine = create_engine(CoreSettings().db_url)
    try:
        total = await Rollups(session_factory(engine)).rebuild(Span(args.first, last).day_numbers, _progress)
    finally:
        await engine.dispose()
    print(f"rebuilt the rollups of {(last - args.first).days + 1} day(s), {args.first} to {last}: {total} row(s)")
    return 0
