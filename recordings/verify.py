"""`hotline recordings verify` re-hashes stored recordings and reports any that changed or went missing;
`hotline recordings verify-backup` does the same for their copies in the backup store. Hashes are of the
plaintext: a sealed file is opened with the configured keys (`key_unknown` when its key is not there)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from dataclasses import dataclass

from sqlalchemy import select

from hotline.calls.models import Recording
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.settings import CoreSettings
from recordings.backends import StoreConfig
from recordings.reseal import reseal
from recordings.retention import sweep
from recordings.revive import revive
from recordings.sealing import KeyUnknown
from recordings.settings import RecordingSettings
from recordings.store import Store


@dataclass(frozen=True)
class Mismatch:
    recording: int
    call_id: str
    path: str
    problem: str  # missing | altered | key_unknown | not_copied (backup only)


async def _problem(store: Store, path: str, digest: str | None) -> str | None:
    try:
        found = await store.sha256(path)
    except KeyUnknown:
        return "key_unknown"
    if found is None:
        return "missing"
    return "altered" if found != digest else None


Row = tuple[int, str, str | None, str | None]  # id, call, where the file is (None: no copy), its hash


async def _check(store: Store, rows: list[Row], progress: bool, what: str) -> list[Mismatch]:
    bad: list[Mismatch] = []
    for done, (rec_id, call_id, path, digest) in enumerate(rows, 1):
        problem = "not_copied" if path is None else await _problem(store, path, digest)
        if problem is not None:
            bad.append(Mismatch(rec_id, call_id, path or "", problem))
        if progress and (done % 50 == 0 or done == len(rows)):
            print(f"\r{what} {done}/{len(rows)}, mismatches {len(bad)}", end="", file=sys.stderr, flush=True)
    if progress and rows:
        print(file=sys.stderr)
    return bad


async def verify(sessions: SessionFactory, store: Store, sample: int | None = None,
                 progress: bool = False) -> tuple[int, list[Mismatch]]:
    """Check every stored recording (or a random sample); returns (checked, mismatches)."""
    async with sessions() as s:
        rows: list[Row] = [(i, c, p, d) for i, c, p, d in await s.execute(
            select(Recording.id, Recording.call_id, Recording.path, Recording.sha256)
            .where(Recording.status == "stored"))]
    if sample is not None and sample < len(rows):
        rows = random.sample(rows, sample)
    return len(rows), await _check(store, rows, progress, "verified")


async def verify_backup(sessions: SessionFactory, backup: Store, progress: bool = False) -> tuple[int, list[Mismatch]]:
    """Check that every stored recording has a backup copy with its hash; returns (checked, mismatches).

    A recording whose copy is not made yet (or gave up) is `not_copied`."""
    async with sessions() as s:
        rows: list[Row] = [(i, c, p, d) for i, c, p, d in await s.execute(
            select(Recording.id, Recording.call_id, Recording.backup_path, Recording.sha256)
            .where(Recording.status == "stored").order_by(Recording.id))]
    return len(rows), await _check(backup, rows, progress, "backup verified")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rec = sub.add_parser("recordings", help="stored call recordings")
    rsub = rec.add_subparsers(dest="recordings_command", required=True)
    check = rsub.add_parser("verify", help="re-hash stored recordings; exit 1 if any is altered or missing")
    check.add_argument("--sample", type=int, help="check this many, chosen at random (default: all)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=lambda a: asyncio.run(_verify(a)))
    copies = rsub.add_parser("verify-backup", help="check every stored recording's backup copy by its hash; "
                             "exit 1 if any is missing, altered or not made")
    copies.add_argument("--json", action="store_true")
    copies.set_defaults(func=lambda a: asyncio.run(_verify_backup(a)))
    rotate = rsub.add_parser("reseal", help="seal every stored recording with the current key (key rotation)")
    rotate.set_defaults(func=lambda a: asyncio.run(_reseal(a)))
    again = rsub.add_parser("revive", help="put dead recordings and given-up backup copies back in line")
    again.add_argument("ids", nargs="*", type=int, help="recording ids (default: all dead ones)")
    again.set_defaults(func=lambda a: asyncio.run(_revive(a)))
    keep = rsub.add_parser("retention", help="delete audio past the retention period (legal holds kept)")
    keep.add_argument("--keep-years", type=int, help="the period (default: HOTLINE_RECORDINGS_KEEP_YEARS)")
    keep.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    keep.set_defaults(func=lambda a: asyncio.run(_retention(a)))


async def _verify(args: argparse.Namespace) -> int:
    core, settings = CoreSettings(), RecordingSettings()
    engine = create_engine(core.db_url)
    try:
        checked, bad = await verify(session_factory(engine), StoreConfig.of(settings, core.home).open(), args.sample,
                                    progress=not args.json)
    finally:
        await engine.dispose()
    return _report(checked, bad, args.json)


async def _verify_backup(args: argparse.Namespace) -> int:
    core, settings = CoreSettings(), RecordingSettings()
    backup = StoreConfig.of(settings, core.home).open_backup()
    if backup is None:
        print("no backup store is configured (HOTLINE_RECORDINGS_BACKUP)", file=sys.stderr)
        return 2
    engine = create_engine(core.db_url)
    try:
        checked, bad = await verify_backup(session_factory(engine), backup, progress=not args.json)
    finally:
        await engine.dispose()
    return _report(checked, bad, args.json)


def _report(checked: int, bad: list[Mismatch], as_json: bool) -> int:
    if as_json:
        print(json.dumps({"checked": checked, "mismatches": [vars(m) for m in bad]}, ensure_ascii=False))
    else:
        for m in bad:
            print(f"{m.problem.upper():11} recording {m.recording} of call {m.call_id}: {m.path}")
        print(f"{checked} checked, {len(bad)} mismatch(es)")
    return 1 if bad else 0


async def _reseal(args: argparse.Namespace) -> int:
    core, settings = CoreSettings(), RecordingSettings()
    engine = create_engine(core.db_url)
    try:
        done, problems = await reseal(session_factory(engine), StoreConfig.of(settings, core.home).open(),
                                      progress=True)
    finally:
        await engine.dispose()
    for problem in problems:
        print(problem)
    print(f"{done} recording(s) resealed, {len(problems)} problem(s)")
    return 1 if problems else 0


async def _revive(args: argparse.Namespace) -> int:
    engine = create_engine(CoreSettings().db_url)
    try:
        rows, copies = await revive(session_factory(engine), args.ids)
    finally:
        await engine.dispose()
    print(f"{rows} recording(s) and {copies} backup cop(ies) due again")
    return 0


async def _retention(args: argparse.Namespace) -> int:
    core, settings = CoreSettings(), RecordingSettings()
    years = settings.keep_years if args.keep_years is None else args.keep_years
    if years <= 0:
        print("recordings are kept for ever (set HOTLINE_RECORDINGS_KEEP_YEARS or --keep-years)")
        return 0
    engine = create_engine(core.db_url)
    try:
        config = StoreConfig.of(settings, core.home)
        report = await sweep(session_factory(engine), config.open(), years, dry_run=args.dry_run,
                             backup=config.open_backup())
    finally:
        await engine.dispose()
    verb = "would delete" if report.dry_run else "deleted"
    print(f"{verb} the audio of {report.expired} recording(s) older than {years} years; "
          f"{report.held} kept by legal hold")
    return 0
