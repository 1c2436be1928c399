"""`hotline recordings verify`: re-hash stored recordings and report any that changed or went missing."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from hotline.db.engine import SessionFactory, create_engine, session_factory
from hotline.db.models import Recording
from hotline.settings import Settings
from recordings.store import sha256_of


@dataclass(frozen=True)
class Mismatch:
    recording: int
    call_id: str
    path: str
    problem: str  # missing | altered


async def verify(sessions: SessionFactory, sample: int | None = None,
                 progress: bool = False) -> tuple[int, list[Mismatch]]:
    """Check every stored recording (or a random sample); returns (checked, mismatches)."""
    async with sessions() as s:
        rows = list((await s.execute(select(Recording.id, Recording.call_id, Recording.path, Recording.sha256)
                                     .where(Recording.status == "stored"))).all())
    if sample is not None and sample < len(rows):
        rows = random.sample(rows, sample)
    bad: list[Mismatch] = []
    for done, (rec_id, call_id, path, digest) in enumerate(rows, 1):
        file = Path(path)
        if not file.exists():
            bad.append(Mismatch(rec_id, call_id, path, "missing"))
        elif await asyncio.to_thread(sha256_of, file) != digest:
            bad.append(Mismatch(rec_id, call_id, path, "altered"))
        if progress and (done % 50 == 0 or done == len(rows)):
            print(f"\rverified {done}/{len(rows)}, mismatches {len(bad)}", end="", file=sys.stderr, flush=True)
    if progress and rows:
        print(file=sys.stderr)
    return len(rows), bad


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rec = sub.add_parser("recordings", help="stored call recordings")
    rsub = rec.add_subparsers(dest="recordings_command", required=True)
    check = rsub.add_parser("verify", help="re-hash stored recordings; exit 1 if any is altered or missing")
    check.add_argument("--sample", type=int, help="check this many, chosen at random (default: all)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=lambda a: asyncio.run(_verify(a)))


async def _verify(args: argparse.Namespace) -> int:
    engine = create_engine(Settings().db_url)
    try:
        checked, bad = await verify(session_factory(engine), args.sample, progress=not args.json)
    finally:
        await engine.dispose()
    if args.json:
        print(json.dumps({"checked": checked, "mismatches": [vars(m) for m in bad]}, ensure_ascii=False))
    else:
        for m in bad:
            print(f"{m.problem.upper():8} recording {m.recording} of call {m.call_id}: {m.path}")
        print(f"{checked} checked, {len(bad)} mismatch(es)")
    return 1 if bad else 0
