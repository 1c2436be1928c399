"""Retention as a plugin: the daily worker (when any period is set) and `hotline retention run`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from hotline.app.retention.coordinator import Periods, Retention
from hotline.app.retention.worker import RetentionWorker
from hotline.calls.settings import CallSettings
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.root import find_root
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.plugin import Brought, Deps, Plugin
from hotline.core.retention import KindReport, RetentionSettings, no_progress
from hotline.core.settings import CoreSettings
from tickets.settings import TicketSettings


def key_file(home: Path) -> Path:
    """The deployment's pseudonym key (0600)."""
    return home / "pseudonym.key"


def own_log_dirs(home: Path, data: DataDirs) -> list[Path]:
    """Where the service's own logs are written: the recording worker's, the reference case system's,
    Redis's, and the hotline Asterisk's console."""
    return [home / "run", home / "refcase", home / "redis", data.host(data.instance("hotline"))]


def log_dirs(home: Path, data: DataDirs) -> list[Path]:
    """Where rotated logs are found: the hotline Asterisk's log folder and the service's own."""
    return [data.host(data.instance("hotline")) / "log", *own_log_dirs(home, data)]


async def load(deps: Deps) -> Brought:
    periods = Periods.of(deps.get(CallSettings), deps.get(TicketSettings), deps.get(RetentionSettings))
    if not periods.any:
        return Brought()
    home = deps.core.home
    worker = RetentionWorker(Retention(deps.sessions, periods, key_file(home), log_dirs(home, deps.data)),
                             deps.ami, own_log_dirs(home, deps.data))
    return Brought(workers=[worker], health={"retention": worker.check})


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keep = sub.add_parser("retention", help="personal data past its retention period (legal holds kept)")
    ksub = keep.add_subparsers(dest="retention_command", required=True)
    run = ksub.add_parser("run", help="blank, pseudonymise or delete what is past its period; audited per kind")
    run.add_argument("--dry-run", action="store_true", help="only count what would change")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=lambda a: asyncio.run(_run(a)))


def _progress(kind: str, done: int) -> None:
    print(f"\r{kind}: {done} row(s) done", end="", file=sys.stderr, flush=True)


def _line(r: KindReport) -> str:
    if not r.days:
        return f"{r.kind:16} kept for ever"
    verb = "would change" if r.dry_run else "changed"
    return f"{r.kind:16} older than {r.days} days: {verb} {r.changed}, kept by legal hold {r.held}" + (
        f", kept (still needed) {r.kept}" if r.kept else "")


async def _run(args: argparse.Namespace) -> int:
    core = CoreSettings()
    try:
        periods = Periods.of(CallSettings(), TicketSettings(), RetentionSettings())
    except ValueError as exc:  # a period the settings check refuses
        print(f"hotline retention: {exc}", file=sys.stderr)
        return 2
    engine = create_engine(core.db_url)
    try:
        retention = Retention(session_factory(engine), periods, key_file(core.home),
                              log_dirs(core.home, DataDirs.for_home(find_root(core.asterisk_root), core.home)))
        reports = await retention.run(dry_run=args.dry_run, progress=no_progress if args.json else _progress)
    finally:
        await engine.dispose()
    if args.json:
        print(json.dumps([r.to_json() for r in reports]))
    else:
        print(file=sys.stderr)
        print("\n".join(_line(r) for r in reports))
    return 0


plugin = Plugin("retention", load, commands=[register])
